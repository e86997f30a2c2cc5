"""Strict body decoding that runs before Litestar's lenient parsing, so every error names its field."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
from litestar import Request
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.validation import decode_strict

T = TypeVar("T")
_NON_FINITE = object()


def _non_finite_path(value: Any, path: str) -> str | None:
    """Where a NaN or Infinity sits in a document parsed with non-finite constants marked."""
    if value is _NON_FINITE:
        return path or "body"
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _non_finite_path(
            item, f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}".lstrip(".")
        )
        if found is not None:
            return found
    return None


def _non_finite_field(raw: bytes) -> str | None:
    """The field holding NaN/Infinity in an otherwise well-formed JSON body, if that is what is wrong."""
    try:
        document = json.loads(raw, parse_constant=lambda _: _NON_FINITE)
    except ValueError:
        return None
    return _non_finite_path(document, "")


async def read_strict(request: Request[Any, Any, Any], schema: type[T]) -> T:
    """The body decoded strictly into `schema`: 413 over the size limit, 400 naming the field otherwise."""
    try:
        raw = await request.body()
    except RequestEntityTooLarge as exc:
        raise ProblemError(413, "body: larger than the 1 MB limit", field="body") from exc
    try:
        return await decode_strict(request, schema)
    except ProblemError as exc:
        field = (
            _non_finite_field(raw)
            if isinstance(exc.extra, dict) and exc.extra.get("field") == "body"
            else None
        )
        if field is None:
            raise
        raise ProblemError(
            400, f"{field}: NaN and Infinity are not numbers; send a finite number", field=field
        ) from exc


def strict_body(schema: type[msgspec.Struct]) -> Callable[[Request[Any, Any, Any]], Awaitable[None]]:
    """A before_request hook that decodes the body strictly and keeps it for `body_of`."""

    async def decode(request: Request[Any, Any, Any]) -> None:
        request.state.strict_body = await read_strict(request, schema)

    return decode


def body_of(request: Request[Any, Any, Any], schema: type[T]) -> T:
    """The body `strict_body` decoded for this request."""
    body = request.state.strict_body
    assert isinstance(body, schema)
    return body
