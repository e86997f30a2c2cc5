"""Racing writers: every post succeeds as a distinct consecutive revision, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from conftest import MakeClient

RACERS = 12
PERIOD = "2025-Q2"


async def test_racing_report_posts_get_consecutive_revisions(make_client: MakeClient) -> None:
    clients = [
        await make_client("department", department="children", label=f"clerk-{n}") for n in range(RACERS)
    ]
    responses = await asyncio.gather(
        *(
            client.post(
                "/api/v1/guidelines/1.1.1/reports",
                json={"period": PERIOD, "status": "on_track", "summary": f"報告 {n}"},
            )
            for n, client in enumerate(clients)
        )
    )
    assert [r.status_code for r in responses] == [201] * RACERS, [
        r.text for r in responses if r.status_code != 201
    ]
    assert sorted(r.json()["revision"] for r in responses) == list(range(1, RACERS + 1))

    history = (
        await clients[0].get("/api/v1/guidelines/1.1.1/reports/history", params={"period": PERIOD})
    ).json()
    assert [item["revision"] for item in history["items"]] == list(range(1, RACERS + 1))
    by_revision = {r.json()["revision"]: r.json() for r in responses}
    assert all(item == by_revision[item["revision"]] for item in history["items"])
    current = (await clients[0].get("/api/v1/guidelines/1.1.1/reports", params={"period": PERIOD})).json()
    assert current["items"] == [by_revision[RACERS]]


async def test_racing_value_posts_and_batches_interleave_without_loss(
    make_client: MakeClient, admin: httpx.AsyncClient
) -> None:
    created = await admin.post(
        "/api/v1/guidelines/1.3.1/indicators", json={"name": "件数", "unit": "件", "baseline": 0, "target": 9}
    )
    indicator = created.json()["id"]
    children = await make_client("department", department="children")
    single = [
        children.post(f"/api/v1/indicators/{indicator}/values", json={"period": PERIOD, "value": n})
        for n in range(RACERS // 2)
    ]
    batches = [
        children.post(
            "/api/v1/submissions",
            json={
                "period": PERIOD,
                "reports": [{"guideline": "1.3.1", "status": "on_track", "summary": f"一括 {n}"}],
                "values": [{"indicator": indicator, "value": 100 + n}],
            },
        )
        for n in range(RACERS // 2)
    ]
    responses = await asyncio.gather(*single, *batches)
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses if r.status_code != 201]
    values = (await admin.get(f"/api/v1/indicators/{indicator}/values/history")).json()
    assert [v["revision"] for v in values["items"]] == list(range(1, RACERS + 1))
    reports = (await admin.get("/api/v1/guidelines/1.3.1/reports/history")).json()
    assert [r["revision"] for r in reports["items"]] == list(range(1, RACERS // 2 + 1))


async def test_racing_indicator_patches_get_consecutive_revisions(admin: httpx.AsyncClient) -> None:
    created = await admin.post(
        "/api/v1/guidelines/1.3.1/indicators", json={"name": "件数", "unit": "件", "baseline": 0, "target": 9}
    )
    url = f"/api/v1/indicators/{created.json()['id']}"
    responses = await asyncio.gather(*(admin.patch(url, json={"target": 10 + n}) for n in range(RACERS)))
    assert all(r.status_code == 200 for r in responses)
    assert sorted(r.json()["revision"] for r in responses) == list(range(2, RACERS + 2))
    history = (await admin.get(f"{url}/history")).json()
    assert [h["revision"] for h in history["items"]] == list(range(1, RACERS + 2))
    final = (await admin.get(url)).json()
    assert final["revision"] == RACERS + 1
    assert final["target"] == history["items"][-1]["target"]


async def test_racing_retries_with_one_idempotency_key_write_once(admin: httpx.AsyncClient) -> None:
    body = {"period": PERIOD, "status": "completed", "summary": "一度だけ"}
    responses = await asyncio.gather(
        *(
            admin.post("/api/v1/guidelines/1.3.1/reports", json=body, headers={"Idempotency-Key": "once"})
            for _ in range(RACERS)
        )
    )
    assert [r.status_code for r in responses] == [201] * RACERS
    assert all(r.json() == responses[0].json() for r in responses)
    history = (await admin.get("/api/v1/guidelines/1.3.1/reports/history")).json()
    assert history["total"] == 1
