"""Hostile bytes and lenient numbers: invalid UTF-8 and non-ASCII digits are 4xx naming the input."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from problems import assert_problem, create_indicator

REPORT: dict[str, Any] = {"period": "2025-Q1", "status": "on_track", "summary": "順調"}
JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def indicator_id(admin: httpx.AsyncClient) -> int:
    return await create_indicator(admin)


BAD_UTF8 = [b'{"period": "2025-Q1", "status": "on_track", "summary": "\xff"}', b"\xff", b'{"\xc3": 1}']


@pytest.mark.parametrize("body", BAD_UTF8)
async def test_invalid_utf8_report_body_is_400(admin: httpx.AsyncClient, body: bytes) -> None:
    response = await admin.post("/api/v1/guidelines/1.3.1/reports", content=body, headers=JSON)
    assert_problem(response, "body", 400)
    assert (await admin.get("/api/v1/guidelines/1.3.1/reports/history")).json()["total"] == 0


async def test_invalid_utf8_everywhere_a_body_is_read(admin: httpx.AsyncClient, indicator_id: int) -> None:
    bad = b'{"name": "\xff\xfe"}'
    assert_problem(
        await admin.patch(f"/api/v1/indicators/{indicator_id}", content=bad, headers=JSON), "body", 400
    )
    assert_problem(
        await admin.post("/api/v1/tokens", content=b'{"role": "viewer", "label": "\xff"}', headers=JSON),
        "body",
        400,
    )
    batch = (
        b'{"reports": [{"guideline": "1.3.1", "period": "2025-Q1", "status": "on_track", "summary": "\xff"}]}'
    )
    assert_problem(await admin.post("/api/v1/submissions", content=batch, headers=JSON), "body", 400)
    value = b'{"period": "2025-Q1", "value": 1, "note": "\xed\xa0\x80"}'  # an encoded surrogate
    assert_problem(
        await admin.post(f"/api/v1/indicators/{indicator_id}/values", content=value, headers=JSON),
        "body",
        400,
    )


async def test_invalid_utf8_in_query_strings(admin: httpx.AsyncClient) -> None:
    for url in (
        "/api/v1/progress?period=%FF",
        "/api/v1/progress?campaign=%C3",
        "/api/v1/guidelines/1.3.1/reports?department=%FF%FE",
        "/api/v1/export/values?cursor=%FF",
        "/api/v1/indicators?x%FF=1",
    ):
        response = await admin.get(url)
        assert response.status_code == 400, (url, response.text)
        assert response.headers["content-type"].startswith("application/problem+json"), url
        assert "UTF-8" in response.json()["detail"]


async def test_invalid_utf8_in_headers(client: httpx.AsyncClient, admin: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/tokens", headers=[(b"Authorization", b"Bearer \xff\xfe")])
    assert response.status_code == 401, response.text
    key = [(b"Idempotency-Key", b"k\xff"), (b"Content-Type", b"application/json")]
    response = await admin.post("/api/v1/guidelines/1.3.1/reports", json=REPORT, headers=key)
    assert_problem(response, "Idempotency-Key", 400)
    response = await admin.get("/api/v1/progress", headers=[(b"If-None-Match", b'"\xff"')])
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "number", ["%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%95", "+2025", "%202025", "2_025", "2025.0"]
)
async def test_integer_query_parameters_are_ascii_digits(admin: httpx.AsyncClient, number: str) -> None:
    assert_problem(await admin.get(f"/api/v1/periods?fiscal_year={number}"), "fiscal_year", 400)
    assert (await admin.get("/api/v1/periods?fiscal_year=2025")).status_code == 200


@pytest.mark.parametrize("filename", [b"\xff\xfe.csv", b"a\x00b.csv", b"\xe5\x9b\xbd\x1b[31m.csv"])
async def test_upload_filenames_that_are_not_text(admin: httpx.AsyncClient, filename: bytes) -> None:
    boundary = b"xxBOUNDARYxx"
    body = (
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
        b"Content-Type: text/csv\r\n\r\n"
        b"not,a,template\r\n"
        b"--" + boundary + b"--\r\n"
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary.decode()}"}
    response = await admin.post("/api/v1/imports", content=body, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "file" in response.json()["detail"]
    assert "\x00" not in response.json()["detail"]
    assert "\x1b" not in response.json()["detail"]


async def test_a_cursor_whose_bytes_are_not_utf8(admin: httpx.AsyncClient) -> None:
    cursor = base64.urlsafe_b64encode(b'["values","2025-Q1\xff",1,2]').decode().rstrip("=")
    for kind in ("values", "reports"):
        assert_problem(await admin.get(f"/api/v1/export/{kind}?cursor={cursor}"), "cursor", 400)


@pytest.mark.parametrize(
    "path",
    ["/api/v1/guidelines/%FF/reports", "/api/v1/periods/%FF%FE", "/api/v1/departments/%C3", "/api/v1/%FF"],
)
async def test_path_segments_that_are_not_utf8(admin: httpx.AsyncClient, path: str) -> None:
    response = await admin.get(path)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
