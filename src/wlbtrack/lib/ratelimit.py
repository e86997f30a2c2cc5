"""Per-token rate limits in fixed windows aligned to the clock; `limits` parses the setting, counts in Redis.

With Redis the count is `limits`' RedisStorage (an atomic INCR + EXPIRE script), shared by every worker and
instance; without it, this process's own counts. Each window has its own key, so windows start on the
clock's multiples of their length in every process alike.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Protocol

import limits
from limits.aio.storage import RedisStorage
from limits.errors import StorageError
from redis.asyncio import ConnectionPool

from wlbtrack.lib.clock import Clock

logger = logging.getLogger("wlbtrack.ratelimit")

KEY_PREFIX = "wlbtrack:ratelimit"
GRANULARITIES = {"second", "minute", "hour", "day"}
WARN_EVERY_S = 60.0


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
        try:
            item = limits.parse(spec)
        except ValueError:
            item = None
        if (
            item is None
            or item.amount < 1
            or item.multiples != 1
            or item.GRANULARITY.name not in GRANULARITIES
        ):
            raise ValueError(f"WLBTRACK_RATE_LIMIT: expected e.g. '600/minute' or 'off', got {spec!r}")
        return cls(limit=item.amount, window=item.get_expiry())


class Counts(Protocol):
    """Counts hits per key (`limits`' storage interface)."""

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count `amount` hits on `key`, which expires `expiry` seconds after its first; the total."""
        ...


class MemoryCounts:
    """This process's counts. Kept instead of `limits`' MemoryStorage, which starts an expiry task and takes
    a lock on every hit; a single event loop needs neither."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._counts: dict[str, int] = {}
        self._expiry: dict[str, float] = {}

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count hits; forget keys whose time has passed whenever a new key appears."""
        count = self._counts.get(key)
        if count is None:
            now = self._clock.monotonic()
            for old in [k for k, expires in self._expiry.items() if expires <= now]:
                del self._counts[old], self._expiry[old]
            self._expiry[key] = now + expiry
            count = 0
        self._counts[key] = count = count + amount
        return count


@dataclass(frozen=True)
class Decision:
    """Whether a request may proceed, and the RateLimit-* headers to send either way."""

    allowed: bool
    headers: dict[str, str]

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The headers as an ASGI header list."""
        return [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in self.headers.items()
        ]


class RateLimiter:
    """A rate limit, the storage that counts it, and the clock that says which window it is."""

    MAX_KEYS = 10_000

    def __init__(
        self, rate: RateLimit, storage: Counts, clock: Clock, pool: ConnectionPool | None = None
    ) -> None:
        self.rate = rate
        self._storage = storage
        self._pool = pool
        self._clock = clock
        self._last_warning = float("-inf")
        self._keys: dict[str, str] = {}
        self._limit = str(rate.limit)
        self._policy = f"{rate.limit};w={rate.window}"

    @classmethod
    def configured(cls, spec: str, redis_url: str | None, clock: Clock) -> RateLimiter | None:
        """The limiter WLBTRACK_RATE_LIMIT and WLBTRACK_REDIS_URL describe, or None when limiting is off."""
        rate = RateLimit.parse(spec)
        if rate is None:
            return None
        if redis_url is None:
            return cls(rate, MemoryCounts(clock), clock)
        pool = ConnectionPool.from_url(redis_url, socket_connect_timeout=0.5, socket_timeout=0.5)
        storage = RedisStorage(
            f"async+{redis_url}",
            implementation="redispy",
            key_prefix=KEY_PREFIX,
            wrap_exceptions=True,
            connection_pool=pool,  # type: ignore[arg-type]  # passed on to redis.asyncio.Redis
        )
        return cls(rate, storage, clock, pool)

    def _key(self, token: str) -> str:
        """The storage key prefix of a token (a hash, the same in every worker), hashed once per token."""
        key = self._keys.get(token)
        if key is None:
            if len(self._keys) >= self.MAX_KEYS:
                self._keys.clear()
            digest = hashlib.sha256(f"rate-limit:{token}".encode()).hexdigest()[:32]
            key = self._keys[token] = f"{digest}:"
        return key

    async def check(self, token: str) -> Decision | None:
        """Count this token's request; None when the storage is unreachable (the request is let through)."""
        now = self._clock.now().timestamp()
        window_start = int(now // self.rate.window * self.rate.window)
        try:
            count = await self._storage.incr(f"{self._key(token)}{window_start}", self.rate.window)
        except (StorageError, OSError) as exc:
            if self._clock.monotonic() - self._last_warning > WARN_EVERY_S:
                self._last_warning = self._clock.monotonic()
                cause = exc.storage_error if isinstance(exc, StorageError) else exc
                logger.warning("rate limit store unreachable, not limiting: %s", type(cause).__name__)
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

    async def close(self) -> None:
        """Close the Redis connections, if any."""
        if self._pool is not None:
            await self._pool.aclose()
