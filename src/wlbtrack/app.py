"""The Litestar application: routes, dependencies, plugins and OpenAPI."""

from __future__ import annotations

import gc
from typing import Any

from litestar import Litestar, Request, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Tag

from wlbtrack import __version__
from wlbtrack.config import Settings, get_settings
from wlbtrack.db import Database, provide_session, provide_write_session
from wlbtrack.domain.auth.controllers import TokenController
from wlbtrack.domain.auth.middleware import bearer_token_middleware
from wlbtrack.domain.auth.tokens import Principal, TokenCache, principal_fetcher
from wlbtrack.domain.catalogue.controllers import (
    CampaignController,
    DepartmentController,
    DirectionController,
    GuidelineController,
    InitiativeController,
)
from wlbtrack.domain.catalogue.shortcut import CatalogueShortcut
from wlbtrack.domain.catalogue.snapshot import Catalogue, CatalogueCache
from wlbtrack.domain.health import health, ready
from wlbtrack.domain.progress.controllers import ProgressController
from wlbtrack.domain.progress.export_controller import ExportController
from wlbtrack.domain.reporting.controllers import (
    GuidelineIndicatorController,
    IndicatorController,
    ReportController,
    SubmissionController,
)
from wlbtrack.domain.reporting.period_controller import PeriodController
from wlbtrack.lib.data_version import DataVersion
from wlbtrack.lib.errors import (
    DATABASE_OUTAGE_ERRORS,
    database_unavailable,
    problem_details_plugin,
    unexpected_error,
)
from wlbtrack.lib.metrics import mark_process_dead, metrics_endpoint
from wlbtrack.lib.outer import wrap_outer_layers
from wlbtrack.lib.ratelimit import rate_limit_middleware, rate_limiter
from wlbtrack.lib.security import cors_config

API_PREFIX = "/api/v1"
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
`application/problem+json` (RFC 9457); `detail` names the offending field.
"""


async def provide_catalogue(state: State) -> Catalogue:
    """The current catalogue snapshot."""
    cache: CatalogueCache = state.catalogue_cache
    return await cache.get()


async def provide_database(state: State) -> Database:
    """The process's database handle."""
    database: Database = state.database
    return database


async def provide_principal(request: Request[Principal, str, Any]) -> Principal:
    """The authenticated caller."""
    return request.user


async def freeze_startup_objects(_app: Litestar) -> None:
    """Exempt what startup allocated (modules, app, schemas) from garbage collection.

    A full collection otherwise scans ~120,000 long-lived objects, stalling every request for 30-100 ms
    (benchmarks/RESULTS.md, Findings); frozen, it scans only what requests left behind.
    """
    gc.collect()
    gc.freeze()


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
        TokenController,
    ]


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the application for the given (or the environment's) settings."""
    settings = settings or get_settings()

    async def open_database(app: Litestar) -> None:
        database = Database(settings)
        app.state.database = database
        app.state.settings = settings
        app.state.data_version = DataVersion(database)
        app.state.data_version.start()
        sessions = database.read_sessions
        app.state.catalogue_cache = CatalogueCache(sessions, ttl=settings.catalogue_ttl)
        app.state.token_cache = TokenCache(settings.token_cache_ttl, principal_fetcher(sessions))
        app.state.rate_limiter = rate_limiter(settings.rate_limit, settings.redis_url)

    async def close_database(app: Litestar) -> None:
        await app.state.data_version.stop()
        await app.state.database.dispose()
        if app.state.rate_limiter is not None:
            await app.state.rate_limiter.counter.close()
        mark_process_dead()

    api = Router(
        path=API_PREFIX,
        route_handlers=api_routes(),
        middleware=[bearer_token_middleware(), rate_limit_middleware()],
        security=[{"BearerToken": []}],
        dependencies={"principal": Provide(provide_principal)},
    )
    app = Litestar(
        route_handlers=[health, ready, api, *([metrics_endpoint] if settings.metrics else [])],
        on_startup=[open_database, freeze_startup_objects],
        on_shutdown=[close_database],
        dependencies={
            "database": Provide(provide_database),
            "session": Provide(provide_session),
            "write_session": Provide(provide_write_session),
            "catalogue": Provide(provide_catalogue),
        },
        plugins=[problem_details_plugin()],
        exception_handlers={
            **dict.fromkeys(DATABASE_OUTAGE_ERRORS, database_unavailable),
            Exception: unexpected_error,
        },
        request_max_body_size=1_000_000,
        openapi_config=openapi_config(),
        cors_config=cors_config(settings.cors_origins),
        logging_config=None,  # `wlbtrack serve` configures JSON logging (wlbtrack.lib.logs)
        debug=settings.debug,
    )
    return wrap_outer_layers(app, settings, shortcut=CatalogueShortcut(API_PREFIX))


def openapi_config() -> OpenAPIConfig:
    """The OpenAPI document's metadata, tags and security scheme."""
    return OpenAPIConfig(
        title="wlbtrack",
        version=__version__,
        description=API_DESCRIPTION,
        path="/schema",
        render_plugins=[JsonRenderPlugin(), SwaggerRenderPlugin()],
        tags=[
            Tag(
                name="catalogue", description="The plan: 大作戦, 取り組みの方向性, 目安, 主な取り組み, 担当部"
            ),
            Tag(
                name="reporting",
                description="Quarterly status reports per guideline and department, and the quarterly batch",
            ),
            Tag(name="indicators", description="Indicators (KPIs), their values per quarter, and history"),
            Tag(name="periods", description="Fiscal quarters (四半期) and closing them to writes"),
            Tag(name="tokens", description="API tokens and their roles (admin only)"),
            Tag(
                name="progress",
                description="Progress (0–1), status counts and completeness per campaign, direction, "
                "guideline and department, and over time",
            ),
            Tag(name="export", description="Flat rows of current values and reports for BI tools"),
            Tag(name="operations", description="Health and readiness probes"),
        ],
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
    )
