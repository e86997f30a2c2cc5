"""Security headers on every response, Secure cookies over HTTPS, and the CORS configuration."""

from __future__ import annotations

from litestar.config.cors import CORSConfig
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send

API_CSP = "default-src 'none'; frame-ancestors 'none'"
# Under /schema: the Swagger UI page loads its files from this service only (lib/apidocs.py) and has no
# inline script or style (Swagger UI styles elements through the DOM, which CSP allows); its CSS uses data:
# images.
SCHEMA_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

# Under /dashboard: pages, their stylesheet and any script come from this service only, with nothing inline
# (no <script> or <style> element, no style="" attribute; SVG presentation attributes are not styles), and
# forms post back to it only.
DASHBOARD_CSP = (
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
)


Headers = list[tuple[bytes, bytes]]


def security_headers(csp: str, hsts_seconds: int = 0) -> Headers:
    """nosniff, no framing, no referrer, this Content-Security-Policy, and HSTS when configured."""
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"content-security-policy", csp.encode()),
    ]
    if hsts_seconds > 0:
        headers.append((b"strict-transport-security", f"max-age={hsts_seconds}; includeSubDomains".encode()))
    return headers


def set_headers(message: HTTPResponseStartEvent, added: Headers, replaced: frozenset[bytes]) -> None:
    """Put `added` on a response start, replacing those named in `replaced`, and a default Cache-Control."""
    headers: Headers = []
    cache_control = etag = False
    for name, value in message["headers"]:
        lowered = name.lower()
        if lowered in replaced:
            continue
        if lowered == b"cache-control":
            cache_control = True
        elif lowered == b"etag":
            etag = True
        headers.append((name, value))
    headers.extend(added)
    if not cache_control:
        headers.append((b"cache-control", b"private, no-cache" if etag else b"no-store"))
    message["headers"] = headers


def cors_config(origins: list[str]) -> CORSConfig | None:
    """CORS for the listed origins (WLBTRACK_CORS_ORIGINS), or none at all when the list is empty."""
    if not origins:
        return None
    return CORSConfig(
        allow_origins=origins,
        allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-None-Match", "X-Request-ID"],
        expose_headers=[
            "ETag",
            "Location",
            "Retry-After",
            "X-Request-ID",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
            "RateLimit-Policy",
        ],
        allow_credentials=False,
        max_age=600,
    )


class SecureCookiesOverHttps:
    """Marks every cookie a response sets `Secure` when the request came over HTTPS.

    The scheme is the ASGI server's: `wlbtrack serve` (uvicorn) takes it from X-Forwarded-Proto only on
    connections from WLBTRACK_TRUSTED_PROXIES, so a client cannot claim HTTPS for itself.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["scheme"] != "https":
            await self.app(scope, receive, send)
            return

        async def send_secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (name, _secure(value) if name.lower() == b"set-cookie" else value)
                    for name, value in message["headers"]
                ]
            await send(message)

        await self.app(scope, receive, send_secure)


def _secure(cookie: bytes) -> bytes:
    """A Set-Cookie value with the Secure attribute (added once)."""
    attributes = [part.strip().lower() for part in cookie.split(b";")[1:]]
    return cookie if b"secure" in attributes else cookie + b"; Secure"
