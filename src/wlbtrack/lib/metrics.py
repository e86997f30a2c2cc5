"""Prometheus metrics: requests by route and status, latency, submissions by department, pool usage."""

from __future__ import annotations

import functools
import hmac
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusController
from litestar.types import HTTPScope
from prometheus_client import Counter, Gauge, Histogram, multiprocess
from sqlalchemy.pool import Pool, QueuePool

from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.i18n import Msg

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter(
    "wlbtrack_http_requests",
    "HTTP requests by method, route template and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "wlbtrack_http_request_duration_seconds",
    "HTTP request duration by method and route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SUBMISSIONS = Counter(
    "wlbtrack_submissions", "Stored submissions by department and kind", ["department", "kind"]
)
POOL_CONNECTIONS = Gauge(
    "wlbtrack_db_pool_connections",
    "Database connections held by the pool, by state (in_use, idle)",
    ["state"],
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "wlbtrack_db_pool_size",
    "Connections the pool keeps open (it may open as many again as overflow on PostgreSQL)",
    multiprocess_mode="livesum",
)


def record_submission(department: str, kind: str, count: int = 1) -> None:
    """Count stored submissions (kind: report, value, batch or import) for a department; call after commit."""
    SUBMISSIONS.labels(department=department, kind=kind).inc(count)


@functools.cache
def _request_metrics(method: str, route: str, status: int) -> tuple[Counter, Histogram]:
    """The labelled children for one (method, route template, status); the label values stay few."""
    return REQUESTS.labels(method=method, route=route, status=str(status)), LATENCY.labels(
        method=method, route=route
    )


def record_request(scope: HTTPScope, status: int, seconds: float) -> None:
    """Count and time one HTTP request by route template (not raw path, so label values stay few)."""
    requests, latency = _request_metrics(scope["method"], scope.get("path_template") or "unmatched", status)
    requests.inc()
    latency.observe(seconds)


def pool_observer(pool: Pool) -> Callable[[], None]:
    """A function that sets the pool gauges from a SQLAlchemy pool (SQLite's pools have no sizes)."""

    def observe() -> None:
        if isinstance(pool, QueuePool):
            POOL_CONNECTIONS.labels(state="in_use").set(pool.checkedout())
            POOL_CONNECTIONS.labels(state="idle").set(pool.checkedin())
            POOL_SIZE.set(pool.size())

    return observe


@contextmanager
def shared_between_workers() -> Iterator[Path]:
    """While open, workers started inside write metrics to one fresh folder (prometheus multiprocess mode)."""
    given = os.environ.get(MULTIPROCESS_ENV)
    folder = Path(given) if given else Path(tempfile.mkdtemp(prefix="wlbtrack-metrics-"))
    os.environ[MULTIPROCESS_ENV] = str(folder)
    for stale in folder.glob("*.db"):
        stale.unlink()
    try:
        yield folder
    finally:
        if not given:
            shutil.rmtree(folder, ignore_errors=True)


def mark_process_dead() -> None:
    """Drop this worker's live gauges from the multiprocess files when it exits."""
    if MULTIPROCESS_ENV in os.environ:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def metrics_controller(token: str | None, observe_pool: Callable[[], None]) -> type[PrometheusController]:
    """GET /metrics: Litestar's Prometheus controller (which merges every worker's files in multiprocess
    mode), refreshing the pool gauges first; with WLBTRACK_METRICS_TOKEN set, only for that bearer token."""

    def bearer_only(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
        assert token is not None
        scheme, _, sent = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(sent.strip().encode(), token.encode()):
            raise ProblemError(
                401,
                Msg("the metrics token is required"),
                field="Authorization",
                headers={"WWW-Authenticate": 'Bearer realm="wlbtrack-metrics"'},
            )

    async def refresh_pool(_request: Request[Any, Any, Any]) -> None:
        observe_pool()

    class MetricsController(PrometheusController):
        """Prometheus exposition (text format)."""

        include_in_schema = False
        guards = [bearer_only] if token is not None else []
        before_request = staticmethod(refresh_pool)

    return MetricsController
