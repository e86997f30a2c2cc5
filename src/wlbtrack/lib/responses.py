"""Error responses declared in the OpenAPI document."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example, Link, OpenAPIResponse, Operation

from wlbtrack.lib.errors import title


class ProblemError(msgspec.Struct, omit_defaults=True):
    """One invalid input: the field (a path like `reports[1].status`) and what is wrong with it; in an
    uploaded file also the sheet, row, column and cell."""

    field: str
    message: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    cell: str | None = None


class Problem(msgspec.Struct, omit_defaults=True):
    """An RFC 9457 problem document."""

    status: int
    title: str
    detail: str
    type: str | None = None
    instance: str | None = None
    field: str | None = None
    errors: list[ProblemError] | None = None


def _example(status: int, detail: str, field: str | None = None, **more: Any) -> Problem:
    """A problem document as the service sends it, titled as every problem is."""
    return Problem(status, title(status), detail, field=field, **more)


EXAMPLES: dict[int, Problem] = {
    400: _example(400, "body: malformed JSON", "body"),
    401: _example(401, "Authorization: missing bearer token", "Authorization"),
    403: _example(403, "department: a token of children cannot write for lifestyle-culture", "department"),
    404: _example(404, "code: no guideline with code '9.9.9'", "code"),
    409: _example(409, "period: 2025-Q3 is closed to writes", "period"),
    413: _example(413, "body: larger than the 1 MB limit", "body"),
    415: _example(415, "file: not an .xlsx workbook or a CSV file", "file"),
    422: _example(
        422,
        "reports[1].status: '順調' is not one of not_started, on_track, at_risk, delayed, completed",
        errors=[
            ProblemError(
                "reports[1].status",
                "must be one of not_started, on_track, at_risk, delayed, completed",
            )
        ],
    ),
    429: _example(429, "rate limit exceeded; retry after 60 seconds"),
    500: _example(500, "internal error; the request was not completed"),
    503: _example(503, "database: the database is unavailable; nothing was written, retry later"),
}


def problem(description: str, status: int | None = None) -> ResponseSpec:
    """An application/problem+json response, with an example of that status (no generated examples)."""
    example = EXAMPLES.get(status) if status is not None else None
    return ResponseSpec(
        data_container=Problem,
        description=description,
        media_type="application/problem+json",
        generate_examples=False,
        examples=None
        if example is None
        else [Example(summary=example.title, value=msgspec.to_builtins(example))],
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
    return {code: problem(texts[code], code) for code in sorted(wanted)}


READ_ERRORS = errors()
NOT_FOUND = errors(404)


def linked(status: int, parameter: str, expression: str, *operation_ids: str) -> type[Operation]:
    """An operation class whose `status` response links to `operation_ids`, passing `expression` (e.g.
    `$response.body#/id`) as their `parameter`: client generators and stateful testing follow them."""

    @dataclass
    class LinkedOperation(Operation):
        def __post_init__(self) -> None:
            response = (self.responses or {}).get(str(status))
            if isinstance(response, OpenAPIResponse):
                response.links = {
                    **(response.links or {}),
                    **{
                        target: Link(operation_id=target, parameters={parameter: expression})
                        for target in operation_ids
                    },
                }

    return LinkedOperation
