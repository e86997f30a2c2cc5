"""HTTP API of fiscal quarters: listing with their state, and closing/reopening by admins."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody, QueryParameter

from wlbtrack.config import FISCAL_YEARS
from wlbtrack.db import ReadSession, WriteSession
from wlbtrack.domain.auth.guards import admin_only
from wlbtrack.domain.auth.services import WRITE_CONTEXT, WriteContext, WriteContextDep
from wlbtrack.domain.periods.schemas import DeadlineIn, PeriodList, PeriodPath, PeriodPublic
from wlbtrack.domain.periods.services import (
    Period,
    PeriodRules,
    PeriodsDep,
    close_period,
    describe,
    periods_between,
    reopen_period,
    set_deadline,
)
from wlbtrack.lib.integers import require_ascii_digits
from wlbtrack.lib.responses import errors
from wlbtrack.lib.validation import StrictBody

FiscalYear = Annotated[
    int | None,
    QueryParameter(
        description=(
            "Fiscal year (年度), e.g. 2026 for 令和8年度; from WLBTRACK_FIRST_FISCAL_YEAR to the current one"
        ),
        # the years a period code can name (PERIOD_PATTERN); a year outside the plan's is a 422
        schema_extra={"minimum": FISCAL_YEARS[0], "maximum": FISCAL_YEARS[1]},
    ),
]
CHANGE_ERRORS = errors(403, 404, 409, 422)


@dataclass(frozen=True)
class PeriodChange:
    """The fiscal quarter named in the path, and what an admin's change to it needs."""

    code: str
    periods: PeriodRules
    context: WriteContext

    async def commit(
        self,
        change: Callable[[WriteSession, Period], Awaitable[PeriodPublic]],
        body: DeadlineIn | None = None,
    ) -> Response[PeriodPublic]:
        """Make the change in one transaction, honouring the Idempotency-Key."""
        period = self.periods.in_path("code", self.code)
        session = self.context.session
        return await self.context.commit(body, PeriodPublic, 200, lambda: change(session, period))


def provide_period_change(code: PeriodPath, periods: PeriodsDep, context: WriteContextDep) -> PeriodChange:
    """The quarter in the path; parsed by `commit`."""
    return PeriodChange(code, periods, context)


PeriodChangeDep = NamedDependency[PeriodChange]


def admin_change(method: Literal["POST", "PUT"], path: str, summary: str, **options: Any) -> HTTPRouteHandler:
    """The route of an admin's change to a fiscal quarter, answering the quarter's new state."""
    return HTTPRouteHandler(
        path,
        http_method=method,
        summary=summary,
        status_code=200,
        guards=[admin_only],
        responses=CHANGE_ERRORS,
        **options,
    )


class PeriodController(Controller):
    """Japanese fiscal-year quarters: `2026-Q1` is April–June 2026 (2026年度 第1四半期)."""

    path = "/periods"
    tags = ("periods",)
    dependencies = {  # noqa: RUF012  (Litestar reads the class attribute)
        **WRITE_CONTEXT,
        "change": Provide(provide_period_change, sync_to_thread=False),
    }

    @get("/", summary="List fiscal quarters", responses=errors(422))
    async def list_periods(
        self,
        request: Request[Any, Any, Any],
        session: NamedDependency[ReadSession],
        periods: PeriodsDep,
        fiscal_year: FiscalYear = None,
    ) -> PeriodList:
        """The four quarters of `fiscal_year`; without it, every quarter from the plan's first fiscal year
        (WLBTRACK_FIRST_FISCAL_YEAR, 2010) to the fiscal year containing today (Tokyo time), oldest first."""
        require_ascii_digits(request.query_params, "fiscal_year")
        if fiscal_year is None:
            first, last = periods.first, Period(periods.current().fiscal_year, 4)
        else:
            year = periods.fiscal_year("fiscal_year", fiscal_year)
            first, last = Period(year, 1), Period(year, 4)
        items = await describe(session, periods, periods_between(first, last))
        return PeriodList(items=items, total=len(items))

    @get("/{code:str}", summary="Get a fiscal quarter", responses=errors(404, 422))
    async def get_period(
        self, code: PeriodPath, session: NamedDependency[ReadSession], periods: PeriodsDep
    ) -> PeriodPublic:
        """One quarter with its dates, Japanese label and open/closed state."""
        return (await describe(session, periods, [periods.in_path("code", code)]))[0]

    @admin_change("POST", "/{code:str}/close", "Close a fiscal quarter to writes")
    async def close(self, change: PeriodChangeDep) -> Response[PeriodPublic]:
        """Writes into a closed period get 409 until it is reopened; closing twice changes nothing."""
        by = change.context.principal.label
        return await change.commit(lambda session, period: close_period(session, change.periods, period, by))

    @admin_change("POST", "/{code:str}/reopen", "Reopen a closed fiscal quarter")
    async def reopen(self, change: PeriodChangeDep) -> Response[PeriodPublic]:
        """The period accepts writes again; reopening an open period changes nothing."""
        return await change.commit(lambda session, period: reopen_period(session, change.periods, period))

    @admin_change(
        "PUT",
        "/{code:str}/deadline",
        "Set a fiscal quarter's due date",
        dto=StrictBody[DeadlineIn],
        return_dto=None,
    )
    async def set_deadline(
        self, data: JSONBody[DeadlineIn], change: PeriodChangeDep
    ) -> Response[PeriodPublic]:
        """Departments report by the end of `due` (Asia/Tokyo); without it a quarter is due
        WLBTRACK_DEADLINE_DAYS (15) days after it ends. A date before the quarter starts is a 422."""
        by = change.context.principal.label
        return await change.commit(
            lambda session, period: set_deadline(session, change.periods, period, data.due, by), data
        )
