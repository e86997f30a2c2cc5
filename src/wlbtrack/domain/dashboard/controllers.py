"""Dashboard pages under /dashboard (signed in by a session, excluded from the OpenAPI document)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from wlbtrack.db import ReadSession
from wlbtrack.domain.auth.services import Principal, resolve_token
from wlbtrack.domain.dashboard import charts, labels
from wlbtrack.domain.dashboard.sessions import active_principal
from wlbtrack.domain.progress import services
from wlbtrack.domain.progress.schemas import PeriodParam
from wlbtrack.domain.progress.services import ProgressService

AnyRequest = Request[Any, Any, Any]
LOGIN = "/dashboard/login"


def page(name: str, **context: Any) -> Template:
    """A Japanese page rendered from the package's templates."""
    return Template(name, context={"labels": labels, "charts": charts, **context})


async def signed_in(request: AnyRequest, session: ReadSession) -> Principal | None:
    """The principal of the request's session while its token is active; otherwise the session ends."""
    principal = await active_principal(session, request.session.get("token_id"))
    if principal is None:
        request.clear_session()
    return principal


class DashboardController(Controller):
    """The leadership dashboard (Japanese, server-rendered)."""

    path = "/dashboard"
    include_in_schema = False

    @get("/login", sync_to_thread=False)
    def login_form(self) -> Template:
        return page("login.html", error=None)

    @post("/login", status_code=200)
    async def login(
        self,
        request: AnyRequest,
        session: NamedDependency[ReadSession],
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        principal = await resolve_token(session, data.get("token", "").strip()[:200])
        if principal is None:
            return page("login.html", error="トークンが正しくないか、失効しています。")
        request.set_session({"token_id": principal.token_id})
        if principal.department is not None:  # a department user lands on their own department
            return Redirect(f"/dashboard/departments/{principal.department}")
        return Redirect("/dashboard/")

    @post("/logout", status_code=303)
    async def logout(self, request: AnyRequest) -> Redirect:
        request.clear_session()
        return Redirect(LOGIN)

    @get("/")
    async def overview(
        self,
        request: AnyRequest,
        session: NamedDependency[ReadSession],
        progress: NamedDependency[ProgressService],
        period: PeriodParam = None,
    ) -> Template | Redirect:
        principal = await signed_in(request, session)
        if principal is None:
            return Redirect(LOGIN)
        at = progress.period(period)
        data = await services.overview(session, progress.catalogue, at)
        return page("overview.html", data=data, principal=principal, period=at)

    @get("/departments")
    async def departments(
        self,
        request: AnyRequest,
        session: NamedDependency[ReadSession],
        progress: NamedDependency[ProgressService],
        period: PeriodParam = None,
    ) -> Template | Redirect:
        principal = await signed_in(request, session)
        if principal is None:
            return Redirect(LOGIN)
        at = progress.period(period)
        data = await services.departments(session, progress.catalogue, at, progress.periods)
        return page("departments.html", items=data.items, principal=principal, period=at)

    @get("/departments/{code:str}")
    async def department(
        self,
        request: AnyRequest,
        session: NamedDependency[ReadSession],
        progress: NamedDependency[ProgressService],
        code: FromPath[str],
        period: PeriodParam = None,
    ) -> Template | Redirect:
        principal = await signed_in(request, session)
        if principal is None:
            return Redirect(LOGIN)
        if code not in progress.catalogue.departments:
            raise NotFoundException(f"code: no department with code {code!r}")
        at = progress.period(period)
        data = await services.departments(session, progress.catalogue, at, progress.periods)
        items = [item for item in data.items if item.code == code]
        return page("departments.html", items=items, principal=principal, period=at)
