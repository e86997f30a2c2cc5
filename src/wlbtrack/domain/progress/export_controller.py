"""Flat export API for BI tools: current values and reports as JSON pages or CSV (GET, any role)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter
from litestar.response import Stream

from wlbtrack.deps import CatalogueDep, DatabaseDep, SessionDep
from wlbtrack.domain.catalogue.snapshot import Catalogue
from wlbtrack.domain.progress import export, services
from wlbtrack.domain.progress.caching import NOT_MODIFIED, Conditional
from wlbtrack.domain.progress.definitions import CACHING, DEFINITIONS, describe
from wlbtrack.domain.progress.openapi import ExportOperation
from wlbtrack.domain.progress.params import (
    CampaignParam,
    DepartmentParam,
    FromParam,
    ToParam,
    check_department,
    check_order,
    check_scope,
    parse_period,
)
from wlbtrack.domain.progress.schemas import ReportsPage, ValuesPage
from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.responses import errors

AnyRequest = Request[Any, Any, Any]
EXPORT_ERRORS = {**errors(422), 304: NOT_MODIFIED}

EXPORT_FORMATS = ("json", "csv")
FormatParam = Annotated[
    str,
    QueryParameter(
        description="`json` (cursor-paginated pages) or `csv` (every row, streamed, UTF-8 with a BOM)",
        schema_extra={"enum": list(EXPORT_FORMATS)},
    ),
]
LimitParam = Annotated[int, QueryParameter(ge=1, le=1000, description="Rows per JSON page (at most 1000)")]
CursorParam = Annotated[
    str | None, QueryParameter(max_length=200, description="The `next` cursor of the previous page")
]

EXPORT_FILTERS = """\
Filters: `from` and `to` (inclusive period codes), `campaign` (大作戦 code), `department` (担当部 code). \
`format=json` (default) answers `{items, next}`: pass `next` back as `cursor` for the following page, \
until it is null; rows come in a stable order. `format=csv` streams every row after `cursor` (if any) \
as `text/csv`, UTF-8 with a BOM (so that Excel opens Japanese text correctly) and one header row \
naming the same fields as the JSON rows; empty cells stand for null."""


@dataclass(frozen=True)
class ExportQuery:
    """The query parameters of an export, as sent."""

    first: str | None
    last: str | None
    campaign: str | None
    department: str | None
    format: str
    limit: int
    cursor: str | None

    def filters(self, catalogue: Catalogue) -> export.Filters:
        """The validated filters; 400/422 naming the offending parameter."""
        if self.format not in EXPORT_FORMATS:
            raise ProblemError(422, f"format: must be one of {', '.join(EXPORT_FORMATS)}", field="format")
        first, last = parse_period("from", self.first), parse_period("to", self.last)
        check_order(first, last)
        check_scope(catalogue, self.campaign, None)
        check_department(catalogue, self.department)
        guidelines = None
        if self.campaign is not None:
            guidelines = services.scope_guidelines(catalogue, self.campaign, None)
        return export.Filters(
            first=first.code if first else None,
            last=last.code if last else None,
            guideline_ids=None if guidelines is None else [catalogue.guideline_ids[g] for g in guidelines],
            department_id=None if self.department is None else catalogue.department_ids[self.department],
        )


async def _export(
    request: AnyRequest,
    session: SessionDep,
    database: DatabaseDep,
    catalogue: CatalogueDep,
    kind: export.Export,
    query: ExportQuery,
) -> Response[Any]:
    """Validate the export's parameters, then answer 304, a JSON page or a CSV stream."""
    filters = query.filters(catalogue)
    after = None if query.cursor is None else export.decode_cursor(kind, query.cursor)
    conditional = await Conditional.of(request, catalogue)
    if conditional.fresh:
        return conditional.not_modified()
    if query.format == "csv":
        return Stream(
            export.csv_stream(database.read_sessions, catalogue, kind, filters, after),
            media_type="text/csv",
            headers={
                **conditional.headers,
                "Content-Disposition": f'attachment; filename="wlbtrack-{kind.name}.csv"',
            },
        )
    rows, more = await export.page(session, catalogue, kind, filters, after, query.limit)
    next_cursor = None if more is None else export.encode_cursor(kind, more)
    return conditional.respond(kind.page_type(rows, next_cursor))


class ExportController(Controller):
    """Flat rows for BI tools, as JSON pages or CSV."""

    path = "/export"
    tags = ("export",)

    @get(
        "/values",
        summary="Export current indicator values as flat rows (JSON or CSV)",
        description=describe(
            "One row per current indicator value (the latest revision for each indicator and period): "
            "period, campaign, direction, guideline, department, indicator id and name, unit, baseline, "
            "target, value, attainment, note, revision and updated_at. Attainment here is that of the "
            "row's own value.",
            EXPORT_FILTERS,
            DEFINITIONS,
            CACHING,
        ),
        responses=EXPORT_ERRORS,
        operation_class=ExportOperation,
    )
    async def values(
        self,
        request: AnyRequest,
        session: SessionDep,
        database: DatabaseDep,
        catalogue: CatalogueDep,
        from_: FromParam = None,
        to: ToParam = None,
        campaign: CampaignParam = None,
        department: DepartmentParam = None,
        format: FormatParam = "json",
        limit: LimitParam = 100,
        cursor: CursorParam = None,
    ) -> Response[ValuesPage]:
        query = ExportQuery(from_, to, campaign, department, format, limit, cursor)
        return await _export(request, session, database, catalogue, export.ValuesExport, query)

    @get(
        "/reports",
        summary="Export current status reports as flat rows (JSON or CSV)",
        description=describe(
            "One row per current status report (the latest revision for each guideline, department and "
            "period): period, campaign, direction, guideline, department, status, summary, revision and "
            "updated_at.",
            EXPORT_FILTERS,
            CACHING,
        ),
        responses=EXPORT_ERRORS,
        operation_class=ExportOperation,
    )
    async def reports(
        self,
        request: AnyRequest,
        session: SessionDep,
        database: DatabaseDep,
        catalogue: CatalogueDep,
        from_: FromParam = None,
        to: ToParam = None,
        campaign: CampaignParam = None,
        department: DepartmentParam = None,
        format: FormatParam = "json",
        limit: LimitParam = 100,
        cursor: CursorParam = None,
    ) -> Response[ReportsPage]:
        query = ExportQuery(from_, to, campaign, department, format, limit, cursor)
        return await _export(request, session, database, catalogue, export.ReportsExport, query)
