"""Idempotency-Key: a retried POST returns the original response and writes nothing more."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import httpx
import pytest

from apps import Instance, http_client, running
from wlbtrack.config import Settings

if TYPE_CHECKING:
    from conftest import MakeClient

PERIOD = "2025-Q1"
REPORT = {"period": PERIOD, "status": "on_track", "summary": "一回だけ"}
URL = "/api/v1/guidelines/1.3.1/reports"


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


async def revisions(client: httpx.AsyncClient) -> int:
    total: int = (await client.get(f"{URL}/history")).json()["total"]
    return total


async def test_same_key_same_body_replays_the_original_response(admin: httpx.AsyncClient) -> None:
    first = await admin.post(URL, json=REPORT, headers=key("report-1"))
    assert first.status_code == 201
    replay = await admin.post(URL, json=REPORT, headers=key("report-1"))
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert await revisions(admin) == 1
    fresh = await admin.post(URL, json=REPORT, headers=key("report-2"))
    assert fresh.json()["revision"] == 2


async def test_same_key_with_a_different_body_is_422(admin: httpx.AsyncClient) -> None:
    await admin.post(URL, json=REPORT, headers=key("k"))
    response = await admin.post(URL, json={**REPORT, "summary": "別の内容"}, headers=key("k"))
    assert response.status_code == 422
    assert response.json()["field"] == "Idempotency-Key"
    elsewhere = await admin.post("/api/v1/guidelines/1.2.3/reports", json=REPORT, headers=key("k"))
    assert elsewhere.status_code == 422
    assert await revisions(admin) == 1
    assert (await admin.get("/api/v1/guidelines/1.2.3/reports/history")).json()["total"] == 0


async def test_reordered_json_is_the_same_body(admin: httpx.AsyncClient) -> None:
    await admin.post(URL, content=b'{"period":"2025-Q1","status":"on_track","summary":"x"}', headers=key("o"))
    replay = await admin.post(
        URL, content=b'{ "summary": "x", "status": "on_track", "period": "2025-Q1" }', headers=key("o")
    )
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert await revisions(admin) == 1


async def test_keys_belong_to_a_token(make_client: MakeClient) -> None:
    one = await make_client("admin", label="one")
    two = await make_client("admin", label="two")
    assert (await one.post(URL, json=REPORT, headers=key("shared"))).json()["revision"] == 1
    second = await two.post(URL, json=REPORT, headers=key("shared"))
    assert second.json()["revision"] == 2
    assert second.json()["created_by"] == "two"


async def test_a_failed_request_does_not_use_up_its_key(admin: httpx.AsyncClient) -> None:
    failed = await admin.post(URL, json={**REPORT, "period": "2099-Q1"}, headers=key("retry"))
    assert failed.status_code == 422
    await admin.post("/api/v1/periods/2025-Q1/close")
    closed = await admin.post(URL, json=REPORT, headers=key("retry"))
    assert closed.status_code == 409
    await admin.post("/api/v1/periods/2025-Q1/reopen")
    assert (await admin.post(URL, json=REPORT, headers=key("retry"))).status_code == 201
    assert await revisions(admin) == 1


async def test_replay_holds_after_the_state_changed(admin: httpx.AsyncClient) -> None:
    first = await admin.post(URL, json=REPORT, headers=key("before-close"))
    await admin.post("/api/v1/periods/2025-Q1/close")
    replay = await admin.post(URL, json=REPORT, headers=key("before-close"))
    assert replay.status_code == 201
    assert replay.json() == first.json()


@pytest.fixture
async def second_worker(settings: Settings) -> AsyncIterator[Instance]:
    """Another application instance on the same database, as another worker or a restart would be."""
    async with running(settings) as instance:
        yield instance


async def test_keys_hold_across_workers(admin: httpx.AsyncClient, second_worker: Instance) -> None:
    first = await admin.post(URL, json=REPORT, headers=key("across"))
    async with http_client(second_worker) as other:
        other.headers["Authorization"] = admin.headers["Authorization"]
        replay = await other.post(URL, json=REPORT, headers=key("across"))
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert await revisions(admin) == 1


async def test_every_post_honours_the_key(admin: httpx.AsyncClient) -> None:
    indicator = await admin.post(
        "/api/v1/guidelines/1.3.1/indicators",
        json={"name": "件数", "unit": "件", "baseline": 0, "target": 5},
        headers=key("indicator"),
    )
    again = await admin.post(
        "/api/v1/guidelines/1.3.1/indicators",
        json={"name": "件数", "unit": "件", "baseline": 0, "target": 5},
        headers=key("indicator"),
    )
    assert again.json() == indicator.json()
    assert (await admin.get("/api/v1/indicators")).json()["total"] == 1

    values_url = f"/api/v1/indicators/{indicator.json()['id']}/values"
    value = await admin.post(values_url, json={"period": PERIOD, "value": 1}, headers=key("value"))
    assert (
        await admin.post(values_url, json={"period": PERIOD, "value": 1}, headers=key("value"))
    ).json() == value.json()
    assert (await admin.get(f"{values_url}/history")).json()["total"] == 1

    batch = {
        "period": PERIOD,
        "department": "children",
        "reports": [{"guideline": "1.3.1", "status": "delayed", "summary": "遅延"}],
    }
    stored = await admin.post("/api/v1/submissions", json=batch, headers=key("batch"))
    assert stored.status_code == 201
    replay = await admin.post("/api/v1/submissions", json=batch, headers=key("batch"))
    assert replay.status_code == 201
    assert replay.json() == stored.json()
    assert await revisions(admin) == 1

    closed = await admin.post("/api/v1/periods/2024-Q4/close", headers=key("close"))
    await admin.post("/api/v1/periods/2024-Q4/reopen")
    assert (await admin.post("/api/v1/periods/2024-Q4/close", headers=key("close"))).json() == closed.json()
    assert (await admin.get("/api/v1/periods/2024-Q4")).json()["state"] == "open"


async def test_token_creation_replay_creates_no_second_token_and_hides_the_secret(
    admin: httpx.AsyncClient,
) -> None:
    before = (await admin.get("/api/v1/tokens")).json()["total"]
    body = {"role": "viewer", "label": "bi"}
    created = await admin.post("/api/v1/tokens", json=body, headers=key("token"))
    assert created.json()["token"]
    replay = await admin.post("/api/v1/tokens", json=body, headers=key("token"))
    assert replay.status_code == 201
    assert replay.json() == {**created.json(), "token": None}
    assert (await admin.get("/api/v1/tokens")).json()["total"] == before + 1


@pytest.mark.parametrize("value", ["", "k" * 256])
async def test_bad_keys_are_400(admin: httpx.AsyncClient, value: str) -> None:
    response = await admin.post(URL, json=REPORT, headers=key(value))
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]
    assert await revisions(admin) == 0
