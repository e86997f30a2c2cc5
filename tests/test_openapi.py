"""The committed OpenAPI document is the one the app serves, and it documents every operation."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

COMMITTED = Path(__file__).parents[1] / "openapi" / "openapi.json"
REGENERATE = "wlbtrack openapi --output openapi/openapi.json"
WRITE_AND_READ = {"get", "post", "put", "patch", "delete"}


async def test_committed_schema_matches_the_served_one(client: httpx.AsyncClient) -> None:
    served = (await client.get("/schema/openapi.json")).json()
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert served == committed, f"openapi/openapi.json is stale; regenerate it with: {REGENERATE}"


def test_every_operation_has_summary_tag_and_responses() -> None:
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), f"{where} has no summary"
            assert operation.get("tags"), f"{where} has no tag"
            assert any(code.startswith("2") for code in operation["responses"]), (
                f"{where}: no success response"
            )
            for code, response in operation["responses"].items():
                if code.startswith(("4", "5")):
                    assert "application/problem+json" in response.get("content", {}), f"{where} {code}"
            if path.startswith("/api/v1"):
                assert operation.get("security") or document.get("security"), f"{where} has no security"


def test_description_explains_the_japanese_terms() -> None:
    description = json.loads(COMMITTED.read_text(encoding="utf-8"))["info"]["description"]
    for term in ("大作戦", "取り組みの方向性", "目安", "担当部", "主な取り組み"):
        assert term in description


async def test_allow_headers_agree_with_the_document(viewer: httpx.AsyncClient) -> None:
    """OPTIONS and 405 list every method the document gives the path (plus OPTIONS, and HEAD with GET)."""
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    samples = {"{code}": "1.1.1", "{indicator_id}": "1", "{token_id}": "1", "{department}": "children"}
    for template, operations in document["paths"].items():
        path = template
        for placeholder, value in samples.items():
            path = path.replace(placeholder, value)
        documented = {
            method.upper() for method in operations if method in {"get", "post", "put", "patch", "delete"}
        }
        response = await viewer.request("OPTIONS", path)
        assert response.status_code == 204, (template, response.status_code, response.text)
        allowed = {method.strip() for method in response.headers["allow"].split(",")}
        assert allowed - {"OPTIONS", "HEAD"} == documented - {"HEAD"}, template
        refused = next(method for method in ("PUT", "DELETE", "PATCH", "POST") if method not in allowed)
        response = await viewer.request(refused, path)
        assert response.status_code == 405, (template, refused)
        assert {m.strip() for m in response.headers["allow"].split(",")} == allowed, template
