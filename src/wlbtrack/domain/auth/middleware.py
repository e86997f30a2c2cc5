"""Bearer-token authentication and per-token rate limiting for everything under /api/v1: one middleware."""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from wlbtrack.domain.auth.services import TokenCache
from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.i18n import Msg
from wlbtrack.lib.ratelimit import RateLimiter

MAX_TOKEN_LENGTH = 200
OPEN_PATHS = ("/health", "/ready", "/schema", "/metrics", "/dashboard")  # the rest needs a token;
# /dashboard signs in with its own session (domain/dashboard), which grants nothing under /api/v1


def _unauthorized(detail: Msg) -> ProblemError:
    return ProblemError(
        401, detail, field="Authorization", headers={"WWW-Authenticate": 'Bearer realm="wlbtrack"'}
    )


def parse_bearer(header: str) -> str | None:
    """The token of a well-formed `Bearer <token>` header value, or None."""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return token


class BearerAuth(ASGIMiddleware):
    """Resolves `Authorization: Bearer <token>` to a Principal (`request.user`), then counts the request.

    401 when the token is missing, unknown or revoked (before any counting); past the token's rate limit
    429 with RateLimit-* and Retry-After; otherwise the RateLimit-* headers go on the response. One
    middleware, so a request reads its headers once and its token once. Declared on the application, not
    on the /api/v1 router: Litestar deep-copies a router when it is registered, middleware included, which
    would give each route its own copy of the token cache. Every path but OPEN_PATHS needs a token.
    """

    scopes = (ScopeType.HTTP,)

    def __init__(self, *, tokens: TokenCache, limiter: RateLimiter | None) -> None:
        self.tokens = tokens
        self.limiter = limiter

    @staticmethod
    def should_bypass_for_scope(scope: Scope) -> bool:
        """The probes, the metrics and the schema are open."""
        return scope["path"].startswith(OPEN_PATHS)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        header = next((value for name, value in scope["headers"] if name == b"authorization"), None)
        if not header:
            raise _unauthorized(Msg("a bearer token is required"))
        token = parse_bearer(header.decode("latin-1"))
        if token is None:
            raise _unauthorized(Msg("expected 'Bearer <token>'"))
        principal = self.tokens.get(token) or await self.tokens.lookup(token)
        if principal is None:
            raise _unauthorized(Msg("unknown or revoked token"))
        scope["user"] = principal
        scope["auth"] = token
        decision = await self.limiter.check(token) if self.limiter is not None else None
        if decision is None:  # limiting off, or its store unreachable
            await next_app(scope, receive, send)
            return
        if not decision.allowed:
            assert self.limiter is not None
            raise ProblemError(
                429,
                Msg(
                    "this token made more than {limit} requests in {window} s; retry after {retry} s",
                    limit=self.limiter.rate.limit,
                    window=self.limiter.rate.window,
                    retry=decision.headers["Retry-After"],
                ),
                field="Authorization",
                headers=decision.headers,
            )
        added = decision.raw_headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], *added]
            await send(message)

        await next_app(scope, receive, send_with_headers)
