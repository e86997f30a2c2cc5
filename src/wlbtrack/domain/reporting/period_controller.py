"""HTTP API of fiscal quarters: listing with their state, and closing/reopening by admins."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter

from wlbtrack.deps import PrincipalDep, SessionDep, WriteSessionDep
from wlbtrack.domain.auth.guards import admin_only
from wlbtrack.domain.periods import MAX_FISCAL_YEAR, MIN_FISCAL_YEAR, Period, PeriodError, periods_between
from wlbtrack.domain.reporting.idempotency import IdempotencyKey, idempotent
from wlbtrack.domain.reporting.period_state import close_period, describe, reopen_period, today
from wlbtrack.domain.reporting.schemas import PeriodList, PeriodPublic
from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.responses import errors

FiscalYear = Annotated[
    int | None,
    QueryParameter(
        ge=MIN_FISCAL_YEAR, le=MAX_FISCAL_YEAR, description="Fiscal year (年度), e.g. 2026 for 令和8年度"
    ),
]


def _period(code: str) -> Period:
    try:
        return Period.parse(code)
    except PeriodError as exc:
        raise ProblemError(404, f"code: no period {code!r} ({exc})", field="code") from exc


class PeriodController(Controller):
    """Japanese fiscal-year quarters: `2026-Q1` is April–June 2026 (2026年度 第1四半期)."""

    path = "/periods"
    tags = ("periods",)

    @get("/", summary="List fiscal quarters", responses=errors())
    async def list_periods(
        self, request: Request[Any, Any, Any], session: SessionDep, fiscal_year: FiscalYear = None
    ) -> PeriodList:
        """The four quarters of `fiscal_year`; without it, every quarter from the plan's first fiscal year
        (WLBTRACK_FIRST_FISCAL_YEAR, 2010) to the fiscal year containing today (Tokyo time), oldest first."""
        if fiscal_year is None:
            first = Period(request.app.state.settings.first_fiscal_year, 1)
            last = Period(Period.containing(today()).fiscal_year, 4)
        else:
            first, last = Period(fiscal_year, 1), Period(fiscal_year, 4)
        items = await describe(session, periods_between(first, last))
        return PeriodList(items=items, total=len(items))

    @get("/{code:str}", summary="Get a fiscal quarter", responses=errors(404))
    async def get_period(self, code: FromPath[str], session: SessionDep) -> PeriodPublic:
        """One quarter with its dates, Japanese label and open/closed state."""
        return (await describe(session, [_period(code)]))[0]

    @post(
        "/{code:str}/close",
        summary="Close a fiscal quarter to writes",
        status_code=200,
        guards=[admin_only],
        responses=errors(403, 404, 422),
    )
    async def close(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        principal: PrincipalDep,
        write_session: WriteSessionDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[PeriodPublic]:
        """Writes into a closed period get 409 until it is reopened; closing twice changes nothing."""
        period = _period(code)

        async def write() -> PeriodPublic:
            return await close_period(write_session, period, principal.label)

        async with write_session.begin():
            return await idempotent(
                write_session, request, principal, idempotency_key, None, PeriodPublic, 200, write
            )

    @post(
        "/{code:str}/reopen",
        summary="Reopen a closed fiscal quarter",
        status_code=200,
        guards=[admin_only],
        responses=errors(403, 404, 422),
    )
    async def reopen(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        principal: PrincipalDep,
        write_session: WriteSessionDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[PeriodPublic]:
        """The period accepts writes again; reopening an open period changes nothing."""
        period = _period(code)

        async def write() -> PeriodPublic:
            return await reopen_period(write_session, period)

        async with write_session.begin():
            return await idempotent(
                write_session, request, principal, idempotency_key, None, PeriodPublic, 200, write
            )
