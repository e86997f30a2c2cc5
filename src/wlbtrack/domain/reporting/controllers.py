"""HTTP API of reports, indicators, indicator values and quarterly submissions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Controller, Response, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody
from litestar.types import Guard
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.db import ReadSession, WriteSession
from wlbtrack.domain.auth.guards import admin_only, writers_only
from wlbtrack.domain.auth.models import Role
from wlbtrack.domain.auth.services import (
    WRITE_CONTEXT,
    Principal,
    PrincipalDep,
    WriteContext,
    WriteContextDep,
    own_department_only,
)
from wlbtrack.domain.catalogue.schemas import DepartmentFilter, DepartmentPath, GuidelineFilter, GuidelinePath
from wlbtrack.domain.catalogue.services import Catalogue, CatalogueDep
from wlbtrack.domain.periods.schemas import PeriodPath
from wlbtrack.domain.periods.services import PeriodRules, PeriodsDep
from wlbtrack.domain.reporting import queries
from wlbtrack.domain.reporting.schemas import (
    DepartmentQuarterList,
    DepartmentQuarterPublic,
    IndicatorIn,
    IndicatorList,
    IndicatorPatch,
    IndicatorPublic,
    IndicatorRevisionList,
    PeriodQuery,
    ReportIn,
    ReportList,
    ReportPublic,
    ReturnIn,
    SubmissionIn,
    SubmissionPublic,
    TransitionList,
    ValueIn,
    ValueList,
    ValuePublic,
)
from wlbtrack.domain.reporting.services import (
    ReportWrite,
    ValueWrite,
    acting_department,
    change_indicator,
    create_indicator,
    department_quarters,
    ensure_owns,
    ensure_responsible,
    indicator_public,
    move_quarter,
    quarter_history,
    single_responsible,
    submit,
    write_quarter,
)
from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.i18n import Msg
from wlbtrack.lib.integers import RowId
from wlbtrack.lib.metrics import record_submission
from wlbtrack.lib.responses import errors, linked
from wlbtrack.lib.validation import StrictBody

SessionDep = NamedDependency[ReadSession]
WriteSessionDep = NamedDependency[WriteSession]
WRITE_ERRORS = errors(403, 404, 409, 413, 422)
READ_ERRORS = errors(404, 422)


def guideline_id(catalogue: Catalogue, code: str) -> int:
    """The id of a guideline in the path; 404 when there is none."""
    if code not in catalogue.guideline_ids:
        raise ProblemError(404, Msg("no guideline with code {code!r}", code=code), field="code")
    return catalogue.guideline_ids[code]


def department_filter(catalogue: Catalogue, code: str | None) -> int | None:
    """The id of a department named in a query; 400 when it is unknown."""
    if code is None:
        return None
    if code not in catalogue.department_ids:
        raise ProblemError(422, Msg("no department with code {code!r}", code=code), field="department")
    return catalogue.department_ids[code]


def count_stored(response: Response[Any], reports: int, values: int) -> None:
    """Count a committed write in the metrics by kind; a replayed idempotent response stored nothing new."""
    if "Idempotent-Replayed" in response.headers:
        return
    department = response.content.department
    for kind, count in (("report", reports), ("value", values)):
        if count:
            record_submission(department, kind, count)


async def indicator_row(session: AsyncSession, indicator_id: int) -> Row[Any]:
    """An indicator by the id in the path; 404 when there is none."""
    row = await queries.get_indicator(session, indicator_id)
    if row is None:
        raise ProblemError(404, Msg("no indicator with id {id}", id=indicator_id), field="indicator_id")
    return row


def may_change(principal: Principal, catalogue: Catalogue, department_id: int) -> str:
    """The indicator's department code, if the caller may write for it (admin, or that department)."""
    department = catalogue.department_code(department_id)
    if principal.role is not Role.ADMIN:
        ensure_owns(principal, catalogue, department, principal.department or "", "indicator_id")
    return department


def acting_for_guideline(principal: Principal, catalogue: Catalogue, code: str, requested: str | None) -> str:
    """The department a write on a guideline is made for, which must be responsible for it."""
    department = acting_department(principal, catalogue, requested, single_responsible(catalogue, code))
    ensure_responsible(principal, catalogue, code, department, "department")
    return department


def created(path: str, summary: str, responses: Any = WRITE_ERRORS, **options: Any) -> HTTPRouteHandler:
    """The route of a POST creating something from its strictly decoded body (`dto`): 201, writers only."""
    return post(
        path,
        summary=summary,
        status_code=201,
        guards=[writers_only],
        responses=responses,
        return_dto=None,
        **options,
    )


@dataclass(frozen=True)
class QuarterWrite:
    """What a write of one report or one value into a department's quarter needs."""

    catalogue: Catalogue
    periods: PeriodRules
    context: WriteContext

    async def store(
        self, data: ReportIn | ValueIn, item: Callable[[], Awaitable[ReportWrite | ValueWrite]]
    ) -> Response[Any]:
        """Store the item `item` returns once it has checked who writes it, in one transaction honouring the
        Idempotency-Key; the period must be open to it. Counted in the metrics."""
        context = self.context

        async def write() -> ReportPublic | ValuePublic:
            written = await item()
            await self.periods.writable(context.session, data.period)
            reports, values = await write_quarter(
                context.session,
                self.catalogue,
                context.principal,
                data.period,
                reports=[written] if isinstance(written, ReportWrite) else [],
                values=[written] if isinstance(written, ValueWrite) else [],
            )
            return (reports or values)[0]

        is_report = isinstance(data, ReportIn)
        response = await context.commit(data, ReportPublic if is_report else ValuePublic, 201, write)
        count_stored(response, reports=int(is_report), values=int(not is_report))
        return response


def provide_quarter_write(
    catalogue: CatalogueDep, periods: PeriodsDep, context: WriteContextDep
) -> QuarterWrite:
    """What a write of one report or value needs."""
    return QuarterWrite(catalogue, periods, context)


QuarterWriteDep = NamedDependency[QuarterWrite]
ONE_WRITE = {  # a controller's `dependencies` for handlers that take `one: QuarterWriteDep`
    **WRITE_CONTEXT,
    "one": Provide(provide_quarter_write, sync_to_thread=False),
}


class ReportController(Controller):
    """Status reports of departments on a guideline (目安), per fiscal quarter, with every revision."""

    path = "/guidelines/{code:str}/reports"
    tags = ("reporting",)
    dependencies = ONE_WRITE

    @created(
        "/",
        "Post a status report",
        operation_class=linked(201, "code", "$request.path.code", "list_reports", "list_report_history"),
        dto=StrictBody[ReportIn],
    )
    async def post_report(
        self, code: GuidelinePath, data: JSONBody[ReportIn], one: QuarterWriteDep
    ) -> Response[ReportPublic]:
        """Store the next revision of this department's report on the guideline for the period.

        Admins name the `department` (unless the guideline has only one); earlier revisions never change.
        """
        catalogue, principal = one.catalogue, one.context.principal
        guideline = guideline_id(catalogue, code)

        async def report() -> ReportWrite:
            department = acting_for_guideline(principal, catalogue, code, data.department)
            return ReportWrite(guideline, catalogue.department_ids[department], data.status, data.summary)

        return await one.store(data, report)

    @get("/", summary="Current reports on a guideline", responses=READ_ERRORS)
    async def list_reports(
        self,
        code: GuidelinePath,
        catalogue: CatalogueDep,
        periods: PeriodsDep,
        session: SessionDep,
        period: PeriodQuery = None,
    ) -> ReportList:
        """The current report of each department on the guideline, optionally for one period."""
        guideline = guideline_id(catalogue, code)
        periods.parse_optional("period", period)
        items = await queries.current_reports(session, catalogue, guideline, period)
        return ReportList(items=items, total=len(items))

    @get("/history", summary="Every revision of the reports on a guideline", responses=READ_ERRORS)
    async def list_report_history(
        self,
        code: GuidelinePath,
        catalogue: CatalogueDep,
        periods: PeriodsDep,
        session: SessionDep,
        period: PeriodQuery = None,
        department: DepartmentFilter = None,
    ) -> ReportList:
        """Every revision, oldest first, optionally of one period and/or department."""
        guideline = guideline_id(catalogue, code)
        periods.parse_optional("period", period)
        department_id = department_filter(catalogue, department)
        items = await queries.report_history(session, catalogue, guideline, period, department_id)
        return ReportList(items=items, total=len(items))


class GuidelineIndicatorController(Controller):
    """Creating indicators (KPIs) against a guideline."""

    path = "/guidelines/{code:str}/indicators"
    tags = ("indicators",)
    dependencies = WRITE_CONTEXT

    @created(
        "/",
        "Create an indicator",
        operation_class=linked(
            201,
            "indicator_id",
            "$response.body#/id",
            "get_indicator",
            "patch_indicator",
            "get_indicator_history",
            "list_values",
            "create_value",
            "list_value_history",
        ),
        dto=StrictBody[IndicatorIn],
    )
    async def create_indicator(
        self,
        code: GuidelinePath,
        data: JSONBody[IndicatorIn],
        catalogue: CatalogueDep,
        context: WriteContextDep,
    ) -> Response[IndicatorPublic]:
        """A new indicator of a department responsible for the guideline; target must differ from baseline.

        A target below the baseline makes a decreasing indicator.
        """
        guideline = guideline_id(catalogue, code)

        async def write() -> IndicatorPublic:
            department = acting_for_guideline(context.principal, catalogue, code, data.department)
            if data.target == data.baseline:
                raise ProblemError(422, Msg("must differ from baseline"), field="target")
            definition = {
                "name": data.name,
                "unit": data.unit,
                "baseline": data.baseline,
                "target": data.target,
            }
            row = await create_indicator(
                context.session,
                context.principal,
                guideline,
                catalogue.department_ids[department],
                definition,
            )
            return indicator_public(catalogue, row)

        return await context.commit(data, IndicatorPublic, 201, write)


class IndicatorController(Controller):
    """Indicators (KPIs), their definition history, and their values per fiscal quarter."""

    path = "/indicators"
    tags = ("indicators",)
    dependencies = ONE_WRITE

    @get("/", summary="List indicators", responses=errors(422))
    async def list_indicators(
        self,
        catalogue: CatalogueDep,
        session: SessionDep,
        guideline: GuidelineFilter = None,
        department: DepartmentFilter = None,
    ) -> IndicatorList:
        """Indicators, optionally of one guideline and/or one department."""
        guideline_filter = None
        if guideline is not None:
            if guideline not in catalogue.guideline_ids:
                raise ProblemError(
                    422, Msg("no guideline with code {code!r}", code=guideline), field="guideline"
                )
            guideline_filter = catalogue.guideline_ids[guideline]
        rows = await queries.list_indicators(
            session,
            None if guideline_filter is None else [guideline_filter],
            department_filter(catalogue, department),
        )
        items = [indicator_public(catalogue, row) for row in rows]
        return IndicatorList(items=items, total=len(items))

    @get("/{indicator_id:int}", summary="Get an indicator", responses=errors(404))
    async def get_indicator(
        self, indicator_id: RowId, catalogue: CatalogueDep, session: SessionDep
    ) -> IndicatorPublic:
        """One indicator with its current definition and revision."""
        return indicator_public(catalogue, await indicator_row(session, indicator_id))

    @patch(
        "/{indicator_id:int}",
        summary="Change an indicator's name, unit or target",
        guards=[writers_only],
        responses=errors(403, 404, 409, 413, 422),
        dto=StrictBody[IndicatorPatch],
        return_dto=None,
    )
    async def patch_indicator(
        self,
        indicator_id: RowId,
        data: JSONBody[IndicatorPatch],
        principal: PrincipalDep,
        catalogue: CatalogueDep,
        write_session: WriteSessionDep,
    ) -> IndicatorPublic:
        """Change name, unit and/or target (not the baseline); each change is a new revision."""
        changed = {
            name: getattr(data, name)
            for name in data.__struct_fields__
            if getattr(data, name) is not msgspec.UNSET
        }
        if not changed:
            raise ProblemError(
                422, Msg("give at least one of {fields}", fields=["name", "unit", "target"]), field="body"
            )
        async with write_session.begin():
            row = await indicator_row(write_session, indicator_id)
            may_change(principal, catalogue, row.department_id)
            if changed.get("target") == row.baseline:
                raise ProblemError(422, Msg("must differ from baseline"), field="target")
            updated = await change_indicator(write_session, principal, indicator_id, changed)
        return indicator_public(catalogue, updated)

    @get("/{indicator_id:int}/history", summary="Every definition of an indicator", responses=errors(404))
    async def get_indicator_history(self, indicator_id: RowId, session: SessionDep) -> IndicatorRevisionList:
        """The indicator's definition after its creation and after each change, oldest first."""
        await indicator_row(session, indicator_id)
        items = await queries.indicator_history(session, indicator_id)
        return IndicatorRevisionList(items=items, total=len(items))

    @created(
        "/{indicator_id:int}/values",
        "Post an indicator value",
        operation_class=linked(
            201, "indicator_id", "$request.path.indicator_id", "list_values", "list_value_history"
        ),
        dto=StrictBody[ValueIn],
    )
    async def post_value(
        self, indicator_id: RowId, data: JSONBody[ValueIn], one: QuarterWriteDep
    ) -> Response[ValuePublic]:
        """Store the next revision of the indicator's value for the period, for its department."""

        async def value() -> ValueWrite:
            row = await indicator_row(one.context.session, indicator_id)
            may_change(one.context.principal, one.catalogue, row.department_id)
            return ValueWrite(indicator_id, row.department_id, data.value, data.note)

        return await one.store(data, value)

    @get("/{indicator_id:int}/values", summary="Current values of an indicator", responses=errors(404))
    async def list_values(
        self, indicator_id: RowId, catalogue: CatalogueDep, session: SessionDep
    ) -> ValueList:
        """The current value for each period, oldest period first."""
        await indicator_row(session, indicator_id)
        items = await queries.current_values(session, catalogue, indicator_id)
        return ValueList(items=items, total=len(items))

    @get(
        "/{indicator_id:int}/values/history",
        summary="Every revision of an indicator's values",
        responses=READ_ERRORS,
    )
    async def list_value_history(
        self,
        indicator_id: RowId,
        catalogue: CatalogueDep,
        periods: PeriodsDep,
        session: SessionDep,
        period: PeriodQuery = None,
    ) -> ValueList:
        """Every revision, by period and oldest first, optionally of one period."""
        await indicator_row(session, indicator_id)
        periods.parse_optional("period", period)
        items = await queries.value_history(session, catalogue, indicator_id, period)
        return ValueList(items=items, total=len(items))


class SubmissionController(Controller):
    """The quarterly batch of one department: all of it or nothing."""

    path = "/submissions"
    tags = ("reporting",)
    dependencies = WRITE_CONTEXT

    @created(
        "/",
        "Submit a quarter's reports and values",
        responses=errors(403, 409, 413, 422),
        dto=StrictBody[SubmissionIn],
    )
    async def post_submission(
        self,
        data: JSONBody[SubmissionIn],
        catalogue: CatalogueDep,
        periods: PeriodsDep,
        context: WriteContextDep,
    ) -> Response[SubmissionPublic]:
        """Reports and values of one department for one period, written in one transaction or not at all.

        Every item is checked first (types, enumerations, unknown fields, codes, permissions); on any
        problem nothing is written and the problem's `errors` lists each invalid item by its index
        (`reports[1].status`, `reports[2].guideline`). The status is 403 when every problem is a permission
        problem, otherwise 422; 400 only for a body that is not a JSON object; a closed period is a 409.
        """

        async def write() -> SubmissionPublic:
            return await submit(context.session, catalogue, context.principal, data, periods)

        response = await context.commit(data, SubmissionPublic, 201, write)
        if "Idempotent-Replayed" not in response.headers:
            record_submission(response.content.department, "batch")
        count_stored(response, reports=len(data.reports), values=len(data.values))
        return response


QUARTER_ERRORS = errors(403, 404, 409, 422)


@dataclass(frozen=True)
class QuarterMove:
    """A department's quarter named in the path, and what a transition of it needs."""

    code: str
    department: str
    catalogue: Catalogue
    periods: PeriodRules
    context: WriteContext

    async def move(self, action: str, body: ReturnIn | None = None) -> Response[DepartmentQuarterPublic]:
        """One transition in one transaction, honouring the Idempotency-Key."""
        catalogue, periods, context = self.catalogue, self.periods, self.context
        period = periods.in_path("code", self.code)
        department = _department(catalogue, self.department)

        async def write() -> DepartmentQuarterPublic:
            comment = None if body is None else body.comment
            return await move_quarter(
                context.session, catalogue, periods, context.principal, period, department, action, comment
            )

        return await context.commit(body, DepartmentQuarterPublic, 200, write)


def provide_quarter_move(
    code: PeriodPath,
    department: DepartmentPath,
    catalogue: CatalogueDep,
    periods: PeriodsDep,
    context: WriteContextDep,
) -> QuarterMove:
    """The quarter in the path; checked by `move`, after the handler's own checks."""
    return QuarterMove(code, department, catalogue, periods, context)


QuarterDep = NamedDependency[QuarterMove]


def transition(action: str, summary: str, guard: Guard, **options: Any) -> HTTPRouteHandler:
    """The route of one transition of a department's quarter: a POST answering the new state."""
    path = f"/{{department:str}}/{action}"
    return post(path, summary=summary, status_code=200, guards=[guard], responses=QUARTER_ERRORS, **options)


class QuarterController(Controller):
    """Each department's quarter in the plan office's cycle: open → submitted → approved, or → returned."""

    path = "/periods/{code:str}/departments"
    tags = ("periods",)
    dependencies = {  # noqa: RUF012  (Litestar reads the class attribute)
        **WRITE_CONTEXT,
        "quarter": Provide(provide_quarter_move, sync_to_thread=False),
    }

    @get("/", summary="Every department's state in a fiscal quarter", responses=READ_ERRORS)
    async def list_quarters(
        self, code: PeriodPath, catalogue: CatalogueDep, periods: PeriodsDep, session: SessionDep
    ) -> DepartmentQuarterList:
        """Per department: state, due date, first submission (`on_time`: by the end of `due` in
        Asia/Tokyo), the plan office's last decision with its comment, and the guidelines still missing."""
        return await department_quarters(session, catalogue, periods, periods.in_path("code", code))

    @get("/{department:str}/history", summary="Transitions of a department's quarter", responses=READ_ERRORS)
    async def history(
        self,
        code: PeriodPath,
        department: DepartmentPath,
        catalogue: CatalogueDep,
        periods: PeriodsDep,
        session: SessionDep,
    ) -> TransitionList:
        """Every submit, approve and return, oldest first, with who, when and the comment."""
        period = periods.in_path("code", code)
        return await quarter_history(session, catalogue, period, _department(catalogue, department))

    @transition("submit", "Submit a department's quarter to the plan office", writers_only)
    async def submit_quarter(self, quarter: QuarterDep) -> Response[DepartmentQuarterPublic]:
        """From `open` or `returned`, by the department's own token or an admin; every guideline the
        department is responsible for needs a report for the period (else 422 listing each in `errors`).
        After this the department's own writes for the period are a 409 until the plan office returns it."""
        own_department_only(
            quarter.context.principal,
            quarter.catalogue,
            quarter.department,
            lambda **terms: Msg("a token of {own} cannot submit for {department}", **terms),
        )
        return await quarter.move("submit")

    @transition("approve", "Approve a submitted quarter (plan office)", admin_only)
    async def approve_quarter(self, quarter: QuarterDep) -> Response[DepartmentQuarterPublic]:
        """From `submitted` only; anything else is a 409 naming the current state."""
        return await quarter.move("approve")

    @transition(
        "return",
        "Send a quarter back to the department with a comment (plan office)",
        admin_only,
        dto=StrictBody[ReturnIn],
        return_dto=None,
    )
    async def return_quarter(
        self, data: JSONBody[ReturnIn], quarter: QuarterDep
    ) -> Response[DepartmentQuarterPublic]:
        """From `submitted` or `approved`; `comment` (1–2,000 characters) tells the department why.
        The department may write for the period again and submit once more."""
        return await quarter.move("return", data)


def _department(catalogue: Catalogue, code: str) -> str:
    """A department code in the path: 404 when unknown."""
    if code not in catalogue.departments:
        raise ProblemError(404, Msg("no department with code {code!r}", code=code), field="department")
    return code
