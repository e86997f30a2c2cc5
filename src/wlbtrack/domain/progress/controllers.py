"""Progress API for leadership (per campaign, direction, guideline and department, and over time) and the
flat exports for BI tools (current values and reports as JSON pages or CSV); GET, any role."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from litestar import Controller, Request, Response
from litestar.di import NamedDependency, Provide
from litestar.response import Stream

from wlbtrack.domain.catalogue.schemas import CampaignFilter, CampaignPath, DepartmentFilter, DirectionFilter
from wlbtrack.domain.progress import export, services
from wlbtrack.domain.progress.openapi import DEFINITIONS, export_get, progress_get
from wlbtrack.domain.progress.schemas import (
    EXPORT_FORMATS,
    CampaignProgress,
    CursorParam,
    DepartmentProgressList,
    FormatParam,
    FromParam,
    LimitParam,
    PeriodParam,
    ProgressOverview,
    ProgressSeries,
    ReportsPage,
    TimelinessList,
    ToParam,
    ValuesPage,
)
from wlbtrack.domain.progress.services import ProgressService, check_department, check_scope
from wlbtrack.lib.caching import NOT_MODIFIED
from wlbtrack.lib.errors import ProblemError, one_of
from wlbtrack.lib.i18n import Msg
from wlbtrack.lib.integers import require_ascii_digits
from wlbtrack.lib.responses import errors

AnyRequest = Request[Any, Any, Any]
ProgressDep = NamedDependency[ProgressService]

CAMPAIGN_ERRORS = {**errors(404, 422), 304: NOT_MODIFIED}


class ProgressController(Controller):
    """Progress of the plan (進捗) for leadership."""

    path = "/progress"
    tags = ("progress",)

    @progress_get(
        "/",
        "Progress of every campaign (大作戦) and of the whole plan",
        "Progress, status counts and completeness of each campaign and of the whole plan at `period` "
        "(default: the current quarter, Asia/Tokyo).",
    )
    async def overview(
        self, request: AnyRequest, progress: ProgressDep, period: PeriodParam = None
    ) -> Response[ProgressOverview]:
        return await progress.at_period(request, period, services.overview)

    @progress_get(
        "/campaigns/{code:str}",
        "Progress of one campaign (大作戦) by direction, guideline and indicator",
        "The campaign with the same fields as in the overview, and for each of its directions and "
        "guidelines the same fields again; each guideline lists its indicators (value carried "
        "forward to `period`, attainment) and the report status of each responsible department "
        "(null: not reported for `period`).",
        responses=CAMPAIGN_ERRORS,
    )
    async def campaign(
        self, request: AnyRequest, progress: ProgressDep, code: CampaignPath, period: PeriodParam = None
    ) -> Response[CampaignProgress]:
        if code not in progress.catalogue.campaigns:
            raise ProblemError(404, Msg("no campaign with code {code!r}", code=code), field="code")
        return await progress.at_period(request, period, partial(services.campaign, code=code))

    @progress_get(
        "/departments",
        "Reporting completeness of every department (担当部)",
        "For each department at `period`: `expected` (guidelines it is responsible for), `received` "
        "(those it has a current report for), `rate`, status counts of its reports, and `missing`: "
        "the codes of the guidelines it still owes a report for, in plan order; and the quarterly "
        "cycle: `state` of its quarter (open, submitted, approved, returned), `due`, `on_time` (first "
        "submitted by the end of `due` in Asia/Tokyo; null while never submitted) and `overdue` (open or "
        "returned, and past `due`).",
    )
    async def departments(
        self, request: AnyRequest, progress: ProgressDep, period: PeriodParam = None
    ) -> Response[DepartmentProgressList]:
        at = progress.period(period)
        today = progress.periods.clock.today().isoformat()  # `overdue` changes with the date alone
        return await progress.respond(
            request,
            [at, today],
            lambda session: services.departments(session, progress.catalogue, at, progress.periods),
        )

    @progress_get(
        "/timeliness",
        "Punctuality of every department (担当部) over a range of quarters",
        "For each department (or only `department`) from `from` to `to`: `periods` counted (submitted, "
        "or past due without a submission), `on_time` (first submitted by the end of the due day, "
        "Asia/Tokyo), `late`, `not_submitted`, and `on_time_rate` (on_time / periods; null when none "
        "counted). Default range: the 8 quarters ending at the current one; at most 40.",
    )
    async def timeliness(
        self,
        request: AnyRequest,
        progress: ProgressDep,
        from_: FromParam = None,
        to: ToParam = None,
        department: DepartmentFilter = None,
    ) -> Response[TimelinessList]:
        periods = progress.series_periods(from_, to)
        check_department(progress.catalogue, department)
        today = progress.periods.clock.today().isoformat()
        return await progress.respond(
            request,
            [*periods, department or "", today],
            lambda session: services.timeliness(
                session, progress.catalogue, periods, progress.periods, department
            ),
        )

    @progress_get(
        "/series",
        "Progress over time of the plan, a campaign or a direction",
        "One item per period from `from` to `to` (inclusive), oldest first: progress, "
        "`guidelines_with_data` and completeness of the whole plan, or of `campaign`, or of "
        "`direction`. Default range: the 8 quarters ending at the current one (Asia/Tokyo); "
        "at most 40 periods (a longer range, or `from` after `to`, is a 422).",
    )
    async def series(
        self,
        request: AnyRequest,
        progress: ProgressDep,
        campaign: CampaignFilter = None,
        direction: DirectionFilter = None,
        from_: FromParam = None,
        to: ToParam = None,
    ) -> Response[ProgressSeries]:
        periods = progress.series_periods(from_, to)
        check_scope(progress.catalogue, campaign, direction)
        return await progress.respond(
            request,
            periods,
            lambda session: services.series(session, progress.catalogue, periods, campaign, direction),
        )


@dataclass(frozen=True)
class ExportQuery:
    """The query parameters of an export, as sent, and the progress service answering it."""

    progress: ProgressService
    first: str | None
    last: str | None
    campaign: str | None
    department: str | None
    format: str
    limit: int
    cursor: str | None

    def filters(self) -> export.Filters:
        """The validated filters; 400/422 naming the offending parameter."""
        if self.format not in EXPORT_FORMATS:
            raise ProblemError(422, one_of(list(EXPORT_FORMATS)), field="format")
        first, last = self.progress.range(self.first, self.last)
        catalogue = self.progress.catalogue
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

    async def answer(self, request: AnyRequest, kind: export.Export) -> Response[Any]:
        """Validate the parameters, then answer 304, a JSON page or a CSV stream."""
        progress = self.progress
        require_ascii_digits(request.query_params, "limit")
        filters = self.filters()
        after = None if self.cursor is None else export.decode_cursor(kind, self.cursor, progress.periods)
        conditional = await progress.conditional(request)
        if conditional.fresh:
            return conditional.not_modified()
        catalogue, sessions = progress.catalogue, progress.database.read_sessions
        if self.format == "csv":
            return Stream(
                export.csv_body(
                    sessions,
                    catalogue,
                    kind,
                    filters,
                    after,
                    progress.database.settings.db_statement_timeout,
                ),
                media_type="text/csv",
                headers={
                    **conditional.headers,
                    "Content-Disposition": f'attachment; filename="wlbtrack-{kind.name}.csv"',
                },
            )
        async with sessions() as session:
            rows, more = await export.page(session, catalogue, kind, filters, after, self.limit)
        next_cursor = None if more is None else export.encode_cursor(kind, more)
        return conditional.respond(kind.page_type(rows, next_cursor))


def provide_export_query(
    progress: ProgressDep,
    from_: FromParam = None,
    to: ToParam = None,
    campaign: CampaignFilter = None,
    department: DepartmentFilter = None,
    format: FormatParam = "json",
    limit: LimitParam = 100,
    cursor: CursorParam = None,
) -> ExportQuery:
    """The parameters both exports take (documented on each, in this order)."""
    return ExportQuery(progress, from_, to, campaign, department, format, limit, cursor)


ExportQueryDep = NamedDependency[ExportQuery]


class ExportController(Controller):
    """Flat rows for BI tools, as JSON pages or CSV."""

    path = "/export"
    tags = ("export",)
    dependencies = {"export_query": Provide(provide_export_query, sync_to_thread=False)}  # noqa: RUF012

    @export_get(
        "/values",
        "Export current indicator values as flat rows (JSON or CSV)",
        "One row per current indicator value (the latest revision for each indicator and period): "
        "period, campaign, direction, guideline, department, indicator id and name, unit, baseline, "
        "target, value, attainment, note, revision and updated_at. Attainment here is that of the "
        "row's own value.",
        DEFINITIONS,
    )
    async def values(self, request: AnyRequest, export_query: ExportQueryDep) -> Response[ValuesPage]:
        return await export_query.answer(request, export.ValuesExport)

    @export_get(
        "/reports",
        "Export current status reports as flat rows (JSON or CSV)",
        "One row per current status report (the latest revision for each guideline, department and "
        "period): period, campaign, direction, guideline, department, status, summary, revision and "
        "updated_at.",
    )
    async def reports(self, request: AnyRequest, export_query: ExportQueryDep) -> Response[ReportsPage]:
        return await export_query.answer(request, export.ReportsExport)
