"""The signed-in download of a department's quarter workbook: the file GET /api/v1/templates/{department}
answers, under the same permission rules."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from wlbtrack.db import ReadSession
from wlbtrack.domain.catalogue.services import Catalogue
from wlbtrack.domain.dashboard.controllers import AnyRequest
from wlbtrack.domain.dashboard.sessions import signed_in
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
    ) -> Response[bytes]:
        return await workbook_download(session, catalogue, periods, signed_in(request), code, period)
