"""The layers around everything Litestar does, so 404s, CORS preflights and middleware errors get them too."""

from __future__ import annotations

from litestar import Litestar
from litestar.types import ASGIApp

from wlbtrack.config import Settings
from wlbtrack.lib.logs import AccessLogMiddleware
from wlbtrack.lib.metrics import MetricsMiddleware
from wlbtrack.lib.request_id import RequestIdMiddleware
from wlbtrack.lib.security import SecurityHeadersMiddleware


def wrap_outer_layers(app: Litestar, settings: Settings) -> Litestar:
    """Request ID → access log → metrics → security headers → Litestar (CORS, errors, routing, auth, limits).

    Litestar's own middleware runs only for matched routes and cannot see the status of an error raised
    by another middleware (401 from auth, 429, 503), so these wrap the application's ASGI handler instead.
    """
    handler: ASGIApp = SecurityHeadersMiddleware(app.asgi_handler, hsts_seconds=settings.hsts_seconds)
    if settings.metrics:
        handler = MetricsMiddleware(handler)
    app.asgi_handler = RequestIdMiddleware(AccessLogMiddleware(handler))
    return app
