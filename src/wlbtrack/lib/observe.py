"""One outer ASGI layer: request ID, security headers, timing, metrics and the access log."""

from __future__ import annotations

import time

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from wlbtrack.lib.logs import log_access
from wlbtrack.lib.metrics import observe_pool_of, record_request
from wlbtrack.lib.request_id import REQUEST_ID, choose_request_id, current_request_id
from wlbtrack.lib.security import API_CSP, SCHEMA_CSP, security_headers, set_headers

POOL_SAMPLE_SECONDS = 1.0  # requests refresh the pool gauges at most this often; /metrics always does


class ObserveMiddleware:
    """Wraps `send` once: adds X-Request-ID and the security headers, then counts, times and logs."""

    def __init__(self, app: ASGIApp, hsts_seconds: int = 0, metrics: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.next_pool_sample = 0.0
        self.api_headers = security_headers(API_CSP, hsts_seconds)
        self.schema_headers = security_headers(SCHEMA_CSP, hsts_seconds)
        self.replaced = frozenset({REQUEST_ID, *(name for name, _ in self.api_headers)})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        sent = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), None)
        request_id = choose_request_id(sent)
        fixed = self.schema_headers if scope["path"].startswith("/schema") else self.api_headers
        added = [*fixed, (REQUEST_ID, request_id.encode("latin-1"))]
        status = 500

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                set_headers(message, added, self.replaced)
            await send(message)

        context = current_request_id.set(request_id)
        try:
            await self.app(scope, receive, send_observed)
        finally:
            finished = time.perf_counter()
            seconds = finished - started
            if self.metrics:
                record_request(scope, status, seconds)
                if finished >= self.next_pool_sample:
                    self.next_pool_sample = finished + POOL_SAMPLE_SECONDS
                    observe_pool_of(scope)
            log_access(scope, status, seconds)
            current_request_id.reset(context)
