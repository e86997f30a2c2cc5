"""The process's services: one typed container, built by the app factory, started and stopped by the
application's lifespan. Handlers reach its parts through the dependencies app.py declares; middleware get
theirs as constructor arguments; domains never import this module.

Caches, what invalidates them and how stale they can be (all belong to this container, all read `clock`):

- `catalogue` (CatalogueCache): the catalogue snapshot and its encoded list bodies, keyed by the
  catalogue version (bumped by `wlbtrack seed`). Checked against the database at most every
  WLBTRACK_CATALOGUE_TTL seconds (in the background while in use), so a re-seed shows within that time.
- `tokens` (TokenCache): principals of active tokens. A revocation through this process clears it at once;
  one made elsewhere (another worker, the CLI) shows within WLBTRACK_TOKEN_CACHE_TTL seconds.
- `data_version` (DataVersion): this worker's copy of the data version (bumped by every write). PostgreSQL
  pushes it by NOTIFY on commit (stale for milliseconds after another worker's write; read per request
  while the listener is down); on SQLite it is read per request. Never stale after this worker's writes.
- `responses` (ResponseCache): encoded progress bodies by ETag; the tag covers the database, the data
  version, the catalogue version, the path, the query and the resolved defaults, so an entry is never
  stale, only unused (the 128 most recently used are kept). A missing tag is computed once however many
  requests wait for it.
- `rate_limiter`: per-token counts in fixed windows (memory, or Redis when configured), and the hash of each
  token it has seen; counts expire with their window.
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
from wlbtrack.domain.periods.services import PeriodRules
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
    rate_limiter: RateLimiter | None

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> Services:
        """The services for these settings; nothing connects until the lifespan starts."""
        clock = clock or SystemClock()
        database = Database(settings)
        data_version = DataVersion(database)
        return cls(
            settings=settings,
            clock=clock,
            database=database,
            data_version=data_version,
            catalogue=CatalogueCache(database.read_sessions, settings.catalogue_ttl, clock),
            tokens=TokenCache(settings.token_cache_ttl, principal_fetcher(database.read_sessions), clock),
            periods=PeriodRules(settings.first_fiscal_year, clock),
            responses=ResponseCache(database, data_version, ResultCache(RESULTS_KEPT)),
            rate_limiter=RateLimiter.configured(settings.rate_limit, settings.redis_url, clock),
        )

    @asynccontextmanager
    async def lifespan(self, _app: Litestar) -> AsyncIterator[None]:
        """Listen for the data version while the application runs; close every connection after."""
        self.data_version.start()
        try:
            yield
        finally:
            await self.data_version.stop()
            await self.database.dispose()
            if self.rate_limiter is not None:
                await self.rate_limiter.close()
            mark_process_dead()
