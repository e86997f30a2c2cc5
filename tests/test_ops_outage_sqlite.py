"""A SQLite database that cannot be opened gives 503s, and the service recovers once it can be."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from apps import http_client, prepare_database, running
from wlbtrack.config import Settings


async def test_an_unopenable_database_gives_503_until_it_can_be_opened(
    settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "volume-not-mounted-yet"
    local = dataclasses.replace(settings, database_url=f"sqlite+aiosqlite:///{folder / 'wlbtrack.db'}")
    async with running(local) as application, http_client(application, "wlb_" + "a" * 43) as http:
        for path in ("/api/v1/campaigns", "/api/v1/guidelines/1.1.1/reports"):
            response = await http.get(path)
            assert response.status_code == 503
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["detail"].startswith("database:")
            assert response.headers["retry-after"] == "5"
        assert (await http.get("/ready")).status_code == 503
        assert (await http.get("/health")).status_code == 200

        folder.mkdir()
        token = await prepare_database(local)
        http.headers["Authorization"] = f"Bearer {token}"
        assert (await http.get("/ready")).status_code == 200
        response = await http.get("/api/v1/campaigns")
        assert response.status_code == 200
        assert response.json()["total"] == 3
