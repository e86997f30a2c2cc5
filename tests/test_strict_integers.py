"""Integers in paths and queries are ASCII digits spelled canonically: anything else is a 404 (path) or a 400
naming the parameter (query), never another row and never a database overflow."""

from __future__ import annotations

import httpx
import pytest

from problems import INDICATOR, create_indicator

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def lenient_spellings(number: int) -> list[str]:
    """Segments Python's int() reads as `number`, URL-encoded, none of them canonical."""
    digits = str(number)
    return [
        digits.translate(FULL_WIDTH),  # full-width digits
        "%2B" + digits,  # +1
        "+" + digits,
        "%20" + digits,  # " 1"
        digits + "%20",
        "0" + digits,  # leading zero
        digits + "_0",  # int() reads underscores between digits
        digits.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),  # Arabic-Indic digits
    ]


OUT_OF_RANGE = ["9223372036854775808", "99999999999999999999", "-1", "1.0", "1e3"]


@pytest.fixture
async def indicator_id(admin: httpx.AsyncClient) -> int:
    return await create_indicator(admin)


def assert_404(response: httpx.Response) -> None:
    assert response.status_code == 404, (response.request.url, response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_indicator_paths_accept_only_canonical_ascii_digits(
    admin: httpx.AsyncClient, indicator_id: int
) -> None:
    assert (await admin.get(f"/api/v1/indicators/{indicator_id}")).status_code == 200
    for segment in [*lenient_spellings(indicator_id), *OUT_OF_RANGE]:
        base = f"/api/v1/indicators/{segment}"
        assert_404(await admin.get(base))
        assert_404(await admin.patch(base, json={"name": "変更"}))
        assert_404(await admin.get(f"{base}/history"))
        assert_404(await admin.get(f"{base}/values"))
        assert_404(await admin.get(f"{base}/values/history"))
        assert_404(await admin.post(f"{base}/values", json={"period": "2025-Q1", "value": 1}))
    indicator = (await admin.get(f"/api/v1/indicators/{indicator_id}")).json()
    assert indicator["name"] == INDICATOR["name"]
    values = (await admin.get(f"/api/v1/indicators/{indicator_id}/values/history")).json()
    assert values["total"] == 0


async def test_token_paths_accept_only_canonical_ascii_digits(admin: httpx.AsyncClient) -> None:
    created = (await admin.post("/api/v1/tokens", json={"role": "viewer", "label": "x"})).json()
    token_id = created["id"]
    for segment in [*lenient_spellings(token_id), *OUT_OF_RANGE]:
        assert_404(await admin.delete(f"/api/v1/tokens/{segment}"))
    listed = (await admin.get("/api/v1/tokens")).json()["items"]
    entry = next(item for item in listed if item["id"] == token_id)
    assert entry["revoked_at"] is None
    assert (await admin.delete(f"/api/v1/tokens/{token_id}")).status_code == 204


@pytest.mark.parametrize("export", ["values", "reports"])
@pytest.mark.parametrize("limit", ["１０", "%2B10", "%2010", "10%20", "1_0", "10.0", "9223372036854775808"])
async def test_integer_query_parameters_accept_only_ascii_digits(
    viewer: httpx.AsyncClient, export: str, limit: str
) -> None:
    response = await viewer.get(f"/api/v1/export/{export}?limit={limit}")
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "limit" in response.json()["detail"]
    assert (await viewer.get(f"/api/v1/export/{export}?limit=10")).status_code == 200
