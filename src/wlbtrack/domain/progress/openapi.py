"""OpenAPI details of the progress and export API: the definitions as the contract words them, the ETag
headers and the CSV form of the exports (what Litestar cannot infer)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import get
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Schema,
)

from wlbtrack.lib.caching import NOT_MODIFIED
from wlbtrack.lib.responses import errors

DEFINITIONS = """\
Definitions (P is the period):

- **Value of an indicator at period P**: its current value for the latest period ≤ P that has one \
(carried forward), or none.
- **Attainment** of an indicator at P: clamp((value − baseline) / (target − baseline), 0, 1). \
Works unchanged for decreasing indicators.
- **Progress of a guideline** at P: the mean attainment of its indicators that have a value at P; \
`null` when none has.
- **Progress of a direction, a campaign and the whole plan** at P: the mean progress of their guidelines \
that are not null; `null` when all are. Each aggregate also gives `guidelines_total` and \
`guidelines_with_data`, so that no reader mistakes "no data" for 0 %. Progress is a fraction from 0 to 1.
- **Status counts** at P: how many current reports for period P (one per guideline and department) \
have each status, over the (guideline, department) pairs in scope.
- **Completeness** at P: `expected` = the number of (guideline, responsible department) pairs in scope; \
`received` = how many of them have a report for P; `rate` = received / expected.
"""

CACHING = """\
Responses carry an `ETag`; send it back in `If-None-Match` to get `304 Not Modified` while nothing \
has changed. Any write changes the tag."""

EXPORT_FILTERS = """\
Filters: `from` and `to` (inclusive period codes), `campaign` (大作戦 code), `department` (担当部 code). \
`format=json` (default) answers `{items, next}`: pass `next` back as `cursor` for the following page, \
until it is null; rows come in a stable order. `format=csv` streams every row after `cursor` (if any) \
as `text/csv`, UTF-8 with a BOM (so that Excel opens Japanese text correctly) and one header row \
naming the same fields as the JSON rows; empty cells stand for null."""

Responses = dict[int, Any]
_STRING = Schema(type=OpenAPIType.STRING)


PROGRESS_ERRORS = {**errors(422), 304: NOT_MODIFIED}


def describe(what: str, *sections: str) -> str:
    """An operation description: what it returns, then the given sections."""
    return "\n\n".join((what, *sections))


def progress_get(
    path: str, summary: str, what: str, responses: Responses = PROGRESS_ERRORS
) -> HTTPRouteHandler:
    """A progress operation: GET, described by what it returns, the definitions and the ETag rules."""
    description = describe(what, DEFINITIONS, CACHING)
    return get(
        path, summary=summary, description=description, responses=responses, operation_class=CachedOperation
    )


def export_get(path: str, summary: str, what: str, *sections: str) -> HTTPRouteHandler:
    """An export operation: GET, described by its rows, the filters, `sections` and the ETag rules."""
    description = describe(what, EXPORT_FILTERS, *sections, CACHING)
    return get(
        path,
        summary=summary,
        description=description,
        responses=PROGRESS_ERRORS,
        operation_class=ExportOperation,
    )


@dataclass
class CachedOperation(Operation):
    """An operation answering with an ETag and honouring If-None-Match."""

    def __post_init__(self) -> None:
        self.parameters = [
            *(self.parameters or []),
            Parameter(
                name="If-None-Match",
                param_in="header",
                schema=_STRING,
                description="The ETag of a response already held: 304 while it is still current",
            ),
        ]
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse):
            ok.headers = {
                **(ok.headers or {}),
                "ETag": OpenAPIHeader(schema=_STRING, description="Changes whenever the data changes"),
            }


@dataclass
class ExportOperation(CachedOperation):
    """An export: JSON pages, or with `format=csv` a CSV attachment."""

    def __post_init__(self) -> None:
        super().__post_init__()
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse):
            csv = OpenAPIMediaType(
                schema=Schema(
                    type=OpenAPIType.STRING,
                    description="UTF-8 with a BOM, one header row naming the JSON row fields, then the rows",
                )
            )
            ok.content = {**(ok.content or {}), "text/csv": csv}
            ok.headers = {
                **(ok.headers or {}),
                "Content-Disposition": OpenAPIHeader(
                    schema=_STRING, description="With format=csv: attachment; filename=wlbtrack-….csv"
                ),
            }
