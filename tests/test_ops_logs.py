"""Access logs are JSON lines with the request's facts, and never contain tokens, headers or report text."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from apps import captured_logs

if TYPE_CHECKING:
    from conftest import MakeToken

SECRET_SUMMARY = "極秘の本文 SENTINEL-REPORT-TEXT"
SECRET_NOTE = "SENTINEL-NOTE-TEXT"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything logged at INFO and above while the test runs, formatted as the service formats it."""
    with captured_logs() as stream:
        yield stream


def _access_entries(stream: io.StringIO) -> list[dict[str, object]]:
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [e for e in entries if e["logger"] == "wlbtrack.access"]


async def test_access_log_lines_are_json_with_the_request_facts(
    client: httpx.AsyncClient, make_token: MakeToken, log_lines: io.StringIO
) -> None:
    token = await make_token("department", department="children", label="children-script")
    auth = {"Authorization": f"Bearer {token}"}
    created = await client.post(
        "/api/v1/guidelines/1.1.1/reports",
        json={"period": "2025-Q1", "status": "on_track", "summary": SECRET_SUMMARY},
        headers={**auth, "X-Request-ID": "batch-2025q1-001"},
    )
    assert created.status_code == 201
    missing = await client.get("/api/v1/campaigns/9", headers=auth)
    assert missing.status_code == 404

    entries = _access_entries(log_lines)
    assert len(entries) == 2
    first, second = entries
    assert first["request_id"] == "batch-2025q1-001"
    assert first["token"] == "children-script"
    assert first["method"] == "POST"
    assert first["route"] == "/api/v1/guidelines/{code}/reports"
    assert first["status"] == 201
    assert isinstance(first["duration_ms"], float)
    assert first["level"] == "info"
    assert second["request_id"] == missing.headers["x-request-id"]
    assert (second["method"], second["route"], second["status"]) == ("GET", "/api/v1/campaigns/{code}", 404)


async def test_no_token_header_or_report_text_reaches_the_log(
    client: httpx.AsyncClient, make_token: MakeToken, log_lines: io.StringIO
) -> None:
    token = await make_token("department", department="children")
    auth = {"Authorization": f"Bearer {token}"}
    unknown = {"Authorization": "Bearer wlb_" + "x" * 43}
    report = {"period": "2025-Q1", "status": "on_track", "summary": SECRET_SUMMARY}
    value_with_note = {"period": "2025-Q1", "value": 1.0, "note": SECRET_NOTE}
    requests = [
        ("/api/v1/guidelines/1.1.1/reports", auth, report, 201),
        ("/api/v1/guidelines/1.1.1/reports", auth, {**report, "status": "sideways"}, 400),
        ("/api/v1/guidelines/1.1.1/reports", auth, {**report, "summary": SECRET_SUMMARY * 1000}, 400),
        ("/api/v1/guidelines/3.5.1/reports", auth, report, 403),
        ("/api/v1/guidelines/1.1.1/reports", unknown, report, 401),
        ("/api/v1/indicators/999999/values", auth, value_with_note, 404),
        ("/api/v1/submissions", auth, {"period": "2025-Q1", "reports": [{**report, "guideline": "x"}]}, 400),
    ]
    for path, headers, body, status in requests:
        response = await client.post(path, json=body, headers=headers)
        # 400 stands for any rejection of the input (400 or 422)
        assert response.status_code == status or (status == 400 and response.status_code == 422), path

    text = log_lines.getvalue()
    assert len(_access_entries(log_lines)) == len(requests)
    for secret in (token, unknown["Authorization"], SECRET_SUMMARY, "SENTINEL", "bearer", "authorization"):
        assert secret.lower() not in text.lower()


def test_access_lines_written_directly_are_the_lines_logging_would_write(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from types import SimpleNamespace

    from wlbtrack.lib.logs import JsonStreamHandler, access_logger, log_access
    from wlbtrack.lib.request_id import current_request_id

    class CountingHandler(JsonStreamHandler):
        records = 0

        def emit(self, record: logging.LogRecord) -> None:
            CountingHandler.records += 1
            super().emit(record)

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    root.handlers = [CountingHandler()]  # what `wlbtrack serve` configures: the direct path
    root.setLevel(logging.INFO)
    scope: Any = {"method": "GET", "path_template": "/api/v1/guidelines", "user": SimpleNamespace(label="bi")}
    context = current_request_id.set("req-1")
    try:
        log_access(scope, 200, 0.0042)
        access_logger.addFilter(lambda _record: True)  # any filter sends the line through a LogRecord
        try:
            log_access(scope, 200, 0.0042)
        finally:
            access_logger.filters.clear()
    finally:
        current_request_id.reset(context)
        root.handlers, _ = saved
        root.setLevel(saved[1])
    assert CountingHandler.records == 1  # the first line was written without a LogRecord
    direct, formatted = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert direct.pop("time")[:4] == formatted.pop("time")[:4]
    assert (
        direct
        == formatted
        == {
            "level": "info",
            "logger": "wlbtrack.access",
            "message": "GET /api/v1/guidelines 200",
            "request_id": "req-1",
            "token": "bi",
            "method": "GET",
            "route": "/api/v1/guidelines",
            "status": 200,
            "duration_ms": 4.2,
        }
    )


def test_a_closed_log_stream_does_not_fail_the_request_being_logged(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from wlbtrack.lib.logs import JsonStreamHandler

    handler = JsonStreamHandler()
    stream = io.StringIO()
    handler.setStream(stream)
    stream.close()
    handler.write_entry({"message": "GET /api/v1/guidelines 200"})  # must not raise
    assert "ValueError" in capsys.readouterr().err  # reported the way logging reports a failing handler
