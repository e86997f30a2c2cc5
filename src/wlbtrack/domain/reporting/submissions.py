"""The quarterly batch: validate every item first, then write all of it in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.domain.auth.tokens import Principal
from wlbtrack.domain.catalogue.snapshot import Catalogue
from wlbtrack.domain.reporting.indicators import indicator_departments
from wlbtrack.domain.reporting.period_state import writable_period
from wlbtrack.domain.reporting.permissions import acting_department, ensure_owns, ensure_responsible
from wlbtrack.domain.reporting.schemas import SubmissionIn, SubmissionPublic
from wlbtrack.domain.reporting.writes import ReportWrite, ValueWrite, write_quarter
from wlbtrack.lib.errors import ProblemError

T = TypeVar("T")
DETAIL_ITEMS = 10


class Problems:
    """Every problem found in a submission, reported together."""

    def __init__(self) -> None:
        self.found: list[tuple[int, str, str]] = []

    def add(self, status: int, field: str, message: str) -> None:
        self.found.append((status, field, message))

    def keep(self, problem: ProblemError) -> None:
        """Keep a problem raised by a rule (its detail reads `field: message`)."""
        field = problem.extra.get("field", "body") if isinstance(problem.extra, dict) else "body"
        self.add(problem.status_code, field, problem.detail.removeprefix(f"{field}: "))

    def check(self, rule: Callable[..., T], *args: Any) -> T | None:
        """Run a rule that raises ProblemError; keep its problem and return None when it fails."""
        try:
            return rule(*args)
        except ProblemError as exc:
            self.keep(exc)
            return None

    def raise_any(self) -> None:
        """403 when every problem is a permission problem, else 422; `errors` lists each one."""
        if not self.found:
            return
        status = 403 if all(status == 403 for status, _, _ in self.found) else 422
        details = [f"{field}: {message}" for _, field, message in self.found]
        detail = "; ".join(details[:DETAIL_ITEMS])
        if len(details) > DETAIL_ITEMS:
            detail += f"; and {len(details) - DETAIL_ITEMS} more (see errors)"
        errors = [{"field": field, "message": message} for _, field, message in self.found]
        raise ProblemError(status, detail, errors=errors)


async def submit(
    session: AsyncSession,
    catalogue: Catalogue,
    principal: Principal,
    body: SubmissionIn,
    first_fiscal_year: int,
) -> SubmissionPublic:
    """Validate the whole submission (409 at once for a closed period), then store every item."""
    problems = Problems()
    try:
        await writable_period(session, body.period, first_fiscal_year)
    except ProblemError as exc:
        if exc.status_code == 409:
            raise
        problems.keep(exc)
    department = problems.check(acting_department, principal, catalogue, body.department)
    if not body.reports and not body.values:
        problems.add(422, "reports", "a submission needs at least one report or value")

    seen_guidelines: set[str] = set()
    for index, report in enumerate(body.reports):
        field = f"reports[{index}].guideline"
        if report.guideline not in catalogue.guidelines:
            problems.add(422, field, f"no guideline with code {report.guideline!r}")
        elif report.guideline in seen_guidelines:
            problems.add(422, field, f"guideline {report.guideline} appears more than once")
        elif department is not None:
            problems.check(ensure_responsible, principal, catalogue, report.guideline, department, field)
        seen_guidelines.add(report.guideline)

    owners = await indicator_departments(session, {value.indicator for value in body.values})
    seen_indicators: set[int] = set()
    for index, value in enumerate(body.values):
        field = f"values[{index}].indicator"
        if value.indicator not in owners:
            problems.add(422, field, f"no indicator with id {value.indicator}")
        elif value.indicator in seen_indicators:
            problems.add(422, field, f"indicator {value.indicator} appears more than once")
        elif department is not None:
            owner = catalogue.department_code(owners[value.indicator])
            problems.check(ensure_owns, principal, owner, department, field)
        seen_indicators.add(value.indicator)

    problems.raise_any()
    assert department is not None
    department_id = catalogue.department_ids[department]
    reports, values = await write_quarter(
        session,
        catalogue,
        principal,
        body.period,
        reports=[
            ReportWrite(catalogue.guideline_ids[r.guideline], department_id, r.status, r.summary)
            for r in body.reports
        ],
        values=[ValueWrite(v.indicator, department_id, v.value, v.note) for v in body.values],
    )
    return SubmissionPublic(period=body.period, department=department, reports=reports, values=values)
