"""Prometheus metrics at /metrics: requests by route template and status, latency, submissions, pool."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import httpx

from apps import http_client, running
from sheets import REPORT_KEYS, VALUE_KEYS, indicator, report_row, upload, value_row, workbook
from wlbtrack.config import Settings

if TYPE_CHECKING:
    from conftest import MakeClient


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in the exposition text, 0 when absent."""
    for line in text.splitlines():
        match = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if match is None or match[1] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match[2] or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match[3])
    return 0.0


async def test_requests_are_counted_by_route_template_and_status(
    viewer: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    route = "/api/v1/campaigns/{code}"
    before = (await client.get("/metrics")).text
    assert (await viewer.get("/api/v1/campaigns/1")).status_code == 200
    assert (await viewer.get("/api/v1/campaigns/2")).status_code == 200
    assert (await viewer.get("/api/v1/campaigns/9")).status_code == 404
    assert (await client.get("/api/v1/campaigns/1")).status_code == 401
    assert (await client.get("/nowhere/123")).status_code == 404

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text

    def delta(name: str, **labels: str) -> float:
        return _sample(after, name, **labels) - _sample(before, name, **labels)

    counter = "wlbtrack_http_requests_total"
    assert delta(counter, method="GET", route=route, status="200") == 2
    assert delta(counter, method="GET", route=route, status="404") == 1
    assert delta(counter, method="GET", route=route, status="401") == 1
    assert delta(counter, method="GET", route="unmatched", status="404") == 1
    assert "/api/v1/campaigns/1" not in after
    assert "/nowhere/123" not in after
    assert delta("wlbtrack_http_request_duration_seconds_count", method="GET", route=route) == 4
    assert _sample(after, "wlbtrack_http_request_duration_seconds_bucket", route=route, le="+Inf") >= 4


async def test_pool_gauges_describe_the_database_pool(client: httpx.AsyncClient) -> None:
    text = (await client.get("/metrics")).text
    assert _sample(text, "wlbtrack_db_pool_size") >= 1
    assert _sample(text, "wlbtrack_db_pool_connections", state="idle") >= 1
    assert 'wlbtrack_db_pool_connections{state="in_use"}' in text


async def test_submissions_are_counted_by_department_and_kind(
    client: httpx.AsyncClient, make_client: MakeClient
) -> None:
    name = "wlbtrack_submissions_total"
    children = await make_client("department", department="children")
    created = await children.post(
        "/api/v1/guidelines/1.3.1/indicators", json={"name": "定員", "unit": "人", "baseline": 0, "target": 9}
    )
    assert created.status_code == 201, created.text
    before = (await client.get("/metrics")).text
    report = {"period": "2025-Q2", "status": "on_track", "summary": "順調"}
    replayed = {"Idempotency-Key": "metrics-report-1"}
    assert (
        await children.post("/api/v1/guidelines/1.3.1/reports", json=report, headers=replayed)
    ).status_code == 201
    assert (
        await children.post("/api/v1/guidelines/1.3.1/reports", json=report, headers=replayed)
    ).status_code == 201
    batch = {
        "period": "2025-Q2",
        "reports": [
            {"guideline": "1.1.1", "status": "at_risk", "summary": "遅れ"},
            {"guideline": "1.3.1", "status": "delayed", "summary": "遅延"},
        ],
        "values": [{"indicator": created.json()["id"], "value": 3}],
    }
    assert (await children.post("/api/v1/submissions", json=batch)).status_code == 201
    refused = {"period": "2025-Q2", "status": "on_track", "summary": "他部の目安"}
    assert (await children.post("/api/v1/guidelines/3.1.1/reports", json=refused)).status_code == 403
    after = (await client.get("/metrics")).text
    # the single report (its replay stored nothing), then the batch: itself, its two reports and its value
    for kind, count in (("report", 3), ("batch", 1), ("value", 1)):
        labels = {"department": "children", "kind": kind}
        assert _sample(after, name, **labels) - _sample(before, name, **labels) == count, kind
    other = {"department": "industrial-policy", "kind": "report"}
    assert _sample(after, name, **other) == _sample(before, name, **other)


async def test_the_exposition_names_its_charset_once(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers.get_list("content-type") == ["text/plain; version=1.0.0; charset=utf-8"]


async def test_metrics_token_protects_the_endpoint(settings: Settings) -> None:
    secret = "metrics-secret-4f1c"
    async with running(settings, metrics_token=secret) as application:
        async with http_client(application) as anonymous:
            response = await anonymous.get("/metrics")
            assert response.status_code == 401
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["detail"].startswith("Authorization")
        async with http_client(application, token="wrong") as wrong:
            assert (await wrong.get("/metrics")).status_code == 401
        async with http_client(application, token=secret) as scraper:
            response = await scraper.get("/metrics")
            assert response.status_code == 200
            assert "wlbtrack_http_requests_total" in response.text


async def test_metrics_can_be_turned_off(settings: Settings) -> None:
    async with running(settings, metrics=False) as application, http_client(application) as http:
        assert (await http.get("/metrics")).status_code == 404
        assert (await http.get("/health")).status_code == 200


async def test_imports_are_counted_like_batches(client: httpx.AsyncClient, make_client: MakeClient) -> None:
    name = "wlbtrack_submissions_total"
    children = await make_client("department", department="children")
    admin = await make_client("admin")
    first = await indicator(admin, "children", "1.1.1")
    rows = [
        REPORT_KEYS,
        report_row("1.1.1", "順調", "開設しました", period="2025-Q2"),
        report_row("1.3.1", "遅延", "遅れています", period="2025-Q2"),
    ]
    book = workbook({"reports": rows, "values": [VALUE_KEYS, value_row(first, 5, period="2025-Q2")]})

    def delta(after: str, before: str, kind: str) -> float:
        labels = {"department": "children", "kind": kind}
        return _sample(after, name, **labels) - _sample(before, name, **labels)

    before = (await client.get("/metrics")).text
    assert (await upload(children, book, dry_run=True)).status_code == 200
    after_dry_run = (await client.get("/metrics")).text
    assert all(delta(after_dry_run, before, kind) == 0 for kind in ("import", "report", "value"))
    assert (await upload(children, book)).status_code == 201
    after = (await client.get("/metrics")).text
    # the upload once, and each report and value it wrote, as for a batch
    for kind, count in (("import", 1), ("report", 2), ("value", 1)):
        assert delta(after, before, kind) == count, kind
    assert (await upload(children, book)).status_code == 201  # unchanged: nothing written, nothing counted
    again = (await client.get("/metrics")).text
    assert all(delta(again, after, kind) == 0 for kind in ("import", "report", "value"))
