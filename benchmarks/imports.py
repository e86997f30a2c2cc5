"""Benchmark 7 helpers: many indicators for one department, and values files of them (CSV and .xlsx).

The measurement itself is `measure_import` in run.py: committing a values file of 5,000 rows through
POST /api/v1/imports against posting the same 5,000 values as JSON batches (1,000 values each, the
batch's limit), each on a fresh period so that every row is a new revision.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import asyncpg
import openpyxl

from wlbtrack.domain.progress.schemas import ValueRow

VALUE_KEYS = list(ValueRow.__struct_fields__)  # the values export's columns, which an import reads
BATCH_LIMIT = 1000  # values per POST /api/v1/submissions
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

CREATE = """
INSERT INTO indicator (guideline_id, department_id, name, unit, baseline, target, revision,
                       created_at, created_by, updated_at, updated_by)
SELECT guideline, $2, 'import bench ' || n, '件', 0, 100, 1, now(), 'bench', now(), 'bench'
FROM unnest($1::int[]) WITH ORDINALITY AS t(guideline, n)
RETURNING id, guideline_id
"""
HISTORY = """
INSERT INTO indicator_revision (indicator_id, revision, name, unit, baseline, target, created_at, created_by)
SELECT id, 1, name, unit, baseline, target, created_at, created_by FROM indicator WHERE id = ANY($1::int[])
"""


async def create_indicators(dsn: str, department: str, count: int) -> list[tuple[int, str]]:
    """`count` indicators of the department spread over its guidelines: (id, guideline code), by id."""
    connection = await asyncpg.connect(dsn)
    try:
        department_id = await connection.fetchval("SELECT id FROM department WHERE code = $1", department)
        guidelines = {
            row["id"]: row["code"]
            for row in await connection.fetch(
                "SELECT g.id, g.code FROM guideline g JOIN responsibility r ON r.guideline_id = g.id "
                "WHERE r.department_id = $1 ORDER BY g.position",
                department_id,
            )
        }
        spread = [list(guidelines)[n % len(guidelines)] for n in range(count)]
        async with connection.transaction():
            rows = await connection.fetch(CREATE, spread, department_id)
            await connection.execute(HISTORY, [row["id"] for row in rows])
        await connection.execute("ANALYZE indicator")
    finally:
        await connection.close()
    return sorted((row["id"], guidelines[row["guideline_id"]]) for row in rows)


def value_rows(indicators: list[tuple[int, str]], department: str, period: str) -> list[list[Any]]:
    """The rows of a values file as the values export writes them (read-only columns filled)."""
    rows: list[list[Any]] = [VALUE_KEYS]
    for n, (indicator_id, guideline) in enumerate(indicators):
        campaign, direction = guideline.split(".")[0], ".".join(guideline.split(".")[:2])
        note = f"注記 {n}" if n % 3 == 0 else ""
        read_only = [
            period,
            campaign,
            direction,
            guideline,
            department,
            indicator_id,
            f"import bench {n}",
            "件",
        ]
        rows.append([*read_only, 0.0, 100.0, float(n % 97), n % 97 / 100, note, "", ""])
    return rows


def csv_file(rows: list[list[Any]]) -> bytes:
    """A CSV file as the export writes it: UTF-8 with a BOM."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_file(rows: list[list[Any]]) -> bytes:
    """An .xlsx workbook with the rows in a sheet named values."""
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("values")
    for row in rows:
        sheet.append([None if cell == "" else cell for cell in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def batches(indicators: list[tuple[int, str]], period: str) -> list[dict[str, Any]]:
    """The same values as JSON batches of at most BATCH_LIMIT values."""
    values = [
        {"indicator": indicator_id, "value": float(n % 97), **({"note": f"注記 {n}"} if n % 3 == 0 else {})}
        for n, (indicator_id, _) in enumerate(indicators)
    ]
    return [
        {"period": period, "values": values[start : start + BATCH_LIMIT]}
        for start in range(0, len(values), BATCH_LIMIT)
    ]
