"""Dashboard pages under /dashboard (signed in by a session, excluded from the OpenAPI document)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template
from litestar.template.base import csrf_token

from wlbtrack.db import ReadSession
from wlbtrack.domain.auth.services import resolve_token
from wlbtrack.domain.dashboard import labels, pages
from wlbtrack.domain.dashboard.fragments import PageCache
from wlbtrack.domain.dashboard.sessions import LOGIN, SIGNED_OUT, signed_in
from wlbtrack.domain.progress.services import ProgressService

AnyRequest = Request[Any, Any, Any]
Progress = NamedDependency[ProgressService]
Session = NamedDependency[ReadSession]
Fragments = NamedDependency[PageCache]
PagePeriod = Annotated[str | None, QueryParameter(description="Fiscal quarter, e.g. 2026-Q1")]  # bad: 404


def login_page(error: str | None) -> Template:
    """The sign-in form, with an error when the pasted token was refused."""
    return Template("login.html", context={"labels": labels, "error": error})


async def page(
    request: AnyRequest,
    progress: ProgressService,
    fragments: PageCache,
    name: str,
    period: str | None,
    load: Callable[..., Awaitable[Any]],
    *arguments: str,
) -> Response[bytes]:
    """A signed-in page at the period asked for: `load(session, progress, period, *arguments)` read once per
    data version (PageCache), with this request's CSRF token in the logout form and the signed-in name."""
    at = pages.page_period(progress.periods, period)
    cached = await fragments.page(
        progress,
        name,
        at,
        request.url.path,
        lambda session: load(session, progress, at, *arguments),
        *arguments,
    )
    body = cached.body(csrf_token({"request": request}), signed_in(request).label)
    return Response(body, media_type=MediaType.HTML)


def catalogue_page(kind: str, load: Callable[..., Awaitable[Any]]) -> HTTPRouteHandler:
    """The route of a campaign's, guideline's or department's page (`kind`.html), by the code in its path."""

    async def handler(
        self: Controller,
        request: AnyRequest,
        progress: Progress,
        fragments: Fragments,
        code: FromPath[str],
        period: PagePeriod = None,
    ) -> Response[bytes]:
        return await page(request, progress, fragments, f"{kind}.html", period, load, code)

    return get(f"/{kind}s/{{code:str}}")(handler)


class DashboardController(Controller):
    """The leadership dashboard (Japanese, server-rendered); every page needs a session (SignedIn)."""

    path = "/dashboard"
    include_in_schema = False

    @get("/login", sync_to_thread=False, opt={SIGNED_OUT: True})
    def login_form(self) -> Template:
        return login_page(None)

    @post("/login", status_code=200, opt={SIGNED_OUT: True})
    async def login(
        self,
        request: AnyRequest,
        session: Session,
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        principal = await resolve_token(session, data.get("token", "").strip()[:200])
        if principal is None:
            return login_page("トークンが正しくないか、失効しています。")
        request.set_session({"token_id": principal.token_id})
        if principal.department is not None:  # a department user lands on their own department
            return Redirect(f"/dashboard/departments/{principal.department}")
        return Redirect("/dashboard/")

    @post("/logout", status_code=303, opt={SIGNED_OUT: True})
    async def logout(self, request: AnyRequest) -> Redirect:
        request.clear_session()
        return Redirect(LOGIN)

    @get("/")
    async def overview(
        self, request: AnyRequest, progress: Progress, fragments: Fragments, period: PagePeriod = None
    ) -> Response[bytes]:
        return await page(request, progress, fragments, "overview.html", period, pages.overview)

    @get("/departments")
    async def departments(
        self, request: AnyRequest, progress: Progress, fragments: Fragments, period: PagePeriod = None
    ) -> Response[bytes]:
        return await page(request, progress, fragments, "departments.html", period, pages.departments)

    campaign = catalogue_page("campaign", pages.campaign)
    guideline = catalogue_page("guideline", pages.guideline)
    department = catalogue_page("department", pages.department)
