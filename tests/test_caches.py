"""Caches: steady callers never wait for a token or catalogue refresh, nothing outlives its TTL, progress
bodies are computed once per tag and never shared between applications."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from litestar.stores.memory import MemoryStore
from sqlalchemy import event

from apps import FakeClock, Instance, http_client, prepare_database, running
from test_progress import report
from wlbtrack.config import Settings
from wlbtrack.db import Database
from wlbtrack.domain.auth.models import Role
from wlbtrack.domain.auth.services import Principal, TokenCache, TokenKey
from wlbtrack.domain.catalogue.services import CatalogueCache
from wlbtrack.lib.caching import RecentlyReadStore, ResultCache

TTL = 10.0
VIEWER = Principal(token_id=1, role=Role.VIEWER, department=None, label="dashboard")


@pytest.fixture
def clock() -> FakeClock:
    """The clock the caches are given, moved by hand."""
    return FakeClock()


class Directory:
    """A token store the test controls: what fetch answers, and how often it was asked."""

    def __init__(self) -> None:
        self.answer: Principal | None = VIEWER
        self.calls = 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def fetch(self, _token: TokenKey) -> Principal | None:
        self.calls += 1
        await self.gate.wait()
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


async def settle() -> None:
    """Let background lookups run to completion."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_token_in_steady_use_is_renewed_in_the_background(clock: FakeClock) -> None:
    directory = Directory()
    cache = TokenCache(TTL, directory.fetch, clock)
    assert await cache.lookup("t") == VIEWER
    clock.advance(TTL * 0.4)
    assert cache.get("t") == VIEWER
    await settle()
    assert directory.calls == 1  # young entries are trusted as they are

    clock.advance(TTL * 0.2)  # past half its life: answered at once, renewed behind the caller's back
    assert [cache.get("t") for _ in range(5)] == [VIEWER] * 5
    await settle()
    assert directory.calls == 2

    clock.advance(TTL * 0.4)  # the first entry would have expired now; the renewed one is young
    assert cache.get("t") == VIEWER
    await settle()
    assert directory.calls == 2


async def test_an_unused_token_is_not_trusted_past_its_ttl(clock: FakeClock) -> None:
    directory = Directory()
    cache = TokenCache(TTL, directory.fetch, clock)
    assert await cache.lookup("t") == VIEWER
    clock.advance(TTL)
    assert cache.get("t") is None


async def test_a_renewal_that_finds_the_token_revoked_drops_it(clock: FakeClock) -> None:
    directory = Directory()
    cache = TokenCache(TTL, directory.fetch, clock)
    assert await cache.lookup("t") == VIEWER
    directory.answer = None  # revoked through another worker or the CLI
    clock.advance(TTL * 0.6)
    assert cache.get("t") == VIEWER
    await settle()
    assert cache.get("t") is None
    assert await cache.lookup("t") is None


async def test_a_renewal_in_flight_when_tokens_are_revoked_here_brings_nothing_back(clock: FakeClock) -> None:
    directory = Directory()
    cache = TokenCache(TTL, directory.fetch, clock)
    assert await cache.lookup("t") == VIEWER
    directory.gate.clear()
    clock.advance(TTL * 0.6)
    assert cache.get("t") == VIEWER  # starts a renewal that waits at the gate
    await settle()
    cache.clear()  # what DELETE /api/v1/tokens/{id} does after committing
    directory.gate.set()
    await settle()
    assert cache.get("t") is None


async def test_a_failed_renewal_keeps_the_entry_until_its_ttl(clock: FakeClock) -> None:
    directory = Directory()
    cache = TokenCache(TTL, directory.fetch, clock)
    assert await cache.lookup("t") == VIEWER
    directory.answer = ConnectionRefusedError("database down")  # type: ignore[assignment]
    clock.advance(TTL * 0.6)
    assert cache.get("t") == VIEWER
    await settle()
    assert cache.get("t") == VIEWER
    clock.advance(TTL * 0.4)
    assert cache.get("t") is None
    with pytest.raises(ConnectionRefusedError):
        await cache.lookup("t")


async def test_the_catalogue_is_checked_in_the_background_while_used(
    settings: Settings, clock: FakeClock
) -> None:
    database = Database(settings)
    checks: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "change_counter" in statement:
            checks.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    try:
        cache = CatalogueCache(database.read_sessions, TTL, clock)
        assert cache.fresh() is None
        catalogue = await cache.get()
        assert len(catalogue.guidelines) == 29
        assert len(checks) == 1

        clock.advance(TTL * 0.4)
        assert cache.fresh() is catalogue
        await asyncio.sleep(0.05)
        assert len(checks) == 1

        clock.advance(TTL * 0.2)
        assert cache.fresh() is catalogue  # answered at once; the check runs behind it
        assert cache.fresh() is catalogue
        for _ in range(50):
            if len(checks) == 2:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)
        assert len(checks) == 2

        clock.advance(TTL * 0.4)  # past the first check's TTL, young after the second
        assert cache.fresh() is catalogue
        clock.advance(TTL)
        assert cache.fresh() is None
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", count)
        await database.dispose()


async def test_readers_missing_the_same_tag_wait_for_one_computation(
    instance: Instance, admin: httpx.AsyncClient, viewer: httpx.AsyncClient
) -> None:
    path = "/api/v1/progress/campaigns/1?period=2025-Q1"
    aggregations: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "carried" in statement:  # the carried-forward values every campaign computation reads
            aggregations.append(statement)

    engine = instance.services.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        await report(admin, "1.1.1", "children", "2025-Q1", "on_track")
        assert (await viewer.get(path)).status_code == 200
        one_computation = len(aggregations)
        assert one_computation > 0
        aggregations.clear()

        await report(
            admin, "1.1.1", "children", "2025-Q1", "delayed"
        )  # a new data version: every tag changes
        responses = await asyncio.gather(*(viewer.get(path) for _ in range(12)))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [r.status_code for r in responses] == [200] * 12
    assert len({r.headers["etag"] for r in responses}) == 1
    assert {r.json()["status_counts"]["delayed"] for r in responses} == {1}
    assert len(aggregations) == one_computation


async def test_two_applications_never_serve_each_others_bodies(settings: Settings, tmp_path: Path) -> None:
    first, second = (
        dataclasses.replace(settings, database_url=f"sqlite+aiosqlite:///{tmp_path / name}.db")
        for name in ("first", "second")
    )
    first_token, second_token = (
        await prepare_database(first, "admin"),
        await prepare_database(second, "admin"),
    )
    async with (
        running(first) as one,
        running(second) as two,
        http_client(one, first_token) as first_admin,
        http_client(two, second_token) as second_admin,
    ):
        # the same data version (1) on both databases, different data
        await report(first_admin, "1.1.1", "children", "2025-Q1", "on_track")
        await report(second_admin, "1.1.1", "children", "2025-Q1", "delayed")
        path = "/api/v1/progress?period=2025-Q1"
        seen_first = (await first_admin.get(path)).json()["overall"]["status_counts"]
        seen_second = (await second_admin.get(path)).json()["overall"]["status_counts"]
    assert (seen_first["on_track"], seen_first["delayed"]) == (1, 0)
    assert (seen_second["on_track"], seen_second["delayed"]) == (0, 1)


async def test_concurrent_misses_of_one_key_compute_once_and_failures_are_not_kept() -> None:
    cache: ResultCache[bytes] = ResultCache(max_entries=4)
    gate = asyncio.Event()
    calls = 0

    async def compute() -> bytes:
        nonlocal calls
        calls += 1
        await gate.wait()
        if calls == 1:
            raise ConnectionRefusedError("database down")
        return b"body"

    waiters = [asyncio.create_task(cache.get("tag", compute)) for _ in range(12)]
    await settle()
    assert calls == 1  # twelve misses, one computation
    gate.set()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(result, ConnectionRefusedError) for result in results)
    assert await cache.get("tag", compute) == b"body"  # the failure was not kept: computed again
    assert await cache.get("tag", compute) == b"body"
    assert calls == 2


class GatedStore(MemoryStore):
    """A shared session store whose reads wait at a gate the test opens (a slow database)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.gate.set()
        self.reads = 0

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        self.reads += 1
        value = await super().get(key, renew_for)
        await self.gate.wait()
        return value


async def test_a_session_read_in_flight_during_a_logout_here_keeps_nothing(clock: FakeClock) -> None:
    shared = GatedStore()
    await shared.set("session", b"token 1", 3600)
    store = RecentlyReadStore(shared, TTL, clock)
    shared.gate.clear()
    read = asyncio.ensure_future(store.get("session"))  # a page load, its read under way
    await settle()
    await store.delete("session")  # the logout, through this worker
    shared.gate.set()
    assert await read == b"token 1"  # read before the logout
    assert await store.get("session") is None
    assert await shared.get("session") is None


async def test_a_session_written_here_is_kept_no_longer_than_its_expiry(clock: FakeClock) -> None:
    shared = GatedStore()
    store = RecentlyReadStore(shared, TTL, clock)
    await store.set("session", b"token 1", 3)
    clock.advance(2)
    assert await store.get("session") == b"token 1"
    assert shared.reads == 0  # kept here
    clock.advance(1.5)  # past the session's expiry, within the TTL
    await store.get("session")
    assert shared.reads == 1  # asked the shared store, which decides
