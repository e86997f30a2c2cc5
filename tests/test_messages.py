"""Messages a clerk can read: with Accept-Language: ja preferred, every problem speaks Japanese.

The catalogue (src/wlbtrack/locale/ja/LC_MESSAGES/messages.po) must hold a Japanese entry for every
message template in the source, extracted by Babel as the README says, with the template's parameters.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import json
import re
import string
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from apps import http_client, running
from wlbtrack.config import Settings

if TYPE_CHECKING:
    from conftest import MakeClient, MakeToken

SOURCE = Path(__file__).resolve().parent.parent / "src" / "wlbtrack"
JA = {"Accept-Language": "ja"}
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# Words the glossary replaces: the plan's and the reporting cycle's terms have one Japanese word each
NOT_GLOSSARY = (
    "ガイドライン",
    "部署",
    "レポート",
    "インディケーター",
    "インジケーター",
    "KPI",
    "クォーター",
    "事務局)の",
)
STATUSES = "not_started、on_track、at_risk、delayed、completed"


def templates() -> dict[str, list[str]]:
    """Every message template in the source (the first argument of each `Msg(...)`), with where it is."""
    found: dict[str, list[str]] = {}
    for filename, line, message, _, _ in extract_from_dir(
        SOURCE, method_map=[("**.py", "python")], keywords={"Msg": None}
    ):
        assert isinstance(message, str)
        found.setdefault(message, []).append(f"{filename}:{line}")
    return found


def catalogue() -> dict[str, str]:
    """The Japanese catalogue as the installed package holds it: template → translation (fuzzy left out)."""
    po = importlib.resources.files("wlbtrack").joinpath("locale/ja/LC_MESSAGES/messages.po")
    with po.open("rb") as file:
        return {
            str(m.id): str(m.string) if m.string and not m.fuzzy else ""
            for m in read_po(file, locale="ja")
            if m.id
        }


def names(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def test_every_message_has_a_japanese_entry() -> None:
    found, translated = templates(), catalogue()
    assert len(found) > 50  # the extraction sees the raise sites
    missing = sorted(t for t in found if not translated.get(t))
    assert not missing, (
        f"{len(missing)} message template(s) have no Japanese entry in "
        "src/wlbtrack/locale/ja/LC_MESSAGES/messages.po; add (README, Languages):\n\n"
        + "\n".join(
            f'#: {found[t][0]}\nmsgid {json.dumps(t, ensure_ascii=False)}\nmsgstr ""\n' for t in missing
        )
    )


def test_templates_are_literals() -> None:
    """An f-string template is formatted before translation: neither extracted nor reordered."""
    formatted = [
        f"{path.relative_to(SOURCE)}:{number}"
        for path in sorted(SOURCE.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\bMsg\(\s*f[\"']", line)
    ]
    assert not formatted, f'Msg(f"...") formats before translating; pass named parameters: {formatted}'


def test_translations_keep_the_parameters_and_speak_japanese() -> None:
    wrong = {
        template: text
        for template, text in catalogue().items()
        if text and (names(text) != names(template) or not (JAPANESE.search(text) or not _words(template)))
    }
    assert not wrong, f"translations that drop, add or rename a {{parameter}} or are not Japanese: {wrong}"


def _words(template: str) -> bool:
    """Whether a template holds words (not only parameters and punctuation)."""
    return bool(re.search(r"[A-Za-z]{2,}", re.sub(r"\{[^}]*\}", "", template)))


def test_translations_use_the_glossary_terms() -> None:
    off = {t: s for t, s in catalogue().items() if any(word in s for word in NOT_GLOSSARY)}
    assert not off, f"use the glossary's terms (/work/shared/glossary.md): {off}"


def test_no_entry_is_left_over() -> None:
    """Entries no source uses any more are removed, so the catalogue stays what a translator must read."""
    stale = sorted(set(catalogue()) - set(templates()))
    assert not stale, f"messages.po entries no `Msg(...)` uses: {stale}"


# --- over HTTP ----------------------------------------------------------------------------------


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Accept-Language" in response.headers["vary"]
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    ("accept_language", "japanese"),
    [
        ("ja", True),
        ("ja-JP", True),
        ("ja-JP,ja;q=0.9,en;q=0.8", True),
        ("en-US,en;q=0.9,ja;q=0.8", False),
        ("fr-FR, ja;q=0.5", True),  # French is not offered: Japanese is the best of what is
        ("en;q=0.4, ja;q=0.6", True),
        ("ja;q=0, en", False),
        ("ja;q=0", False),
        ("*", False),
        ("ja;q=2", False),  # a weight out of range counts for nothing
        ("", False),
        (None, False),
    ],
)
async def test_accept_language_chooses_by_weight_and_english_is_the_default(
    client: httpx.AsyncClient, accept_language: str | None, japanese: bool
) -> None:
    headers = {} if accept_language is None else {"Accept-Language": accept_language}
    body = problem(await client.get("/api/v1/campaigns", headers=headers), 401)
    expected = (
        "Authorization: Bearer トークンが必要です"
        if japanese
        else "Authorization: a bearer token is required"
    )
    assert body["detail"] == expected
    assert body["field"] == "Authorization"


async def test_401_403_404_405_in_japanese(client: httpx.AsyncClient, viewer: httpx.AsyncClient) -> None:
    unknown = problem(
        await client.get("/api/v1/campaigns", headers={**JA, "Authorization": "Bearer nope"}), 401
    )
    assert unknown["detail"] == "Authorization: 不明なトークンか、失効したトークンです"

    report = {"period": "2025-Q1", "status": "on_track", "summary": "保育室を開設"}
    refused = problem(await viewer.post("/api/v1/guidelines/1.3.1/reports", json=report, headers=JA), 403)
    assert refused["detail"] == "Authorization: 閲覧用のトークン (viewer) では書き込めません"

    missing = problem(await viewer.get("/api/v1/guidelines/9.9.9", headers=JA), 404)
    assert missing["detail"] == "code: コード '9.9.9' の目安はありません"
    nowhere = problem(await viewer.get("/api/v1/nothing-here", headers=JA), 404)
    assert nowhere["detail"] == "このパスには何もありません"
    assert (await viewer.get("/api/v1/guidelines/9.9.9")).json()[
        "detail"
    ] == "code: no guideline with code '9.9.9'"

    method = problem(await viewer.put("/api/v1/campaigns", headers=JA), 405)
    assert method["detail"].startswith("method: このメソッドは使えません。")
    assert "GET" in method["detail"]


async def test_departments_are_named_in_japanese(make_client: MakeClient) -> None:
    """The glossary shows a department's Japanese name to people, never its slug."""
    children = await make_client("department", department="children")
    report = {"period": "2025-Q1", "status": "on_track", "summary": "両立支援セミナーを開催"}
    refused = problem(await children.post("/api/v1/guidelines/2.2.2/reports", json=report, headers=JA), 403)
    assert refused["detail"] == "department: 子ども部は目安 2.2.2 の担当部ではありません"
    other = {**report, "department": "health-center"}
    refused = problem(await children.post("/api/v1/guidelines/1.3.1/reports", json=other, headers=JA), 403)
    assert refused["detail"] == "department: 子ども部のトークンでは世田谷保健所の分を書き込めません"
    english = (await children.post("/api/v1/guidelines/2.2.2/reports", json=report)).json()
    assert english["detail"] == "department: children is not responsible for guideline 2.2.2"


async def test_a_closed_period_is_a_409_in_japanese(admin: httpx.AsyncClient) -> None:
    assert (await admin.post("/api/v1/periods/2025-Q1/close")).status_code == 200
    body = {"period": "2025-Q1", "status": "on_track", "summary": "保育室を開設", "department": "children"}
    closed = problem(await admin.post("/api/v1/guidelines/1.3.1/reports", json=body, headers=JA), 409)
    assert (
        closed["detail"]
        == "period: 2025-Q1 は締め切られています。書き込むには企画担当 (事務局) が再開する必要があります"
    )
    english = (await admin.post("/api/v1/guidelines/1.3.1/reports", json=body)).json()
    assert english["detail"] == "period: 2025-Q1 is closed; an admin must reopen it first"


async def test_an_unknown_status_lists_the_allowed_values(admin: httpx.AsyncClient) -> None:
    body = {"period": "2025-Q1", "status": "順調", "summary": "保育室を開設", "department": "children"}
    english = (await admin.post("/api/v1/guidelines/1.3.1/reports", json=body)).json()
    assert english["field"] == "status"
    assert english["detail"] == "status: must be one of not_started, on_track, at_risk, delayed, completed"

    japanese = (await admin.post("/api/v1/guidelines/1.3.1/reports", json=body, headers=JA)).json()
    assert japanese["detail"] == f"status: {STATUSES} のいずれかを指定してください"

    export = problem(await admin.get("/api/v1/export/values", params={"format": "xls"}, headers=JA), 422)
    assert export["detail"] == "format: json、csv のいずれかを指定してください"


async def test_a_bad_batch_lists_its_errors_in_japanese(
    make_client: MakeClient, admin: httpx.AsyncClient
) -> None:
    children = await make_client("department", department="children")
    body = {
        "period": "2025-Q1",
        "reports": [
            {"guideline": "1.3.1", "status": "on_track", "summary": "保育室を開設"},
            {"guideline": "9.9.9", "status": "on_track", "summary": "不明な目安"},
            {"guideline": "1.3.1", "status": "delayed", "summary": "二度目"},
        ],
        "values": [{"indicator": 999999, "value": 1}],
    }
    refused = problem(await children.post("/api/v1/submissions", json=body, headers=JA), 422)
    assert refused["errors"] == [
        {"field": "reports[1].guideline", "message": "コード '9.9.9' の目安はありません"},
        {"field": "reports[2].guideline", "message": "目安 1.3.1 が複数回あります"},
        {"field": "values[0].indicator", "message": "ID 999999 の指標はありません"},
    ]
    assert refused["detail"] == "; ".join(f"{e['field']}: {e['message']}" for e in refused["errors"])

    english = (await children.post("/api/v1/submissions", json=body)).json()
    assert [e["message"] for e in english["errors"]] == [
        "no guideline with code '9.9.9'",
        "guideline 1.3.1 appears more than once",
        "no indicator with id 999999",
    ]


async def test_type_and_query_errors_in_japanese(viewer: httpx.AsyncClient, admin: httpx.AsyncClient) -> None:
    body = {"period": "2025-Q1", "status": "on_track", "summary": 42, "department": "children"}
    typed = problem(await admin.post("/api/v1/guidelines/1.3.1/reports", json=body, headers=JA), 400)
    assert typed["detail"] == "summary: `str` を指定してください (`int` が送られました)"

    blank = {**body, "summary": "   "}
    assert (await admin.post("/api/v1/guidelines/1.3.1/reports", json=blank, headers=JA)).json()[
        "detail"
    ] == "summary: 空白だけにしないでください"

    nul = {**body, "summary": "a\x00b"}
    assert (await admin.post("/api/v1/guidelines/1.3.1/reports", json=nul, headers=JA)).json()[
        "detail"
    ] == "summary: タブと改行以外の制御文字は使えません"

    extra = {**body, "summary": "x", "revision": 2}
    unknown = problem(await admin.post("/api/v1/guidelines/1.3.1/reports", json=extra, headers=JA), 400)
    assert unknown["detail"] == "revision: 不明なフィールドです。取り除いてください"

    period = problem(await viewer.get("/api/v1/periods", params={"fiscal_year": "abc"}, headers=JA), 400)
    assert period["errors"][0]["field"] == "fiscal_year"
    assert JAPANESE.search(period["errors"][0]["message"])
    assert period["detail"] == f"fiscal_year: {period['errors'][0]['message']}"


async def test_the_rate_limit_is_a_429_in_japanese(settings: Settings, make_token: MakeToken) -> None:
    token = await make_token("viewer")
    async with (
        running(settings, rate_limit="1/day", redis_url=None) as application,
        http_client(application, token) as http,
    ):
        assert (await http.get("/api/v1/campaigns")).status_code == 200
        limited = problem(await http.get("/api/v1/campaigns", headers=JA), 429)
    assert re.fullmatch(
        r"Authorization: このトークンは 86400 秒間に 1 回を超えてリクエストしました。"
        r"\d+ 秒後にもう一度試してください",
        limited["detail"],
    ), limited["detail"]


async def test_an_unreachable_database_is_a_503_in_japanese(settings: Settings, tmp_path: Path) -> None:
    missing = tmp_path / "not-mounted" / "wlbtrack.db"
    local = dataclasses.replace(settings, database_url=f"sqlite+aiosqlite:///{missing}")
    async with running(local) as application, http_client(application, "wlb_" + "a" * 43) as http:
        down = problem(await http.get("/api/v1/campaigns", headers=JA), 503)
        assert down["detail"] == (
            "database: データベースに接続できません。何も書き込まれていません。"
            "しばらくしてからもう一度試してください"
        )
        ready = problem(await http.get("/ready", headers=JA), 503)
        assert ready["detail"] == "database: 接続できません"
        assert (await http.get("/ready")).json()["detail"] == "database: unreachable"


async def test_a_quarter_state_conflict_uses_the_glossary_words(admin: httpx.AsyncClient) -> None:
    refused = problem(
        await admin.post("/api/v1/periods/2025-Q3/departments/children/approve", headers=JA), 409
    )
    assert (
        refused["detail"]
        == "state: 子ども部の2025-Q3は入力中です。承認済みにできるのは提出済みの四半期だけです"
    )
