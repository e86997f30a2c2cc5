"""Token and catalogue caches: steady callers never wait for a refresh, and nothing outlives its TTL."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event

from apps import FakeClock
from wlbtrack.config import Settings
from wlbtrack.db import Database
from wlbtrack.domain.auth.models import Role
from wlbtrack.domain.auth.services import Principal, TokenCache
from wlbtrack.domain.catalogue.services import CatalogueCache

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

    async def fetch(self, _token: str) -> Principal | None:
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
