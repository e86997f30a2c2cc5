"""One outer ASGI layer: request ID, security headers, timing, metrics and the access log."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    HTTPScope,
    Message,
    Receive,
    Scope,
    Send,
)

from wlbtrack.lib.logs import log_access
from wlbtrack.lib.metrics import observe_pool_of, record_request
from wlbtrack.lib.request_id import REQUEST_ID, choose_request_id, current_request_id
from wlbtrack.lib.security import API_CSP, SCHEMA_CSP, security_headers, set_headers

POOL_SAMPLE_SECONDS = 1.0  # requests refresh the pool gauges at most this often; /metrics always does


@dataclass(frozen=True)
class ReadyResponse:
    """A complete 200 response made without the application: its headers (before ours) and body."""

    headers: list[tuple[bytes, bytes]]
    body: bytes


Shortcut = Callable[[HTTPScope], Awaitable[ReadyResponse | None]]


async def send_ready(ready: ReadyResponse, send: Send) -> None:
    """Send a ready response as its two ASGI messages."""
    start: HTTPResponseStartEvent = {"type": "http.response.start", "status": 200, "headers": ready.headers}
    body: HTTPResponseBodyEvent = {"type": "http.response.body", "body": ready.body, "more_body": False}
    await send(start)
    await send(body)


class ObserveMiddleware:
    """Wraps `send` once: adds X-Request-ID and the security headers, then counts, times and logs.

    A `shortcut` may answer a request before the application sees it (see `catalogue.shortcut`).
    """

    def __init__(
        self, app: ASGIApp, hsts_seconds: int = 0, metrics: bool = True, shortcut: Shortcut | None = None
    ) -> None:
        self.app = app
        self.shortcut = shortcut
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
            ready = await self.shortcut(scope) if self.shortcut is not None else None
            if ready is None:
                await self.app(scope, receive, send_observed)
            else:
                await send_ready(ready, send_observed)
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
