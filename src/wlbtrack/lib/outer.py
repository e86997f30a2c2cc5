"""The layer around everything Litestar does, so 404s, CORS preflights and middleware errors get it too."""

from __future__ import annotations

from litestar import Litestar

from wlbtrack.config import Settings
from wlbtrack.lib.observe import ObserveMiddleware, Shortcut


def wrap_outer_layers(app: Litestar, settings: Settings, shortcut: Shortcut | None = None) -> Litestar:
    """Observe (request ID, security headers, metrics, access log) → Litestar (CORS, routing, auth, limits).

    Litestar's own middleware runs only for matched routes and cannot see the status of an error raised
    by another middleware (401 from auth, 429, 503), so this wraps the application's ASGI handler instead.
    """
    app.asgi_handler = ObserveMiddleware(
        app.asgi_handler, hsts_seconds=settings.hsts_seconds, metrics=settings.metrics, shortcut=shortcut
    )
    return app
