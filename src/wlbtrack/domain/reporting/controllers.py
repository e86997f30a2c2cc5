"""HTTP API of reports, indicators, indicator values and quarterly submissions."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from wlbtrack.deps import CatalogueDep, PrincipalDep, SessionDep, WriteSessionDep
from wlbtrack.domain.auth.guards import writers_only
from wlbtrack.domain.auth.models import Role
from wlbtrack.domain.auth.tokens import Principal
from wlbtrack.domain.catalogue.snapshot import Catalogue
from wlbtrack.domain.periods import PERIOD_PATTERN
from wlbtrack.domain.reporting import indicators as indicator_service
from wlbtrack.domain.reporting.bodies import body_of, strict_body
from wlbtrack.domain.reporting.idempotency import IdempotencyKey, idempotent
from wlbtrack.domain.reporting.period_state import writable_period
from wlbtrack.domain.reporting.permissions import (
    acting_department,
    ensure_owns,
    ensure_responsible,
    single_responsible,
)
from wlbtrack.domain.reporting.reports import current_reports, report_history
from wlbtrack.domain.reporting.schemas import (
    IndicatorIn,
    IndicatorList,
    IndicatorPatch,
    IndicatorPublic,
    IndicatorRevisionList,
    ReportIn,
    ReportList,
    ReportPublic,
    SubmissionIn,
    SubmissionPublic,
    ValueIn,
    ValueList,
    ValuePublic,
)
from wlbtrack.domain.reporting.submissions import submit
from wlbtrack.domain.reporting.values import current_values, value_history
from wlbtrack.domain.reporting.writes import ReportWrite, ValueWrite, write_quarter
from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.metrics import record_submission
from wlbtrack.lib.responses import errors

PeriodQuery = Annotated[
    str | None, QueryParameter(pattern=PERIOD_PATTERN, description="Fiscal quarter, e.g. 2026-Q1")
]
CodeQuery = Annotated[str | None, QueryParameter(min_length=1, max_length=64)]
WRITE_ERRORS = errors(403, 404, 409, 413, 422)


def first_fiscal_year(request: Request[Any, Any, Any]) -> int:
    """The plan's first fiscal year from the app's settings."""
    year: int = request.app.state.settings.first_fiscal_year
    return year


def guideline_id(catalogue: Catalogue, code: str) -> int:
    """The id of a guideline in the path; 404 when there is none."""
    if code not in catalogue.guideline_ids:
        raise ProblemError(404, f"code: no guideline with code {code!r}", field="code")
    return catalogue.guideline_ids[code]


def department_filter(catalogue: Catalogue, code: str | None) -> int | None:
    """The id of a department named in a query; 400 when it is unknown."""
    if code is None:
        return None
    if code not in catalogue.department_ids:
        raise ProblemError(400, f"department: no department with code {code!r}", field="department")
    return catalogue.department_ids[code]


SubmittedT = TypeVar("SubmittedT", ReportPublic, ValuePublic, SubmissionPublic)


def counted(response: Response[SubmittedT], kind: str) -> Response[SubmittedT]:
    """Count a committed submission in the metrics; a replayed idempotent response stored nothing new."""
    if "Idempotent-Replayed" not in response.headers:
        record_submission(response.content.department, kind)
    return response


async def indicator_row(session: Any, indicator_id: int) -> Any:
    """An indicator by the id in the path; 404 when there is none."""
    row = await indicator_service.get_indicator(session, indicator_id)
    if row is None:
        raise ProblemError(404, f"indicator_id: no indicator with id {indicator_id}", field="indicator_id")
    return row


def may_change(principal: Principal, catalogue: Catalogue, department_id: int) -> str:
    """The indicator's department code, if the caller may write for it (admin, or that department)."""
    department = catalogue.department_code(department_id)
    if principal.role is not Role.ADMIN:
        ensure_owns(principal, department, principal.department or "", "indicator_id")
    return department


class ReportController(Controller):
    """Status reports of departments on a guideline (目安), per fiscal quarter, with every revision."""

    path = "/guidelines/{code:str}/reports"
    tags = ("reporting",)

    @post(
        "/",
        summary="Post a status report",
        status_code=201,
        guards=[writers_only],
        responses=WRITE_ERRORS,
        before_request=strict_body(ReportIn),
    )
    async def post_report(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: JSONBody[ReportIn],
        principal: PrincipalDep,
        catalogue: CatalogueDep,
        write_session: WriteSessionDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ReportPublic]:
        """Store the next revision of this department's report on the guideline for the period.

        Admins name the `department` (unless the guideline has only one); earlier revisions never change.
        """
        body = body_of(request, ReportIn)
        guideline = guideline_id(catalogue, code)

        async def write() -> ReportPublic:
            department = acting_department(
                principal, catalogue, body.department, single_responsible(catalogue, code)
            )
            ensure_responsible(principal, catalogue, code, department, "department")
            await writable_period(write_session, body.period, first_fiscal_year(request))
            item = ReportWrite(guideline, catalogue.department_ids[department], body.status, body.summary)
            reports, _ = await write_quarter(write_session, catalogue, principal, body.period, reports=[item])
            return reports[0]

        async with write_session.begin():
            response = await idempotent(
                write_session, request, principal, idempotency_key, body, ReportPublic, 201, write
            )
        return counted(response, "report")

    @get("/", summary="Current reports on a guideline", responses=errors(404))
    async def list_reports(
        self, code: FromPath[str], catalogue: CatalogueDep, session: SessionDep, period: PeriodQuery = None
    ) -> ReportList:
        """The current report of each department on the guideline, optionally for one period."""
        items = await current_reports(session, catalogue, guideline_id(catalogue, code), period)
        return ReportList(items=items, total=len(items))

    @get("/history", summary="Every revision of the reports on a guideline", responses=errors(404))
    async def list_report_history(
        self,
        code: FromPath[str],
        catalogue: CatalogueDep,
        session: SessionDep,
        period: PeriodQuery = None,
        department: CodeQuery = None,
    ) -> ReportList:
        """Every revision, oldest first, optionally of one period and/or department."""
        items = await report_history(
            session,
            catalogue,
            guideline_id(catalogue, code),
            period,
            department_filter(catalogue, department),
        )
        return ReportList(items=items, total=len(items))


class GuidelineIndicatorController(Controller):
    """Creating indicators (KPIs) against a guideline."""

    path = "/guidelines/{code:str}/indicators"
    tags = ("indicators",)

    @post(
        "/",
        summary="Create an indicator",
        status_code=201,
        guards=[writers_only],
        responses=errors(403, 404, 413, 422),
        before_request=strict_body(IndicatorIn),
    )
    async def create_indicator(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: JSONBody[IndicatorIn],
        principal: PrincipalDep,
        catalogue: CatalogueDep,
        write_session: WriteSessionDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[IndicatorPublic]:
        """A new indicator of a department responsible for the guideline; target must differ from baseline.

        A target below the baseline makes a decreasing indicator.
        """
        body = body_of(request, IndicatorIn)
        guideline = guideline_id(catalogue, code)

        async def write() -> IndicatorPublic:
            department = acting_department(
                principal, catalogue, body.department, single_responsible(catalogue, code)
            )
            ensure_responsible(principal, catalogue, code, department, "department")
            if body.target == body.baseline:
                raise ProblemError(422, "target: must differ from baseline", field="target")
            definition = {
                "name": body.name,
                "unit": body.unit,
                "baseline": body.baseline,
                "target": body.target,
            }
            row = await indicator_service.create_indicator(
                write_session, principal, guideline, catalogue.department_ids[department], definition
            )
            return indicator_service.public(catalogue, row)

        async with write_session.begin():
            return await idempotent(
                write_session, request, principal, idempotency_key, body, IndicatorPublic, 201, write
            )


class IndicatorController(Controller):
    """Indicators (KPIs), their definition history, and their values per fiscal quarter."""

    path = "/indicators"
    tags = ("indicators",)

    @get("/", summary="List indicators", responses=errors())
    async def list_indicators(
        self,
        catalogue: CatalogueDep,
        session: SessionDep,
        guideline: CodeQuery = None,
        department: CodeQuery = None,
    ) -> IndicatorList:
        """Indicators, optionally of one guideline and/or one department."""
        guideline_filter = None
        if guideline is not None:
            if guideline not in catalogue.guideline_ids:
                raise ProblemError(400, f"guideline: no guideline with code {guideline!r}", field="guideline")
            guideline_filter = catalogue.guideline_ids[guideline]
        rows = await indicator_service.list_indicators(
            session, guideline_filter, department_filter(catalogue, department)
        )
        items = [indicator_service.public(catalogue, row) for row in rows]
        return IndicatorList(items=items, total=len(items))

    @get("/{indicator_id:int}", summary="Get an indicator", responses=errors(404))
    async def get_indicator(
        self, indicator_id: FromPath[int], catalogue: CatalogueDep, session: SessionDep
    ) -> IndicatorPublic:
        """One indicator with its current definition and revision."""
        return indicator_service.public(catalogue, await indicator_row(session, indicator_id))

    @patch(
        "/{indicator_id:int}",
        summary="Change an indicator's name, unit or target",
        guards=[writers_only],
        responses=errors(403, 404, 413, 422),
        before_request=strict_body(IndicatorPatch),
    )
    async def patch_indicator(
        self,
        request: Request[Any, Any, Any],
        indicator_id: FromPath[int],
        data: JSONBody[IndicatorPatch],
        principal: PrincipalDep,
        catalogue: CatalogueDep,
        write_session: WriteSessionDep,
    ) -> IndicatorPublic:
        """Change name, unit and/or target (not the baseline); each change is a new revision."""
        body = body_of(request, IndicatorPatch)
        changed = {
            name: getattr(body, name)
            for name in body.__struct_fields__
            if getattr(body, name) is not msgspec.UNSET
        }
        if not changed:
            raise ProblemError(422, "body: give at least one of name, unit, target", field="body")
        async with write_session.begin():
            row = await indicator_row(write_session, indicator_id)
            may_change(principal, catalogue, row.department_id)
            if changed.get("target") == row.baseline:
                raise ProblemError(422, "target: must differ from baseline", field="target")
            updated = await indicator_service.change_indicator(
                write_session, principal, indicator_id, changed
            )
        return indicator_service.public(catalogue, updated)

    @get("/{indicator_id:int}/history", summary="Every definition of an indicator", responses=errors(404))
    async def get_indicator_history(
        self, indicator_id: FromPath[int], session: SessionDep
    ) -> IndicatorRevisionList:
        """The indicator's definition after its creation and after each change, oldest first."""
        await indicator_row(session, indicator_id)
        items = await indicator_service.indicator_history(session, indicator_id)
        return IndicatorRevisionList(items=items, total=len(items))

    @post(
        "/{indicator_id:int}/values",
        summary="Post an indicator value",
        status_code=201,
        guards=[writers_only],
        responses=WRITE_ERRORS,
        before_request=strict_body(ValueIn),
    )
    async def post_value(
        self,
        request: Request[Any, Any, Any],
        indicator_id: FromPath[int],
        data: JSONBody[ValueIn],
        principal: PrincipalDep,
        catalogue: CatalogueDep,
        write_session: WriteSessionDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ValuePublic]:
        """Store the next revision of the indicator's value for the period, for its department."""
        body = body_of(request, ValueIn)

        async def write() -> ValuePublic:
            row = await indicator_row(write_session, indicator_id)
            may_change(principal, catalogue, row.department_id)
            await writable_period(write_session, body.period, first_fiscal_year(request))
            item = ValueWrite(indicator_id, row.department_id, body.value, body.note)
            _, values = await write_quarter(write_session, catalogue, principal, body.period, values=[item])
            return values[0]

        async with write_session.begin():
            response = await idempotent(
                write_session, request, principal, idempotency_key, body, ValuePublic, 201, write
            )
        return counted(response, "value")

    @get("/{indicator_id:int}/values", summary="Current values of an indicator", responses=errors(404))
    async def list_values(
        self, indicator_id: FromPath[int], catalogue: CatalogueDep, session: SessionDep
    ) -> ValueList:
        """The current value for each period, oldest period first."""
        await indicator_row(session, indicator_id)
        items = await current_values(session, catalogue, indicator_id)
        return ValueList(items=items, total=len(items))

    @get(
        "/{indicator_id:int}/values/history",
        summary="Every revision of an indicator's values",
        responses=errors(404),
    )
    async def list_value_history(
        self,
        indicator_id: FromPath[int],
        catalogue: CatalogueDep,
        session: SessionDep,
        period: PeriodQuery = None,
    ) -> ValueList:
        """Every revision, by period and oldest first, optionally of one period."""
        await indicator_row(session, indicator_id)
        items = await value_history(session, catalogue, indicator_id, period)
        return ValueList(items=items, total=len(items))


class SubmissionController(Controller):
    """The quarterly batch of one department: all of it or nothing."""

    path = "/submissions"
    tags = ("reporting",)

    @post(
        "/",
        summary="Submit a quarter's reports and values",
        status_code=201,
        guards=[writers_only],
        responses=errors(403, 409, 413, 422),
        before_request=strict_body(SubmissionIn),
    )
    async def post_submission(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[SubmissionIn],
        principal: PrincipalDep,
        catalogue: CatalogueDep,
        write_session: WriteSessionDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[SubmissionPublic]:
        """Reports and values of one department for one period, written in one transaction or not at all.

        Every item is checked first; on any problem nothing is written and the problem's `errors` lists
        each invalid item by its index (`reports[3].guideline`). The status is 403 when every problem is a
        permission problem, otherwise 422; a closed period is a 409.
        """
        body = body_of(request, SubmissionIn)

        async def write() -> SubmissionPublic:
            return await submit(write_session, catalogue, principal, body, first_fiscal_year(request))

        async with write_session.begin():
            response = await idempotent(
                write_session, request, principal, idempotency_key, body, SubmissionPublic, 201, write
            )
        return counted(response, "batch")
