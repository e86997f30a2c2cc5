"""Error responses declared in the OpenAPI document."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec


class Problem(msgspec.Struct, omit_defaults=True):
    """An RFC 9457 problem document."""

    status: int
    title: str
    detail: str
    type: str | None = None
    instance: str | None = None
    field: str | None = None
    errors: list[dict[str, Any]] | None = None


def problem(description: str) -> ResponseSpec:
    """An application/problem+json response."""
    return ResponseSpec(
        data_container=Problem, description=description, media_type="application/problem+json"
    )


def errors(*codes: int) -> dict[int, ResponseSpec]:
    """Problem responses for these status codes, plus the ones every /api/v1 operation can give."""
    texts = {
        400: "Malformed request (bad query parameter, JSON or header)",
        401: "Missing, unknown or revoked bearer token",
        403: "The token's role or department may not do this",
        404: "No such resource",
        409: (
            "Conflict with the current state (a closed period, a submitted quarter), or another write"
            " held the locks past WLBTRACK_DB_LOCK_WAIT (retry after Retry-After)"
        ),
        413: "Request body larger than 1 MB",
        415: "Media type or file format not accepted",
        422: "Invalid input; `detail` and `errors` name the fields",
        429: "Rate limit exceeded",
        500: "Internal error",
        503: "Database unavailable; nothing was written, retry later",
    }
    wanted = {400, 401, 429, 500, 503, *codes}
    return {code: problem(texts[code]) for code in sorted(wanted)}


READ_ERRORS = errors()
NOT_FOUND = errors(404)
