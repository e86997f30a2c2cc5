"""Flat exports of current values and reports: keyset pages for JSON, one streamed query for CSV."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import csv
import functools
import io
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Float,
    Integer,
    Numeric,
    String,
    Subquery,
    Table,
    Text,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    tuple_,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wlbtrack.db import ReadSession
from wlbtrack.domain.catalogue.models import CAMPAIGN, DEPARTMENT, DIRECTION, GUIDELINE
from wlbtrack.domain.catalogue.services import Catalogue
from wlbtrack.domain.periods.services import Period, PeriodError, PeriodRules
from wlbtrack.domain.progress.queries import attainment, dialect_of, numeric_operands
from wlbtrack.domain.progress.schemas import (
    CURSOR_PATTERN,
    ESCAPED_START,
    ReportRow,
    ReportsPage,
    ValueRow,
    ValuesPage,
    csv_text,
)
from wlbtrack.domain.reporting.models import INDICATOR, REPORT, VALUE
from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.i18n import Msg
from wlbtrack.lib.tables import Rows

CSV_BATCH = 1000
COPY_CHUNKS = 8  # chunks of COPY output queued ahead of the client
COPY_TIMEOUT_S = 86_400.0  # asyncpg's bound on a whole COPY, slow client included: see copy_stream
COPY_DIALECTS = ("postgresql",)  # where the CSV export streams from COPY (elsewhere: rows in Python)
BOM = "\ufeff"

Key = tuple[Any, ...]
# A cursor's integers are positions and ids: BIGINT-sized, so a forged one never overflows a query parameter
Int64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
# A cursor's period: the period code pattern (no NUL or other stray byte), checked against the plan below
PeriodCode = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4}-Q[1-4]$")]
NOT_A_CURSOR = Msg("not a cursor issued by this export")
_CURSOR = re.compile(CURSOR_PATTERN, re.ASCII)


@dataclass(frozen=True)
class Filters:
    """Which rows an export covers: a period range, a campaign's guidelines, a department."""

    first: str | None = None
    last: str | None = None
    guideline_ids: Sequence[int] | None = None
    department_id: int | None = None


Shape = tuple[tuple[str, ...], bool]  # parameter names; whether a guideline list is set (maybe empty)


@dataclass(frozen=True)
class Bound:
    """An export's filters and cursor key as parameters named by their place (`first`, `last`,
    `department_id`, `guideline_0`…, `after_0`…): the SQL then depends only on which are set (`shape`),
    so `_copy_sql` compiles it once per shape."""

    first: BindParameter[Any] | None
    last: BindParameter[Any] | None
    guidelines: Sequence[BindParameter[Any]] | None
    department: BindParameter[Any] | None
    after: Sequence[BindParameter[Any]] | None

    @classmethod
    def of(cls, filters: Filters, after: Key | None) -> Bound:
        """The filters and the cursor key (None: from the first row) with their values."""

        def one(name: str, value: Any) -> BindParameter[Any] | None:
            return None if value is None else _parameter(name, value)

        def each(name: str, values: Sequence[Any] | None) -> list[BindParameter[Any]] | None:
            return None if values is None else [_parameter(f"{name}_{i}", v) for i, v in enumerate(values)]

        return cls(
            one("first", filters.first),
            one("last", filters.last),
            each("guideline", filters.guideline_ids),
            one("department_id", filters.department_id),
            each("after", after),
        )

    @classmethod
    def named(cls, names: Sequence[str], guidelines: bool) -> Bound:
        """Parameters of these names without values (`shape` reversed): all the SQL depends on."""

        def one(name: str) -> BindParameter[Any] | None:
            return _parameter(name) if name in names else None

        def each(prefix: str) -> list[BindParameter[Any]]:
            return [_parameter(name) for name in names if name.startswith(prefix)]

        listed = each("guideline_") if guidelines else None
        return cls(one("first"), one("last"), listed, one("department_id"), each("after_") or None)

    def parameters(self) -> list[BindParameter[Any]]:
        """Every parameter that is set."""
        singles = [self.first, self.last, self.department]
        return [p for p in singles if p is not None] + [*(self.guidelines or ()), *(self.after or ())]

    @property
    def shape(self) -> Shape:
        """The parameters' names, and whether a (maybe empty) guideline list is set."""
        return tuple(p.key for p in self.parameters()), self.guidelines is not None


def _parameter(name: str, value: Any = None) -> BindParameter[Any]:
    """A filter's or the cursor key's parameter, typed by its name alone (the SQL never depends on a
    value): periods as text, ids as integers, the cursor's positions and ids as 64-bit integers."""
    kind = String if name in ("first", "last", "after_0") else BigInteger if "after" in name else Integer
    return bindparam(name, value, type_=kind)


def _where(
    stmt: Rows,
    order: Sequence[Any],
    bound: Bound,
    period: Any,
    guideline_id: Any,
    department_id: Any,
) -> Rows:
    """The statement narrowed to the rows after the cursor key (in `order`) that pass the filters."""
    if bound.after is not None:
        stmt = stmt.where(tuple_(*order) > tuple_(*bound.after))
    if bound.first is not None:
        stmt = stmt.where(period >= bound.first)
    if bound.last is not None:
        stmt = stmt.where(period <= bound.last)
    if bound.guidelines is not None:
        stmt = stmt.where(guideline_id.in_(bound.guidelines))
    if bound.department is not None:
        stmt = stmt.where(department_id == bound.department)
    return stmt


Join = tuple[Table, ColumnElement[bool]]
# the catalogue codes of a guideline's direction and campaign, for the CSV cells PostgreSQL computes
CODES: tuple[Join, ...] = (
    (DIRECTION, DIRECTION.c.id == GUIDELINE.c.direction_id),
    (CAMPAIGN, CAMPAIGN.c.id == DIRECTION.c.campaign_id),
)


EMPTY: ColumnElement[str] = literal_column("''")
QUOTE: ColumnElement[str] = literal_column("'\"'")
# what makes Python's csv module (QUOTE_MINIMAL) quote a field: the quote, the delimiter, CR, LF
QUOTED_WHEN: tuple[ColumnElement[str], ...] = (
    QUOTE,
    *(literal_column(spelling) for spelling in ("','", "E'\\r'", "E'\\n'")),
)


def text_field(value: ColumnElement[Any]) -> ColumnElement[str]:
    """A text cell as `_cells` and the csv module write it: formula-safe (`csv_text`: a leading ' before
    ESCAPED_START), in quotes with its quotes doubled when it holds a quote, comma, CR or LF, empty for
    null or ''. The added ' never needs quoting, so the stored text decides (read once per check)."""
    first = func.ascii(value)  # the first character's code point, compared as integers (cheap)
    escaped = case(
        (first.in_([ord(c) for c in ESCAPED_START]), literal_column("''''").concat(value)), else_=value
    )
    special = or_(*(func.strpos(value, character) > 0 for character in QUOTED_WHEN))
    quoted = QUOTE.concat(func.replace(escaped, QUOTE, literal_column("'\"\"'"))).concat(QUOTE)
    return case((special, quoted), else_=func.coalesce(escaped, EMPTY))


def plain_field(value: ColumnElement[Any]) -> ColumnElement[str]:
    """A cell that never needs quoting (a period code, an integer) as text; empty for null."""
    return func.coalesce(cast(value, Text), EMPTY)


def float_field(value: ColumnElement[Any]) -> ColumnElement[str]:
    """A float8 cell as Python's repr spells it (`sql_float`); empty for null."""
    return func.coalesce(sql_float(value), EMPTY)


def csv_line(fields: Sequence[ColumnElement[str]]) -> ColumnElement[str]:
    """Fields (never null: concat_ws would drop them) joined into one CSV line, without its line end."""
    return func.concat_ws(literal_column("','"), *fields)


def sql_float(value: ColumnElement[Any]) -> ColumnElement[str]:
    """A float8 as Python's repr spells it: PostgreSQL's shortest text (extra_float_digits = 1), `.0`
    after a whole number, and magnitudes in [1e15, 1e16) written out (PostgreSQL switches to an exponent
    at 15 digits, Python at 16). Plain comparisons pick the case; only that rare one parses text."""
    number = cast(value, Float)
    shortest = cast(number, Text)
    size = func.abs(number)
    whole = number == func.trunc(number)
    written_out = cast(cast(shortest, Numeric), Text)
    point: ColumnElement[str] = literal_column("'.0'")
    return case(
        (size >= literal_column("1e16"), shortest),
        (size >= literal_column("1e15"), case((whole, written_out.concat(point)), else_=written_out)),
        (whole, shortest.concat(point)),
        else_=shortest,
    )


def sql_numeric(value: ColumnElement[Any]) -> ColumnElement[Any]:
    """A float8 as PostgreSQL's `value::numeric`, which prints it with 15 significant digits (slow).

    - Hundredths, as entered values mostly are: when |value| < 1e13 and value is the float nearest to
      r/100 (r the integer nearest value × 100), it is r::numeric × 0.01, integer arithmetic.
    - Otherwise its shortest text (extra_float_digits ≥ 1) read as NUMERIC when that has at most 15
      characters, so at most 15 digits; else `value::numeric` itself.

    Either decimal has at most 15 significant digits and lies within half an ulp of the float, far less
    than half a 15th digit, so it is the one rounding to 15 digits gives: the same number. Its scale may
    be smaller than value::numeric's, which attainment never sees (its quotient has at least 20 places).
    """
    hundred = literal_column("100", Float)  # float8 arithmetic (SQLAlchemy would cast an untyped one)
    hundredths = func.round(value * hundred)  # evaluated only below 1e13, where × 100 cannot overflow
    shortest = cast(value, Text)
    general = case((func.length(shortest) <= 15, cast(shortest, Numeric)), else_=cast(value, Numeric))
    fast = cast(cast(hundredths, BigInteger), Numeric) * literal_column("0.01")
    by_size = case((hundredths / hundred == value, fast), else_=general)
    return case((func.abs(value) >= literal_column("1e13"), general), else_=by_size)


def utc_text(value: ColumnElement[Any]) -> ColumnElement[str]:
    """A timestamp's UTC wall time as PostgreSQL prints it under DateStyle ISO:
    `YYYY-MM-DD HH:MM:SS`, then `.` and the microseconds without trailing zeros when there are any."""
    return cast(func.timezone(literal_column("'UTC'"), value), Text)


def timestamp_field(text: ColumnElement[Any]) -> ColumnElement[str]:
    """`utc_text` (never null) as msgspec writes a UTC timestamp: ISO 8601 with `T`, six-digit
    microseconds only when there are any, and Z. The fraction's zeros come back from its length (19
    characters without one, 21 to 26 with one). About half the CPU of the two to_char patterns."""
    padding = func.right(literal_column("'00000'"), func.mod(literal_column("26") - func.length(text), 7))
    return (
        func.replace(text, literal_column("' '"), literal_column("'T'"))
        .concat(padding)
        .concat(literal_column("'Z'"))
    )


def written(fields: ColumnElement[Any]) -> ColumnElement[str]:
    """Cells already written as CSV fields (an indicator's, computed once per indicator)."""
    return fields


Field = Callable[[ColumnElement[Any]], ColumnElement[str]]


def _lines(
    narrowed: Callable[[Sequence[ColumnElement[Any]]], Rows],
    cells: Mapping[ColumnElement[Any], Field],
    keys: Sequence[ColumnElement[Any]],
) -> Rows:
    """A query of CSV lines: an inner query selects the raw values and sort keys (narrowed to the export's
    rows), the outer one writes each row as one line and sorts the lines. OFFSET 0 keeps PostgreSQL from
    folding the inner query in, which would compute a value (attainment) once for every place its
    formatting mentions it. Sorting one text per row, not a column per cell, takes a third of the time."""
    raw = [column.label(f"c{index}") for index, column in enumerate([*cells, *keys])]
    inner = narrowed(raw).order_by(None).offset(0).subquery("export")
    values = list(inner.c)
    fields = [field(column) for field, column in zip(cells.values(), values[: len(cells)], strict=True)]
    return select(csv_line(fields).label("line")).order_by(*values[len(cells) :])


def _indicator_cells() -> Subquery:
    """Per indicator, for the values CSV: its catalogue codes, id, name, unit, baseline and target written
    as CSV fields (`fields`), the attainment's NUMERIC operands, and its rank in export order (guideline
    position, then id). OFFSET 0 keeps PostgreSQL from folding it into the values query, which would
    compute all of it again for every value."""
    baseline, target = INDICATOR.c.baseline, INDICATOR.c.target
    low, span = numeric_operands(baseline, target)
    return (
        select(
            INDICATOR.c.id,
            INDICATOR.c.guideline_id,
            INDICATOR.c.department_id,
            GUIDELINE.c.position,
            func.row_number().over(order_by=(GUIDELINE.c.position, INDICATOR.c.id)).label("rank"),
            csv_line(
                [
                    text_field(CAMPAIGN.c.code),
                    text_field(DIRECTION.c.code),
                    text_field(GUIDELINE.c.code),
                    text_field(DEPARTMENT.c.code),
                    plain_field(INDICATOR.c.id),
                    text_field(INDICATOR.c.name),
                    text_field(INDICATOR.c.unit),
                    float_field(baseline),
                    float_field(target),
                ]
            ).label("fields"),
            baseline,
            target,
            low.label("low"),
            span.label("span"),
        )
        .select_from(INDICATOR)
        .join(GUIDELINE, GUIDELINE.c.id == INDICATOR.c.guideline_id)
        .join(DEPARTMENT, DEPARTMENT.c.id == INDICATOR.c.department_id)
        .join(DIRECTION, DIRECTION.c.id == GUIDELINE.c.direction_id)
        .join(CAMPAIGN, CAMPAIGN.c.id == DIRECTION.c.campaign_id)
        .offset(0)
        .subquery("indicators")
    )


def _sort_key(period: ColumnElement[str], rank: ColumnElement[int]) -> ColumnElement[int]:
    """(period, rank) as one BIGINT in the same order: the quarter's number (year × 4 + quarter, read from
    the code's fixed YYYY-Qn shape) above 2³¹, the rank below. PostgreSQL sorts one integer several times
    faster than a text (compared through the collation) and an integer."""
    quarter = cast(func.substr(period, 1, 4), Integer) * 4 + cast(func.substr(period, 7, 1), Integer)
    return cast(quarter, BigInteger) * literal_column("2147483648") + rank


class ValuesExport:
    """Current indicator values, ordered by (period, guideline position, indicator id)."""

    name = "values"
    row_type = ValueRow
    page_type = ValuesPage
    cursor_type = tuple[str, PeriodCode, Int64, Int64]

    @staticmethod
    def statement(dialect: str, bound: Bound) -> Rows:
        value = VALUE.c.value
        return ValuesExport._narrowed(
            select(
                VALUE.c.period,
                INDICATOR.c.guideline_id,
                INDICATOR.c.department_id,
                INDICATOR.c.id,
                INDICATOR.c.name,
                INDICATOR.c.unit,
                INDICATOR.c.baseline,
                INDICATOR.c.target,
                value,
                attainment(dialect, value, INDICATOR.c.baseline, INDICATOR.c.target),
                VALUE.c.note,
                VALUE.c.revision,
                VALUE.c.updated_at,
                GUIDELINE.c.position,
            ),
            bound,
        )

    @staticmethod
    def csv_statement(bound: Bound) -> Rows:
        """The rows as CSV lines written by PostgreSQL: the same rows, order and text as `row` + `_cells`.

        What belongs to an indicator is computed once per indicator (`_indicator_cells`), not per value,
        and the rows are sorted on one integer (`_sort_key`) instead of (period, guideline position,
        indicator id): the sort was the largest part of the query.
        """
        indicator = _indicator_cells()
        value = VALUE.c.value
        operands = (indicator.c.low, indicator.c.span)
        cells: dict[ColumnElement[Any], Field] = {
            VALUE.c.period: plain_field,
            indicator.c.fields: written,
            value: float_field,
            attainment(
                "postgresql", value, indicator.c.baseline, indicator.c.target, operands, sql_numeric(value)
            ): float_field,
            VALUE.c.note: text_field,
            VALUE.c.revision: plain_field,
            utc_text(VALUE.c.updated_at): timestamp_field,
        }
        keys = (_sort_key(VALUE.c.period, indicator.c.rank),)

        def narrowed(columns: Sequence[ColumnElement[Any]]) -> Rows:
            stmt = (
                select(*columns)
                .select_from(VALUE)
                .join(indicator, indicator.c.id == VALUE.c.indicator_id)
                .order_by(*keys)
            )
            order = (VALUE.c.period, indicator.c.position, indicator.c.id)
            return _where(
                stmt,
                order,
                bound,
                VALUE.c.period,
                indicator.c.guideline_id,
                indicator.c.department_id,
            )

        return _lines(narrowed, cells, keys)

    @staticmethod
    def _narrowed(stmt: Rows, bound: Bound) -> Rows:
        order = (VALUE.c.period, GUIDELINE.c.position, INDICATOR.c.id)
        stmt = (
            stmt.select_from(VALUE)
            .join(INDICATOR, INDICATOR.c.id == VALUE.c.indicator_id)
            .join(GUIDELINE, GUIDELINE.c.id == INDICATOR.c.guideline_id)
            .order_by(*order)
        )
        return _where(
            stmt,
            order,
            bound,
            VALUE.c.period,
            INDICATOR.c.guideline_id,
            INDICATOR.c.department_id,
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
    cursor_type = tuple[str, PeriodCode, Int64, Int64, Int64]

    @staticmethod
    def statement(dialect: str, bound: Bound) -> Rows:
        return ReportsExport._narrowed(
            select(
                REPORT.c.period,
                REPORT.c.guideline_id,
                REPORT.c.department_id,
                REPORT.c.status,
                REPORT.c.summary,
                REPORT.c.revision,
                REPORT.c.updated_at,
                GUIDELINE.c.position,
                DEPARTMENT.c.position,
                REPORT.c.id,
            ),
            bound,
        )

    @staticmethod
    def csv_statement(bound: Bound) -> Rows:
        """The rows as CSV lines written by PostgreSQL: the same rows, order and text as `row` + `_cells`."""
        cells: dict[ColumnElement[Any], Field] = {
            REPORT.c.period: plain_field,
            CAMPAIGN.c.code: text_field,
            DIRECTION.c.code: text_field,
            GUIDELINE.c.code: text_field,
            DEPARTMENT.c.code: text_field,
            REPORT.c.status: text_field,
            REPORT.c.summary: text_field,
            REPORT.c.revision: plain_field,
            utc_text(REPORT.c.updated_at): timestamp_field,
        }
        keys = (REPORT.c.period, GUIDELINE.c.position, DEPARTMENT.c.position, REPORT.c.id)
        return _lines(lambda columns: ReportsExport._narrowed(select(*columns), bound, *CODES), cells, keys)

    @staticmethod
    def _narrowed(stmt: Rows, bound: Bound, *joins: Join) -> Rows:
        order = (REPORT.c.period, GUIDELINE.c.position, DEPARTMENT.c.position, REPORT.c.id)
        stmt = (
            stmt.select_from(REPORT)
            .join(GUIDELINE, GUIDELINE.c.id == REPORT.c.guideline_id)
            .join(DEPARTMENT, DEPARTMENT.c.id == REPORT.c.department_id)
            .order_by(*order)
        )
        for target, on in joins:
            stmt = stmt.join(target, on)
        return _where(stmt, order, bound, REPORT.c.period, REPORT.c.guideline_id, REPORT.c.department_id)

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
EXPORTS: dict[str, Export] = {export.name: export for export in (ValuesExport, ReportsExport)}


def encode_cursor(export: Export, key: Key) -> str:
    """An opaque cursor for the row after `key`."""
    return base64.urlsafe_b64encode(msgspec.json.encode([export.name, *key])).decode("ascii").rstrip("=")


def decode_cursor(export: Export, cursor: str, periods: PeriodRules) -> Key:
    """The key a cursor stands for, validated completely before any query runs; 400 naming `cursor` for
    anything this export did not issue (not of the documented form, wrong shape, kind or types, a period
    outside the plan, an integer beyond 64 bits, bad base64 or JSON), as issue 11 published."""
    if not _CURSOR.fullmatch(cursor):
        raise ProblemError(400, NOT_A_CURSOR, field="cursor")
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        name, period, *key = msgspec.json.decode(raw, type=export.cursor_type, strict=True)
        within = periods.first <= Period.parse(period) <= periods.current()
    except (binascii.Error, ValueError, msgspec.DecodeError, PeriodError) as exc:
        raise ProblemError(400, NOT_A_CURSOR, field="cursor") from exc
    if name != export.name or not within:
        raise ProblemError(400, NOT_A_CURSOR, field="cursor")
    return (period, *key)


async def page(
    session: AsyncSession,
    catalogue: Catalogue,
    export: Export,
    filters: Filters,
    after: Key | None,
    limit: int,
) -> tuple[list[Any], Key | None]:
    """Up to `limit` rows after `after`, and the key to continue from (None after the last row)."""
    stmt = export.statement(dialect_of(session), Bound.of(filters, after)).limit(limit + 1)
    records = (await session.execute(stmt)).all()
    rows = [export.row(catalogue, record) for record in records[:limit]]
    more = len(records) > limit
    return [row for row, _ in rows], (rows[-1][1] if more else None)


def _csv_text(rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(rows)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    """Null as an empty cell; text formula-safe for Excel (`csv_text`); numbers as they are."""
    if value is None:
        return ""
    if isinstance(value, str):
        return csv_text(value)
    return value


def _cells(row: msgspec.Struct) -> list[Any]:
    """A row's values as the JSON export gives them (timestamps as ISO 8601), formula-safe for Excel."""
    values: list[Any] = msgspec.to_builtins(msgspec.structs.astuple(row))
    return [_cell(value) for value in values]


async def csv_stream(
    sessions: async_sessionmaker[ReadSession],
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
        stmt = export.statement(dialect_of(session), Bound.of(filters, after))
        stmt = stmt.execution_options(yield_per=CSV_BATCH)
        result = await session.stream(stmt)
        async for records in result.partitions(CSV_BATCH):
            yield _csv_text([_cells(export.row(catalogue, record)[0]) for record in records])


# COPY's text format writes a backslash, and the control characters it escapes, as these pairs
_TEXT_ESCAPES = {b"\\": b"\\", b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"v": b"\v"}
_TEXT_ESCAPE = re.compile(rb"\\(.)", re.DOTALL)


def _csv_bytes(data: bytes | bytearray | memoryview) -> bytes:
    """CSV lines from COPY's text format: row ends, its only raw LFs, become the csv module's CRLF, then
    the escapes are undone (LFs inside quoted text come back as they were). asyncpg hands over whole rows
    (one CopyData message each), so no escape is split between chunks."""
    chunk = bytes(data).replace(b"\n", b"\r\n")
    if b"\\" not in chunk:
        return chunk
    return _TEXT_ESCAPE.sub(lambda pair: _TEXT_ESCAPES[pair[1]], chunk)


_COPY_SQL_CACHE = 64  # compiled COPY statements kept, by export and shape of filters and cursor


def _copy_sql(export: Export, bound: Bound, dialect: Dialect) -> tuple[str, list[Any]]:
    """The COPY statement's SQL and arguments; the SQL is compiled once per export and `Bound.shape`."""
    sql, names, constants = _compiled(export.name, bound.shape, dialect)
    values = {**constants, **{parameter.key: parameter.value for parameter in bound.parameters()}}
    return sql, [values[name] for name in names]


@functools.lru_cache(maxsize=_COPY_SQL_CACHE)
def _compiled(name: str, shape: Shape, dialect: Dialect) -> tuple[str, Sequence[str], Mapping[str, Any]]:
    """SQL, its parameters' names in order, and the values of those that are constants (the statement's
    literals). Building and compiling takes ~25 ms, several times PostgreSQL's planning of it."""
    statement = EXPORTS[name].csv_statement(Bound.named(*shape))
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    return compiled.string, tuple(compiled.positiontup or ()), compiled.params


async def copy_stream(
    sessions: async_sessionmaker[ReadSession],
    export: Export,
    filters: Filters,
    after: Key | None,
    wait: float,
) -> AsyncIterator[bytes]:
    """`csv_stream` on PostgreSQL: the same bytes, written by `COPY (SELECT …) TO STDOUT` in bulk.

    PostgreSQL writes every line (attainment, the formula escaping and CSV quoting, number and timestamp
    spelling), one text per row in COPY's text format (`_csv_bytes` turns it into the CSV); asyncpg hands
    over the chunks as they arrive, through a small queue, so memory holds a few chunks.
    As with the Python path's fetches, the database gets `wait` seconds (the statement timeout) for
    each chunk; a slow client only pauses the COPY (asyncpg's own timeout would cover the whole COPY,
    client included, so it is set out of the way).
    """
    yield (BOM + _csv_text([export.row_type.__struct_fields__])).encode()
    async with sessions() as session:
        connection = await session.connection()
        await connection.exec_driver_sql("SET LOCAL extra_float_digits = 1")  # shortest exact floats
        await connection.exec_driver_sql("SET LOCAL DateStyle = ISO")  # timestamps as utc_text says
        sql, args = _copy_sql(export, Bound.of(filters, after), connection.dialect)
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        chunks: asyncio.Queue[bytes | bytearray | memoryview | None] = asyncio.Queue(maxsize=COPY_CHUNKS)

        async def copy() -> None:
            try:
                await driver.copy_from_query(
                    sql, *args, output=chunks.put, format="text", timeout=COPY_TIMEOUT_S
                )
            except asyncio.CancelledError:
                raise  # the reader is gone (client disconnected): no end mark, the queue may be full
            except BaseException:
                await chunks.put(None)  # the reader is still reading: it ends, then re-raises from the task
                raise
            await chunks.put(None)

        task = asyncio.create_task(copy())
        try:
            while (chunk := await asyncio.wait_for(chunks.get(), wait)) is not None:
                yield _csv_bytes(chunk)
            await task
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


def csv_body(
    sessions: async_sessionmaker[ReadSession],
    catalogue: Catalogue,
    export: Export,
    filters: Filters,
    after: Key | None,
    wait: float,
) -> AsyncIterator[str] | AsyncIterator[bytes]:
    """The CSV export's body: COPY on PostgreSQL, rows formatted in Python on SQLite."""
    if sessions.kw["bind"].dialect.name in COPY_DIALECTS:
        return copy_stream(sessions, export, filters, after, wait)
    return csv_stream(sessions, catalogue, export, filters, after)
