"""Hostile uploads: too large, not a spreadsheet, zip bombs, XML entity bombs, too many rows or columns."""

from __future__ import annotations

import gc
import io
import struct
import tracemalloc
import zipfile
from typing import TYPE_CHECKING

import httpx
import openpyxl
import openpyxl.xml.functions
import pytest
from defusedxml import ElementTree as DefusedElementTree

from sheets import (
    VALUE_KEYS,
    csv_file,
    indicator,
    patch_part,
    upload,
    value_history,
    value_row,
    workbook,
)

if TYPE_CHECKING:
    from conftest import MakeClient

LIMIT = 5_000_000


@pytest.fixture
async def clerk(make_client: MakeClient) -> httpx.AsyncClient:
    return await make_client("department", department="children")


def assert_problem(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    for word in words:
        assert word in response.json()["detail"], (word, response.json()["detail"])


def padded_csv(size: int) -> bytes:
    """A values CSV of exactly `size` bytes (a long note pads it)."""
    head = csv_file([VALUE_KEYS, value_row(1, 1, "")])
    return head[:-2] + b"x" * (size - len(head)) + b"\r\n"


async def test_files_over_5_mb_are_413(clerk: httpx.AsyncClient) -> None:
    too_big = padded_csv(LIMIT + 1)
    assert len(too_big) == LIMIT + 1
    assert_problem(await upload(clerk, too_big, "big.csv", "text/csv"), 413, "big.csv", "5 MB")
    assert_problem(await upload(clerk, too_big, "big.csv", "text/csv", raw=True), 413, "5 MB")
    far_too_big = padded_csv(LIMIT + 200_000)  # beyond the request body limit itself
    for raw in (False, True):
        response = await upload(clerk, far_too_big, "big.csv", "text/csv", raw=raw)
        assert_problem(response, 413, "5 MB")
        assert response.json()["field"] == "file"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64, ("not an .xlsx workbook or a CSV file",)),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", ("not an .xlsx workbook or a CSV file",)),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, (".xls",)),
        (b"PK\x03\x04 this is not really a zip", ("damaged zip",)),
    ],
)
async def test_not_a_spreadsheet_is_415(
    clerk: httpx.AsyncClient, content: bytes, words: tuple[str, ...]
) -> None:
    response = await upload(clerk, content, "scan.bin", "application/octet-stream")
    assert_problem(response, 415, "scan.bin", *words)
    assert response.json()["field"] == "file"


async def test_a_zip_that_is_not_a_workbook_is_415(clerk: httpx.AsyncClient) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    assert_problem(await upload(clerk, buffer.getvalue(), "quarter.ods"), 415, "not an .xlsx workbook")


def zip_bomb() -> bytes:
    """A real workbook plus one part that inflates to 70 MB (of spaces, ~70 KB compressed)."""
    buffer = io.BytesIO(workbook({"values": [VALUE_KEYS, value_row(1, 1)]}))
    with (
        zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/media/padding.xml", "w") as part,
    ):
        chunk = b" " * 1_000_000
        for _ in range(70):
            part.write(chunk)
    return buffer.getvalue()


def lying_about_size(content: bytes, part: str, declared: int) -> bytes:
    """The archive with one part's uncompressed size understated in its local and central headers."""
    data = bytearray(content)
    info = zipfile.ZipFile(io.BytesIO(content)).getinfo(part)
    struct.pack_into("<I", data, info.header_offset + 22, declared)
    position = data.find(b"PK\x01\x02")
    while position != -1:
        name_length = struct.unpack_from("<H", data, position + 28)[0]
        if bytes(data[position + 46 : position + 46 + name_length]) == part.encode():
            struct.pack_into("<I", data, position + 24, declared)
            break
        position = data.find(b"PK\x01\x02", position + 4)
    return bytes(data)


async def test_zip_bombs_are_refused_without_inflating_them(clerk: httpx.AsyncClient) -> None:
    bomb = zip_bomb()
    assert len(bomb) < 1_000_000
    assert_problem(await upload(clerk, bomb), 413, "zip bomb")

    # a directory that understates a part: zipfile inflates no more than declared, then fails its CRC
    padded = patch_part(
        workbook({"values": [VALUE_KEYS, value_row(1, 1)]}),
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"</sheetData>", b"</sheetData>" + b" " * 40_000_000),
    )
    liar = lying_about_size(padded, "xl/worksheets/sheet1.xml", 4_000)
    gc.collect()
    tracemalloc.start()
    try:
        response = await upload(clerk, liar)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_problem(response, 422, "could not be read as an .xlsx workbook")
    assert peak < 20_000_000, f"{peak:,} bytes allocated: the part was inflated beyond its declared size"


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
        for n in range(1, 10)
    )
    + b"]>"
)


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml"])
async def test_xml_entity_bombs_are_refused(clerk: httpx.AsyncClient, part: str) -> None:
    content = workbook({"values": [VALUE_KEYS, value_row(1, "x")]})

    def bomb(xml: bytes) -> bytes:
        body = xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml
        return BILLION_LAUGHS + body.replace(b"<t>x</t>", b"<t>&lol9;</t>")

    response = await upload(clerk, patch_part(content, part, bomb))
    assert_problem(response, 422, "entities")


def test_openpyxl_parses_through_defusedxml() -> None:
    assert openpyxl.xml.DEFUSEDXML is True
    assert openpyxl.xml.functions.iterparse is DefusedElementTree.iterparse


async def test_more_than_20000_rows_is_413(clerk: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [VALUE_KEYS] + [value_row(n, 1) for n in range(1, 20_002)]
    assert_problem(await upload(clerk, csv_file(rows), "rows.csv", "text/csv"), 413, "more than 20,000 rows")
    # the same count on a workbook's rows, at a lower limit to keep the test fast (openpyxl writes slowly)
    from wlbtrack.domain.spreadsheets import reader

    monkeypatch.setattr(reader, "MAX_ROWS", 50)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("values")
    for row in rows[:52]:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    assert_problem(await upload(clerk, buffer.getvalue()), 413, "more than 50 rows")


async def test_more_than_100_columns_is_413(clerk: httpx.AsyncClient) -> None:
    wide = value_row(1, 1) + [""] * 85 + ["too far"]
    assert len(wide) == 101
    assert_problem(
        await upload(clerk, csv_file([VALUE_KEYS, wide]), "wide.csv", "text/csv"), 413, "101 columns"
    )
    assert_problem(await upload(clerk, workbook({"values": [VALUE_KEYS, wide]})), 413, "101 columns")
    header = VALUE_KEYS + [f"extra{n}" for n in range(86)]
    assert_problem(await upload(clerk, workbook({"values": [header]})), 413, "101 columns")


async def test_a_workbook_claiming_a_huge_sheet_is_read_by_its_cells(
    clerk: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    first = await indicator(admin, "children", "1.1.1")
    content = workbook({"values": [VALUE_KEYS, value_row(first, 5)]})
    claimed = patch_part(
        content,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b'<dimension ref="A1:O2"', b'<dimension ref="A1:XFD1048576"'),
    )
    assert claimed != content
    response = await upload(clerk, claimed)
    assert response.status_code == 201, response.text
    assert [v["value"] for v in await value_history(clerk, first)] == [5]


async def test_utf16_text_is_refused_with_advice(clerk: httpx.AsyncClient) -> None:
    content = "\ufeff" + "period\tvalue\r\n"
    response = await upload(clerk, content.encode("utf-16-le"), "unicode.txt", "text/csv")
    assert_problem(response, 422, "UTF-16", "CSV UTF-8")
