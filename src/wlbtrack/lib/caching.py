"""Conditional responses (ETag, If-None-Match) and the encoded bodies behind them, computed once per key;
the store that keeps recently read dashboard sessions."""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar, cast

from litestar import MediaType, Request, Response
from litestar.openapi.datastructures import ResponseSpec
from litestar.serialization import encode_json
from litestar.stores.base import Store
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.db import Database
from wlbtrack.lib.clock import Clock
from wlbtrack.lib.data_version import DataVersion

T = TypeVar("T")
V = TypeVar("V")

NOT_MODIFIED = ResponseSpec(
    data_container=None, description="Not modified: the ETag sent in If-None-Match is still current"
)


def digest(material: object) -> str:
    """A short hash of what something depends on (its repr), for a tag or a cache key."""
    return hashlib.sha256(repr(material).encode("utf-8")).hexdigest()[:32]


class ResultCache(Generic[V]):
    """Recent results (encoded response bodies, rendered page fragments) by key, least recently used
    dropped first.

    Single-flight: requests that miss the same key at the same time (as every reader does right after a
    write changes the data version) wait for one computation instead of each running their own.
    """

    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._entries: OrderedDict[str, V] = OrderedDict()
        self._pending: dict[str, asyncio.Future[V]] = {}

    async def get(self, key: str, compute: Callable[[], Awaitable[V]]) -> V:
        """The result stored under `key`, computing it once if it is not there yet."""
        body = self._entries.get(key)
        if body is not None:
            self._entries.move_to_end(key)
            return body
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = asyncio.ensure_future(compute())
            pending.add_done_callback(lambda done: self._settle(key, done))
        return await asyncio.shield(pending)  # a waiter that gives up leaves the computation to the others

    def _settle(self, key: str, done: asyncio.Future[V]) -> None:
        self._pending.pop(key, None)
        if done.cancelled() or done.exception() is not None:
            return  # its waiters get the exception; the next request computes again
        self._entries[key] = done.result()
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)


@dataclass(frozen=True)
class Conditional:
    """The ETag of a response and whether the client already holds it."""

    tag: str
    fresh: bool

    @classmethod
    def of(cls, request: Request[Any, Any, Any], *depends_on: object) -> Conditional:
        """The tag of this request (path and query) given everything its body `depends_on`."""
        query = sorted(request.query_params.multi_items())
        tag = '"' + digest((request.url.path, query, depends_on)) + '"'
        header = request.headers.get("if-none-match", "")
        held = {item.strip().removeprefix("W/") for item in header.split(",")}
        return cls(tag=tag, fresh=tag in held or "*" in held)

    @property
    def headers(self) -> dict[str, str]:
        """ETag plus a Cache-Control that makes clients revalidate."""
        return {"ETag": self.tag, "Cache-Control": "private, no-cache"}

    def not_modified(self) -> Response[Any]:
        """304 with the tag and no body."""
        return Response(content=None, status_code=304, headers=self.headers)

    def respond(self, content: T) -> Response[T]:
        """200 with the content and the tag."""
        return Response(content=content, headers=self.headers)

    def respond_encoded(self, body: bytes) -> Response[T]:
        """200 with an already encoded JSON body and the tag (typed as what the body encodes)."""
        return cast("Response[T]", Response(content=body, media_type=MediaType.JSON, headers=self.headers))


class ResponseCache:
    """Conditional responses that change only when the data does: the ETag depends on the database, the
    data version and what the caller adds (the catalogue version, resolved defaults), and the body for a
    tag is computed and encoded once in this process (single-flight)."""

    def __init__(self, database: Database, data_version: DataVersion, results: ResultCache[bytes]) -> None:
        self.database = database
        self.data_version = data_version
        self.results = results

    async def conditional(self, request: Request[Any, Any, Any], *depends_on: object) -> Conditional:
        """The request's tag at the current data version.

        The version is read before the data, so a write racing the response can only make the tag older
        than the body, never newer: the client then refetches. On PostgreSQL the version is this worker's
        copy (lib.data_version): the writing worker knows its write before responding, other workers and
        instances learn it by NOTIFY on commit, so for a few milliseconds after another worker's write they
        may still answer with the previous tag and body.
        """
        version = await self.data_version.current()
        return Conditional.of(request, self.database.identity, version, *depends_on)

    async def key(self, *depends_on: object) -> str:
        """A cache key for a result that depends on the data at its current version and on `depends_on`
        (read before the data, like the tag of `conditional`)."""
        return digest((self.database.identity, await self.data_version.current(), depends_on))

    async def respond(
        self, conditional: Conditional, compute: Callable[[AsyncSession], Awaitable[T]]
    ) -> Response[T]:
        """200 with the body for the conditional's tag, computed in a read session of its own if missing."""

        async def build() -> bytes:
            async with self.database.read_sessions() as session:
                return encode_json(await compute(session))

        return conditional.respond_encoded(await self.results.get(conditional.tag, build))


class RecentlyReadStore(Store):
    """A Litestar store in front of a shared one (the database, Redis) that keeps what this worker read or
    wrote for `ttl` seconds, so a value read on every request (a dashboard session) is fetched once per `ttl`.

    Writes and deletes through this worker reach the shared store and this copy at once, and a read that
    was under way meanwhile keeps nothing; one made through another worker is seen here within `ttl`
    seconds. A value written here is kept no longer than its own expiry; one read here may be kept up to
    `ttl` seconds past it. A `ttl` of 0 reads the shared store every time.
    """

    MAX_ENTRIES = 10_000

    def __init__(self, shared: Store, ttl: float, clock: Clock) -> None:
        self.shared = shared
        self._ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()  # key -> (kept until, value)
        self._generation = 0  # advanced around every write, so a read begun before one cannot keep its value

    def _keep(self, key: str, value: bytes, seconds: float) -> None:
        if seconds <= 0:
            return
        self._entries[key] = (self._clock.monotonic() + seconds, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.MAX_ENTRIES:
            self._entries.popitem(last=False)

    def _forget(self, key: str | None) -> None:
        self._generation += 1
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        entry = self._entries.get(key)
        if entry is not None and renew_for is None and self._clock.monotonic() < entry[0]:
            return entry[1]
        self._entries.pop(key, None)
        generation = self._generation
        value = await self.shared.get(key, renew_for)
        if value is not None and generation == self._generation:
            self._keep(key, value, self._ttl)
        return value

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        self._forget(key)
        try:
            await self.shared.set(key, value, expires_in)
        finally:
            self._forget(key)
        seconds = expires_in.total_seconds() if isinstance(expires_in, timedelta) else expires_in
        kept = self._ttl if seconds is None else min(self._ttl, seconds)
        self._keep(key, value.encode("utf-8") if isinstance(value, str) else value, kept)

    async def delete(self, key: str) -> None:
        self._forget(key)
        try:
            await self.shared.delete(key)
        finally:
            self._forget(key)

    async def delete_all(self) -> None:
        self._forget(None)
        try:
            await self.shared.delete_all()
        finally:
            self._forget(None)

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        return await self.shared.expires_in(key)
