"""What each dashboard page shows, read through the same services and queries as the API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from litestar.exceptions import NotFoundException
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.domain.catalogue.schemas import GuidelinePublic
from wlbtrack.domain.catalogue.services import Catalogue
from wlbtrack.domain.periods.services import Period, PeriodRules, periods_between
from wlbtrack.domain.progress import services
from wlbtrack.domain.progress.schemas import (
    CampaignProgress,
    DepartmentProgress,
    DepartmentProgressList,
    GuidelineProgress,
    ProgressOverview,
    ProgressSeries,
)
from wlbtrack.domain.progress.services import ProgressService
from wlbtrack.domain.reporting import queries
from wlbtrack.domain.reporting.schemas import IndicatorPublic, ReportPublic
from wlbtrack.domain.reporting.services import indicator_public
from wlbtrack.lib.errors import ProblemError

ATTENTION = ("at_risk", "delayed")


def page_period(rules: PeriodRules, code: str | None) -> str:
    """The `period` parameter (default the current quarter); 404 for a malformed or out-of-range one."""
    try:
        return (rules.parse_optional("period", code) or rules.current()).code
    except ProblemError as exc:
        raise NotFoundException(f"period: no period {code!r}") from exc


def period_choices(rules: PeriodRules) -> list[Period]:
    """Every period the service accepts, newest first."""
    return periods_between(rules.first, rules.current())[::-1]


@dataclass(frozen=True)
class Indicators:
    """Indicators with their definition and their current value per period over a chart's quarters."""

    periods: list[str]
    items: list[IndicatorPublic]
    values: dict[int, dict[str, float]]

    def get(self, indicator_id: int) -> IndicatorPublic:
        """The definition of one of these indicators."""
        return next(item for item in self.items if item.id == indicator_id)

    def series(self, indicator_id: int) -> list[float | None]:
        """The indicator's value per chart period (None where it has none)."""
        values = self.values.get(indicator_id, {})
        return [values.get(period) for period in self.periods]


def catalogue_having(progress: ProgressService, kind: str, code: str) -> Catalogue:
    """The catalogue, when it has the campaign, guideline or department with this code; else a 404."""
    catalogue = progress.catalogue
    codes: dict[str, Mapping[str, object]] = {
        "campaign": catalogue.campaigns,
        "guideline": catalogue.guidelines,
        "department": catalogue.departments,
    }
    if code not in codes[kind]:
        raise NotFoundException(f"code: no {kind} with code {code!r}")
    return catalogue


async def indicators(
    session: AsyncSession, progress: ProgressService, period: str, guideline_codes: list[str]
) -> Indicators:
    """The indicators of these guidelines over the 8 quarters ending at the period."""
    catalogue = progress.catalogue
    periods = progress.series_periods(None, period)
    ids = [catalogue.guideline_ids[code] for code in guideline_codes]
    items = [indicator_public(catalogue, row) for row in await queries.list_indicators(session, ids, None)]
    values = await queries.values_between(session, [item.id for item in items], periods[0], periods[-1])
    return Indicators(periods, items, values)


@dataclass(frozen=True)
class OverviewPage:
    """The whole plan and each campaign, their progress over 8 quarters, and the reports needing attention."""

    progress: ProgressOverview
    periods: list[str]
    series: list[tuple[str, ProgressSeries]]
    attention: list[ReportPublic]

    @property
    def trend(self) -> list[tuple[str, list[float | None]]]:
        """Each campaign's name and its progress per period."""
        return [(name, [point.progress for point in series.items]) for name, series in self.series]


async def overview(session: AsyncSession, progress: ProgressService, period: str) -> OverviewPage:
    """The overview at the period."""
    catalogue = progress.catalogue
    periods = progress.series_periods(None, period)
    return OverviewPage(
        progress=await services.overview(session, catalogue, period),
        periods=periods,
        series=[
            (campaign.name, await services.series(session, catalogue, periods, campaign.code, None))
            for campaign in catalogue.campaigns.values()
        ],
        attention=await queries.period_reports(session, catalogue, period, statuses=ATTENTION),
    )


@dataclass(frozen=True)
class CampaignPage:
    """A campaign by direction and guideline, with its indicators over 8 quarters."""

    progress: CampaignProgress
    indicators: Indicators


async def campaign(session: AsyncSession, progress: ProgressService, period: str, code: str) -> CampaignPage:
    """The campaign at the period; 404 for an unknown code."""
    catalogue = catalogue_having(progress, "campaign", code)
    guidelines = services.scope_guidelines(catalogue, code, None)
    return CampaignPage(
        progress=await services.campaign(session, catalogue, period, code),
        indicators=await indicators(session, progress, period, guidelines),
    )


@dataclass(frozen=True)
class GuidelinePage:
    """A guideline: its text and initiatives, its progress, its departments' reports and their history."""

    guideline: GuidelinePublic
    progress: GuidelineProgress
    reports: list[ReportPublic]
    history: list[ReportPublic]
    indicators: Indicators

    def current(self, department: str) -> ReportPublic | None:
        """The department's current report for the period."""
        return next((r for r in self.reports if r.department == department), None)

    def revisions(self, department: str) -> list[ReportPublic]:
        """Every revision of the department's report for the period, newest first."""
        return [r for r in reversed(self.history) if r.department == department]


async def guideline(
    session: AsyncSession, progress: ProgressService, period: str, code: str
) -> GuidelinePage:
    """The guideline at the period; 404 for an unknown code."""
    catalogue = catalogue_having(progress, "guideline", code)
    public = catalogue.guidelines[code]
    guideline_id = catalogue.guideline_ids[code]
    of_campaign = await services.campaign(session, catalogue, period, public.campaign)
    return GuidelinePage(
        guideline=public,
        progress=next(
            g for direction in of_campaign.directions for g in direction.guidelines if g.code == code
        ),
        reports=await queries.current_reports(session, catalogue, guideline_id, period),
        history=await queries.report_history(session, catalogue, guideline_id, period, None),
        indicators=await indicators(session, progress, period, [code]),
    )


@dataclass(frozen=True)
class DepartmentsPage:
    """Every department's completeness and the status of every guideline × department pair."""

    progress: DepartmentProgressList
    grid: dict[tuple[str, str], str | None]


async def departments(session: AsyncSession, progress: ProgressService, period: str) -> DepartmentsPage:
    """The departments at the period."""
    catalogue = progress.catalogue
    return DepartmentsPage(
        progress=await services.departments(session, catalogue, period, progress.periods),
        grid=await services.report_grid(session, catalogue, period),
    )


@dataclass(frozen=True)
class DepartmentPage:
    """One department's quarter: what it owes and what it reported."""

    progress: DepartmentProgress
    reports: list[ReportPublic]


async def department(
    session: AsyncSession, progress: ProgressService, period: str, code: str
) -> DepartmentPage:
    """The department at the period; 404 for an unknown code."""
    catalogue = catalogue_having(progress, "department", code)
    listed = await services.departments(session, catalogue, period, progress.periods)
    return DepartmentPage(
        progress=next(item for item in listed.items if item.code == code),
        reports=await queries.period_reports(
            session, catalogue, period, department_id=catalogue.department_ids[code]
        ),
    )
