"""Route guards by role: 403 before the handler runs."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from wlbtrack.domain.auth.models import Role
from wlbtrack.domain.auth.services import Principal
from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.i18n import Msg


def _principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user: Principal = connection.user
    return user


def _is_options(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """Litestar's automatic OPTIONS answer (allowed methods) carries no data and is not authenticated."""
    return connection.scope.get("method") == "OPTIONS"


def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Only admin tokens pass."""
    if not _is_options(connection) and _principal(connection).role is not Role.ADMIN:
        raise ProblemError(403, Msg("this operation needs an admin token"), field="Authorization")


def writers_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Admin and department tokens pass; viewers read only."""
    if not _is_options(connection) and not _principal(connection).can_write:
        raise ProblemError(403, Msg("a viewer token cannot write"), field="Authorization")
