"""Per-token rate limiting with fixed windows, counted atomically in Redis or in this process's memory."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass
from typing import Protocol

from litestar.middleware.base import DefineMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from redis.asyncio import Redis
from redis.exceptions import RedisError

from wlbtrack.lib.errors import ProblemError

logger = logging.getLogger("wlbtrack.ratelimit")

UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_SPEC = re.compile(r"\s*(\d+)\s*/\s*(second|minute|hour|day)s?\s*")
KEY_PREFIX = "wlbtrack:ratelimit:"
COUNTED = "wlbtrack.rate_limit"  # scope key: the decision for a request already counted before routing


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` requests per token in each window of `window` seconds."""

    limit: int
    window: int

    @classmethod
    def parse(cls, spec: str) -> RateLimit | None:
        """'600/minute' (also second, hour, day); 'off' or '0' for no limit."""
        if spec.strip().lower() in {"off", "0", ""}:
            return None
        match = _SPEC.fullmatch(spec.lower())
        if match is None or int(match[1]) < 1:
            raise ValueError(f"WLBTRACK_RATE_LIMIT: expected e.g. '600/minute' or 'off', got {spec!r}")
        return cls(limit=int(match[1]), window=UNITS[match[2]])


class WindowCounter(Protocol):
    """Counts hits per key and window."""

    async def hit(self, key: str, window: int) -> int:
        """Count one hit on `key` (a key already naming its window) and return the window's total."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class MemoryCounter:
    """Counts in this process only: a limit per token per worker, so multi-worker deployments need Redis."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._expiry: dict[str, float] = {}

    async def hit(self, key: str, window: int) -> int:
        """Count a hit; forget windows that have ended."""
        now = time.monotonic()
        if key not in self._counts:
            for old in [k for k, expires in self._expiry.items() if expires <= now]:
                del self._counts[old], self._expiry[old]
            self._expiry[key] = now + window
        self._counts[key] = self._counts.get(key, 0) + 1
        return self._counts[key]

    async def close(self) -> None:
        """Nothing to release."""


class RedisCounter:
    """Counts in Redis (INCR and EXPIRE in one transaction): every worker and instance shares the count."""

    def __init__(self, url: str) -> None:
        self._redis: Redis = Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)

    async def hit(self, key: str, window: int) -> int:
        """Count a hit; the key expires with its window."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, window + 1)
            count, _ = await pipe.execute()
        return int(count)

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()


@dataclass(frozen=True)
class Decision:
    """Whether a request may proceed, and the RateLimit-* headers to send either way."""

    allowed: bool
    headers: dict[str, str]

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The headers as an ASGI header list."""
        return [(name.lower().encode(), value.encode()) for name, value in self.headers.items()]


class RateLimiter:
    """A rate limit and the counter that enforces it."""

    MAX_KEYS = 10_000

    def __init__(self, rate: RateLimit, counter: WindowCounter) -> None:
        self.rate = rate
        self.counter = counter
        self._last_warning = 0.0
        self._keys: dict[str, str] = {}
        self._limit = str(rate.limit)
        self._policy = f"{rate.limit};w={rate.window}"

    def _key(self, token: str) -> str:
        """The store key prefix of a token (a hash, the same in every worker), hashed once per token."""
        key = self._keys.get(token)
        if key is None:
            if len(self._keys) >= self.MAX_KEYS:
                self._keys.clear()
            digest = hashlib.sha256(f"rate-limit:{token}".encode()).hexdigest()[:32]
            key = self._keys[token] = f"{KEY_PREFIX}{digest}:"
        return key

    async def check(self, token: str) -> Decision | None:
        """Count this token's request; None when the store is unreachable (the request is let through)."""
        now = time.time()
        window_start = int(now // self.rate.window * self.rate.window)
        try:
            count = await self.counter.hit(f"{self._key(token)}{window_start}", self.rate.window)
        except (RedisError, OSError) as exc:
            if now - self._last_warning > 60:
                self._last_warning = now
                logger.warning("rate limit store unreachable, not limiting: %s", type(exc).__name__)
            return None
        reset = str(max(window_start + self.rate.window - int(now), 1))
        headers = {
            "RateLimit-Limit": self._limit,
            "RateLimit-Remaining": str(max(self.rate.limit - count, 0)),
            "RateLimit-Reset": reset,
            "RateLimit-Policy": self._policy,
        }
        if count > self.rate.limit:
            return Decision(allowed=False, headers={**headers, "Retry-After": reset})
        return Decision(allowed=True, headers=headers)


def rate_limiter(spec: str, redis_url: str | None) -> RateLimiter | None:
    """The limiter WLBTRACK_RATE_LIMIT and WLBTRACK_REDIS_URL describe, or None when limiting is off."""
    rate = RateLimit.parse(spec)
    if rate is None:
        return None
    return RateLimiter(rate, RedisCounter(redis_url) if redis_url else MemoryCounter())


class RateLimitMiddleware:
    """After authentication: limits each token, adds RateLimit-* headers, answers 429 past the limit.

    The limiter lives in `app.state.rate_limiter` (made at startup; None when limiting is off).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limiter: RateLimiter | None = scope["litestar_app"].state.get("rate_limiter")
        token = scope.get("auth")
        if COUNTED in scope:
            decision: Decision | None = scope[COUNTED]  # type: ignore[literal-required]
        elif limiter is not None and isinstance(token, str):
            decision = await limiter.check(token)
        else:
            decision = None
        if limiter is None or decision is None:
            await self.app(scope, receive, send)
            return
        if not decision.allowed:
            raise ProblemError(
                429,
                f"Authorization: this token made more than {limiter.rate.limit} requests in "
                f"{limiter.rate.window} s; retry after {decision.headers['Retry-After']} s",
                field="Authorization",
                headers=decision.headers,
            )

        added = decision.raw_headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], *added]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def rate_limit_middleware() -> DefineMiddleware:
    """The middleware for a router, to be listed after the authentication middleware."""
    return DefineMiddleware(RateLimitMiddleware)
