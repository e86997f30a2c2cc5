"""Progress API for leadership and flat export API for BI tools (GET, any role)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Stream

from wlbtrack.deps import CatalogueDep, DatabaseDep, SessionDep
from wlbtrack.domain.catalogue.snapshot import Catalogue
from wlbtrack.domain.progress import export, services
from wlbtrack.domain.progress.caching import NOT_MODIFIED, Conditional
from wlbtrack.domain.progress.definitions import CACHING, DEFINITIONS, describe
from wlbtrack.domain.progress.openapi import CachedOperation, ExportOperation
from wlbtrack.domain.progress.params import (
    CampaignParam,
    DepartmentParam,
    DirectionParam,
    FromParam,
    PeriodParam,
    ToParam,
    check_department,
    check_order,
    check_scope,
    current_period,
    parse_period,
    series_periods,
)
from wlbtrack.domain.progress.schemas import (
    CampaignProgress,
    DepartmentProgressList,
    ProgressOverview,
    ProgressSeries,
    ReportsPage,
    ValuesPage,
)
from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.responses import errors

AnyRequest = Request[Any, Any, Any]

PROGRESS_ERRORS = {**errors(), 304: NOT_MODIFIED}
CAMPAIGN_ERRORS = {**errors(404), 304: NOT_MODIFIED}
SERIES_ERRORS = {**errors(422), 304: NOT_MODIFIED}
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


def _period(code: str | None) -> str:
    return (parse_period("period", code) or current_period()).code


class ProgressController(Controller):
    """Progress of the plan (進捗) for leadership."""

    path = "/progress"
    tags = ("progress",)

    @get(
        "/",
        summary="Progress of every campaign (大作戦) and of the whole plan",
        description=describe(
            "Progress, status counts and completeness of each campaign and of the whole plan at `period` "
            "(default: the current quarter, Asia/Tokyo).",
            DEFINITIONS,
            CACHING,
        ),
        responses=PROGRESS_ERRORS,
        operation_class=CachedOperation,
    )
    async def overview(
        self, request: AnyRequest, session: SessionDep, catalogue: CatalogueDep, period: PeriodParam = None
    ) -> Response[ProgressOverview]:
        at = _period(period)
        conditional = await Conditional.of(request, session, catalogue, at)
        if conditional.fresh:
            return conditional.not_modified()
        return conditional.respond(await services.overview(session, catalogue, at))

    @get(
        "/campaigns/{code:str}",
        summary="Progress of one campaign (大作戦) by direction, guideline and indicator",
        description=describe(
            "The campaign with the same fields as in the overview, and for each of its directions and "
            "guidelines the same fields again; each guideline lists its indicators (value carried "
            "forward to `period`, attainment) and the report status of each responsible department "
            "(null: not reported for `period`).",
            DEFINITIONS,
            CACHING,
        ),
        responses=CAMPAIGN_ERRORS,
        operation_class=CachedOperation,
    )
    async def campaign(
        self,
        request: AnyRequest,
        session: SessionDep,
        catalogue: CatalogueDep,
        code: FromPath[str],
        period: PeriodParam = None,
    ) -> Response[CampaignProgress]:
        if code not in catalogue.campaigns:
            raise ProblemError(404, f"code: no campaign with code {code!r}", field="code")
        at = _period(period)
        conditional = await Conditional.of(request, session, catalogue, at)
        if conditional.fresh:
            return conditional.not_modified()
        return conditional.respond(await services.campaign(session, catalogue, code, at))

    @get(
        "/departments",
        summary="Reporting completeness of every department (担当部)",
        description=describe(
            "For each department at `period`: `expected` (guidelines it is responsible for), `received` "
            "(those it has a current report for), `rate`, status counts of its reports, and `missing`: "
            "the codes of the guidelines it still owes a report for, in plan order.",
            DEFINITIONS,
            CACHING,
        ),
        responses=PROGRESS_ERRORS,
        operation_class=CachedOperation,
    )
    async def departments(
        self, request: AnyRequest, session: SessionDep, catalogue: CatalogueDep, period: PeriodParam = None
    ) -> Response[DepartmentProgressList]:
        at = _period(period)
        conditional = await Conditional.of(request, session, catalogue, at)
        if conditional.fresh:
            return conditional.not_modified()
        return conditional.respond(await services.departments(session, catalogue, at))

    @get(
        "/series",
        summary="Progress over time of the plan, a campaign or a direction",
        description=describe(
            "One item per period from `from` to `to` (inclusive), oldest first: progress, "
            "`guidelines_with_data` and completeness of the whole plan, or of `campaign`, or of "
            "`direction`. Default range: the 8 quarters ending at the current one (Asia/Tokyo); "
            "at most 40 periods (a longer range, or `from` after `to`, is a 422).",
            DEFINITIONS,
            CACHING,
        ),
        responses=SERIES_ERRORS,
        operation_class=CachedOperation,
    )
    async def series(
        self,
        request: AnyRequest,
        session: SessionDep,
        catalogue: CatalogueDep,
        campaign: CampaignParam = None,
        direction: DirectionParam = None,
        from_: FromParam = None,
        to: ToParam = None,
    ) -> Response[ProgressSeries]:
        periods = series_periods(from_, to)
        check_scope(catalogue, campaign, direction)
        conditional = await Conditional.of(request, session, catalogue, *periods)
        if conditional.fresh:
            return conditional.not_modified()
        return conditional.respond(await services.series(session, catalogue, periods, campaign, direction))


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
    conditional = await Conditional.of(request, session, catalogue)
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
    page = ValuesPage(rows, next_cursor) if kind is export.ValuesExport else ReportsPage(rows, next_cursor)
    return conditional.respond(page)


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
