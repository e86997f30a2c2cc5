"""Synthetic history for the benchmark: the API loader and the bulk SQL loader.

* `create_indicators` and `post_rounds` go through the HTTP API: indicators through
  POST /api/v1/guidelines/{code}/indicators (admin token), and each revision round as one
  POST /api/v1/submissions per (department, period), made with that department's token.
* `extend_revisions` is the bulk loader: it appends revisions n+1..target to every report and value
  head in PostgreSQL, copying the writer (created_by, token_id) from the API-written revision and
  moving the head to the new last revision -- the rows the API would have written for the same posts.
* `add_export_rows` copies the API-written indicators (with their current values, as revision 1) so the
  CSV export has at least N value rows.
* `check_consistency` proves head and revision tables agree: head.revision = number of revisions =
  highest revision, revisions numbered from 1, and the head equals its last revision.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

STATUSES = ("not_started", "on_track", "at_risk", "delayed", "completed")
SUMMARY_SENTENCE = "取り組みは計画に沿って進んでおり、関係課と調整を続けている。"


@dataclass(frozen=True)
class Indicator:
    """An indicator created through the API."""

    id: int
    guideline: str
    department: str
    baseline: float
    target: float


@dataclass
class Plan:
    """Who reports on what: guideline → departments, and the indicators each department tracks."""

    guidelines: dict[str, list[str]]
    indicators: list[Indicator] = field(default_factory=list)

    def departments(self) -> list[str]:
        """Every department responsible for at least one guideline, sorted."""
        return sorted({d for departments in self.guidelines.values() for d in departments})

    def guidelines_of(self, department: str) -> list[str]:
        """The guidelines a department reports on."""
        return [code for code, departments in self.guidelines.items() if department in departments]

    def indicators_of(self, department: str) -> list[Indicator]:
        """The indicators a department tracks."""
        return [i for i in self.indicators if i.department == department]

    def pairs(self) -> int:
        """The number of (guideline, department) pairs."""
        return sum(len(departments) for departments in self.guidelines.values())


def periods(first_fiscal_year: int, years: int) -> list[str]:
    """Every quarter of `years` fiscal years from `first_fiscal_year`, oldest first."""
    return [f"{fy}-Q{q}" for fy in range(first_fiscal_year, first_fiscal_year + years) for q in (1, 2, 3, 4)]


async def fetch_plan(client: httpx.AsyncClient) -> Plan:
    """Guidelines and their responsible departments from GET /api/v1/guidelines."""
    response = await client.get("/api/v1/guidelines")
    response.raise_for_status()
    guidelines = {
        item["code"]: [d["code"] if isinstance(d, dict) else d for d in item["departments"]]
        for item in response.json()["items"]
    }
    return Plan(guidelines={code: deps for code, deps in guidelines.items() if deps})


async def create_indicators(client: httpx.AsyncClient, plan: Plan, per_guideline: int) -> int:
    """Create `per_guideline` indicators per guideline, owned by its departments in turn; the last status."""
    rng = random.Random(6)
    for code, departments in plan.guidelines.items():
        for k in range(per_guideline):
            department = departments[k % len(departments)]
            baseline = float(rng.randint(0, 50))
            target = baseline + rng.choice((-1, 1)) * rng.randint(10, 50)
            body = {
                "name": f"指標{code}-{k + 1}",
                "unit": "%",
                "baseline": baseline,
                "target": target,
                "department": department,
            }
            response = await client.post(f"/api/v1/guidelines/{code}/indicators", json=body)
            if response.status_code != 201:
                return response.status_code
            plan.indicators.append(Indicator(response.json()["id"], code, department, baseline, target))
    return 201


def submission(plan: Plan, department: str, period: str, revision: int) -> dict[str, Any]:
    """One department's whole quarter: a report per guideline and a value per indicator."""
    rng = random.Random(f"{department}/{period}/{revision}")
    reports = [
        {
            "guideline": code,
            "status": rng.choice(STATUSES),
            "summary": f"{period} 第{revision}版: " + SUMMARY_SENTENCE * rng.randint(1, 4),
        }
        for code in plan.guidelines_of(department)
    ]
    values = [
        {
            "indicator": i.id,
            "value": round(i.baseline + (i.target - i.baseline) * rng.uniform(-0.1, 1.2), 2),
            "note": f"第{revision}版の実績値",
        }
        for i in plan.indicators_of(department)
    ]
    return {"period": period, "reports": reports, "values": values}


async def post_rounds(
    base_url: str,
    tokens: dict[str, str],
    plan: Plan,
    period_codes: list[str],
    revisions: range,
    concurrency: int = 4,
) -> int:
    """Post one submission per (department, period) for each revision in turn; the number of posts."""
    semaphore = asyncio.Semaphore(concurrency)
    posts = 0
    failures: dict[int, str] = {}
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:

        async def post(department: str, period: str, revision: int) -> None:
            nonlocal posts
            async with semaphore:
                response = await client.post(
                    "/api/v1/submissions",
                    json=submission(plan, department, period, revision),
                    headers={"Authorization": f"Bearer {tokens[department]}"},
                )
            if response.status_code != 201:
                failures[response.status_code] = response.text[:300]
            posts += 1

        for revision in revisions:
            await asyncio.gather(*(post(d, p, revision) for d in plan.departments() for p in period_codes))
            if failures:
                raise RuntimeError(f"POST /api/v1/submissions failed: {failures}")
    return posts


def revisions_sql(
    head: str, alias: str, revisions: str, key: str, columns: dict[str, str]
) -> tuple[str, str]:
    """SQL for a revisioned table (a head row per key, an append-only revision table): append revisions
    ($1: up to this number; `columns` maps each revisioned column to its new value), then move the heads."""
    names, new_values = ", ".join(columns), ",\n       ".join(columns.values())
    extend = f"""
INSERT INTO {revisions} ({key}, revision, {names}, created_at, created_by, token_id)
SELECT {alias}.id, g.n,
       {new_values},
       last.created_at + (g.n - {alias}.revision) * interval '1 millisecond',
       last.created_by, last.token_id
FROM {head} {alias}
JOIN {revisions} last ON last.{key} = {alias}.id AND last.revision = {alias}.revision
CROSS JOIN LATERAL generate_series({alias}.revision + 1, $1::int) AS g(n)
"""
    moved = ", ".join(f"{name} = {alias}r.{name}" for name in columns)
    move_heads = f"""
UPDATE {head} {alias}
SET revision = {alias}r.revision, {moved},
    updated_at = {alias}r.created_at, updated_by = {alias}r.created_by
FROM {revisions} {alias}r
WHERE {alias}r.{key} = {alias}.id AND {alias}r.revision = $1::int AND {alias}.revision < $1::int
"""
    return extend, move_heads


EXTEND_REPORTS, MOVE_REPORT_HEADS = revisions_sql(
    "report",
    "r",
    "report_revision",
    "report_id",
    {
        "status": "(ARRAY['not_started','on_track','at_risk','delayed','completed'])"
        "[1 + (r.id * 7 + g.n) % 5]",
        "summary": "r.period || ' 第' || g.n || '版: ' || repeat($2::text, 1 + (r.id + g.n) % 4)",
    },
)
EXTEND_VALUES, MOVE_VALUE_HEADS = revisions_sql(
    "indicator_value",
    "v",
    "indicator_value_revision",
    "value_id",
    {
        "value": "round((v.value * (1 + ((v.id * 13 + g.n) % 11 - 5) / 100.0))::numeric, 2)::float8",
        "note": "'第' || g.n || '版の実績値'",
    },
)

BUMP_DATA = """
WITH bumped AS (UPDATE change_counter SET version = version + 1 WHERE name = 'data' RETURNING version)
SELECT pg_notify('wlbtrack_data', version::text) FROM bumped
"""  # the running server's workers learn the new version by NOTIFY (wlbtrack.lib.data_version)


async def extend_revisions(dsn: str, target: int) -> dict[str, int]:
    """Append revisions up to `target` to every report and value head (one transaction); rows added."""
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            reports = await connection.execute(EXTEND_REPORTS, target, SUMMARY_SENTENCE)
            await connection.execute(MOVE_REPORT_HEADS, target)
            values = await connection.execute(EXTEND_VALUES, target)
            await connection.execute(MOVE_VALUE_HEADS, target)
            await connection.execute(BUMP_DATA)
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
    return {"report_revisions": int(reports.split()[-1]), "value_revisions": int(values.split()[-1])}


COPY_INDICATORS = [
    """
    CREATE TEMP TABLE copy_plan AS
    SELECT i.id AS src_id, k, nextval(pg_get_serial_sequence('indicator', 'id')) AS new_id
    FROM indicator i CROSS JOIN generate_series(1, $1::int) AS k
    """,
    """
    INSERT INTO indicator (id, guideline_id, department_id, name, unit, baseline, target, revision,
                           created_at, created_by, updated_at, updated_by)
    SELECT p.new_id, i.guideline_id, i.department_id, i.name || '（複製' || p.k || '）', i.unit,
           i.baseline, i.target, 1, i.created_at, i.created_by, i.created_at, i.created_by
    FROM copy_plan p JOIN indicator i ON i.id = p.src_id
    """,
    """
    INSERT INTO indicator_revision (indicator_id, revision, name, unit, baseline, target,
                                    created_at, created_by, token_id)
    SELECT i.id, 1, i.name, i.unit, i.baseline, i.target, i.created_at, i.created_by, r.token_id
    FROM copy_plan p JOIN indicator i ON i.id = p.new_id
    JOIN indicator_revision r ON r.indicator_id = p.src_id AND r.revision = 1
    """,
    """
    CREATE TEMP TABLE value_plan AS
    SELECT v.id AS src_id, p.new_id AS indicator_id,
           nextval(pg_get_serial_sequence('indicator_value', 'id')) AS new_id
    FROM copy_plan p JOIN indicator_value v ON v.indicator_id = p.src_id
    """,
    """
    INSERT INTO indicator_value (id, indicator_id, period, revision, value, note, updated_at, updated_by,
                                 department_id)
    SELECT vp.new_id, vp.indicator_id, v.period, 1, v.value, v.note, v.updated_at, v.updated_by,
           v.department_id
    FROM value_plan vp JOIN indicator_value v ON v.id = vp.src_id
    """,
    """
    INSERT INTO indicator_value_revision (value_id, revision, value, note, created_at, created_by, token_id)
    SELECT vp.new_id, 1, v.value, v.note, v.updated_at, v.updated_by, last.token_id
    FROM value_plan vp
    JOIN indicator_value v ON v.id = vp.src_id
    JOIN indicator_value_revision last ON last.value_id = v.id AND last.revision = v.revision
    """,
]


async def add_export_rows(dsn: str, min_rows: int) -> dict[str, int]:
    """Copy every indicator (and its current values) enough times for `min_rows` current values."""
    connection = await asyncpg.connect(dsn)
    try:
        values = await connection.fetchval("SELECT count(*) FROM indicator_value")
        indicators = await connection.fetchval("SELECT count(*) FROM indicator")
        copies = max(0, -(-(min_rows - values) // values)) if values else 0
        if copies:
            async with connection.transaction():
                await connection.execute(COPY_INDICATORS[0], copies)
                for statement in COPY_INDICATORS[1:]:
                    await connection.execute(statement)
                await connection.execute(BUMP_DATA)
            await connection.execute("VACUUM ANALYZE")
        total = await connection.fetchval("SELECT count(*) FROM indicator_value")
    finally:
        await connection.close()
    return {"copies": copies, "indicators": indicators * (1 + copies), "value_rows": total}


def consistency_sql(head: str, revisions: str, key: str, same: str) -> str:
    """Heads that disagree with their revisions: count, first and last revision, and (`same`, a condition
    true when they differ) the revisioned columns of the newest revision."""
    return f"""
        WITH agg AS (SELECT {key}, count(*) AS n, min(revision) AS lo, max(revision) AS hi
                     FROM {revisions} GROUP BY {key})
        SELECT count(*) FROM {head} h
        LEFT JOIN agg ON agg.{key} = h.id
        LEFT JOIN {revisions} last ON last.{key} = h.id AND last.revision = h.revision
        WHERE agg.n IS DISTINCT FROM h.revision OR agg.hi IS DISTINCT FROM h.revision OR agg.lo <> 1
           OR last.id IS NULL OR {same}
           OR last.created_at <> h.updated_at OR last.created_by <> h.updated_by
    """


CHECKS = {
    "report": consistency_sql(
        "report", "report_revision", "report_id", "last.status <> h.status OR last.summary <> h.summary"
    ),
    "indicator_value": consistency_sql(
        "indicator_value",
        "indicator_value_revision",
        "value_id",
        "last.value <> h.value OR last.note IS DISTINCT FROM h.note",
    ),
    "indicator": """
        WITH agg AS (SELECT indicator_id, count(*) AS n, max(revision) AS hi
                     FROM indicator_revision GROUP BY indicator_id)
        SELECT count(*) FROM indicator h LEFT JOIN agg ON agg.indicator_id = h.id
        WHERE agg.n IS DISTINCT FROM h.revision OR agg.hi IS DISTINCT FROM h.revision
    """,
    "orphan revisions": """
        SELECT (SELECT count(*) FROM report_revision rr WHERE NOT EXISTS
                  (SELECT 1 FROM report h WHERE h.id = rr.report_id AND rr.revision <= h.revision))
             + (SELECT count(*) FROM indicator_value_revision vr WHERE NOT EXISTS
                  (SELECT 1 FROM indicator_value h WHERE h.id = vr.value_id AND vr.revision <= h.revision))
    """,
}


async def table_counts(dsn: str) -> dict[str, int]:
    """Row counts of the head and revision tables."""
    connection = await asyncpg.connect(dsn)
    try:
        names = ("indicator", "report", "report_revision", "indicator_value", "indicator_value_revision")
        return {name: await connection.fetchval(f"SELECT count(*) FROM {name}") for name in names}
    finally:
        await connection.close()


async def check_consistency(dsn: str) -> dict[str, int]:
    """Rows that break the head/revision invariants, per check (all zero when consistent)."""
    connection = await asyncpg.connect(dsn)
    try:
        return {name: await connection.fetchval(sql) for name, sql in CHECKS.items()}
    finally:
        await connection.close()


def revision_depths(counts: dict[str, int]) -> dict[str, float]:
    """Mean revisions per report and per value."""
    depth: dict[str, float] = defaultdict(float)
    if counts["report"]:
        depth["report"] = counts["report_revision"] / counts["report"]
    if counts["indicator_value"]:
        depth["value"] = counts["indicator_value_revision"] / counts["indicator_value"]
    return dict(depth)
