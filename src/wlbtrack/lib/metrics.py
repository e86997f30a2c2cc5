"""Prometheus metrics: requests by route and status, latency, submissions by department, pool usage."""

from __future__ import annotations

import functools
import hmac
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.types import HTTPScope, Scope
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy.pool import Pool, QueuePool

from wlbtrack.lib.errors import ProblemError

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


def record_submission(department: str, kind: str = "report") -> None:
    """Count one stored submission (kind: report, value or batch) for a department; call after commit."""
    SUBMISSIONS.labels(department=department, kind=kind).inc()


@functools.cache
def _request_metrics(method: str, route: str, status: int) -> tuple[Counter, Histogram]:
    """The labelled children for one (method, route template, status); the label values stay few."""
    return REQUESTS.labels(method=method, route=route, status=str(status)), LATENCY.labels(
        method=method, route=route
    )


def observe_pool(pool: Pool) -> None:
    """Set the pool gauges from a SQLAlchemy pool."""
    if not isinstance(pool, QueuePool):
        return
    POOL_CONNECTIONS.labels(state="in_use").set(pool.checkedout())
    POOL_CONNECTIONS.labels(state="idle").set(pool.checkedin())
    POOL_SIZE.set(pool.size())


def _pool_of(scope: Scope) -> Pool | None:
    database = getattr(scope["litestar_app"].state, "database", None)
    return None if database is None else database.engine.pool


def observe_pool_of(scope: Scope) -> None:
    """Set the pool gauges from the application's database pool, if it has one."""
    if (pool := _pool_of(scope)) is not None:
        observe_pool(pool)


def record_request(scope: HTTPScope, status: int, seconds: float) -> None:
    """Count and time one HTTP request by route template (not raw path, so label values stay few)."""
    requests, latency = _request_metrics(scope["method"], scope.get("path_template") or "unmatched", status)
    requests.inc()
    latency.observe(seconds)


def _registry() -> CollectorRegistry:
    """This process's registry, or one that merges every worker's files in multiprocess mode."""
    if MULTIPROCESS_ENV not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


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


@get("/metrics", include_in_schema=False)
async def metrics_endpoint(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Prometheus exposition; with WLBTRACK_METRICS_TOKEN set, only for `Authorization: Bearer <it>`."""
    expected: str | None = request.app.state.settings.metrics_token
    if expected is not None:
        scheme, _, sent = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(sent.strip().encode(), expected.encode()):
            raise ProblemError(
                401,
                "Authorization: the metrics token is required",
                field="Authorization",
                headers={"WWW-Authenticate": 'Bearer realm="wlbtrack-metrics"'},
            )
    observe_pool_of(request.scope)
    return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)
