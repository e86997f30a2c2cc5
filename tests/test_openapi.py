"""The committed OpenAPI document is the one the app serves, and it documents every operation."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

COMMITTED = Path(__file__).parents[1] / "openapi" / "openapi.json"
REGENERATE = "wlbtrack openapi --output openapi/openapi.json"


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
