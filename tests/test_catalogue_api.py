"""The catalogue read API serves the seed document's catalogue."""

from __future__ import annotations

import httpx


async def test_campaigns_list(viewer: httpx.AsyncClient) -> None:
    response = await viewer.get("/api/v1/campaigns")
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3
    assert [c["code"] for c in body["items"]] == ["1", "2", "3"]
    first = body["items"][0]
    assert first["name"] == "家族のふれあいいっぱい大作戦"
    assert [d["code"] for d in first["directions"]] == ["1.1", "1.2", "1.3"]
