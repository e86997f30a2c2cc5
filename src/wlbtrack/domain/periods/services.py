"""Japanese fiscal-year quarters, the rule saying which of them the API accepts, and their open/closed state.

`2026-Q1` is FY2026 (令和8年度) April–June 2026. The period status rule, everywhere a period is read or
written: a malformed code is a 400 naming the parameter or field (a 404 in a path); a well-formed code
before WLBTRACK_FIRST_FISCAL_YEAR or after the current quarter (by the date in Tokyo) is a 422 naming it;
a write into a closed period is a 409.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from litestar.di import NamedDependency
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.db import Database, WriteSession
from wlbtrack.domain.auth.models import Role
from wlbtrack.domain.auth.services import Principal
from wlbtrack.domain.catalogue.models import DEPARTMENT
from wlbtrack.domain.periods.models import ClosedPeriod, DepartmentQuarter, PeriodDeadline, QuarterTransition
from wlbtrack.domain.periods.schemas import PERIOD_PATTERN, PeriodPublic
from wlbtrack.domain.webhooks.services import claim_reminder, emit, scheduled_reminders
from wlbtrack.lib import changes, locks
from wlbtrack.lib.clock import TOKYO, Clock
from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.i18n import Msg, Term
from wlbtrack.lib.structs import from_attributes
from wlbtrack.lib.tables import insert, table
from wlbtrack.lib.types import utcnow

_PERIOD_RE = re.compile(PERIOD_PATTERN)
CLOSED = table(ClosedPeriod)
DEADLINE = table(PeriodDeadline)
QUARTER = table(DepartmentQuarter)
TRANSITION = table(QuarterTransition)
# action → (states it may start from, state it leads to, participle for messages)
TRANSITIONS = {
    "submit": (("open", "returned"), "submitted", "submitted"),
    "approve": (("submitted",), "approved", "approved"),
    "return": (("submitted", "approved"), "returned", "returned"),
}
LOCKED_STATES = ("submitted", "approved")
STATES_JA = {"open": "入力中", "submitted": "提出済み", "approved": "承認済み", "returned": "差し戻し"}


def state_term(state: str) -> Term:
    """A department quarter's state in a message: the code, in Japanese the glossary's word."""
    return Term(state, ja=STATES_JA[state]) if state in STATES_JA else Term(state)


class PeriodError(ValueError):
    """Not a period code; `message` says so to people."""

    def __init__(self, message: Msg) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True, order=True)
class Period:
    """One fiscal quarter."""

    fiscal_year: int
    quarter: int

    @classmethod
    def parse(cls, code: str) -> Period:
        """Parse `YYYY-QN`; raises PeriodError for anything else."""
        if not _PERIOD_RE.fullmatch(code):
            raise PeriodError(Msg("{code!r} is not a period code like 2026-Q1", code=code))
        return cls(int(code[:4]), int(code[6]))

    @classmethod
    def containing(cls, day: date) -> Period:
        """The quarter a calendar day falls in."""
        fiscal_year = day.year if day.month >= 4 else day.year - 1
        return cls(fiscal_year, (day.month - 4) % 12 // 3 + 1)

    @property
    def code(self) -> str:
        return f"{self.fiscal_year:04d}-Q{self.quarter}"

    @property
    def start(self) -> date:
        month = 4 + 3 * (self.quarter - 1)
        return date(self.fiscal_year + (month > 12), (month - 1) % 12 + 1, 1)

    @property
    def end(self) -> date:
        return self.next().start - timedelta(days=1)

    @property
    def label_ja(self) -> str:
        return f"{self.fiscal_year}年度 第{self.quarter}四半期"

    def next(self) -> Period:
        if self.quarter == 4:
            return Period(self.fiscal_year + 1, 1)
        return Period(self.fiscal_year, self.quarter + 1)

    def previous(self) -> Period:
        if self.quarter == 1:
            return Period(self.fiscal_year - 1, 4)
        return Period(self.fiscal_year, self.quarter - 1)


def periods_between(first: Period, last: Period) -> list[Period]:
    """Every quarter from first to last, inclusive, oldest first."""
    periods: list[Period] = []
    current = first
    while current <= last:
        periods.append(current)
        current = current.next()
    return periods


class PeriodRules:
    """The periods the API accepts: from the plan's first fiscal year to the current quarter in Tokyo."""

    def __init__(self, first_fiscal_year: int, clock: Clock, deadline_days: int = 15) -> None:
        self.first_fiscal_year = first_fiscal_year
        self.deadline_days = deadline_days
        self._clock = clock

    @property
    def clock(self) -> Clock:
        """The clock deciding today's date and the time of transitions."""
        return self._clock

    def default_due(self, period: Period) -> date:
        """The due date of a quarter no admin set one for: WLBTRACK_DEADLINE_DAYS after it ends."""
        return period.end + timedelta(days=self.deadline_days)

    @property
    def first(self) -> Period:
        """The first quarter of the plan's first fiscal year."""
        return Period(self.first_fiscal_year, 1)

    def current(self) -> Period:
        """The quarter containing today's date in Tokyo: the latest period that has started."""
        return Period.containing(self._clock.today())

    def check(self, period: Period, name: str) -> Period:
        """The period if it lies within the plan's time; 422 naming `name` otherwise."""
        if period.fiscal_year < self.first_fiscal_year:
            raise ProblemError(
                422,
                Msg(
                    "{period} is before the plan's first fiscal year {first}",
                    period=period.code,
                    first=self.first_fiscal_year,
                ),
                field=name,
            )
        current = self.current()
        if period > current:
            raise ProblemError(
                422,
                Msg(
                    "{period} has not started yet (the current quarter is {current})",
                    period=period.code,
                    current=current.code,
                ),
                field=name,
            )
        return period

    def parse(self, name: str, code: str) -> Period:
        """A period named in a query parameter or a body field: 400 when malformed, 422 out of range."""
        return self.check(self._parse(name, code, 400), name)

    def parse_optional(self, name: str, code: str | None) -> Period | None:
        """Like `parse`, None when the parameter is absent."""
        return None if code is None else self.parse(name, code)

    def in_path(self, name: str, code: str) -> Period:
        """A period named in the path: 404 when the code is malformed (no such resource), 422 out of range."""
        return self.check(self._parse(name, code, 404), name)

    @staticmethod
    def _parse(name: str, code: str, status: int) -> Period:
        try:
            return Period.parse(code)
        except PeriodError as exc:
            detail = Msg("no period {code!r} ({reason})", code=code, reason=exc.message)
            raise ProblemError(status, detail if status == 404 else exc.message, field=name) from exc

    def fiscal_year(self, name: str, year: int) -> int:
        """A fiscal year within the plan's time; 422 naming `name` otherwise."""
        last = self.current().fiscal_year
        if not self.first_fiscal_year <= year <= last:
            raise ProblemError(
                422,
                Msg(
                    "{year} is outside the plan's fiscal years {first}–{last}",
                    year=year,
                    first=self.first_fiscal_year,
                    last=last,
                ),
                field=name,
            )
        return year

    async def writable(self, session: WriteSession, code: str, name: str = "period") -> Period:
        """The period, if it accepts writes: the rule above, then 409 when an admin closed it."""
        period = self.parse(name, code)
        await ensure_not_closed(session, period, name)
        return period


async def ensure_not_closed(session: WriteSession, period: Period, name: str = "period") -> None:
    """409 naming `name` when an admin closed the period; the answer holds until the transaction ends.

    The period's lock is shared with every other writer and taken alone by close and reopen, so the state
    read here cannot change before this transaction ends: a close never lets a write in after it.
    """
    await locks.hold(
        session, period_lock(period), shared=True, name=name, what=Msg("period {period}", period=period.code)
    )
    closed = await session.execute(select(CLOSED.c.period).where(CLOSED.c.period == period.code))
    if closed.first() is not None:
        raise ProblemError(
            409, Msg("{period} is closed; an admin must reopen it first", period=period.code), field=name
        )


def _public(
    period: Period, due: date, closed_at: datetime | None = None, closed_by: str | None = None
) -> PeriodPublic:
    state = "closed" if closed_by is not None else "open"
    return from_attributes(
        PeriodPublic, period, due=due, state=state, closed_at=closed_at, closed_by=closed_by
    )


async def due_dates(session: AsyncSession, rules: PeriodRules, periods: Sequence[Period]) -> dict[str, date]:
    """The due date of each period: the one an admin set, else the default."""
    codes = [period.code for period in periods]
    rows = await session.execute(
        select(DEADLINE.c.period, DEADLINE.c.due).where(DEADLINE.c.period.in_(codes))
    )
    set_dates = {code: due for code, due in rows}
    return {period.code: set_dates.get(period.code, rules.default_due(period)) for period in periods}


async def describe(
    session: AsyncSession, rules: PeriodRules, periods: Sequence[Period]
) -> list[PeriodPublic]:
    """The periods with their due dates and open/closed state, in the given order."""
    codes = [period.code for period in periods]
    rows = await session.execute(
        select(CLOSED.c.period, CLOSED.c.closed_at, CLOSED.c.closed_by).where(CLOSED.c.period.in_(codes))
    )
    closed = {code: (closed_at, closed_by) for code, closed_at, closed_by in rows}
    due = await due_dates(session, rules, periods)
    return [_public(period, due[period.code], *closed.get(period.code, (None, None))) for period in periods]


async def set_deadline(
    session: WriteSession, rules: PeriodRules, period: Period, due: date, set_by: str
) -> PeriodPublic:
    """Set the quarter's due date (it must not fall before the quarter's first day: 422 naming `due`)."""
    if due < period.start:
        raise ProblemError(
            422,
            Msg(
                "{due} is before {period} starts ({start})",
                due=due.isoformat(),
                period=period.code,
                start=period.start.isoformat(),
            ),
            field="due",
        )
    statement = insert(session, DEADLINE).values(period=period.code, due=due, set_at=utcnow(), set_by=set_by)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["period"],
            set_={"due": statement.excluded.due, "set_at": statement.excluded.set_at, "set_by": set_by},
        )
    )
    await changes.bump(session, changes.DATA)
    return (await describe(session, rules, [period]))[0]


async def _emit_period(
    session: WriteSession, rules: PeriodRules, period: Period, event: str, state: str, now: datetime
) -> None:
    """Tell the webhook receivers a period was closed or reopened (no department)."""
    due = (await due_dates(session, rules, [period]))[period.code]
    data = {"period": period.code, "department": None, "state": state, "due": due.isoformat()}
    await emit(session, event, data, now)


def period_lock(period: Period) -> str:
    """The name of the lock that writers share and closing or reopening the period takes alone."""
    return f"period:{period.code}"


async def _hold_alone(session: WriteSession, period: Period) -> None:
    """Take the period's lock alone, once the writes in progress have ended."""
    await locks.hold(
        session,
        period_lock(period),
        shared=False,
        name="code",
        what=Msg("period {period}", period=period.code),
    )


async def close_period(
    session: WriteSession, rules: PeriodRules, period: Period, closed_by: str
) -> PeriodPublic:
    """Close a period to writes once the writes in progress have ended (closing twice keeps the first)."""
    await _hold_alone(session, period)
    now = rules.clock.now()
    result = await session.execute(
        insert(session, CLOSED)
        .values(period=period.code, closed_at=now, closed_by=closed_by)
        .on_conflict_do_nothing(index_elements=["period"])
    )
    if getattr(result, "rowcount", 0) == 1:
        await _emit_period(session, rules, period, "period.closed", "closed", now)
    await changes.bump(session, changes.DATA)
    return (await describe(session, rules, [period]))[0]


async def reopen_period(session: WriteSession, rules: PeriodRules, period: Period) -> PeriodPublic:
    """Open a period to writes again."""
    await _hold_alone(session, period)
    result = await session.execute(delete(CLOSED).where(CLOSED.c.period == period.code))
    if getattr(result, "rowcount", 0) == 1:
        await _emit_period(session, rules, period, "period.reopened", "open", rules.clock.now())
    await changes.bump(session, changes.DATA)
    return (await describe(session, rules, [period]))[0]


# --- each department's quarter: open → submitted → approved, or → returned → submitted … ------------


@dataclass(frozen=True)
class QuarterState:
    """A department's quarter as stored (a department without a row is `open`)."""

    state: str = "open"
    submitted_at: datetime | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    comment: str | None = None


def on_time(submitted_at: datetime | None, due: date) -> bool | None:
    """Submitted by the end of the due day in Tokyo; None while not submitted."""
    if submitted_at is None:
        return None
    return submitted_at.astimezone(TOKYO).date() <= due


def overdue(state: QuarterState, due: date, today: date) -> bool:
    """Not submitted (open, or returned and not yet resubmitted) and past the due day (Tokyo)."""
    return state.state in ("open", "returned") and today > due


_STATE_COLUMNS = (
    QUARTER.c.state,
    QUARTER.c.submitted_at,
    QUARTER.c.decided_at,
    QUARTER.c.decided_by,
    QUARTER.c.comment,
)


async def quarter_states(
    session: AsyncSession, periods: Sequence[str]
) -> dict[tuple[str, int], QuarterState]:
    """The stored state of every department quarter of the periods, by (period, department id)."""
    rows = await session.execute(
        select(QUARTER.c.period, QUARTER.c.department_id, *_STATE_COLUMNS).where(
            QUARTER.c.period.in_(periods)
        )
    )
    return {(period, department_id): QuarterState(*rest) for period, department_id, *rest in rows}


async def ensure_quarter_writable(
    session: AsyncSession, principal: Principal, period: str, department_id: int, department: str | Term
) -> None:
    """A department's own writes for a period it has submitted (or that was approved) are a 409; admins
    may still write. On PostgreSQL the state row is read FOR SHARE, so a transition waits for the write."""
    if principal.role is not Role.DEPARTMENT:
        return
    row = await session.execute(
        select(QUARTER.c.state)
        .where(QUARTER.c.period == period, QUARTER.c.department_id == department_id)
        .with_for_update(read=True)
    )
    state = row.scalar()
    if state in LOCKED_STATES:
        raise ProblemError(
            409,
            Msg(
                "{department}'s {period} is {state}; ask the plan office to return it before changing it",
                period=period,
                department=department,
                state=state_term(state),
            ),
            field="period",
        )


async def _lock_quarter(session: WriteSession, period: str, department_id: int) -> QuarterState:
    """The department quarter's row, created `open` if missing, locked until the transaction ends
    (FOR UPDATE on PostgreSQL; SQLite's write transaction already holds the database's write lock)."""
    await session.execute(
        insert(session, QUARTER)
        .values(period=period, department_id=department_id, state="open")
        .on_conflict_do_nothing(index_elements=["period", "department_id"])
    )
    row = await session.execute(
        select(*_STATE_COLUMNS)
        .where(QUARTER.c.period == period, QUARTER.c.department_id == department_id)
        .with_for_update()
    )
    return QuarterState(*row.one())


async def transition(
    session: WriteSession,
    rules: PeriodRules,
    period: Period,
    department_id: int,
    department: str | Term,
    action: str,
    principal: Principal,
    comment: str | None = None,
    precondition: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Move a department's quarter by `action` (submit, approve, return) in the caller's transaction.

    409 when the period is closed or the current state does not allow the action; `precondition` runs
    under the row lock before anything is written (submit's check of missing reports).
    """
    await ensure_not_closed(session, period, "code")
    current = await _lock_quarter(session, period.code, department_id)
    sources, target, done = TRANSITIONS[action]
    if current.state not in sources:
        raise ProblemError(
            409,
            Msg(
                "{department}'s {period} is {state}; a quarter can be {done} only from {sources}",
                period=period.code,
                department=department,
                state=state_term(current.state),
                done=state_term(done),
                sources=[state_term(source) for source in sources],
            ),
            field="state",
        )
    if precondition is not None:
        await precondition()
    now = rules.clock.now()
    changed: dict[str, object] = {"state": target}
    if action == "submit":
        changed.update(
            submitted_at=current.submitted_at or now, decided_at=None, decided_by=None, comment=None
        )
    else:
        changed.update(decided_at=now, decided_by=principal.label, comment=comment)
    if action == "return":
        changed["submitted_at"] = current.submitted_at
    await session.execute(
        update(QUARTER)
        .where(QUARTER.c.period == period.code, QUARTER.c.department_id == department_id)
        .values(**changed)
    )
    due = (await due_dates(session, rules, [period]))[period.code]
    data: dict[str, Any] = {
        "period": period.code,
        "department": str(department),  # the code (a Term is the code in English)
        "state": target,
        "due": due.isoformat(),
    }
    if comment is not None:
        data["comment"] = comment
    await emit(session, f"submission.{target}", data, now)
    await session.execute(
        TRANSITION.insert().values(
            period=period.code,
            department_id=department_id,
            action=action,
            from_state=current.state,
            to_state=target,
            at=now,
            by=principal.label,
            token_id=principal.token_id,
            comment=comment,
        )
    )
    await changes.bump(session, changes.DATA)


async def transitions(session: AsyncSession, period: str, department_id: int) -> Sequence[Any]:
    """Every transition of a department's quarter, oldest first."""
    rows = await session.execute(
        select(
            TRANSITION.c.action,
            TRANSITION.c.from_state,
            TRANSITION.c.to_state,
            TRANSITION.c.at,
            TRANSITION.c.by,
            TRANSITION.c.comment,
        )
        .where(TRANSITION.c.period == period, TRANSITION.c.department_id == department_id)
        .order_by(TRANSITION.c.id)
    )
    return rows.all()


# --- reminders -----------------------------------------------------------------------------------------


async def remind(database: Database, rules: PeriodRules, reminder_days: int) -> int:
    """Schedule `deadline.approaching` (from `reminder_days` before due to the due day) and
    `deadline.missed` (after the due day) for each department not submitted, in the latest three
    quarters; each (period, department, event) once, whatever number of processes run this."""
    today, current = rules.clock.today(), rules.current()
    periods = [p for p in (current.previous().previous(), current.previous(), current) if p >= rules.first]
    codes = [period.code for period in periods]
    async with database.read_sessions() as session:
        due = await due_dates(session, rules, periods)
        states = await quarter_states(session, codes)
        taken = await scheduled_reminders(session, codes)
        departments = list(await session.execute(select(DEPARTMENT.c.id, DEPARTMENT.c.code)))
    wanted: list[tuple[str, int, str, str, str]] = []
    for code in codes:
        if today > due[code]:
            event = "deadline.missed"
        elif today >= due[code] - timedelta(days=reminder_days):
            event = "deadline.approaching"
        else:
            continue
        for department_id, department in departments:
            state = states.get((code, department_id), QuarterState()).state
            if state not in LOCKED_STATES and (code, department_id, event) not in taken:
                wanted.append((code, department_id, event, department, state))
    if not wanted:
        return 0
    scheduled = 0
    async with database.write_sessions() as writer, writer.begin():
        now = rules.clock.now()
        for code, department_id, event, department, state in wanted:
            if await claim_reminder(writer, code, department_id, event, now):
                data = {
                    "period": code,
                    "department": department,
                    "state": state,
                    "due": due[code].isoformat(),
                }
                await emit(writer, event, data, now)
                scheduled += 1
    return scheduled


PeriodsDep = NamedDependency[PeriodRules]
