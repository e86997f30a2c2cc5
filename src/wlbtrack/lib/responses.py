"""Error responses declared in the OpenAPI document."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example, Link, OpenAPIResponse, Operation


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


EXAMPLES: dict[int, Problem] = {
    400: Problem(400, "Bad Request", "body: malformed JSON", field="body"),
    401: Problem(401, "Unauthorized", "Authorization: missing bearer token", field="Authorization"),
    403: Problem(
        403,
        "Forbidden",
        "department: a token of children cannot write for lifestyle-culture",
        field="department",
    ),
    404: Problem(404, "Not Found", "code: no guideline with code '9.9.9'", field="code"),
    409: Problem(409, "Conflict", "period: 2025-Q3 is closed to writes", field="period"),
    413: Problem(413, "Request Entity Too Large", "body: larger than the 1 MB limit", field="body"),
    415: Problem(415, "Unsupported Media Type", "file: not an .xlsx workbook or a CSV file", field="file"),
    422: Problem(
        422,
        "Unprocessable Entity",
        "reports[1].status: '順調' is not one of not_started, on_track, at_risk, delayed, completed",
        errors=[
            ProblemError(
                "reports[1].status",
                "must be one of not_started, on_track, at_risk, delayed, completed",
            )
        ],
    ),
    429: Problem(429, "Too Many Requests", "rate limit exceeded; retry after 60 seconds"),
    500: Problem(500, "Internal Server Error", "internal error; the request was not completed"),
    503: Problem(
        503,
        "Service Unavailable",
        "database: the database is unavailable; nothing was written, retry later",
    ),
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
