"""The signed-in download of a department's quarter workbook: the file GET /api/v1/templates/{department}
answers, under the same permission rules."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from wlbtrack.db import ReadSession
from wlbtrack.domain.catalogue.services import Catalogue
from wlbtrack.domain.dashboard.controllers import LOGIN, AnyRequest, signed_in
from wlbtrack.domain.periods.services import PeriodRules
from wlbtrack.domain.progress.schemas import PeriodParam
from wlbtrack.domain.spreadsheets.controllers import workbook_download


class WorkbookController(Controller):
    """`/dashboard/departments/{code}/workbook?period=P`: a department user their own, leadership any."""

    path = "/dashboard/departments"
    include_in_schema = False

    @get("/{code:str}/workbook")
    async def workbook(
        self,
        request: AnyRequest,
        session: NamedDependency[ReadSession],
        catalogue: NamedDependency[Catalogue],
        periods: NamedDependency[PeriodRules],
        code: FromPath[str],
        period: PeriodParam = None,
    ) -> Response[bytes] | Redirect:
        principal = await signed_in(request, session)
        if principal is None:
            return Redirect(LOGIN)
        return await workbook_download(session, catalogue, periods, principal, code, period)
