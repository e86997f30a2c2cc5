"""Bearer-token authentication for everything under /api/v1."""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.base import DefineMiddleware

from wlbtrack.domain.auth.tokens import TokenCache
from wlbtrack.lib.errors import ProblemError

MAX_TOKEN_LENGTH = 200


def _unauthorized(detail: str) -> ProblemError:
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


class BearerTokenMiddleware(AbstractAuthenticationMiddleware):
    """Resolves `Authorization: Bearer <token>` to a Principal; 401 when missing, unknown or revoked."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:  # type: ignore[type-arg]
        header = connection.headers.get("authorization")
        if not header:
            raise _unauthorized("Authorization: a bearer token is required")
        token = parse_bearer(header)
        if token is None:
            raise _unauthorized("Authorization: expected 'Bearer <token>'")
        cache: TokenCache = connection.app.state.token_cache
        principal = cache.get(token) or await cache.lookup(token)
        if principal is None:
            raise _unauthorized("Authorization: unknown or revoked token")
        return AuthenticationResult(user=principal, auth=token)


def bearer_token_middleware() -> DefineMiddleware:
    """Authentication on /api/v1 only; health, readiness, metrics and the schema stay open."""
    return DefineMiddleware(BearerTokenMiddleware, exclude=["^/health", "^/ready", "^/schema", "^/metrics"])
