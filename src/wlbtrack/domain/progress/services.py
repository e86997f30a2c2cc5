"""Progress of guidelines rolled up to directions, campaigns and the whole plan, per the definitions,
and what the progress and export handlers of one request work with (ProgressService)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from statistics import fmean
from typing import Any, TypeVar

from litestar import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.db import Database
from wlbtrack.domain.catalogue.services import Catalogue
from wlbtrack.domain.periods.services import (
    Period,
    PeriodRules,
    QuarterState,
    due_dates,
    on_time,
    overdue,
    periods_between,
    quarter_states,
)
from wlbtrack.domain.progress import queries
from wlbtrack.domain.progress.queries import PairTally
from wlbtrack.domain.progress.schemas import (
    CampaignProgress,
    CampaignSummary,
    Completeness,
    DepartmentProgress,
    DepartmentProgressList,
    DepartmentReport,
    DepartmentTimeliness,
    DirectionProgress,
    GuidelineProgress,
    IndicatorProgress,
    ProgressAggregate,
    ProgressOverview,
    ProgressSeries,
    SeriesPoint,
    StatusCounts,
    TimelinessList,
)
from wlbtrack.lib.caching import Conditional, ResponseCache
from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.i18n import Msg

T = TypeVar("T")
MAX_SERIES_PERIODS = 40
DEFAULT_SERIES_PERIODS = 8


def _rate(received: int, expected: int) -> float | None:
    return received / expected if expected else None


def _status_counts(tally: PairTally) -> StatusCounts:
    return StatusCounts(**{name: tally.statuses[name] for name in StatusCounts.__struct_fields__})


def _completeness(tally: PairTally) -> Completeness:
    return Completeness(
        expected=tally.expected, received=tally.received, rate=_rate(tally.received, tally.expected)
    )


@dataclass
class Rollup:
    """Progress and report tallies over a set of guidelines."""

    guidelines_total: int = 0
    progress: list[float] = field(default_factory=list)
    tally: PairTally = field(default_factory=PairTally)

    @classmethod
    def of(
        cls,
        period: str,
        guideline_ids: Iterable[int],
        progress: dict[tuple[str, int], float],
        tallies: dict[tuple[str, int], PairTally],
    ) -> Rollup:
        """The rollup of these guidelines at the period."""
        rollup = cls()
        for guideline_id in guideline_ids:
            rollup.guidelines_total += 1
            if (period, guideline_id) in progress:
                rollup.progress.append(progress[period, guideline_id])
            if (period, guideline_id) in tallies:
                rollup.tally.merge(tallies[period, guideline_id])
        return rollup

    @property
    def mean(self) -> float | None:
        """Mean progress of the guidelines that have one; None when none has."""
        return fmean(self.progress) if self.progress else None

    def fields(self) -> dict[str, Any]:
        """The fields every aggregate carries."""
        return {
            "progress": self.mean,
            "guidelines_total": self.guidelines_total,
            "guidelines_with_data": len(self.progress),
            "status_counts": _status_counts(self.tally),
            "completeness": _completeness(self.tally),
        }


def _ids(catalogue: Catalogue, codes: Iterable[str]) -> list[int]:
    return [catalogue.guideline_ids[code] for code in codes]


def scope_guidelines(catalogue: Catalogue, campaign: str | None, direction: str | None) -> list[str]:
    """Codes of the guidelines of a direction, else of a campaign, else of the whole plan."""
    return [
        g.code
        for g in catalogue.guidelines.values()
        if (campaign is None or g.campaign == campaign) and (direction is None or g.direction == direction)
    ]


async def overview(session: AsyncSession, catalogue: Catalogue, period: str) -> ProgressOverview:
    """Every campaign and the whole plan at the period."""
    progress = await queries.guideline_progress(session, [period], None)
    tallies = await queries.tallies_by_guideline(session, [period], None)
    campaigns = [
        CampaignSummary(
            code=campaign.code,
            name=campaign.name,
            **Rollup.of(
                period, _ids(catalogue, scope_guidelines(catalogue, campaign.code, None)), progress, tallies
            ).fields(),
        )
        for campaign in catalogue.campaigns.values()
    ]
    overall = Rollup.of(period, catalogue.guideline_ids.values(), progress, tallies)
    return ProgressOverview(period=period, campaigns=campaigns, overall=ProgressAggregate(**overall.fields()))


async def campaign(session: AsyncSession, catalogue: Catalogue, period: str, code: str) -> CampaignProgress:
    """One campaign at the period, with its directions, guidelines, indicators and reports."""
    ids = _ids(catalogue, scope_guidelines(catalogue, code, None))
    progress = await queries.guideline_progress(session, [period], ids)
    tallies = await queries.tallies_by_guideline(session, [period], ids)
    indicators = await queries.indicators_at(session, period, ids)
    statuses = await queries.report_statuses(session, period, ids)

    def guideline(guideline_code: str) -> GuidelineProgress:
        guideline_id = catalogue.guideline_ids[guideline_code]
        public = catalogue.guidelines[guideline_code]
        return GuidelineProgress(
            code=guideline_code,
            text=public.text,
            indicators=[
                IndicatorProgress(id=i.id, name=i.name, value=i.value, attainment=i.attainment)
                for i in indicators
                if i.guideline_id == guideline_id
            ],
            reports=[
                DepartmentReport(
                    department=d.code,
                    status=statuses.get((guideline_id, catalogue.department_ids[d.code])),
                )
                for d in public.departments
            ],
            **Rollup.of(period, [guideline_id], progress, tallies).fields(),
        )

    directions = [
        DirectionProgress(
            code=ref.code,
            name=ref.name,
            guidelines=[guideline(g.code) for g in catalogue.directions[ref.code].guidelines],
            **Rollup.of(
                period, _ids(catalogue, scope_guidelines(catalogue, None, ref.code)), progress, tallies
            ).fields(),
        )
        for ref in catalogue.campaigns[code].directions
    ]
    return CampaignProgress(
        period=period,
        code=code,
        name=catalogue.campaigns[code].name,
        directions=directions,
        **Rollup.of(period, ids, progress, tallies).fields(),
    )


async def departments(
    session: AsyncSession, catalogue: Catalogue, period: str, rules: PeriodRules
) -> DepartmentProgressList:
    """Every department's completeness at the period, the guidelines it still owes (in plan order) and
    its quarter's state, due date, punctuality and whether it is overdue today (Tokyo)."""
    due = (await due_dates(session, rules, [Period.parse(period)]))[period]
    states = await quarter_states(session, [period])
    today = rules.clock.today()
    tallies = await queries.tallies_by_department(session, period)
    order = {code: position for position, code in enumerate(catalogue.guidelines)}
    missing: dict[int, list[str]] = {}
    for department_id, guideline_id in await queries.missing_reports(session, period):
        missing.setdefault(department_id, []).append(catalogue.guideline_code(guideline_id))
    items = []
    for department in catalogue.departments.values():
        department_id = catalogue.department_ids[department.code]
        tally = tallies.get(department_id, PairTally())
        state = states.get((period, department_id), QuarterState())
        items.append(
            DepartmentProgress(
                code=department.code,
                name=department.name,
                expected=tally.expected,
                received=tally.received,
                rate=_rate(tally.received, tally.expected),
                status_counts=_status_counts(tally),
                missing=sorted(missing.get(department_id, []), key=order.__getitem__),
                state=state.state,
                due=due,
                on_time=on_time(state.submitted_at, due),
                overdue=overdue(state, due, today),
            )
        )
    return DepartmentProgressList(period=period, items=items)


async def report_grid(
    session: AsyncSession, catalogue: Catalogue, period: str
) -> dict[tuple[str, str], str | None]:
    """The current report status of every (guideline, responsible department) pair at the period, by
    their codes in plan order; None where the department has not reported."""
    statuses = await queries.report_statuses(session, period, list(catalogue.guideline_ids.values()))
    return {
        (guideline.code, department.code): statuses.get(
            (catalogue.guideline_ids[guideline.code], catalogue.department_ids[department.code])
        )
        for guideline in catalogue.guidelines.values()
        for department in guideline.departments
    }


async def timeliness(
    session: AsyncSession,
    catalogue: Catalogue,
    periods: Sequence[str],
    rules: PeriodRules,
    department: str | None,
) -> TimelinessList:
    """Per department over the periods: those counted (submitted, or past due without a submission),
    submitted on time, submitted late, not submitted, and the on-time rate."""
    parsed = [Period.parse(code) for code in periods]
    due = await due_dates(session, rules, parsed)
    states = await quarter_states(session, periods)
    today = rules.clock.today()
    items = []
    for code in catalogue.departments:
        if department is not None and code != department:
            continue
        department_id = catalogue.department_ids[code]
        punctual = late = missed = 0
        for period in periods:
            state = states.get((period, department_id), QuarterState())
            in_time = on_time(state.submitted_at, due[period])
            if in_time is True:
                punctual += 1
            elif in_time is False:
                late += 1
            elif today > due[period]:
                missed += 1
        counted = punctual + late + missed
        items.append(
            DepartmentTimeliness(
                department=code,
                periods=counted,
                on_time=punctual,
                late=late,
                not_submitted=missed,
                on_time_rate=_rate(punctual, counted),
            )
        )
    return TimelinessList(first=periods[0], last=periods[-1], items=items)


async def series(
    session: AsyncSession,
    catalogue: Catalogue,
    periods: Sequence[str],
    campaign_code: str | None,
    direction_code: str | None,
) -> ProgressSeries:
    """Progress and completeness of the scope at each period, oldest first (two queries in all)."""
    ids = _ids(catalogue, scope_guidelines(catalogue, campaign_code, direction_code))
    progress = await queries.guideline_progress(session, periods, ids)
    tallies = await queries.tallies_by_guideline(session, periods, ids)
    items = []
    for period in periods:
        rollup = Rollup.of(period, ids, progress, tallies)
        items.append(
            SeriesPoint(
                period=period,
                progress=rollup.mean,
                guidelines_total=rollup.guidelines_total,
                guidelines_with_data=len(rollup.progress),
                completeness=_completeness(rollup.tally),
            )
        )
    return ProgressSeries(campaign=campaign_code, direction=direction_code, items=items)


def check_order(first: Period | None, last: Period | None) -> None:
    """422 unless `from` ≤ `to`."""
    if first is not None and last is not None and first > last:
        raise ProblemError(
            422, Msg("{first} is after to ({last})", first=first.code, last=last.code), field="from"
        )


def check_scope(catalogue: Catalogue, campaign: str | None, direction: str | None) -> None:
    """422 for an unknown campaign or direction code, or a direction outside the campaign."""
    if campaign is not None and campaign not in catalogue.campaigns:
        raise ProblemError(422, Msg("no campaign with code {code!r}", code=campaign), field="campaign")
    if direction is not None:
        if direction not in catalogue.directions:
            raise ProblemError(422, Msg("no direction with code {code!r}", code=direction), field="direction")
        if campaign is not None and catalogue.directions[direction].campaign != campaign:
            raise ProblemError(
                422,
                Msg(
                    "{direction} is not a direction of campaign {campaign}",
                    direction=direction,
                    campaign=campaign,
                ),
                field="direction",
            )


def check_department(catalogue: Catalogue, department: str | None) -> None:
    """422 for an unknown department code."""
    if department is not None and department not in catalogue.departments:
        raise ProblemError(422, Msg("no department with code {code!r}", code=department), field="department")


class ProgressService:
    """One request's view of progress: the catalogue snapshot, the period rule, and the response cache."""

    def __init__(self, catalogue: Catalogue, periods: PeriodRules, responses: ResponseCache) -> None:
        self.catalogue = catalogue
        self.periods = periods
        self.responses = responses

    @property
    def database(self) -> Database:
        """The database the responses are read from."""
        return self.responses.database

    def period(self, code: str | None) -> str:
        """The `period` parameter's code, by default the current quarter (the period status rule applies)."""
        return (self.periods.parse_optional("period", code) or self.periods.current()).code

    def range(self, first_code: str | None, last_code: str | None) -> tuple[Period | None, Period | None]:
        """The `from` and `to` parameters, each optional, in order (the period status rule applies)."""
        last = self.periods.parse_optional("to", last_code)
        first = self.periods.parse_optional("from", first_code)
        check_order(first, last)
        return first, last

    def series_periods(self, first_code: str | None, last_code: str | None) -> list[str]:
        """The periods of a series, oldest first: by default the 8 quarters ending at the current one
        (fewer when the plan's first fiscal year is nearer)."""
        first, last = self.range(first_code, last_code)
        last = last or self.periods.current()
        if first is None:
            first = last
            for _ in range(DEFAULT_SERIES_PERIODS - 1):
                first = max(first.previous(), self.periods.first)
        check_order(first, last)
        periods = periods_between(first, last)
        if len(periods) > MAX_SERIES_PERIODS:
            raise ProblemError(
                422,
                Msg(
                    "the range {first}..{last} has {count} periods, at most {max} are allowed",
                    first=first.code,
                    last=last.code,
                    count=len(periods),
                    max=MAX_SERIES_PERIODS,
                ),
                field="to",
            )
        return [period.code for period in periods]

    async def at_period(
        self,
        request: Request[Any, Any, Any],
        code: str | None,
        compute: Callable[[AsyncSession, Catalogue, str], Awaitable[T]],
    ) -> Response[T]:
        """The response computed by `compute(session, catalogue, period)` for the `period` parameter."""
        at = self.period(code)
        return await self.respond(request, [at], lambda session: compute(session, self.catalogue, at))

    async def conditional(self, request: Request[Any, Any, Any], *resolved: str) -> Conditional:
        """The ETag of this request at the current data and catalogue versions."""
        return await self.responses.conditional(request, self.catalogue.version, *resolved)

    async def respond(
        self,
        request: Request[Any, Any, Any],
        resolved: Sequence[str],
        compute: Callable[[AsyncSession], Awaitable[T]],
    ) -> Response[T]:
        """304 while the client holds the current tag, else the body for the tag (computed once)."""
        conditional = await self.conditional(request, *resolved)
        if conditional.fresh:
            return conditional.not_modified()
        return await self.responses.respond(conditional, compute)
