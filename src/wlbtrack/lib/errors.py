"""Every error as application/problem+json (RFC 9457), with a detail that names the field."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from litestar import Request, Response
from litestar.enums import MediaType
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE
from litestar.types import ExceptionHandlersMap
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from wlbtrack.lib.i18n import DEFAULT_LANGUAGE, LANGUAGES, Msg, catalogue, preferred_language, render
from wlbtrack.lib.text import MULTI_LINE, SINGLE_LINE

logger = logging.getLogger("wlbtrack.errors")


class ProblemError(ProblemDetailsException):
    """An error answered as a problem document; `field` names the offending input.

    `detail` is a Msg, translated when the document is rendered (to_response), as is each `errors[]`
    item's `message`; the document's `detail` reads `field: message`. `self.detail` holds the English.
    """

    def __init__(
        self,
        status_code: int,
        detail: Msg,
        *,
        field: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = detail
        self.field = field
        self.errors = errors
        extra: dict[str, Any] = {}
        if field is not None:
            extra["field"] = field
        if errors is not None:
            extra["errors"] = errors
        super().__init__(
            detail=self.text(DEFAULT_LANGUAGE),
            status_code=status_code,
            extra=extra or None,
            headers=headers,
            title=title(status_code),
        )

    def text(self, language: str) -> str:
        """The document's `detail` in `language`."""
        message = self.message.render(language)
        return message if self.field is None else f"{self.field}: {message}"

    def to_response(self, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        """The problem document, its texts in the language the request's Accept-Language prefers."""
        language = preferred_language(request.headers.get("accept-language"))
        document: dict[str, Any] = {
            "status": self.status_code,
            "title": self.title,
            "instance": self.instance or request.url.path,
            "detail": self.text(language),
        }
        if self.field is not None:
            document["field"] = self.field
        if self.errors is not None:
            document["errors"] = [
                {key: render(value, language) for key, value in error.items()} for error in self.errors
            ]
        headers = dict(self.headers or {})
        headers["Vary"] = "Accept-Language"
        return Response(
            document,
            status_code=self.status_code,
            headers=headers,
            media_type=MediaType.JSON.value.replace("json", "problem+json"),
        )


BUSY_RETRY_AFTER_S = 1


def busy(name: str = "body", what: Msg | None = None) -> ProblemError:
    """A write that waited too long for another one's locks: a retryable 409, never the outage message."""
    return ProblemError(
        409,
        Msg(
            "{what} is being changed by another request; nothing was written, retry shortly",
            what=what or Msg("the same data"),
        ),
        field=name,
        headers={"Retry-After": str(BUSY_RETRY_AFTER_S)},
    )


def title(status_code: int) -> str:
    """A problem's title: the status code's reason phrase."""
    from http import HTTPStatus

    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


_EXPECTED = re.compile(r"^Expected `(?P<expected>[^`]+)`, got `(?P<got>[^`]+)`$")
_BOUND = re.compile(r"^Expected `(?P<type>[^`]+)` (?P<op>[<>]=?) (?P<bound>\S+)$")
_LENGTH = re.compile(r"^Expected `(?P<type>[^`]+)` of length (?P<op>[<>]=?) (?P<bound>\d+)$")
_PATTERN = re.compile(r"^Expected `str` matching regex (?P<regex>.+)$")
_ENUM = re.compile(r"^Invalid enum value (?P<value>.+)$")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<name>[^`]*)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]*)`$")
_MISSING_PARAMETER = re.compile(r"^Missing required (?P<kind>\w+) parameter '(?P<name>[^']*)'")
# Msg(...) so that Babel extracts these templates; decode_message fills them in
_BOUND_TEMPLATES = {
    ">=": Msg("Expected `{type}` >= {bound}"),
    ">": Msg("Expected `{type}` > {bound}"),
    "<=": Msg("Expected `{type}` <= {bound}"),
    "<": Msg("Expected `{type}` < {bound}"),
}
_LENGTH_TEMPLATES = {
    ">=": Msg("Expected `{type}` of length >= {bound}"),
    "<=": Msg("Expected `{type}` of length <= {bound}"),
}
# what a text field that breaks the text rules (lib.text) is told
_TEXT_RULES = {
    repr(SINGLE_LINE): Msg("must be one line without control characters"),
    repr(MULTI_LINE): Msg("must not contain control characters other than tab and line breaks"),
}


def one_of(allowed: list[str]) -> Msg:
    """The message of a value outside an enumeration: it lists the values allowed."""
    return Msg("must be one of {allowed}", allowed=allowed)


def decode_message(text: str, allowed: list[str] | None = None) -> Msg:
    """A msgspec validation message (without its `at $.path` part) as a Msg; `allowed`: the enum's values."""
    text = text.strip()
    if match := _EXPECTED.match(text):
        return Msg("Expected `{expected}`, got `{got}`", expected=match["expected"], got=match["got"])
    if match := _LENGTH.match(text):
        template = _LENGTH_TEMPLATES.get(match["op"])
        if template is not None:
            return Msg(template.template, type=match["type"], bound=int(match["bound"]))
    if match := _BOUND.match(text):
        return Msg(_BOUND_TEMPLATES[match["op"]].template, type=match["type"], bound=match["bound"])
    if match := _PATTERN.match(text):
        if match["regex"] in _TEXT_RULES:
            return _TEXT_RULES[match["regex"]]
        return Msg("Expected `str` matching regex {regex}", regex=match["regex"])
    if match := _ENUM.match(text):
        if allowed:
            return one_of(allowed)
        return Msg("{value} is not an allowed value", value=match["value"])
    if match := _UNKNOWN.match(text):
        return Msg("unknown field; remove it")
    if match := _MISSING.match(text):
        return Msg("Object missing required field `{name}`", name=match["name"])
    if text == "Number out of range":
        return Msg("Number out of range")
    return Msg("invalid value ({reason})", reason=text)


def _validation_errors(exc: ValidationException) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    if isinstance(exc.extra, list):
        for item in exc.extra:
            if isinstance(item, dict):
                key = str(item.get("key") or item.get("source") or "body")
                # Litestar names the request body `data`; the API calls it `body` (e.g. an empty body)
                field = "body" if key == "data" and item.get("source") == "body" else key
                message = decode_message(str(item.get("message", "invalid value")))
                errors.append({"field": field, "message": message})
    return errors


def joined(parts: list[Msg], separator: str = "; ") -> Msg:
    """Messages one after the other (the template holds no words, so it needs no translation)."""
    template = separator.join(f"{{p{index}}}" for index in range(len(parts)))
    return Msg(template, **{f"p{index}": part for index, part in enumerate(parts)})


def field_messages(errors: list[dict[str, Any]]) -> Msg:
    """A `detail` made of `errors[]` items: `field: message; field: message`."""
    return joined([Msg("{field}: {message}", field=e["field"], message=e["message"]) for e in errors])


CSRF_REFUSED = "CSRF token verification failed"  # the detail of Litestar's CSRFMiddleware's 403


def http_exception_to_problem(exc: HTTPException) -> ProblemDetailsException:
    """Turn Litestar's HTTP errors into problem documents with field-naming, translatable details."""
    if isinstance(exc, ProblemDetailsException):
        return exc
    if isinstance(exc, RequestEntityTooLarge):
        return ProblemError(413, Msg("larger than the {limit} MB limit", limit=1), field="body")
    if isinstance(exc, ValidationException):
        errors = _validation_errors(exc)
        if errors:
            return ProblemError(exc.status_code, field_messages(errors), errors=errors, headers=exc.headers)
        if match := _MISSING_PARAMETER.match(exc.detail or ""):
            message = Msg("a required {kind} parameter is missing", kind=match["kind"])
            return ProblemError(exc.status_code, message, field=match["name"], headers=exc.headers)
    if isinstance(exc, PermissionDeniedException) and exc.detail == CSRF_REFUSED:
        message = Msg(
            "the form is out of date or did not come from this page; reload the page and send it again"
        )
        return ProblemError(403, message, field="_csrf_token", headers=exc.headers)
    if isinstance(exc, NotFoundException):
        return ProblemError(404, Msg("nothing is served at this path"), headers=exc.headers)
    if isinstance(exc, MethodNotAllowedException):
        allow = (exc.headers or {}).get("allow", "")
        message = Msg("this method is not allowed here; use one of {allowed}", allowed=allow)
        return ProblemError(405, message, field="method", headers=exc.headers)
    if exc.status_code >= 500:
        return ProblemError(exc.status_code, Msg("internal error; the request was not completed"))
    reason = exc.detail or title(exc.status_code)
    message = Msg("the request is not valid ({reason})", reason=reason)
    return ProblemError(exc.status_code, message, headers=exc.headers)


# SQLSTATEs of a write that met another one: lock_not_available, deadlock_detected, serialization_failure
_LOCK_WAIT_STATES = {"55P03", "40P01", "40001"}


def is_lock_wait(exc: Exception) -> bool:
    """A write that gave up waiting for another write's locks: retryable, and not an outage."""
    if not isinstance(exc, DBAPIError) or exc.connection_invalidated:
        return False
    if str(getattr(exc.orig, "sqlstate", None) or "") in _LOCK_WAIT_STATES:
        return True
    return "database is locked" in str(exc.orig) or "database table is locked" in str(exc.orig)


def is_database_outage(exc: Exception) -> bool:
    """A lost connection, or PostgreSQL refusing work (SQLSTATE class 08, 53 or 57: down, full, stopping)."""
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
    return exc.connection_invalidated or sqlstate[:2] in {"08", "53", "57"}


DATABASE_OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeoutError,
    ConnectionError,
    OSError,
    TimeoutError,
)


ErrorPage = Callable[[Request[Any, Any, Any], ProblemDetailsException], Response[Any]]


class ErrorAnswers:
    """How every error is answered: a problem document, or under a path prefix that has a page (the
    dashboard's), that page; every exception handler below answers through `answer`."""

    def __init__(self, pages: Mapping[str, ErrorPage] | None = None) -> None:
        for language in LANGUAGES:  # read the message catalogues now: a broken one stops the start
            catalogue(language)
        self.pages = dict(pages or {})

    def answer(self, request: Request[Any, Any, Any], exc: ProblemDetailsException) -> Response[Any]:
        """The error's response for this request's path."""
        if exc.title is None:
            exc.title = title(exc.status_code)
        path = request.url.path
        if not exc.instance:
            exc.instance = path
        for prefix, page in self.pages.items():
            if path == prefix or path.startswith(f"{prefix}/"):
                return page(request, exc)
        return exc.to_response(request)

    def database_unavailable(self, request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        """The database cannot be reached: a 503 the client may retry (a lock wait past its bound: a 409)."""
        if is_lock_wait(exc):
            return self.answer(request, busy())
        logger.warning("database unavailable: %s", type(exc).__name__)
        message = Msg("the database is unavailable; nothing was written, retry later")
        problem = ProblemError(
            HTTP_503_SERVICE_UNAVAILABLE, message, field="database", headers={"Retry-After": "5"}
        )
        return self.answer(request, problem)

    def unexpected(self, request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        """Any other failure: a 500 without internals."""
        if is_database_outage(exc) or is_lock_wait(exc):
            return self.database_unavailable(request, exc)
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        problem = ProblemError(
            HTTP_500_INTERNAL_SERVER_ERROR, Msg("internal error; the request was not completed")
        )
        return self.answer(request, problem)

    def http_error(self, request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
        """One of Litestar's HTTP errors (404, 405, validation, CSRF …) as a problem naming the field."""
        return self.answer(request, http_exception_to_problem(exc))

    def exception_handlers(self) -> ExceptionHandlersMap:
        """The application's exception handlers: problems, HTTP errors, database outages, anything else."""
        return {
            ProblemDetailsException: self.answer,
            HTTPException: self.http_error,
            **dict.fromkeys(DATABASE_OUTAGE_ERRORS, self.database_unavailable),
            Exception: self.unexpected,
        }
