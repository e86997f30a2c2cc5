"""The Litestar application: routes, dependencies, middleware, lifespan and OpenAPI, wired in one place.

Request pipeline, outermost first: RequestPipeline (request id, security headers, metrics, access log) →
Litestar: CORS → routing → BearerAuth (token → principal, then the rate limit; every path but the probes,
the metrics and the schema) → guards → the handler's dependencies and its strictly decoded body
(StrictBody) → the handler. Errors anywhere become problem documents (lib.errors).
"""

from __future__ import annotations

import gc
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, Router
from litestar.config.csrf import CSRFConfig
from litestar.di import NamedDependency, Provide
from litestar.handlers import HTTPRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Tag
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.stores.redis import RedisStore
from litestar.template.config import TemplateConfig

from wlbtrack import __version__
from wlbtrack.config import Settings, get_settings
from wlbtrack.db import ReadSession, WriteSession
from wlbtrack.domain.auth.controllers import TokenController
from wlbtrack.domain.auth.middleware import BearerAuth
from wlbtrack.domain.auth.services import Principal
from wlbtrack.domain.catalogue.controllers import (
    CampaignController,
    DepartmentController,
    DirectionController,
    GuidelineController,
    InitiativeController,
)
from wlbtrack.domain.catalogue.services import Catalogue
from wlbtrack.domain.dashboard.controllers import DashboardController
from wlbtrack.domain.dashboard.errors import error_page
from wlbtrack.domain.dashboard.fragments import PageCache
from wlbtrack.domain.dashboard.sessions import SessionConfig, SignInRequired, signed_in_guard, to_login
from wlbtrack.domain.dashboard.store import DatabaseStore
from wlbtrack.domain.dashboard.workbook import WorkbookController
from wlbtrack.domain.periods.controllers import PeriodController
from wlbtrack.domain.progress.controllers import ExportController, ProgressController
from wlbtrack.domain.progress.services import ProgressService
from wlbtrack.domain.reporting.controllers import (
    GuidelineIndicatorController,
    IndicatorController,
    QuarterController,
    ReportController,
    SubmissionController,
)
from wlbtrack.domain.spreadsheets.controllers import ImportController, TemplateController
from wlbtrack.domain.webhooks.controllers import WebhookController
from wlbtrack.lib.allow import answer_options
from wlbtrack.lib.apidocs import LocalSwaggerRenderPlugin
from wlbtrack.lib.caching import RecentlyReadStore
from wlbtrack.lib.errors import ErrorAnswers
from wlbtrack.lib.health import health, ready
from wlbtrack.lib.integers import install_strict_path_integers
from wlbtrack.lib.metrics import metrics_controller, pool_observer
from wlbtrack.lib.pipeline import RequestPipeline
from wlbtrack.lib.security import SecureCookiesOverHttps, cors_config
from wlbtrack.lib.validation import reject_undecodable_query
from wlbtrack.services import Services

API_PREFIX = "/api/v1"
DASHBOARD = Path(__file__).parent / "domain" / "dashboard"  # its templates/ and static/ files
API_DESCRIPTION = """\
wlbtrack tracks the progress of Setagaya Ward's work-life-balance plan
(ワーク・ライフ・バランス推進に向けた取り組み, January 2010).

The plan is a catalogue:

* **大作戦 (daisakusen, "campaign")** — the plan's three mechanisms (実現のための仕掛け), codes `1`–`3`.
* **取り組みの方向性 ("policy direction")** — 13 directions, codes `1.1`–`3.5`.
* **推進に向けた取り組みの目安 ("guideline", 目安 = benchmark)** — 29 guidelines, codes like `1.1.1`.
* **主な取り組み ("main initiatives")** — grouped under each guideline, each group owned by
* **担当部 ("responsible department")** — 9 ward departments with ASCII codes such as `children`.

Every operation under `/api/v1` needs `Authorization: Bearer <token>`. Errors are
`application/problem+json` (RFC 9457); `detail` names the offending field. With `Accept-Language: ja`
preferred, `detail` and each `errors[].message` are in Japanese (English is the default).
"""


def api_routes() -> list[Any]:
    """Controllers mounted under /api/v1."""
    return [
        CampaignController,
        DirectionController,
        GuidelineController,
        DepartmentController,
        InitiativeController,
        ProgressController,
        ExportController,
        ReportController,
        GuidelineIndicatorController,
        IndicatorController,
        SubmissionController,
        PeriodController,
        QuarterController,
        TemplateController,
        ImportController,
        TokenController,
        WebhookController,
    ]


def dependencies(services: Services, templates: JinjaTemplateEngine) -> dict[str, Provide]:
    """What handlers may ask for by name, each typed, each taken from the services container (the
    dashboard's page cache renders with the app's templates)."""

    async def provide_catalogue() -> Catalogue:
        return await services.catalogue.get()

    async def provide_session() -> AsyncGenerator[ReadSession, None]:
        async with services.database.read_sessions() as session:
            yield session

    async def provide_write_session() -> AsyncGenerator[WriteSession, None]:
        async with services.database.write_sessions() as session:
            yield session

    def provide_progress(catalogue: NamedDependency[Catalogue]) -> ProgressService:
        return ProgressService(catalogue, services.periods, services.responses)

    def constant(value: Any) -> Provide:
        return Provide(lambda: value, sync_to_thread=False, use_cache=True)

    return {
        "database": constant(services.database),
        "periods": constant(services.periods),
        "tokens": constant(services.tokens),
        "webhook_settings": constant(services.webhooks),
        "catalogue": Provide(provide_catalogue),
        "session": Provide(provide_session),
        "write_session": Provide(provide_write_session),
        "progress": Provide(provide_progress, sync_to_thread=False),
        "fragments": constant(PageCache(services.responses, services.pages, templates.engine)),
    }


def provide_principal(request: Request[Principal, str, Any]) -> Principal:
    """The caller BearerAuth authenticated."""
    return request.user


@asynccontextmanager
async def frozen_startup_objects(_app: Litestar) -> AsyncIterator[None]:
    """Exempt what startup allocated (modules, app, schemas) from garbage collection.

    A full collection otherwise scans ~120,000 long-lived objects, stalling every request for 30-100 ms
    (benchmarks/RESULTS.md, Findings); frozen, it scans only what requests left behind.
    """
    gc.collect()
    gc.freeze()
    yield


async def before_request(request: Request[Any, Any, Any]) -> Response[None] | None:
    """Before every handler: a query string that is not UTF-8 is a 400; OPTIONS lists the whole path."""
    reject_undecodable_query(request)
    return await answer_options(request)


def create_app(settings: Settings | None = None) -> RequestPipeline:
    """The application for the given (or the environment's) settings, as `wlbtrack serve` runs it."""
    return build_app(Services.build(settings or get_settings()))


def build_app(services: Services) -> RequestPipeline:
    """The application around these services."""
    install_strict_path_integers()
    settings = services.settings
    observe_pool = pool_observer(services.database.engine.pool)
    api = Router(
        path=API_PREFIX,
        route_handlers=api_routes(),
        security=[{"BearerToken": []}],
        dependencies={"principal": Provide(provide_principal, sync_to_thread=False)},
    )
    metrics = [metrics_controller(settings.metrics_token, observe_pool)] if settings.metrics else []
    sessions = SessionConfig(
        key="wlbtrack_session",
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        store="dashboard_sessions",
    )
    shared_store = (
        RedisStore.with_client(url=settings.redis_url)
        if settings.redis_url
        else DatabaseStore(services.database, services.clock)
    )
    # a session is read on every page: this worker keeps it as long as it trusts the token behind it
    store = RecentlyReadStore(shared_store, settings.token_cache_ttl, services.clock)
    templates = JinjaTemplateEngine(directory=DASHBOARD / "templates")
    csrf = CSRFConfig(secret=settings.session_secret, cookie_httponly=True, cookie_samesite="lax")
    # sessions and CSRF on the dashboard's routes only: /api/v1 keeps bearer tokens alone; their cookies are
    # Secure when the request came over HTTPS
    dashboard = Router(
        path="/",
        route_handlers=[DashboardController, WorkbookController],
        middleware=[
            SecureCookiesOverHttps,
            sessions.middleware,
            DefineMiddleware(CSRFMiddleware, config=csrf),
        ],
        guards=[signed_in_guard(services.tokens)],
        exception_handlers={SignInRequired: to_login},
    )
    dashboard_files = create_static_files_router(
        path="/dashboard/static", directories=[DASHBOARD / "static"], name="dashboard_static"
    )
    # errors are problem documents, except under /dashboard: Japanese pages
    errors = ErrorAnswers(pages={"/dashboard": error_page})
    app = Litestar(
        route_handlers=[health, ready, api, dashboard, dashboard_files, *metrics],
        stores={"dashboard_sessions": store},
        template_config=TemplateConfig(instance=templates),
        lifespan=[services.lifespan, frozen_startup_objects],
        middleware=[BearerAuth(tokens=services.tokens, limiter=services.rate_limiter)],
        dependencies=dependencies(services, templates),
        exception_handlers=errors.exception_handlers(),
        before_request=before_request,
        request_max_body_size=1_000_000,
        openapi_config=openapi_config(),
        cors_config=cors_config(settings.cors_origins),
        logging_config=None,  # `wlbtrack serve` configures JSON logging (wlbtrack.lib.logs)
        debug=settings.debug,
    )
    # Outside Litestar, because Litestar's middleware never sees 404s, 405s, CORS preflights or errors
    # raised by other middleware (RequestPipeline's docstring; litestar-org/litestar#175).
    return RequestPipeline(
        app,
        clock=services.clock,
        hsts_seconds=settings.hsts_seconds,
        metrics=settings.metrics,
        observe_pool=observe_pool,
    )


# Operation ids are the handlers' names, which client generators turn into method names; these handlers'
# names read well only inside their controller, so they are named here in full.
OPERATION_IDS = {
    "campaign": "get_campaign_progress",
    "departments": "list_department_progress",
    "overview": "get_progress",
    "series": "get_progress_series",
    "values": "export_values",
    "reports": "export_reports",
    "close": "close_period",
    "reopen": "reopen_period",
    "upload": "upload_import",
    "post_report": "create_report",
    "post_value": "create_value",
    "post_submission": "create_submission",
    "list_api_tokens": "list_tokens",
    "create_api_token": "create_token",
    "revoke_api_token": "revoke_token",
    "list_all": "list_webhooks",
    "create": "create_webhook",
    "get_one": "get_webhook",
    "remove": "delete_webhook",
    "list_deliveries": "list_webhook_deliveries",
    "retry": "retry_webhook_delivery",
}


def operation_id(handler: HTTPRouteHandler, method: Any, path: list[Any]) -> str:
    """A readable operation id (`list_guidelines`, `export_values`): the handler's name, or its entry in
    OPERATION_IDS; a handler serving several methods gets the method as a prefix."""
    name = OPERATION_IDS.get(handler.handler_name, handler.handler_name)
    return f"{str(method).lower()}_{name}" if len(handler.http_methods) > 1 else name


TAGS = {  # the OpenAPI document's tags, in its order, with what each groups
    "catalogue": "The plan: 大作戦, 取り組みの方向性, 目安, 主な取り組み, 担当部",
    "reporting": "Quarterly status reports per guideline and department, and the quarterly batch",
    "indicators": "Indicators (KPIs), their values per quarter, and history",
    "periods": "Fiscal quarters (四半期): due dates, closing them to writes, and each "
    "department's quarter (submit, approve, return)",
    "tokens": "API tokens and their roles (admin only)",
    "webhooks": "Signed event deliveries to receivers (admin only)",
    "progress": "Progress (0–1), status counts and completeness per campaign, direction, "
    "guideline and department, and over time",
    "export": "Flat rows of current values and reports for BI tools",
    "spreadsheets": "A department's quarter as an Excel workbook to fill in; uploads of workbooks "
    "and CSV exports",
    "operations": "Health and readiness probes",
}


def openapi_config() -> OpenAPIConfig:
    """The OpenAPI document's metadata, tags and security scheme."""
    return OpenAPIConfig(
        title="wlbtrack",
        version=__version__,
        description=API_DESCRIPTION,
        path="/schema",
        render_plugins=[JsonRenderPlugin(), LocalSwaggerRenderPlugin()],
        tags=[Tag(name=name, description=description) for name, description in TAGS.items()],
        components=Components(
            security_schemes={
                "BearerToken": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="A token from `wlbtrack token create` or POST /api/v1/tokens",
                )
            }
        ),
        use_handler_docstrings=True,
        operation_id_creator=operation_id,
    )
