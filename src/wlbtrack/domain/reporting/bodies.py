"""Strict body decoding that runs before Litestar's lenient parsing, so every error names its field."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
from litestar import Request

from wlbtrack.lib.validation import decode_strict

T = TypeVar("T")


def strict_body(schema: type[msgspec.Struct]) -> Callable[[Request[Any, Any, Any]], Awaitable[None]]:
    """A before_request hook that decodes the body strictly and keeps it for `body_of`."""

    async def decode(request: Request[Any, Any, Any]) -> None:
        request.state.strict_body = await decode_strict(request, schema)

    return decode


def body_of(request: Request[Any, Any, Any], schema: type[T]) -> T:
    """The body `strict_body` decoded for this request."""
    body = request.state.strict_body
    assert isinstance(body, schema)
    return body
