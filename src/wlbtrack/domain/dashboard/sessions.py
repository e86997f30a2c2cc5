"""Dashboard sign-in: a server-side session maps a random id to the token's id, re-checked per request."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.domain.auth.models import Role
from wlbtrack.domain.auth.services import TOKEN, Principal
from wlbtrack.domain.catalogue.models import DEPARTMENT


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
