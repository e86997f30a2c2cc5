"""Dashboard sign-in: a server-side session maps a random id to the token's id, whose token is re-checked per
request through the token cache."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.response import Redirect
from litestar.types import Guard, Message, ScopeSession

from wlbtrack.domain.auth.services import Principal, TokenCache

LOGIN = "/dashboard/login"
SIGNED_OUT = "signed_out"  # opt key of the handlers that answer without a session (login, logout)


class LoadedSession(dict[str, Any]):
    """A session as read from the store, remembering what was read."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.read = dict(data)

    def changed(self) -> bool:
        """Whether the request changed it in place."""
        return self != self.read


class StoredWhenChanged(ServerSideSessionBackend):
    """Server-side sessions written to the store only when a request changed them (sign-in, sign-out).

    Litestar's backend writes the session and sends its cookie again on every response, which costs every
    page a write and moves the session's end forward each time: a session would never end while in use.
    """

    async def load_from_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
        return LoadedSession(await super().load_from_connection(connection))

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        if isinstance(scope_session, LoadedSession) and not scope_session.changed():
            return  # unchanged (or still empty): the store and the cookie keep what they have
        await super().store_in_message(scope_session, message, connection)


@dataclass
class SessionConfig(ServerSideSessionConfig):
    """Server-side sessions stored only when changed, so a session ends `max_age` after sign-in."""

    _backend_class = StoredWhenChanged


class SignInRequired(Exception):
    """A dashboard page was asked for without a session whose token is still active."""


def to_login(_request: Request[Any, Any, Any], _exc: SignInRequired) -> Redirect:
    """The answer to SignInRequired: the login page."""
    return Redirect(LOGIN)


def signed_in_guard(tokens: TokenCache) -> Guard:
    """Guard of the whole dashboard: every handler not marked SIGNED_OUT needs a session whose token is still
    active (checked through the API's token cache, so a revocation ends it as it ends the token's API
    calls), and leaves its principal in `request.state.principal`; otherwise the session ends
    (SignInRequired). A closure, not an object: Litestar deep-copies routers, and a function is copied as
    itself."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        if handler.opt.get(SIGNED_OUT):
            return
        token_id = connection.session.get("token_id")
        principal = None
        if type(token_id) is int:
            principal = tokens.get(token_id) or await tokens.lookup(token_id)
        if principal is None:
            connection.clear_session()
            raise SignInRequired
        connection.state.principal = principal

    return guard


def signed_in(request: Request[Any, Any, Any]) -> Principal:
    """The principal the dashboard's guard found for this request."""
    principal: Principal = request.state.principal
    return principal
