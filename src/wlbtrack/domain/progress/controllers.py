"""Progress API for leadership: per campaign, direction, guideline and department, and over time."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from wlbtrack.deps import CatalogueDep
from wlbtrack.domain.progress import services
from wlbtrack.domain.progress.caching import NOT_MODIFIED, Conditional
from wlbtrack.domain.progress.definitions import CACHING, DEFINITIONS, describe
from wlbtrack.domain.progress.openapi import CachedOperation
from wlbtrack.domain.progress.params import (
    CampaignParam,
    DirectionParam,
    FromParam,
    PeriodParam,
    ToParam,
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
)
from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.responses import errors

AnyRequest = Request[Any, Any, Any]

PROGRESS_ERRORS = {**errors(), 304: NOT_MODIFIED}
CAMPAIGN_ERRORS = {**errors(404), 304: NOT_MODIFIED}
SERIES_ERRORS = {**errors(422), 304: NOT_MODIFIED}


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
        self, request: AnyRequest, catalogue: CatalogueDep, period: PeriodParam = None
    ) -> Response[ProgressOverview]:
        at = _period(period)
        conditional = await Conditional.of(request, catalogue, at)
        if conditional.fresh:
            return conditional.not_modified()
        return await conditional.respond_cached(lambda session: services.overview(session, catalogue, at))

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
        catalogue: CatalogueDep,
        code: FromPath[str],
        period: PeriodParam = None,
    ) -> Response[CampaignProgress]:
        if code not in catalogue.campaigns:
            raise ProblemError(404, f"code: no campaign with code {code!r}", field="code")
        at = _period(period)
        conditional = await Conditional.of(request, catalogue, at)
        if conditional.fresh:
            return conditional.not_modified()
        return await conditional.respond_cached(
            lambda session: services.campaign(session, catalogue, code, at)
        )

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
        self, request: AnyRequest, catalogue: CatalogueDep, period: PeriodParam = None
    ) -> Response[DepartmentProgressList]:
        at = _period(period)
        conditional = await Conditional.of(request, catalogue, at)
        if conditional.fresh:
            return conditional.not_modified()
        return await conditional.respond_cached(lambda session: services.departments(session, catalogue, at))

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
        catalogue: CatalogueDep,
        campaign: CampaignParam = None,
        direction: DirectionParam = None,
        from_: FromParam = None,
        to: ToParam = None,
    ) -> Response[ProgressSeries]:
        periods = series_periods(from_, to)
        check_scope(catalogue, campaign, direction)
        conditional = await Conditional.of(request, catalogue, *periods)
        if conditional.fresh:
            return conditional.not_modified()
        return await conditional.respond_cached(
            lambda session: services.series(session, catalogue, periods, campaign, direction)
        )
