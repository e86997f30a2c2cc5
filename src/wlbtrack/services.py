"""The process's services: one typed container, built by the app factory, started and stopped by the
application's lifespan. Handlers reach its parts through the dependencies app.py declares; middleware get
theirs as constructor arguments; domains never import this module.

Every cache is one of these services (catalogue, tokens, data_version, responses, pages, rate_limiter) and
reads `clock`; README.md, Operations → Caches, lists what each holds, what invalidates it and how stale it
can be.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from litestar import Litestar

from wlbtrack.config import Settings
from wlbtrack.db import Database
from wlbtrack.domain.auth.services import TokenCache, principal_fetcher
from wlbtrack.domain.catalogue.services import CatalogueCache
from wlbtrack.domain.dashboard.fragments import Page
from wlbtrack.domain.periods.services import PeriodRules, remind
from wlbtrack.domain.webhooks.services import Deliverer, WebhookSettings
from wlbtrack.lib.caching import ResponseCache, ResultCache
from wlbtrack.lib.clock import Clock, SystemClock
from wlbtrack.lib.data_version import DataVersion
from wlbtrack.lib.metrics import mark_process_dead
from wlbtrack.lib.ratelimit import RateLimiter

RESULTS_KEPT = 128


@dataclass
class Services:
    """Everything one application instance shares between requests."""

    settings: Settings
    clock: Clock
    database: Database
    data_version: DataVersion
    catalogue: CatalogueCache
    tokens: TokenCache
    periods: PeriodRules
    responses: ResponseCache
    pages: ResultCache[Page]
    rate_limiter: RateLimiter | None
    webhooks: WebhookSettings
    deliverer: Deliverer | None

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> Services:
        """The services for these settings; nothing connects until the lifespan starts."""
        clock = clock or SystemClock()
        database = Database(settings)
        data_version = DataVersion(database)
        periods = PeriodRules(settings.first_fiscal_year, clock, settings.deadline_days)
        deliverer = None
        if settings.webhook_delivery:
            deliverer = Deliverer(
                database,
                clock,
                settings.webhook_poll_seconds,
                settings.webhook_allow_loopback,
                lambda: remind(database, periods, settings.reminder_days),
            )
        return cls(
            settings=settings,
            clock=clock,
            database=database,
            data_version=data_version,
            catalogue=CatalogueCache(database.read_sessions, settings.catalogue_ttl, clock),
            tokens=TokenCache(settings.token_cache_ttl, principal_fetcher(database.read_sessions), clock),
            periods=periods,
            responses=ResponseCache(database, data_version, ResultCache(RESULTS_KEPT)),
            pages=ResultCache(RESULTS_KEPT),
            rate_limiter=RateLimiter.configured(settings.rate_limit, settings.redis_url, clock),
            webhooks=WebhookSettings(settings.webhook_allow_loopback, clock),
            deliverer=deliverer,
        )

    @asynccontextmanager
    async def lifespan(self, _app: Litestar) -> AsyncIterator[None]:
        """Listen for the data version while the application runs; close every connection after."""
        self.data_version.start()
        if self.deliverer is not None:
            self.deliverer.start()
        try:
            yield
        finally:
            if self.deliverer is not None:
                await self.deliverer.stop()
            await self.data_version.stop()
            await self.database.dispose()
            if self.rate_limiter is not None:
                await self.rate_limiter.close()
            mark_process_dead()
