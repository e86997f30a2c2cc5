"""GET /dashboard/departments/{code}/workbook: the API's workbook, for a signed-in session, under the API's
permission rules."""

from __future__ import annotations

import io
import zipfile
from typing import TYPE_CHECKING

import httpx
import pytest

from test_dashboard import assert_sent_to_sign_in, sign_in

if TYPE_CHECKING:
    from conftest import MakeClient, MakeToken

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def parts(workbook: bytes) -> dict[str, bytes]:
    """The workbook's files but its document properties (which carry the time it was written)."""
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        return {name: archive.read(name) for name in archive.namelist() if name != "docProps/core.xml"}


async def test_a_department_user_downloads_the_apis_workbook_of_their_department(
    client: httpx.AsyncClient, make_client: MakeClient, make_token: MakeToken
) -> None:
    signed = await sign_in(client, await make_token("department", department="children"))
    page = await client.get(signed.headers["location"])
    assert page.status_code == 200
    response = await client.get("/dashboard/departments/children/workbook", params={"period": "2026-Q1"})
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    assert response.headers["content-disposition"] == 'attachment; filename="wlbtrack_children_2026-Q1.xlsx"'
    api = await make_client("department", department="children")
    from_api = await api.get("/api/v1/templates/children", params={"period": "2026-Q1"})
    assert from_api.status_code == 200
    assert parts(response.content) == parts(from_api.content)


async def test_without_a_period_it_is_the_current_quarters(
    client: httpx.AsyncClient, make_client: MakeClient, make_token: MakeToken
) -> None:
    await sign_in(client, await make_token("department", department="children"))
    api = await make_client("department", department="children")
    response = await client.get("/dashboard/departments/children/workbook")
    assert response.status_code == 200
    expected = (await api.get("/api/v1/templates/children")).headers["content-disposition"]
    assert response.headers["content-disposition"] == expected


async def test_a_department_user_may_not_download_another_departments(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    await sign_in(client, await make_token("department", department="children"))
    response = await client.get("/dashboard/departments/health-welfare/workbook")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>この操作はできません</h1>" in response.text


@pytest.mark.parametrize("role", ["viewer", "admin"])
async def test_leadership_downloads_any_departments(
    client: httpx.AsyncClient, make_token: MakeToken, role: str
) -> None:
    await sign_in(client, await make_token(role))
    response = await client.get(
        "/dashboard/departments/health-welfare/workbook", params={"period": "2025-Q4"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX


async def test_unknown_departments_and_bad_periods_are_error_pages(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    await sign_in(client, await make_token("viewer"))
    unknown = await client.get("/dashboard/departments/nowhere/workbook")
    assert unknown.status_code == 404
    assert "<h1>ページが見つかりません</h1>" in unknown.text
    malformed = await client.get("/dashboard/departments/children/workbook", params={"period": "2026-Q5"})
    assert malformed.status_code == 400
    assert malformed.headers["content-type"].startswith("text/html")


async def test_signed_out_it_redirects_to_the_login_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/dashboard/departments/children/workbook")
    assert_sent_to_sign_in(response)
