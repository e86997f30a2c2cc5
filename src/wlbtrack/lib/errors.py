"""Every error as application/problem+json (RFC 9457), with a detail that names the field."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

logger = logging.getLogger("wlbtrack.errors")


class ProblemError(ProblemDetailsException):
    """An error answered as a problem document; `field` names the offending input."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        *,
        field: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        extra: dict[str, Any] = {}
        if field is not None:
            extra["field"] = field
        if errors is not None:
            extra["errors"] = errors
        super().__init__(
            detail=detail, status_code=status_code, extra=extra or None, headers=headers, title=None
        )


BUSY_RETRY_AFTER_S = 1


def busy(name: str = "body", what: str = "the same data") -> ProblemError:
    """A write that waited too long for another one's locks: a retryable 409, never the outage message."""
    return ProblemError(
        409,
        f"{name}: {what} is being changed by another request; nothing was written, retry shortly",
        field=name,
        headers={"Retry-After": str(BUSY_RETRY_AFTER_S)},
    )


def _title(status_code: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


def _validation_errors(exc: ValidationException) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    if isinstance(exc.extra, list):
        for item in exc.extra:
            if isinstance(item, dict):
                key = str(item.get("key") or item.get("source") or "body")
                # Litestar names the request body `data`; the API calls it `body` (e.g. an empty body)
                field = "body" if key == "data" and item.get("source") == "body" else key
                errors.append({"field": field, "message": str(item.get("message", "invalid value"))})
    return errors


def http_exception_to_problem(exc: HTTPException) -> ProblemDetailsException:
    """Turn Litestar's HTTP errors into problem documents with field-naming details."""
    if isinstance(exc, ProblemDetailsException):
        return exc
    if isinstance(exc, RequestEntityTooLarge):
        return ProblemError(413, "body: larger than the 1 MB limit", field="body")
    if isinstance(exc, ValidationException):
        errors = _validation_errors(exc)
        if errors:
            detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
            return ProblemDetailsException(
                status_code=exc.status_code,
                title=_title(exc.status_code),
                detail=detail,
                extra={"errors": errors},
                headers=exc.headers,
            )
    detail = exc.detail or _title(exc.status_code)
    return ProblemDetailsException(
        status_code=exc.status_code, title=_title(exc.status_code), detail=detail, headers=exc.headers
    )


def _problem_response(request: Request[Any, Any, Any], exc: ProblemDetailsException) -> Response[Any]:
    if exc.title is None:
        exc.title = _title(exc.status_code)
    if not exc.instance:
        exc.instance = request.url.path
    return exc.to_response(request)


# SQLSTATEs of a write that met another one: lock_not_available, deadlock_detected, serialization_failure
_LOCK_WAIT_STATES = {"55P03", "40P01", "40001"}


def is_lock_wait(exc: Exception) -> bool:
    """A write that gave up waiting for another write's locks: retryable, and not an outage."""
    if not isinstance(exc, DBAPIError) or exc.connection_invalidated:
        return False
    if str(getattr(exc.orig, "sqlstate", None) or "") in _LOCK_WAIT_STATES:
        return True
    return "database is locked" in str(exc.orig) or "database table is locked" in str(exc.orig)


def database_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The database cannot be reached: a 503 the client may retry (a lock wait past its bound: a 409)."""
    if is_lock_wait(exc):
        return _problem_response(request, busy())
    logger.warning("database unavailable: %s", type(exc).__name__)
    problem = ProblemDetailsException(
        status_code=HTTP_503_SERVICE_UNAVAILABLE,
        title=_title(HTTP_503_SERVICE_UNAVAILABLE),
        detail="database: the database is unavailable; nothing was written, retry later",
        headers={"Retry-After": "5"},
    )
    return _problem_response(request, problem)


def is_database_outage(exc: Exception) -> bool:
    """A lost connection, or PostgreSQL refusing work (SQLSTATE class 08, 53 or 57: down, full, stopping)."""
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
    return exc.connection_invalidated or sqlstate[:2] in {"08", "53", "57"}


def unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Any other failure: a 500 problem document without internals."""
    if is_database_outage(exc) or is_lock_wait(exc):
        return database_unavailable(request, exc)
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    problem = ProblemDetailsException(
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
        title=_title(HTTP_500_INTERNAL_SERVER_ERROR),
        detail="internal error; the request was not completed",
    )
    return _problem_response(request, problem)


def problem_details_plugin() -> ProblemDetailsPlugin:
    """The plugin that answers every error as application/problem+json."""
    return ProblemDetailsPlugin(
        ProblemDetailsConfig(
            exception_handler=_problem_response,
            exception_to_problem_detail_map={HTTPException: http_exception_to_problem},
        )
    )


DATABASE_OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeoutError,
    ConnectionError,
    OSError,
    TimeoutError,
)
