"""Dashboard sign-in: a server-side session maps a random id to the token's id, re-checked per request."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect
from litestar.types import Guard
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.db import Database
from wlbtrack.domain.auth.models import Role
from wlbtrack.domain.auth.services import TOKEN, Principal
from wlbtrack.domain.catalogue.models import DEPARTMENT

LOGIN = "/dashboard/login"
SIGNED_OUT = "signed_out"  # opt key of the handlers that answer without a session (login, logout)


async def active_principal(session: AsyncSession, token_id: object) -> Principal | None:
    """The principal of the session's token while it is still active, else None (revoked ends it)."""
    if not isinstance(token_id, int):
        return None
    row = (
        await session.execute(
            select(TOKEN.c.id, TOKEN.c.role, TOKEN.c.label, DEPARTMENT.c.code)
            .select_from(TOKEN)
            .outerjoin(DEPARTMENT, DEPARTMENT.c.id == TOKEN.c.department_id)
            .where(TOKEN.c.id == token_id, TOKEN.c.revoked_at.is_(None))
        )
    ).first()
    if row is None:
        return None
    identifier, role, label, department = row
    return Principal(token_id=identifier, role=Role(role), department=department, label=label)


class SignInRequired(Exception):
    """A dashboard page was asked for without a session whose token is still active."""


def to_login(_request: Request[Any, Any, Any], _exc: SignInRequired) -> Redirect:
    """The answer to SignInRequired: the login page."""
    return Redirect(LOGIN)


def signed_in_guard(database: Database) -> Guard:
    """Guard of the whole dashboard: every handler not marked SIGNED_OUT needs an active session, whose
    principal it leaves in `request.state.principal`; otherwise the session ends (SignInRequired).
    A closure, not an object: Litestar deep-copies routers, and a function is copied as itself."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        if handler.opt.get(SIGNED_OUT):
            return
        async with database.read_sessions() as session:
            principal = await active_principal(session, connection.session.get("token_id"))
        if principal is None:
            connection.clear_session()
            raise SignInRequired
        connection.state.principal = principal

    return guard


def signed_in(request: Request[Any, Any, Any]) -> Principal:
    """The principal the dashboard's guard found for this request."""
    principal: Principal = request.state.principal
    return principal
