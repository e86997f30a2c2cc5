"""Writing reports, indicators and values: who may write for whom, storing revisions, the quarterly batch.

Every write of reports or values goes through `write_quarter`, which takes row locks in one global
order (reports by key, then values by indicator, then the change counter), so concurrent writers on
PostgreSQL queue instead of deadlocking.

The batch's checks (`check_scope`, `check_items`) and write (`write_items`) are also used by the
spreadsheet import: each item carries where it came from (`Where`), so a problem names the batch's field
path or a spreadsheet cell.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Table, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.db import WriteSession
from wlbtrack.domain.auth.models import Role
from wlbtrack.domain.auth.services import Principal, own_department_only
from wlbtrack.domain.catalogue.services import Catalogue
from wlbtrack.domain.periods.services import (
    Period,
    PeriodRules,
    QuarterState,
    due_dates,
    ensure_quarter_writable,
    on_time,
    quarter_states,
    transition,
    transitions,
)
from wlbtrack.domain.reporting import models as tables
from wlbtrack.domain.reporting.queries import indicator_departments, missing_guidelines
from wlbtrack.domain.reporting.schemas import (
    DepartmentQuarterList,
    DepartmentQuarterPublic,
    IndicatorPublic,
    ReportPublic,
    ReportStatus,
    SubmissionIn,
    SubmissionPublic,
    TransitionList,
    TransitionPublic,
    ValuePublic,
)
from wlbtrack.lib import changes, locks
from wlbtrack.lib.errors import ProblemError, joined
from wlbtrack.lib.i18n import Msg
from wlbtrack.lib.structs import from_attributes
from wlbtrack.lib.tables import foreign_key_to, insert
from wlbtrack.lib.types import utcnow

T = TypeVar("T")
DETAIL_ITEMS = 10
DEFINITION = ("name", "unit", "baseline", "target")
# head table, revision table, and the key of a head row besides its period
REPORTS = (tables.REPORT, tables.REPORT_REVISION, ("guideline_id", "department_id"))
VALUES = (tables.VALUE, tables.VALUE_REVISION, ("indicator_id",))

# --- who may write for whom ---------------------------------------------------------------------


def acting_department(
    principal: Principal, catalogue: Catalogue, requested: str | None, default: str | None = None
) -> str:
    """The department a write is made for: a department token's own, or the one an admin names.

    `default` is used when an admin names none (a guideline with a single responsible department).
    """
    if principal.role is Role.DEPARTMENT:
        assert principal.department is not None
        if requested is not None:
            own_department_only(
                principal,
                catalogue,
                requested,
                lambda **terms: Msg("a token of {own} cannot write for {department}", **terms),
            )
        return principal.department
    department = requested or default
    if department is None:
        raise ProblemError(422, Msg("an admin must name the department it writes for"), field="department")
    if department not in catalogue.departments:
        raise ProblemError(422, Msg("no department with code {code!r}", code=department), field="department")
    return department


def ensure_responsible(
    principal: Principal, catalogue: Catalogue, guideline: str, department: str, field: str
) -> None:
    """The department must be responsible for the guideline: 403 for its own token, 422 for an admin."""
    if department not in catalogue.responsible(guideline):
        message = Msg(
            "{department} is not responsible for guideline {guideline}",
            department=catalogue.department_term(department),
            guideline=guideline,
        )
        raise _refused(principal, message, field)


def ensure_owns(
    principal: Principal, catalogue: Catalogue, indicator_department: str, department: str, field: str
) -> None:
    """An indicator's department must be the one written for: 403 for a department token, 422 for an admin."""
    if indicator_department != department:
        message = Msg(
            "the indicator belongs to {owner}, not {department}",
            owner=catalogue.department_term(indicator_department),
            department=catalogue.department_term(department),
        )
        raise _refused(principal, message, field)


def _refused(principal: Principal, message: Msg, field: str) -> ProblemError:
    """A write for the wrong department: 403 for a department token, 422 for an admin (who named it)."""
    return ProblemError(403 if principal.role is Role.DEPARTMENT else 422, message, field=field)


def single_responsible(catalogue: Catalogue, guideline: str) -> str | None:
    """The guideline's only responsible department, or None when there are several."""
    responsible = catalogue.responsible(guideline)
    return next(iter(responsible)) if len(responsible) == 1 else None


async def ensure_quarter_open(
    session: WriteSession, catalogue: Catalogue, principal: Principal, period: str, department_id: int
) -> None:
    """The one check every department write makes: a department's own writes into a quarter it has
    submitted (or the plan office approved) are a 409 until it is returned; admins may still write."""
    await ensure_quarter_writable(
        session,
        principal,
        period,
        department_id,
        catalogue.department_term(catalogue.department_code(department_id)),
    )


# --- storing revisions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportWrite:
    """A validated report to store: guideline and department by id."""

    guideline_id: int
    department_id: int
    status: ReportStatus
    summary: str


@dataclass(frozen=True)
class ValueWrite:
    """A validated value to store; `department_id` is the indicator's department."""

    indicator_id: int
    department_id: int
    value: float
    note: str | None


async def _store(
    session: WriteSession,
    tables_and_key: tuple[Table, Table, tuple[str, ...]],
    writes: Sequence[ReportWrite] | Sequence[ValueWrite],
    principal: Principal,
    period: str,
    now: datetime,
) -> dict[tuple[int, ...], int]:
    """Upsert the head rows by `key` and period (revision + 1 on conflict, the other columns replaced),
    append each one's revision row; the new revision per key, locking heads in key order."""
    if not writes:
        return {}
    head, revisions, key = tables_and_key
    items = [asdict(item) for item in writes]
    ordered = sorted(items, key=lambda item: tuple(item[name] for name in key))
    changed = [name for name in ordered[0] if name not in key]
    copied = [name for name in changed if name in revisions.c]
    statement = insert(session, head)
    upsert = statement.on_conflict_do_update(
        index_elements=[*key, "period"],
        set_={
            "revision": head.c.revision + 1,
            **{name: statement.excluded[name] for name in (*changed, "updated_at", "updated_by")},
        },
    ).returning(head.c.id, head.c.revision, *(head.c[name] for name in key))
    written = {"period": period, "revision": 1, "updated_at": now, "updated_by": principal.label}
    rows = await session.execute(upsert, [{**item, **written} for item in ordered])
    stored = {tuple(keys): (row_id, revision) for row_id, revision, *keys in rows}
    parent = foreign_key_to(revisions, head)
    await session.execute(
        revisions.insert(),
        [
            {
                parent.name: stored[tuple(item[name] for name in key)][0],
                "revision": stored[tuple(item[name] for name in key)][1],
                **{name: item[name] for name in copied},
                "created_at": now,
                "created_by": principal.label,
                "token_id": principal.token_id,
            }
            for item in ordered
        ],
    )
    return {keys: revision for keys, (_, revision) in stored.items()}


async def write_quarter(
    session: WriteSession,
    catalogue: Catalogue,
    principal: Principal,
    period: str,
    reports: Sequence[ReportWrite] = (),
    values: Sequence[ValueWrite] = (),
) -> tuple[list[ReportPublic], list[ValuePublic]]:
    """Store the next revision of each report and value in the caller's transaction, in input order.

    Items must be validated (permissions, period) and have distinct keys: (guideline, department) for
    reports, indicator for values. Racing writers get distinct consecutive revisions: the head row is
    upserted atomically with `revision = revision + 1`.
    """
    written_for = {item.department_id for item in reports} | {item.department_id for item in values}
    for department_id in sorted(written_for):
        await queue_behind_writers(session, catalogue, period, catalogue.department_code(department_id))
        await ensure_quarter_open(session, catalogue, principal, period, department_id)
    now = utcnow()
    report_revisions = await _store(session, REPORTS, reports, principal, period, now)
    value_revisions = await _store(session, VALUES, values, principal, period, now)
    await changes.bump(session, changes.DATA)
    stored_reports = [
        ReportPublic(
            guideline=catalogue.guideline_code(item.guideline_id),
            department=catalogue.department_code(item.department_id),
            period=period,
            revision=report_revisions[item.guideline_id, item.department_id],
            status=item.status,
            summary=item.summary,
            created_at=now,
            created_by=principal.label,
        )
        for item in reports
    ]
    stored_values = [
        ValuePublic(
            indicator=item.indicator_id,
            department=catalogue.department_code(item.department_id),
            period=period,
            revision=value_revisions[(item.indicator_id,)],
            value=item.value,
            note=item.note,
            created_at=now,
            created_by=principal.label,
        )
        for item in values
    ]
    return stored_reports, stored_values


# --- indicators ----------------------------------------------------------------------------------


def indicator_public(catalogue: Catalogue, row: Row[Any]) -> IndicatorPublic:
    """The API shape of an indicator row."""
    return IndicatorPublic(
        id=row.id,
        guideline=catalogue.guideline_code(row.guideline_id),
        department=catalogue.department_code(row.department_id),
        name=row.name,
        unit=row.unit,
        baseline=row.baseline,
        target=row.target,
        direction="decreasing" if row.target < row.baseline else "increasing",
        revision=row.revision,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


async def _record_revision(session: WriteSession, row: Row[Any], principal: Principal) -> None:
    await session.execute(
        tables.INDICATOR_REVISION.insert().values(
            indicator_id=row.id,
            revision=row.revision,
            created_at=row.updated_at,
            created_by=row.updated_by,
            token_id=principal.token_id,
            **{name: getattr(row, name) for name in DEFINITION},
        )
    )
    await changes.bump(session, changes.DATA)


async def create_indicator(
    session: WriteSession,
    principal: Principal,
    guideline_id: int,
    department_id: int,
    definition: dict[str, Any],
) -> Row[Any]:
    """Store a validated indicator (revision 1) and its first history entry."""
    now = utcnow()
    row = (
        await session.execute(
            tables.INDICATOR.insert()
            .values(
                guideline_id=guideline_id,
                department_id=department_id,
                revision=1,
                created_at=now,
                created_by=principal.label,
                updated_at=now,
                updated_by=principal.label,
                **definition,
            )
            .returning(*tables.INDICATOR.c)
        )
    ).one()
    await _record_revision(session, row, principal)
    return row


async def change_indicator(
    session: WriteSession, principal: Principal, indicator_id: int, changed: dict[str, Any]
) -> Row[Any]:
    """Apply validated changes atomically as the next revision and record it in the history."""
    row = (
        await session.execute(
            update(tables.INDICATOR)
            .where(tables.INDICATOR.c.id == indicator_id)
            .values(
                revision=tables.INDICATOR.c.revision + 1,
                updated_at=utcnow(),
                updated_by=principal.label,
                **changed,
            )
            .returning(*tables.INDICATOR.c)
        )
    ).one()
    await _record_revision(session, row, principal)
    return row


# --- the quarterly batch -------------------------------------------------------------------------


@dataclass(frozen=True)
class Where:
    """Where an input sits: its field (a batch path like `reports[1].guideline`), and its cell in a file."""

    field: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    cell: str | None = None

    def error(self, message: Msg) -> dict[str, Any]:
        """The `errors[]` entry: `{field, message}`, in a file also `sheet, row, column, cell`."""
        if self.sheet is None:
            return {"field": self.field, "message": message}
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "cell": self.cell,
            "field": self.field,
            "message": message,
        }

    def text(self, message: Msg) -> Msg:
        """The problem's `detail` part for this input."""
        place: str | Msg | None = self.cell
        if place is None and self.sheet is not None:
            place = (
                self.sheet if self.row is None else Msg("{sheet} row {row}", sheet=self.sheet, row=self.row)
            )
        if place is None:
            return Msg("{field}: {message}", field=self.field, message=message)
        return Msg("{place} {field}: {message}", place=place, field=self.field, message=message)


class Problems:
    """Every problem found in a submission, reported together."""

    def __init__(self) -> None:
        self.found: list[tuple[int, Where, Msg]] = []

    def add(self, status: int, where: Where | str, message: Msg) -> None:
        self.found.append((status, Where(where) if isinstance(where, str) else where, message))

    def keep(self, problem: ProblemError, where: Where | None = None) -> None:
        """Keep a problem raised by a rule (its message, without its field), at `where` if given."""
        self.add(problem.status_code, where or problem.field or "body", problem.message)

    def check(self, rule: Callable[..., T], *args: Any, where: Where | None = None) -> T | None:
        """Run a rule that raises ProblemError; keep its problem and return None when it fails."""
        try:
            return rule(*args)
        except ProblemError as exc:
            self.keep(exc, where)
            return None

    def raise_any(self) -> None:
        """403 when every problem is a permission problem, else 422; `errors` lists each one."""
        if not self.found:
            return
        status = 403 if all(status == 403 for status, _, _ in self.found) else 422
        details = [where.text(message) for _, where, message in self.found]
        detail = joined(details[:DETAIL_ITEMS])
        if len(details) > DETAIL_ITEMS:
            detail = Msg(
                "{problems}; and {count} more (see errors)",
                problems=detail,
                count=len(details) - DETAIL_ITEMS,
            )
        errors = [where.error(message) for _, where, message in self.found]
        raise ProblemError(status, detail, errors=errors)


@dataclass(frozen=True)
class ReportItem:
    """A report to check and write; `where` is where its guideline is named."""

    guideline: str
    status: ReportStatus
    summary: str
    where: Where


@dataclass(frozen=True)
class ValueItem:
    """A value to check and write; `where` is where its indicator is named."""

    indicator: int
    value: float
    note: str | None
    where: Where


async def check_scope(
    session: WriteSession,
    catalogue: Catalogue,
    principal: Principal,
    periods: PeriodRules,
    period: str,
    requested_department: str | None,
    problems: Problems,
    period_at: Where | None = None,
    department_at: Where | None = None,
) -> str | None:
    """The period must accept writes (409 at once when closed, or when the department's own quarter is
    submitted or approved) and the caller may write for the department.

    Returns the department written for, or None when that is a problem (kept in `problems`).
    """
    try:
        await periods.writable(session, period)
    except ProblemError as exc:
        if exc.status_code == 409:
            raise
        problems.keep(exc, period_at)
    department = problems.check(
        acting_department, principal, catalogue, requested_department, where=department_at
    )
    if department is not None:
        await queue_behind_writers(session, catalogue, period, department)
        await ensure_quarter_open(session, catalogue, principal, period, catalogue.department_ids[department])
    return department


async def queue_behind_writers(
    session: WriteSession, catalogue: Catalogue, period: str, department: str
) -> None:
    """Wait (up to WLBTRACK_DB_LOCK_WAIT) until no other write to the department's quarter is in progress.

    Writers of one department and period then wait here, where a long wait is a 409 with Retry-After,
    not on each other's row locks, where the statement timeout would call it an outage.
    """
    await locks.hold(
        session,
        f"quarter:{period}:{department}",
        shared=False,
        name="department",
        what=Msg("{department}'s {period}", department=catalogue.department_term(department), period=period),
    )


async def check_items(
    session: WriteSession,
    catalogue: Catalogue,
    principal: Principal,
    department: str | None,
    reports: Sequence[ReportItem],
    values: Sequence[ValueItem],
    problems: Problems,
) -> None:
    """Each guideline and indicator exists, appears once, and is the department's to write."""
    seen_guidelines: set[str] = set()
    for report in reports:
        where = report.where
        if report.guideline not in catalogue.guidelines:
            problems.add(422, where, Msg("no guideline with code {code!r}", code=report.guideline))
        elif report.guideline in seen_guidelines:
            problems.add(422, where, Msg("guideline {code} appears more than once", code=report.guideline))
        elif department is not None:
            problems.check(
                ensure_responsible,
                principal,
                catalogue,
                report.guideline,
                department,
                where.field,
                where=where,
            )
        seen_guidelines.add(report.guideline)

    owners = await indicator_departments(session, {value.indicator for value in values})
    seen_indicators: set[int] = set()
    for value in values:
        where = value.where
        if value.indicator not in owners:
            problems.add(422, where, Msg("no indicator with id {id}", id=value.indicator))
        elif value.indicator in seen_indicators:
            problems.add(422, where, Msg("indicator {id} appears more than once", id=value.indicator))
        elif department is not None:
            owner = catalogue.department_code(owners[value.indicator])
            problems.check(ensure_owns, principal, catalogue, owner, department, where.field, where=where)
        seen_indicators.add(value.indicator)


async def write_items(
    session: WriteSession,
    catalogue: Catalogue,
    principal: Principal,
    period: str,
    department: str,
    reports: Sequence[ReportItem],
    values: Sequence[ValueItem],
) -> tuple[list[ReportPublic], list[ValuePublic]]:
    """Store checked items as the department's next revisions, in the caller's transaction."""
    department_id = catalogue.department_ids[department]
    return await write_quarter(
        session,
        catalogue,
        principal,
        period,
        reports=[
            ReportWrite(catalogue.guideline_ids[r.guideline], department_id, r.status, r.summary)
            for r in reports
        ],
        values=[ValueWrite(v.indicator, department_id, v.value, v.note) for v in values],
    )


async def submit(
    session: WriteSession,
    catalogue: Catalogue,
    principal: Principal,
    body: SubmissionIn,
    periods: PeriodRules,
) -> SubmissionPublic:
    """Validate the whole submission (409 at once for a closed period), then store every item."""
    problems = Problems()
    for error in body.decoding_errors():
        problems.add(422, error["field"], error["message"])
    department = await check_scope(
        session, catalogue, principal, periods, body.period, body.department, problems
    )
    if not body.reports and not body.values and not body.decoding_errors():
        problems.add(422, "reports", Msg("a submission needs at least one report or value"))
    reports = [
        ReportItem(
            r.guideline, r.status, r.summary, Where(f"reports[{body.position('reports', index)}].guideline")
        )
        for index, r in enumerate(body.reports)
    ]
    values = [
        ValueItem(v.indicator, v.value, v.note, Where(f"values[{body.position('values', index)}].indicator"))
        for index, v in enumerate(body.values)
    ]
    await check_items(session, catalogue, principal, department, reports, values, problems)
    problems.raise_any()
    assert department is not None
    stored_reports, stored_values = await write_items(
        session, catalogue, principal, body.period, department, reports, values
    )
    return SubmissionPublic(
        period=body.period, department=department, reports=stored_reports, values=stored_values
    )


# --- the quarterly cycle: each department's quarter --------------------------------------------


def _quarter_public(
    catalogue: Catalogue, department: str, state: QuarterState, due: date, missing: set[int]
) -> DepartmentQuarterPublic:
    order = {code: position for position, code in enumerate(catalogue.guidelines)}
    return DepartmentQuarterPublic(
        department=department,
        state=state.state,  # type: ignore[arg-type]  # stored states are the schema's literals
        due=due,
        submitted_at=state.submitted_at,
        on_time=on_time(state.submitted_at, due),
        decided_at=state.decided_at,
        decided_by=state.decided_by,
        comment=state.comment,
        missing=sorted((catalogue.guideline_code(g) for g in missing), key=order.__getitem__),
    )


async def department_quarters(
    session: AsyncSession, catalogue: Catalogue, rules: PeriodRules, period: Period, only: str | None = None
) -> DepartmentQuarterList:
    """Every department's quarter (or only one), in catalogue order."""
    due = (await due_dates(session, rules, [period]))[period.code]
    states = await quarter_states(session, [period.code])
    missing = await missing_guidelines(session, period.code)
    items = [
        _quarter_public(
            catalogue,
            code,
            states.get((period.code, catalogue.department_ids[code]), QuarterState()),
            due,
            missing.get(catalogue.department_ids[code], set()),
        )
        for code in catalogue.departments
        if only is None or code == only
    ]
    return DepartmentQuarterList(items=items, total=len(items))


async def move_quarter(
    session: WriteSession,
    catalogue: Catalogue,
    rules: PeriodRules,
    principal: Principal,
    period: Period,
    department: str,
    action: str,
    comment: str | None = None,
) -> DepartmentQuarterPublic:
    """Submit, approve or return a department's quarter; a submit needs a current report on every
    guideline the department is responsible for (422 listing each missing one in `errors`)."""
    department_id = catalogue.department_ids[department]

    async def every_report_present() -> None:
        missing = (await missing_guidelines(session, period.code)).get(department_id, set())
        if missing:
            order = {code: position for position, code in enumerate(catalogue.guidelines)}
            codes = sorted((catalogue.guideline_code(g) for g in missing), key=order.__getitem__)
            raise ProblemError(
                422,
                Msg(
                    "{department} has no report for {period} on {count} guideline(s) it is responsible "
                    "for: {codes}",
                    department=catalogue.department_term(department),
                    period=period.code,
                    count=len(codes),
                    codes=codes,
                ),
                field="guideline",
                errors=[
                    {
                        "field": "guideline",
                        "guideline": code,
                        "message": Msg("no report on guideline {code}", code=code),
                    }
                    for code in codes
                ],
            )

    await transition(
        session,
        rules,
        period,
        department_id,
        catalogue.department_term(department),
        action,
        principal,
        comment,
        every_report_present if action == "submit" else None,
    )
    return (await department_quarters(session, catalogue, rules, period, department)).items[0]


async def quarter_history(
    session: AsyncSession, catalogue: Catalogue, period: Period, department: str
) -> TransitionList:
    """Every transition of a department's quarter, oldest first."""
    rows = await transitions(session, period.code, catalogue.department_ids[department])
    items = [from_attributes(TransitionPublic, row) for row in rows]
    return TransitionList(items=items, total=len(items))
