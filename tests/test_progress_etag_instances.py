"""Several application instances on one PostgreSQL database: a write through one changes the ETag of another.

Each worker keeps the data version up to date by LISTEN/NOTIFY; while its listener is down it reads the
version per request instead. Runs only when WLBTRACK_TEST_DATABASE_URL points the suite at PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from apps import Instance, http_client, running
from test_progress import report
from wlbtrack.config import Settings

if TYPE_CHECKING:
    from conftest import MakeToken

PATH = "/api/v1/progress?period=2025-Q1"
WAIT_S = 3.0


@pytest.fixture
async def instances(
    settings: Settings, make_token: MakeToken
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, Instance]]:
    """An admin client of instance A, a viewer client of instance B, and B (listening)."""
    admin_token, viewer_token = await make_token("admin"), await make_token("viewer")
    async with (
        running(settings) as a,
        running(settings) as b,
        http_client(a, admin_token) as writer,
        http_client(b, viewer_token) as reader,
    ):
        await _until(lambda: b.services.data_version.live)
        yield writer, reader, b


async def _until(condition: Any) -> None:
    async with asyncio.timeout(WAIT_S):
        while True:
            if condition():
                return
            await asyncio.sleep(0.01)


def _on_track(response: httpx.Response) -> int:
    assert response.status_code == 200, response.text
    return int(response.json()["overall"]["status_counts"]["on_track"])


async def _changed(reader: httpx.AsyncClient, tag: str) -> httpx.Response:
    """B's response once its ETag differs from `tag` (within WAIT_S)."""
    async with asyncio.timeout(WAIT_S):
        while True:
            response = await reader.get(PATH, headers={"If-None-Match": tag})
            if response.status_code != 304:
                return response
            await asyncio.sleep(0.01)


async def test_a_write_through_one_instance_changes_the_tag_of_another(
    instances: tuple[httpx.AsyncClient, httpx.AsyncClient, Instance],
) -> None:
    writer, reader, _ = instances
    before = await reader.get(PATH)
    assert _on_track(before) == 0

    await report(writer, "1.1.1", "children", "2025-Q1", "on_track")

    after = await _changed(reader, before.headers["etag"])
    assert after.headers["etag"] != before.headers["etag"]
    assert _on_track(after) == 1


async def test_without_its_listener_an_instance_reads_the_version_and_then_listens_again(
    instances: tuple[httpx.AsyncClient, httpx.AsyncClient, Instance],
) -> None:
    writer, reader, b = instances
    before = await reader.get(PATH)
    lost = b.services.data_version.connection
    assert lost is not None
    await lost.close()
    assert not b.services.data_version.live

    await report(writer, "1.1.1", "children", "2025-Q1", "on_track")
    at_once = await reader.get(PATH, headers={"If-None-Match": before.headers["etag"]})
    assert at_once.headers["etag"] != before.headers["etag"]
    assert _on_track(at_once) == 1

    await _until(lambda: b.services.data_version.live and b.services.data_version.connection is not lost)
    await report(writer, "1.1.1", "children", "2025-Q1", "delayed")
    again = await _changed(reader, at_once.headers["etag"])
    assert _on_track(again) == 0
