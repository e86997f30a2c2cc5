"""The layer around the Litestar application: request ids, security headers, metrics and the access log."""

from __future__ import annotations

from collections.abc import Callable

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import Message, Receive, Scope, Send

from wlbtrack.lib.clock import Clock
from wlbtrack.lib.logs import log_access
from wlbtrack.lib.metrics import record_request
from wlbtrack.lib.request_id import REQUEST_ID, choose_request_id, current_request_id
from wlbtrack.lib.security import (
    API_CSP,
    DASHBOARD_CSP,
    SCHEMA_CSP,
    Headers,
    security_headers,
    set_headers,
)

POOL_SAMPLE_SECONDS = 1.0  # requests refresh the pool gauges at most this often; /metrics always does


class RequestPipeline:
    """Every HTTP request: an X-Request-ID (also in the logs' context), the security headers and a default
    Cache-Control on the response, then a count and duration in the metrics and one access-log line.

    This wraps the application instead of being Litestar middleware because Litestar runs middleware only
    for requests that match a route, and answers an error raised by a middleware (401 from authentication,
    429 from the rate limit, 503 when the database is down) outside every other middleware: no middleware
    sees a 404, a 405, a CORS preflight or the status of those errors. This is a known limitation of
    Litestar's design, https://github.com/litestar-org/litestar/issues/175 (app-level middleware is part of
    each route's stack, built after routing).
    """

    def __init__(
        self,
        app: Litestar,
        *,
        clock: Clock,
        hsts_seconds: int = 0,
        metrics: bool = True,
        observe_pool: Callable[[], None] | None = None,
    ) -> None:
        self.app = app
        self._clock = clock
        self._metrics = metrics
        self._observe_pool = observe_pool
        self._next_pool_sample = 0.0
        self._api_headers = security_headers(API_CSP, hsts_seconds)
        self._schema_headers = security_headers(SCHEMA_CSP, hsts_seconds)
        self._dashboard_headers = security_headers(DASHBOARD_CSP, hsts_seconds)
        self._replaced = frozenset({REQUEST_ID, *(name for name, _ in self._api_headers)})

    def _headers_for(self, path: str) -> Headers:
        """The security headers of a path: the dashboard's and the Swagger page's CSPs allow own files."""
        if path == "/dashboard" or path.startswith("/dashboard/"):
            return self._dashboard_headers
        if path.startswith("/schema"):
            return self._schema_headers
        return self._api_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)  # lifespan and websockets pass through
            return
        started = self._clock.monotonic()
        sent = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), None)
        request_id = choose_request_id(sent)
        fixed = self._headers_for(scope["path"])
        added = [*fixed, (REQUEST_ID, request_id.encode("latin-1"))]
        status = 500

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                set_headers(message, added, self._replaced)
            await send(message)

        context = current_request_id.set(request_id)
        try:
            await self.app(scope, receive, send_observed)
        finally:
            finished = self._clock.monotonic()
            seconds = finished - started
            if self._metrics:
                record_request(scope, status, seconds)
                if self._observe_pool is not None and finished >= self._next_pool_sample:
                    self._next_pool_sample = finished + POOL_SAMPLE_SECONDS
                    self._observe_pool()
            log_access(scope, status, seconds)
            current_request_id.reset(context)
