"""Tokens: the CLI and the admin API create, list and revoke them; only active tokens authenticate."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import TYPE_CHECKING

import httpx
import pytest

from apps import http_client, running
from wlbtrack.config import Settings

if TYPE_CHECKING:
    from conftest import MakeClient, MakeToken


def wlbtrack(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI against this run's test database."""
    return subprocess.run(
        [sys.executable, "-m", "wlbtrack", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
        check=False,
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_cli_creates_a_token_printed_alone_on_stdout(client: httpx.AsyncClient) -> None:
    result = wlbtrack(
        "token", "create", "--role", "department", "--department", "children", "--name", "子ども部"
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert result.stdout == token + "\n"
    assert len(token) >= 32

    response = await client.get("/api/v1/campaigns", headers=bearer(token))
    assert response.status_code == 200
    write = await client.post(
        "/api/v1/guidelines/1.3.1/reports",
        headers=bearer(token),
        json={"period": "2025-Q1", "status": "on_track", "summary": "CLI token"},
    )
    assert write.status_code == 201
    assert write.json()["created_by"] == "子ども部"


async def test_cli_lists_and_revokes_tokens(client: httpx.AsyncClient) -> None:
    token = wlbtrack("token", "create", "--role", "viewer", "--name", "bi-tool").stdout.strip()
    listing = wlbtrack("token", "list")
    assert listing.returncode == 0, listing.stderr
    assert token not in listing.stdout
    line = next(line for line in listing.stdout.splitlines() if "\tbi-tool\t" in line)
    token_id = line.split("\t")[0]
    assert line.endswith("\tactive")

    revoked = wlbtrack("token", "revoke", token_id)
    assert revoked.returncode == 0, revoked.stderr
    assert (await client.get("/api/v1/campaigns", headers=bearer(token))).status_code == 401
    again = next(line for line in wlbtrack("token", "list").stdout.splitlines() if "\tbi-tool\t" in line)
    assert not again.endswith("\tactive")


@pytest.mark.parametrize(
    "args",
    [
        ("token", "create", "--role", "department"),
        ("token", "create", "--role", "department", "--department", "nowhere"),
        ("token", "create", "--role", "overlord"),
        ("token", "create", "--role", "viewer", "--name", "   "),
        ("token", "revoke", "2147483647"),
        ("token", "revoke", "99999999999"),
    ],
)
def test_cli_rejects_bad_token_requests(args: tuple[str, ...]) -> None:
    result = wlbtrack(*args)
    assert result.returncode != 0
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


async def test_tokens_are_stored_only_as_hashes(admin: httpx.AsyncClient, settings: object) -> None:
    from sqlalchemy import text

    from wlbtrack.config import Settings
    from wlbtrack.db import Database

    created = (await admin.post("/api/v1/tokens", json={"role": "viewer", "label": "hash-check"})).json()
    assert isinstance(settings, Settings)
    database = Database(settings)
    try:
        async with database.read_sessions() as session:
            rows = (await session.execute(text("SELECT * FROM api_token"))).all()
    finally:
        await database.dispose()
    assert rows
    assert all(created["token"] not in [str(value) for value in row] for row in rows)


async def test_admin_manages_tokens_over_http(admin: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    response = await admin.post(
        "/api/v1/tokens", json={"role": "department", "department": "health-center", "label": "保健所"}
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["role"] == "department"
    assert created["department"] == "health-center"
    assert created["label"] == "保健所"
    token = created["token"]
    assert (await client.get("/api/v1/periods", headers=bearer(token))).status_code == 200

    listed = (await admin.get("/api/v1/tokens")).json()
    entry = next(item for item in listed["items"] if item["id"] == created["id"])
    assert entry["revoked_at"] is None
    assert "token" not in entry
    assert token not in str(listed)

    assert (await admin.delete(f"/api/v1/tokens/{created['id']}")).status_code == 204
    assert (await client.get("/api/v1/periods", headers=bearer(token))).status_code == 401
    entry = next(
        item for item in (await admin.get("/api/v1/tokens")).json()["items"] if item["id"] == created["id"]
    )
    assert entry["revoked_at"] is not None
    assert (await admin.delete(f"/api/v1/tokens/{created['id']}")).status_code == 204


@pytest.mark.parametrize("token_id", ["999999", "2147483648", "99999999999999999999"])
async def test_revoking_an_unknown_token_is_404(admin: httpx.AsyncClient, token_id: str) -> None:
    response = await admin.delete(f"/api/v1/tokens/{token_id}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "department"}, "department"),
        ({"role": "department", "department": "nowhere"}, "department"),
        ({"role": "root"}, "role"),
        ({"role": "viewer", "label": ""}, "label"),
        ({"role": "viewer", "token_hash": "x"}, "token_hash"),
    ],
)
async def test_bad_token_requests_name_the_field(
    admin: httpx.AsyncClient, body: dict[str, str], field: str
) -> None:
    before = (await admin.get("/api/v1/tokens")).json()["total"]
    response = await admin.post("/api/v1/tokens", json=body)
    assert 400 <= response.status_code < 500
    assert field in response.json()["detail"]
    assert (await admin.get("/api/v1/tokens")).json()["total"] == before


@pytest.mark.parametrize("role", ["department", "viewer"])
async def test_only_admins_manage_tokens(make_client: MakeClient, role: str) -> None:
    caller = await make_client(role, department="children" if role == "department" else None)
    assert (await caller.get("/api/v1/tokens")).status_code == 403
    assert (await caller.post("/api/v1/tokens", json={"role": "admin"})).status_code == 403
    assert (await caller.delete("/api/v1/tokens/1")).status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wlb_unknown"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer "},
    ],
)
async def test_missing_or_unknown_token_is_401(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    for path in (
        "/api/v1/periods",
        "/api/v1/indicators",
        "/api/v1/tokens",
        "/api/v1/guidelines/1.1.1/reports",
    ):
        response = await client.get(path, headers=headers)
        assert response.status_code == 401, path
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_health_and_schema_need_no_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).status_code == 200
    assert (await client.get("/ready")).status_code == 200
    assert (await client.get("/schema/openapi.json")).status_code == 200


async def test_options_on_admin_routes_lists_methods_without_error(viewer: httpx.AsyncClient) -> None:
    expected = {"/api/v1/tokens": "POST", "/api/v1/tokens/1": "DELETE", "/api/v1/submissions": "POST"}
    for path, method in expected.items():
        response = await viewer.options(path)
        assert response.status_code == 204, path
        assert method in response.headers["allow"]


async def test_cached_token_is_refused_as_soon_as_it_is_revoked_here(
    settings: Settings, make_token: MakeToken
) -> None:
    admin_token, viewer_token = await make_token("admin"), await make_token("viewer", label="cached")
    async with (
        running(settings, token_cache_ttl=300) as application,
        http_client(application, admin_token) as admin,
        http_client(application, viewer_token) as viewer,
    ):
        assert (await viewer.get("/api/v1/campaigns")).status_code == 200
        listed = (await admin.get("/api/v1/tokens")).json()["items"]
        token_id = next(t["id"] for t in listed if t["label"] == "cached")
        assert (await admin.delete(f"/api/v1/tokens/{token_id}")).status_code == 204
        assert (await viewer.get("/api/v1/campaigns")).status_code == 401


async def test_concurrent_requests_with_an_uncached_token_look_it_up_once(
    settings: Settings, make_token: MakeToken
) -> None:
    from sqlalchemy import event

    token = await make_token("viewer", label="burst")
    async with (
        running(settings, token_cache_ttl=300) as application,
        http_client(application, token) as viewer,
    ):
        engine = application.services.database.engine.sync_engine
        lookups: list[str] = []

        def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
            if "api_token" in statement:
                lookups.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            responses = await asyncio.gather(*(viewer.get("/api/v1/campaigns") for _ in range(20)))
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert [r.status_code for r in responses] == [200] * 20
    assert len(lookups) == 1
