"""`wlbtrack serve` as a real process: graceful SIGTERM, JSON logs on stderr, several workers."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from apps import free_port, prepare_database, server_process, wait_until_serving
from wlbtrack.config import Settings
from wlbtrack.db import Database

SUMMARY = "SIGTERM の最中に届いた報告"


def _sqlite_settings(settings: Settings, folder: Path) -> Settings:
    return dataclasses.replace(settings, database_url=f"sqlite+aiosqlite:///{folder / 'wlbtrack.db'}")


async def _start_post(
    port: int, token: str, body: bytes
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Send a report's headers with Expect: 100-continue and wait until the application asks for the body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            "POST /api/v1/guidelines/1.1.1/reports HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Expect: 100-continue\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 100 Continue")
    return reader, writer


async def _finish_post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, body: bytes) -> int:
    """Send the body and return the response status."""
    writer.write(body)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    writer.close()
    return int(head.split(b" ", 2)[1])


async def _stored_revisions(settings: Settings) -> list[int]:
    database = Database(settings)
    try:
        async with database.read_sessions() as session:
            rows = await session.execute(text("SELECT revision FROM report_revision ORDER BY revision"))
            return [row[0] for row in rows]
    finally:
        await database.dispose()


async def _announced_port(log: Path, process: subprocess.Popen[bytes]) -> int:
    """The port uvicorn says it listens on, from its startup line in the log."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited while starting"
        text = await asyncio.to_thread(log.read_text, encoding="utf-8")
        found = re.search(r"running on http://127\.0\.0\.1:(\d+)", text)
        if found:
            return int(found[1])
        await asyncio.sleep(0.1)
    raise AssertionError("the server did not say where it listens")


def _log_entries(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


async def test_sigterm_lets_in_flight_writes_finish_and_loses_none(
    settings: Settings, tmp_path: Path
) -> None:
    local = _sqlite_settings(settings, tmp_path)
    token = await prepare_database(local, role="department", department="children")
    port, log = free_port(), tmp_path / "stderr.log"
    body = json.dumps({"period": "2025-Q3", "status": "on_track", "summary": SUMMARY}).encode()
    with server_process(local.database_url, port, log) as process:
        await wait_until_serving(port, process)
        in_flight = [await _start_post(port, token, body) for _ in range(3)]

        process.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.5)  # the server is shutting down while the bodies are still on their way
        assert process.poll() is None, "the server quit with requests in flight"
        statuses = [await _finish_post(reader, writer, body) for reader, writer in in_flight]
        # uvicorn re-raises SIGTERM once it has shut down cleanly
        assert await asyncio.to_thread(process.wait, 15) in (0, -signal.SIGTERM)

    assert statuses == [201, 201, 201]
    assert await _stored_revisions(local) == [1, 2, 3]

    entries = _log_entries(log)  # every stderr line is a JSON object
    access = [e for e in entries if e["logger"] == "wlbtrack.access"]
    posts = [e for e in access if e["method"] == "POST"]
    assert [(e["route"], e["status"], e["token"]) for e in posts] == [
        ("/api/v1/guidelines/{code}/reports", 201, "department-script")
    ] * 3
    assert all(len(e["request_id"]) == 32 for e in posts)
    assert any("shutdown" in e["message"].lower() for e in entries if e["logger"].startswith("uvicorn"))
    raw = log.read_text(encoding="utf-8")
    assert token not in raw
    assert SUMMARY not in raw
    assert "bearer" not in raw.lower()


async def test_several_workers_share_metrics_and_warn_without_redis(
    settings: Settings, tmp_path: Path
) -> None:
    local = _sqlite_settings(settings, tmp_path)
    await prepare_database(local)
    port, log = free_port(), tmp_path / "stderr.log"
    with server_process(local.database_url, port, log, "--workers", "2", WLBTRACK_REDIS_URL="") as process:
        await wait_until_serving(port, process)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(20):
                # a new connection each time, so both workers serve some
                assert (await http.get("/health", headers={"Connection": "close"})).status_code == 200
            scrapes = [(await http.get("/metrics", headers={"Connection": "close"})).text for _ in range(4)]
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 15) in (0, -signal.SIGTERM)

    line = 'wlbtrack_http_requests_total{method="GET",route="/health",status="200"} 20.0'
    assert all(line in scrape for scrape in scrapes)  # whichever worker answered, it counted all of them
    warnings = [e for e in _log_entries(log) if e["level"] == "warning" and e["logger"] == "wlbtrack.serve"]
    assert len(warnings) == 1
    assert "WLBTRACK_REDIS_URL" in warnings[0]["message"]


async def test_port_0_asks_the_system_for_a_free_port(settings: Settings, tmp_path: Path) -> None:
    local = _sqlite_settings(settings, tmp_path)
    await prepare_database(local)
    configured, log = free_port(), tmp_path / "stderr.log"  # WLBTRACK_PORT, which --port 0 must not mean
    with server_process(local.database_url, 0, log, WLBTRACK_PORT=str(configured)) as process:
        port = await _announced_port(log, process)
        assert port not in (0, configured)
        await wait_until_serving(port, process)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 15) in (0, -signal.SIGTERM)


def test_serve_rejects_options_it_cannot_use(settings: Settings, tmp_path: Path) -> None:
    for option, value in (("--port", "65536"), ("--port", "-1"), ("--workers", "0"), ("--host", " ")):
        result = subprocess.run(
            [sys.executable, "-m", "wlbtrack", "serve", "--no-migrate", option, value],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=tmp_path,
        )
        assert result.returncode == 2, (option, value, result.stderr)
        assert f"Invalid value for '{option}'" in result.stderr
