"""ETag and If-None-Match on progress and export responses: 304 while unchanged, a new tag after a write."""

from __future__ import annotations

import httpx
import pytest

from test_progress import indicator, report, value

PATHS = [
    "/api/v1/progress?period=2025-Q1",
    "/api/v1/progress/campaigns/1?period=2025-Q1",
    "/api/v1/progress/departments?period=2025-Q1",
    "/api/v1/progress/series?from=2025-Q1&to=2025-Q4",
    "/api/v1/export/values",
    "/api/v1/export/reports",
    "/api/v1/export/values?format=csv",
    "/api/v1/export/reports?format=csv",
]


@pytest.mark.parametrize("path", PATHS)
async def test_not_modified_until_a_write(
    admin: httpx.AsyncClient, viewer: httpx.AsyncClient, path: str
) -> None:
    indicator_id = await indicator(admin, "1.1.1", "children", 0, 10)
    first = await viewer.get(path)
    assert first.status_code == 200, first.text
    tag = first.headers["etag"]
    assert tag[0] == tag[-1] == '"'

    again = await viewer.get(path, headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    weak = await viewer.get(path, headers={"If-None-Match": f'"other", W/{tag}'})
    assert weak.status_code == 304

    await report(admin, "1.1.1", "children", "2025-Q1", "on_track")
    await value(admin, indicator_id, "2025-Q1", 5)
    changed = await viewer.get(path, headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag
    assert changed.content != first.content


async def test_a_value_write_changes_the_tag(admin: httpx.AsyncClient, viewer: httpx.AsyncClient) -> None:
    indicator_id = await indicator(admin, "1.1.1", "children", 0, 10)
    await value(admin, indicator_id, "2025-Q1", 5)
    first = await viewer.get("/api/v1/progress/campaigns/1", params={"period": "2025-Q2"})
    tag = first.headers["etag"]
    await value(admin, indicator_id, "2025-Q1", 10)
    second = await viewer.get(
        "/api/v1/progress/campaigns/1", params={"period": "2025-Q2"}, headers={"If-None-Match": tag}
    )
    assert second.status_code == 200
    assert second.json()["progress"] == 1.0
    assert first.json()["progress"] == 0.5


async def test_tags_differ_between_requests(viewer: httpx.AsyncClient) -> None:
    tags = {(await viewer.get(path)).headers["etag"] for path in PATHS}
    assert len(tags) == len(PATHS)
    q1 = await viewer.get("/api/v1/progress", params={"period": "2025-Q1"})
    q2 = await viewer.get(
        "/api/v1/progress", params={"period": "2025-Q2"}, headers={"If-None-Match": q1.headers["etag"]}
    )
    assert q2.status_code == 200
