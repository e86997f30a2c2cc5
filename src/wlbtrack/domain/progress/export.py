"""Flat exports of current values and reports: keyset pages for JSON, one streamed query for CSV."""

from __future__ import annotations

import base64
import binascii
import csv
import io
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, Select, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from wlbtrack.domain.catalogue.models import Department, Guideline
from wlbtrack.domain.catalogue.snapshot import Catalogue
from wlbtrack.domain.progress.queries import attainment, dialect_of
from wlbtrack.domain.progress.schemas import ReportRow, ReportsPage, ValueRow, ValuesPage
from wlbtrack.domain.reporting.models import Indicator, IndicatorValue, Report
from wlbtrack.lib.errors import ProblemError

CSV_BATCH = 1000
BOM = "\ufeff"

Key = tuple[Any, ...]
Rows = Select[*tuple[Any, ...]]


@dataclass(frozen=True)
class Filters:
    """Which rows an export covers: a period range, a campaign's guidelines, a department."""

    first: str | None = None
    last: str | None = None
    guideline_ids: Sequence[int] | None = None
    department_id: int | None = None


def _where(stmt: Rows, filters: Filters, period: Any, guideline_id: Any, department_id: Any) -> Rows:
    if filters.first is not None:
        stmt = stmt.where(period >= filters.first)
    if filters.last is not None:
        stmt = stmt.where(period <= filters.last)
    if filters.guideline_ids is not None:
        stmt = stmt.where(guideline_id.in_(filters.guideline_ids))
    if filters.department_id is not None:
        stmt = stmt.where(department_id == filters.department_id)
    return stmt


def _after(order: Sequence[Any], key: Key | None) -> ColumnElement[bool] | None:
    if key is None:
        return None
    return tuple_(*order) > tuple_(*key)


class ValuesExport:
    """Current indicator values, ordered by (period, guideline position, indicator id)."""

    name = "values"
    row_type = ValueRow
    page_type = ValuesPage
    cursor_type = tuple[str, str, int, int]

    @staticmethod
    def statement(dialect: str, filters: Filters, after: Key | None) -> Rows:
        value = col(IndicatorValue.value)
        order = (col(IndicatorValue.period), col(Guideline.position), col(Indicator.id))
        stmt = (
            select(
                col(IndicatorValue.period),
                col(Indicator.guideline_id),
                col(Indicator.department_id),
                col(Indicator.id),
                col(Indicator.name),
                col(Indicator.unit),
                col(Indicator.baseline),
                col(Indicator.target),
                value,
                attainment(dialect, value, col(Indicator.baseline), col(Indicator.target)),
                col(IndicatorValue.note),
                col(IndicatorValue.revision),
                col(IndicatorValue.updated_at),
                col(Guideline.position),
            )
            .join(Indicator, col(Indicator.id) == col(IndicatorValue.indicator_id))
            .join(Guideline, col(Guideline.id) == col(Indicator.guideline_id))
            .order_by(*order)
        )
        condition = _after(order, after)
        if condition is not None:
            stmt = stmt.where(condition)
        return _where(
            stmt,
            filters,
            col(IndicatorValue.period),
            col(Indicator.guideline_id),
            col(Indicator.department_id),
        )

    @staticmethod
    def row(catalogue: Catalogue, record: Sequence[Any]) -> tuple[ValueRow, Key]:
        (period, guideline_id, department_id, indicator_id, *rest, position) = record
        guideline = catalogue.guidelines[catalogue.guideline_code(guideline_id)]
        return ValueRow(
            period,
            guideline.campaign,
            guideline.direction,
            guideline.code,
            catalogue.department_code(department_id),
            indicator_id,
            *rest,
        ), (period, position, indicator_id)


class ReportsExport:
    """Current status reports, ordered by (period, guideline position, department position, id)."""

    name = "reports"
    row_type = ReportRow
    page_type = ReportsPage
    cursor_type = tuple[str, str, int, int, int]

    @staticmethod
    def statement(dialect: str, filters: Filters, after: Key | None) -> Rows:
        order = (col(Report.period), col(Guideline.position), col(Department.position), col(Report.id))
        stmt = (
            select(
                col(Report.period),
                col(Report.guideline_id),
                col(Report.department_id),
                col(Report.status),
                col(Report.summary),
                col(Report.revision),
                col(Report.updated_at),
                col(Guideline.position),
                col(Department.position),
                col(Report.id),
            )
            .join(Guideline, col(Guideline.id) == col(Report.guideline_id))
            .join(Department, col(Department.id) == col(Report.department_id))
            .order_by(*order)
        )
        condition = _after(order, after)
        if condition is not None:
            stmt = stmt.where(condition)
        return _where(stmt, filters, col(Report.period), col(Report.guideline_id), col(Report.department_id))

    @staticmethod
    def row(catalogue: Catalogue, record: Sequence[Any]) -> tuple[ReportRow, Key]:
        period, guideline_id, department_id, *rest, guideline_position, department_position, key = record
        guideline = catalogue.guidelines[catalogue.guideline_code(guideline_id)]
        return ReportRow(
            period,
            guideline.campaign,
            guideline.direction,
            guideline.code,
            catalogue.department_code(department_id),
            *rest,
        ), (period, guideline_position, department_position, key)


Export = type[ValuesExport] | type[ReportsExport]


def encode_cursor(export: Export, key: Key) -> str:
    """An opaque cursor for the row after `key`."""
    return base64.urlsafe_b64encode(msgspec.json.encode([export.name, *key])).decode("ascii").rstrip("=")


def decode_cursor(export: Export, cursor: str) -> Key:
    """The key a cursor stands for; 400 naming `cursor` for anything this export did not issue."""
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        name, *key = msgspec.json.decode(raw, type=export.cursor_type, strict=True)
    except (binascii.Error, ValueError, msgspec.DecodeError) as exc:
        raise ProblemError(400, "cursor: not a cursor issued by this export", field="cursor") from exc
    if name != export.name:
        raise ProblemError(400, "cursor: not a cursor issued by this export", field="cursor")
    return tuple(key)


async def page(
    session: AsyncSession,
    catalogue: Catalogue,
    export: Export,
    filters: Filters,
    after: Key | None,
    limit: int,
) -> tuple[list[Any], Key | None]:
    """Up to `limit` rows after `after`, and the key to continue from (None after the last row)."""
    stmt = export.statement(dialect_of(session), filters, after).limit(limit + 1)
    records = (await session.execute(stmt)).all()
    rows = [export.row(catalogue, record) for record in records[:limit]]
    more = len(records) > limit
    return [row for row, _ in rows], (rows[-1][1] if more else None)


def _csv_text(rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(rows)
    return buffer.getvalue()


def _cells(row: msgspec.Struct) -> list[Any]:
    """A row's values as the JSON export gives them (timestamps as ISO 8601), null as an empty cell."""
    values: list[Any] = msgspec.to_builtins(msgspec.structs.astuple(row))
    return ["" if value is None else value for value in values]


async def csv_stream(
    sessions: async_sessionmaker[AsyncSession],
    catalogue: Catalogue,
    export: Export,
    filters: Filters,
    after: Key | None,
) -> AsyncIterator[str]:
    """The BOM and header, then every row: one query read through a server-side cursor in batches.

    One statement over one snapshot, so the file is consistent and the sort runs once, however many
    rows there are; memory holds one batch at a time.
    """
    yield BOM + _csv_text([export.row_type.__struct_fields__])
    async with sessions() as session:
        stmt = export.statement(dialect_of(session), filters, after).execution_options(yield_per=CSV_BATCH)
        result = await session.stream(stmt)
        async for records in result.partitions(CSV_BATCH):
            yield _csv_text([_cells(export.row(catalogue, record)[0]) for record in records])
