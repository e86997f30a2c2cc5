"""One rule for text everywhere: invisible-only text is blank, control characters other than tab and newline
(none at all in single-line fields), NUL and lone surrogates are rejected, naming the field."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import httpx
import pytest

from problems import INDICATOR, assert_problem, create_indicator

REPORT: dict[str, Any] = {"period": "2025-Q1", "status": "on_track", "summary": "順調"}

BLANK = [
    "\u200b",
    "\ufeff",
    " \u200b\u200c\u200d ",
    "\u2060\u3000",
    "\u00ad",
    "\u202e\u202c",
    "\x1b",
    "\u3000\n\t",
]
CONTROLS = ["a\x1bb", "a\x00b", "a\x7fb", "a\x85b", "a\x9bb", "a\rb", "a\x08b"]
MULTI_LINE_OK = "一行目\n\t二行目\r\n三行目"


def body(**fields: Any) -> bytes:
    return json.dumps(fields, ensure_ascii=True).encode()  # \ud800 travels as a JSON escape


@pytest.fixture
async def indicator_id(admin: httpx.AsyncClient) -> int:
    return await create_indicator(admin)


@pytest.mark.parametrize("text", BLANK + CONTROLS)
async def test_report_summary(admin: httpx.AsyncClient, text: str) -> None:
    response = await admin.post(
        "/api/v1/guidelines/1.3.1/reports",
        content=body(**{**REPORT, "summary": text}),
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, "summary")
    assert (await admin.get("/api/v1/guidelines/1.3.1/reports/history")).json()["total"] == 0


@pytest.mark.parametrize("text", BLANK + CONTROLS + ["a\nb", "a\tb"])
async def test_single_line_fields(admin: httpx.AsyncClient, indicator_id: int, text: str) -> None:
    json_body = {"Content-Type": "application/json"}
    for field in ("name", "unit"):
        created = await admin.post(
            "/api/v1/guidelines/1.3.1/indicators",
            content=body(**{**INDICATOR, field: text}),
            headers=json_body,
        )
        assert_problem(created, field)
        patched = await admin.patch(
            f"/api/v1/indicators/{indicator_id}", content=body(**{field: text}), headers=json_body
        )
        assert_problem(patched, field)
    token = await admin.post("/api/v1/tokens", content=body(role="viewer", label=text), headers=json_body)
    assert_problem(token, "label")


@pytest.mark.parametrize("text", BLANK + CONTROLS)
async def test_value_notes_and_batches(admin: httpx.AsyncClient, indicator_id: int, text: str) -> None:
    url = f"/api/v1/indicators/{indicator_id}/values"
    json_body = {"Content-Type": "application/json"}
    assert_problem(
        await admin.post(url, content=body(period="2025-Q1", value=1, note=text), headers=json_body), "note"
    )
    report = {"guideline": "1.3.1", "status": "on_track", "summary": text}
    batch = body(period="2025-Q1", department="children", reports=[report])
    assert_problem(await admin.post("/api/v1/submissions", content=batch, headers=json_body), "summary")
    assert (await admin.get(f"{url}/history")).json()["total"] == 0


async def test_tab_and_newline_stay_in_multi_line_text(admin: httpx.AsyncClient, indicator_id: int) -> None:
    response = await admin.post("/api/v1/guidelines/1.3.1/reports", json={**REPORT, "summary": MULTI_LINE_OK})
    assert response.status_code == 201, response.text
    assert response.json()["summary"] == MULTI_LINE_OK
    url = f"/api/v1/indicators/{indicator_id}/values"
    response = await admin.post(url, json={"period": "2025-Q1", "value": 1, "note": MULTI_LINE_OK})
    assert response.status_code == 201, response.text
    assert response.json()["note"] == MULTI_LINE_OK


async def test_a_lone_surrogate_is_not_text(admin: httpx.AsyncClient) -> None:
    response = await admin.post(
        "/api/v1/guidelines/1.3.1/reports",
        content=body(**{**REPORT, "summary": "a\ud800b"}),
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, "body")


def test_the_documented_text_patterns_say_what_blank_is() -> None:
    """The document's text patterns admit a one-character text exactly when it is visible: not a control,
    white space or an invisible format character (so generated 'valid' text is never refused as blank)."""
    document = json.loads(
        (Path(__file__).parents[1] / "openapi" / "openapi.json").read_text(encoding="utf-8")
    )
    fields = document["components"]["schemas"]["IndicatorIn"]["properties"]
    single_line = re.compile(fields["name"]["pattern"])
    multi_line = re.compile(document["components"]["schemas"]["ReportIn"]["properties"]["summary"]["pattern"])
    for code in (*range(0xD800), *range(0xE000, 0x110000)):
        char = chr(code)
        visible = not (char.isspace() or unicodedata.category(char) in {"Cc", "Cf", "Zs", "Zl", "Zp"})
        assert bool(single_line.fullmatch(char)) is visible, hex(code)
        assert bool(multi_line.fullmatch(char)) is visible, hex(code)
        assert bool(single_line.fullmatch(f"{char}a")) is (unicodedata.category(char) != "Cc"), hex(code)
    assert multi_line.fullmatch("\u3000\r\n\t要約")
    assert not multi_line.fullmatch("\r\n\t\u200b")
