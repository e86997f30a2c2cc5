"""The wlbtrack performance benchmark (issue 6): run with the project's venv,

    .venv/bin/python benchmarks/run.py [--quick] [--keep-db]

It creates a fresh PostgreSQL database, starts `wlbtrack serve --workers 1` and two reference apps,
loads a synthetic history, drives load with wrk (and benchmarks/constant_rate.py for fixed-rate
latency), prints the target table and writes it to benchmarks/RESULTS.md. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
FINDINGS_MARKER = "<!-- findings: everything below this line is kept when run.py rewrites the file -->"
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
STATUSES = ("not_started", "on_track", "at_risk", "delayed", "completed")

try:
    import asyncpg
    import httpx
    import imports
    import load_history as history
    from procinfo import (
        RssSampler,
        cpu_seconds,
        postgres_cpu_since,
        postgres_cpu_snapshot,
        rss_mb,
        run_delay_seconds,
        worker_pid,
    )
    from pyspy_summary import summarize
except ImportError as exc:  # pragma: no cover - depends on the interpreter used
    sys.exit(
        f"missing Python package ({exc.name}): run with the project's venv, "
        "`.venv/bin/python benchmarks/run.py` (after `pip install -e .[dev]`)"
    )


class NotAvailable(Exception):
    """The endpoint a measurement needs answers 404/405 (not built yet)."""


@dataclass
class Config:
    """What one run does."""

    quick: bool
    keep_db: bool
    pin: bool
    first_fiscal_year: int
    years: int
    indicators_per_guideline: int
    base_revisions: int
    deep_revisions: int
    api_revisions: int
    connections: int
    duration: float
    warmup: float
    repetitions: int
    rounds: int
    export_rows: int
    results: Path | None
    py_spy: Path | None
    only_import: bool = False
    only_export: bool = False
    only_dashboard: bool = False


@dataclass
class LoadRun:
    """One wrk (or constant-rate) measurement."""

    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    driver_cpu: float
    server_cpu: float
    server_wait: float
    postgres_cpu: float
    note: str = ""


@dataclass
class Row:
    """One line of the target table."""

    target: str
    measured: str
    threshold: str
    status: str


@dataclass
class Context:
    """Everything the steps share."""

    config: Config
    workdir: Path
    wlbtrack: str
    database: str = ""
    dsn: str = ""
    base_url: str = ""
    server_pid: int = 0
    tokens: dict[str, str] = field(default_factory=dict)
    plan: history.Plan | None = None
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    runs: list[LoadRun] = field(default_factory=list)
    baselines: dict[str, list[LoadRun]] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    facts: dict[str, object] = field(default_factory=dict)

    def log(self, message: str) -> None:
        """Progress output on stderr."""
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- tools, processes and the database --------------------------------------------------------


def check_tools() -> dict[str, str]:
    """Paths of the tools the benchmark needs; exits with install instructions when one is missing."""
    wlbtrack = Path(sys.executable).parent / "wlbtrack"
    found = {
        "wrk": shutil.which("wrk"),
        "wlbtrack": str(wlbtrack) if wlbtrack.exists() else shutil.which("wlbtrack"),
    }
    missing = {
        "wrk": "apt-get update && apt-get install -y wrk",
        "wlbtrack": "pip install -e .[dev] in the venv whose python runs this script",
    }
    problems = [f"  {name}: {missing[name]}" for name, path in found.items() if path is None]
    if problems:
        sys.exit("missing tools:\n" + "\n".join(problems))
    return {name: str(path) for name, path in found.items()}


def free_port() -> int:
    """An unused loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pin_to(cpu: int | None) -> Callable[[], None] | None:
    """A preexec function pinning the child to one CPU (None: no pinning)."""
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def start_process(
    ctx: Context, name: str, argv: list[str], env: dict[str, str], cwd: Path = PROJECT
) -> subprocess.Popen[bytes]:
    """Start a long-running process in its own session, logging to the work directory."""
    log = (ctx.workdir / f"{name}.log").open("ab")
    process = subprocess.Popen(
        argv,
        env={**os.environ, **env},
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=pin_to(1 if ctx.config.pin else None),
    )
    ctx.processes.append(process)
    return process


def stop_process(ctx: Context, process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process's group, SIGKILL it after 15 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    if process in ctx.processes:
        ctx.processes.remove(process)


def wait_ready(ctx: Context, process: subprocess.Popen[bytes], url: str, name: str) -> None:
    """Poll `url` until it answers 200; fail with the log's tail if the process dies or 60 s pass."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = (ctx.workdir / f"{name}.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{tail}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{name} not ready after 60 s")


async def admin_execute(sql: str) -> None:
    """Run one statement on the maintenance database."""
    connection = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def wlbtrack(ctx: Context, *args: str) -> str:
    """Run a wlbtrack CLI command against the benchmark database; its standard output."""
    env = {**os.environ, "WLBTRACK_DATABASE_URL": ctx.dsn}
    result = subprocess.run(
        [ctx.wlbtrack, *args], env=env, cwd=PROJECT, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"wlbtrack {' '.join(args)} failed ({result.returncode}): {result.stderr[-1500:]}")
    output: str = result.stdout.strip()
    return output


def server_env(ctx: Context) -> dict[str, str]:
    """Environment of the service under test."""
    return {
        "WLBTRACK_DATABASE_URL": ctx.dsn,
        "WLBTRACK_RATE_LIMIT": "1000000000/minute",
        "WLBTRACK_FIRST_FISCAL_YEAR": str(min(2010, ctx.config.first_fiscal_year)),
    }


def setup(ctx: Context) -> None:
    """Fresh database, migrations, seed, tokens, and the server on a free port."""
    ctx.database = f"wlbbench_{os.getpid()}_{int(time.time())}"
    ctx.dsn = f"postgresql://postgres@127.0.0.1:5432/{ctx.database}"
    asyncio.run(admin_execute(f'CREATE DATABASE "{ctx.database}"'))
    ctx.log(f"database {ctx.database} created")
    wlbtrack(ctx, "db", "upgrade")
    wlbtrack(ctx, "seed")
    port = free_port()
    ctx.base_url = f"http://127.0.0.1:{port}"
    argv = [ctx.wlbtrack, "serve", "--workers", "1", "--no-migrate", "--host", "127.0.0.1"]
    process = start_process(ctx, "wlbtrack", [*argv, "--port", str(port)], server_env(ctx))
    wait_ready(ctx, process, f"{ctx.base_url}/ready", "wlbtrack")
    ctx.server_pid = worker_pid(process.pid)
    ctx.facts["server_pids"] = f"serve pid {process.pid}, worker pid {ctx.server_pid}"
    ctx.log(f"wlbtrack serving on {ctx.base_url} ({ctx.facts['server_pids']})")
    create_tokens(ctx)


def create_tokens(ctx: Context) -> None:
    """An admin, a viewer and one token per department, through `wlbtrack token create`."""
    ctx.tokens["admin"] = wlbtrack(ctx, "token", "create", "--role", "admin", "--name", "bench-admin")
    ctx.tokens["viewer"] = wlbtrack(ctx, "token", "create", "--role", "viewer", "--name", "bench-viewer")
    with httpx.Client(base_url=ctx.base_url, headers=auth(ctx, "viewer")) as client:
        response = client.get("/api/v1/departments")
        response.raise_for_status()
        departments = [item["code"] for item in response.json()["items"]]
    for code in departments:
        ctx.tokens[code] = wlbtrack(
            ctx, "token", "create", "--role", "department", "--department", code, "--name", f"bench-{code}"
        )


def auth(ctx: Context, who: str) -> dict[str, str]:
    """The Authorization header of a benchmark token."""
    return {"Authorization": f"Bearer {ctx.tokens[who]}"}


def teardown(ctx: Context) -> None:
    """Stop every process the run started and drop the database (unless --keep-db)."""
    for process in list(ctx.processes):
        try:
            stop_process(ctx, process)
        except Exception as exc:
            print(f"could not stop pid {process.pid}: {exc}", file=sys.stderr)
    if ctx.database and not ctx.config.keep_db:
        asyncio.run(admin_execute(f'DROP DATABASE IF EXISTS "{ctx.database}" WITH (FORCE)'))
        ctx.log(f"database {ctx.database} dropped")
    elif ctx.database:
        ctx.log(f"database kept: {ctx.dsn}")


# --- load generation --------------------------------------------------------------------------


def probe(url: str, headers: dict[str, str]) -> None:
    """One request: NotAvailable on 404/405, RuntimeError on any other non-2xx answer."""
    response = httpx.get(url, headers=headers, timeout=60)
    if response.status_code in (404, 405):
        raise NotAvailable(f"{response.status_code} from {url}")
    if response.status_code >= 300:
        raise RuntimeError(f"{response.status_code} from {url}: {response.text[:300]}")


@contextmanager
def cpu_meter(ctx: Context, pid: int) -> Iterator[dict[str, float]]:
    """CPU use (% of one core) of the server worker and of PostgreSQL, and the worker's run-queue wait."""
    result: dict[str, float] = {}
    start, server, pg = time.perf_counter(), cpu_seconds(pid), postgres_cpu_snapshot()
    waited = run_delay_seconds(pid)
    yield result
    elapsed = time.perf_counter() - start
    result["server"] = 100 * (cpu_seconds(pid) - server) / elapsed
    result["server_wait"] = 100 * (run_delay_seconds(pid) - waited) / elapsed
    result["postgres"] = 100 * postgres_cpu_since(pg) / elapsed


def wrk(
    ctx: Context,
    name: str,
    url: str,
    token: str | None,
    server_pid: int | None = None,
    *,
    cookie: str | None = None,
    connections: int | None = None,
) -> LoadRun:
    """Warm up, then one wrk run (1 thread, --latency, Lua auth script); CPU use of wrk and server.

    With `cookie` (a signed-in dashboard session) every answer must be 200: a redirect means signed out.
    """
    config = ctx.config
    connections = connections or config.connections
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    probe(url, {**headers, **({"Cookie": cookie} if cookie else {})})
    env = {**os.environ, "WLB_TOKEN": token or "", "WLB_COOKIE": cookie or ""}
    script = str(HERE / "wrk" / "auth.lua")
    base = ["wrk", "-t1", f"-c{connections}", "--latency", "-s", script]
    subprocess.run([*base, f"-d{round(config.warmup)}s", url], env=env, capture_output=True, check=True)
    pid = server_pid or ctx.server_pid
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start, server, pg = time.perf_counter(), cpu_seconds(pid), postgres_cpu_snapshot()
    waited = run_delay_seconds(pid)
    profiler = start_py_spy(ctx, name, pid)
    result = subprocess.run(
        [*base, f"-d{round(config.duration)}s", url], env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    server_cpu, pg_cpu = cpu_seconds(pid) - server, postgres_cpu_since(pg)
    waited = run_delay_seconds(pid) - waited
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    stop_py_spy(profiler)
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed: {result.stderr[-500:]}")
    line = next(line for line in result.stdout.splitlines() if line.startswith("WRKJSON "))
    data = json.loads(line.removeprefix("WRKJSON "))
    errors = sum(data[k] for k in data if k.startswith("errors_"))
    statuses = ", ".join(f"{n} × {status}" for status, n in sorted(data["statuses"].items()))
    run = LoadRun(
        name=name,
        rps=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        requests=data["requests"],
        errors=errors,
        driver_cpu=100 * ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) / elapsed,
        server_cpu=100 * server_cpu / elapsed,
        server_wait=100 * waited / elapsed,
        postgres_cpu=100 * pg_cpu / elapsed,
        note=f"wrk -t1 -c{connections} -d{round(config.duration)}s; {statuses}",
    )
    ctx.runs.append(run)
    ctx.log(f"{name}: {run.rps:.0f} req/s, p50 {run.p50_ms:.2f} ms, p99 {run.p99_ms:.2f} ms, errors {errors}")
    if errors:
        raise RuntimeError(f"{name}: {errors} failed requests (statuses {statuses}; wrk {data})")
    if cookie and set(data["statuses"]) != {"200"}:
        raise RuntimeError(f"{name}: not every answer was 200 (statuses {statuses})")
    return run


def constant_rate(
    ctx: Context, name: str, url: str, token: str | None, rate: float, server_pid: int | None = None
) -> LoadRun:
    """Open-loop load at a fixed rate through benchmarks/constant_rate.py."""
    argv = [
        sys.executable,
        str(HERE / "constant_rate.py"),
        "--url",
        url,
        *(["--token", token] if token else []),
    ]
    argv += ["--rate", f"{rate:.1f}", "--duration", str(ctx.config.duration)]
    argv += ["--connections", str(ctx.config.connections)]
    with cpu_meter(ctx, server_pid or ctx.server_pid) as cpu:
        result = subprocess.run(argv, capture_output=True, text=True, check=True)
    data = json.loads(result.stdout.strip().splitlines()[-1])
    run = LoadRun(
        name=name,
        rps=data["achieved_rate"],
        p50_ms=data["p50_ms"],
        p99_ms=data["p99_ms"],
        requests=data["requests"],
        errors=data["errors"],
        driver_cpu=data["driver_cpu_percent"],
        server_cpu=cpu["server"],
        server_wait=cpu["server_wait"],
        postgres_cpu=cpu["postgres"],
        note=f"constant_rate.py {rate:.0f}/s, {ctx.config.connections} connections",
    )
    ctx.runs.append(run)
    ctx.log(f"{name}: {run.rps:.0f} req/s, p50 {run.p50_ms:.2f} ms, p99 {run.p99_ms:.2f} ms")
    key, repeat = f"'{name}'", 1
    while key in ctx.facts:  # one line per round
        repeat += 1
        key = f"'{name}', round {repeat}"
    ctx.facts[key] = (
        f"slow requests (> 5 × p50) per second of the run {data['slow_per_second']}; driver timer lag "
        f"(not counted) p50 {data['timer_lag_p50_ms']:.2f} ms, p99 {data['timer_lag_p99_ms']:.2f} ms"
    )
    return run


def start_py_spy(ctx: Context, name: str, pid: int) -> tuple[subprocess.Popen[bytes], Path] | None:
    """With --py-spy DIR, record the server during a wlbtrack run (raw collapsed stacks)."""
    if ctx.config.py_spy is None or pid != ctx.server_pid:
        return None
    ctx.config.py_spy.mkdir(parents=True, exist_ok=True)
    output = ctx.config.py_spy / f"{profile_name(name)}.txt"
    argv = [py_spy_path(), "record", "--pid", str(pid), "--rate", "250", "--format", "raw", "--nonblocking"]
    argv += ["--output", str(output), "--duration", str(int(ctx.config.duration))]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), output


def stop_py_spy(profiler: tuple[subprocess.Popen[bytes], Path] | None) -> None:
    """Wait for the py-spy recording; write its summary (top functions) beside it."""
    if profiler is None:
        return
    process, raw = profiler
    process.wait(60)
    if raw.exists():
        raw.with_suffix(".summary.txt").write_text(summarize(raw) + "\n")


def profile_name(name: str) -> str:
    """A file name for a load run's profile."""
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")


def py_spy_path() -> str:
    """py-spy beside this interpreter, or on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy") or "py-spy"


def start_reference(ctx: Context, module: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """Serve a reference app with uvicorn, one worker, like `wlbtrack serve`; its process and base URL."""
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", f"{module}:app", "--app-dir", str(HERE)]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--no-access-log"]
    process = start_process(ctx, module, argv, env)
    wait_ready(ctx, process, f"http://127.0.0.1:{port}/ready", module)
    return process, f"http://127.0.0.1:{port}"


# --- the steps --------------------------------------------------------------------------------


def ratio_row(target: str, measured: float, reference: float, bound: float, unit: str, at_least: bool) -> Row:
    """A row comparing measured / reference with a bound (≥ bound when at_least, else ≤ bound)."""
    ratio = measured / reference
    ok = ratio >= bound if at_least else ratio <= bound
    threshold = f"{ratio:.2f} {'≥' if at_least else '≤'} {bound}"
    return Row(
        target, f"{measured:.1f} {unit} vs {reference:.1f} {unit}", threshold, "pass" if ok else "FAIL"
    )


def step(ctx: Context, targets: list[str], action: Callable[[], list[Row]]) -> None:
    """Run a measurement; when it cannot be done, mark its rows not available or error and go on."""
    try:
        ctx.rows.extend(action())
    except NotAvailable as exc:
        ctx.log(f"{', '.join(targets)}: not available ({exc})")
        ctx.rows.extend(Row(t, "not available", str(exc), "not available") for t in targets)
    except Exception as exc:
        ctx.log(f"{', '.join(targets)}: error {type(exc).__name__}: {exc}")
        ctx.rows.extend(Row(t, "error", f"{type(exc).__name__}: {str(exc)[:200]}", "error") for t in targets)


GUIDELINES_TARGET = "13.1 /guidelines rps ≥ 0.4 × bare Litestar app"
SINGLE_FLIGHT_TARGET = "13.6 /progress/campaigns/1 rps with a report every 50 ms ≥ 0.3 × SELECT 1"
WRITE_EVERY_S = 0.05


def measure_guidelines(ctx: Context) -> list[Row]:
    """Target 13.1: /api/v1/guidelines, routed like any request, vs a bare Litestar app sending the bytes."""
    url = f"{ctx.base_url}/api/v1/guidelines"
    body = httpx.get(url, headers=auth(ctx, "viewer")).content
    body_file = ctx.workdir / "guidelines.json"
    body_file.write_bytes(body)
    ctx.facts["guidelines_bytes"] = len(body)
    process, base = start_reference(ctx, "reference_const", {"WLB_REF_BODY_FILE": str(body_file)})
    services, references = [], []
    try:
        if httpx.get(f"{base}/api/v1/guidelines").content != body:
            raise RuntimeError("the constant reference does not serve the service's bytes")
        for _ in range(ctx.config.rounds):
            services.append(wrk(ctx, "GET /api/v1/guidelines", url, ctx.tokens["viewer"]))
            references.append(
                wrk(ctx, "reference: constant JSON", f"{base}/api/v1/guidelines", None, process.pid)
            )
    finally:
        stop_process(ctx, process)
    service, reference = best(services), best(references)
    return [ratio_row(GUIDELINES_TARGET, service.rps, reference.rps, 0.4, "rps", True)]


def best(runs: list[LoadRun]) -> LoadRun:
    """The run least disturbed by other load on the machine: the highest throughput."""
    return max(runs, key=lambda run: run.rps)


def load_base_history(ctx: Context) -> None:
    """Indicators through the API, then the 1× history: API rounds plus the bulk loader."""
    config = ctx.config
    period_codes = history.periods(config.first_fiscal_year, config.years)

    async def load() -> tuple[history.Plan, int]:
        async with httpx.AsyncClient(base_url=ctx.base_url, headers=auth(ctx, "admin"), timeout=60) as client:
            plan = await history.fetch_plan(client)
            status = await history.create_indicators(client, plan, config.indicators_per_guideline)
        if status in (404, 405):
            raise NotAvailable(f"{status} from POST /api/v1/guidelines/{{code}}/indicators")
        if status != 201:
            raise RuntimeError(f"creating indicators: {status}")
        api_revisions = range(1, min(config.api_revisions, config.base_revisions) + 1)
        posts = await history.post_rounds(ctx.base_url, ctx.tokens, plan, period_codes, api_revisions)
        return plan, posts

    start = time.perf_counter()
    probe_submissions(ctx)
    ctx.plan, posts = asyncio.run(load())
    api_seconds = time.perf_counter() - start
    api_check = asyncio.run(history.check_consistency(ctx.dsn))
    if any(api_check.values()):
        raise RuntimeError(f"the API's own rows break the head/revision invariants: {api_check}")
    start = time.perf_counter()
    added = asyncio.run(history.extend_revisions(ctx.dsn, config.base_revisions))
    bulk_seconds = time.perf_counter() - start
    verify_history(ctx, "1x")
    ctx.facts["history"] = (
        f"{len(period_codes)} periods ({period_codes[0]}..{period_codes[-1]}), {ctx.plan.pairs()} "
        f"(guideline, department) pairs, {len(ctx.plan.indicators)} indicators; "
        f"revisions 1..{config.api_revisions} "
        f"through {posts} POST /api/v1/submissions ({api_seconds:.0f} s), the rest by the bulk loader "
        f"({added['report_revisions'] + added['value_revisions']} revision rows, {bulk_seconds:.0f} s)"
    )
    ctx.log(str(ctx.facts["history"]))


def probe_submissions(ctx: Context) -> None:
    """NotAvailable unless POST /api/v1/submissions exists (an empty body gets 4xx, not 404/405)."""
    response = httpx.post(f"{ctx.base_url}/api/v1/submissions", json={}, headers=auth(ctx, "admin"))
    if response.status_code in (404, 405):
        raise NotAvailable(f"{response.status_code} from POST /api/v1/submissions")


def verify_history(ctx: Context, label: str) -> None:
    """Fail unless head and revision tables are consistent; record the table sizes."""
    problems = asyncio.run(history.check_consistency(ctx.dsn))
    if any(problems.values()):
        raise RuntimeError(f"history {label} is inconsistent: {problems}")
    counts = asyncio.run(history.table_counts(ctx.dsn))
    depth = history.revision_depths(counts)
    ctx.facts[f"rows {label}"] = (
        ", ".join(f"{k} {v:,}" for k, v in counts.items())
        + " — "
        + ", ".join(f"{k} depth {v:.1f}" for k, v in depth.items())
    )
    ctx.log(f"history {label} consistent: {ctx.facts[f'rows {label}']}")


def calmest(runs: list[LoadRun]) -> LoadRun:
    """The constant-rate run with the lowest p99/p50."""
    return min(runs, key=lambda run: run.p99_ms / run.p50_ms)


def progress_urls(ctx: Context) -> dict[str, str]:
    """The progress endpoints measured, for the last period of the history."""
    last = history.periods(ctx.config.first_fiscal_year, ctx.config.years)[-1]
    return {
        "progress": f"{ctx.base_url}/api/v1/progress?period={last}",
        "campaign": f"{ctx.base_url}/api/v1/progress/campaigns/1?period={last}",
    }


def measure_progress_1x(ctx: Context) -> list[Row]:
    """Target 2: progress throughput vs SELECT 1, and its p99/p50 at half its peak rate."""
    urls = progress_urls(ctx)
    token = ctx.tokens["viewer"]
    pool = os.environ.get("WLBTRACK_DB_POOL_SIZE", "10")
    process, base = start_reference(
        ctx, "reference_select1", {"WLB_REF_DSN": ctx.dsn, "WLB_REF_POOL_SIZE": pool}
    )
    peaks, references = [], []
    try:
        for _ in range(ctx.config.rounds):
            peaks.append(wrk(ctx, "GET /progress (1×)", urls["progress"], token))
            references.append(wrk(ctx, "reference: SELECT 1", f"{base}/select1", None, process.pid))
        ctx.baselines["progress"] = peaks
        peak, reference = best(peaks), best(references)
        rate = peak.rps / 2
        halves, controls = [], []
        for _ in range(ctx.config.rounds):  # noise only adds latency, so the calmest round is kept
            halves.append(constant_rate(ctx, "GET /progress at ½ peak (1×)", urls["progress"], token, rate))
            controls.append(
                constant_rate(
                    ctx,
                    "reference: SELECT 1 at the same rate (control)",
                    f"{base}/select1",
                    None,
                    rate,
                    process.pid,
                )
            )
        own_rate = reference.rps / 2  # the same criterion applied to the reference app itself
        own_halves = [
            constant_rate(
                ctx, "reference: SELECT 1 at its own ½ peak", f"{base}/select1", None, own_rate, process.pid
            )
            for _ in range(ctx.config.rounds)
        ]
        half, control, own = calmest(halves), calmest(controls), calmest(own_halves)
    finally:
        stop_process(ctx, process)
    rows = [ratio_row("2a. /progress rps ≥ 0.5 × SELECT 1", peak.rps, reference.rps, 0.5, "rps", True)]
    row = ratio_row("2b. /progress p99 ≤ 5 × p50 at ½ peak", half.p99_ms, half.p50_ms, 5, "ms", False)
    every = ", ".join(tail_ratio(run) for run in halves)
    row.measured = (
        f"p99 {half.p99_ms:.1f} ms, p50 {half.p50_ms:.1f} ms at {half.rps:.0f}/s; every round: {every} "
        f"(SELECT 1 app, p99/p50 at the same rate: {tail_ratio(control)}; at its own ½ peak, "
        f"{own.rps:.0f}/s: {tail_ratio(own)})"
    )
    return [*rows, row]


def tail_ratio(run: LoadRun) -> str:
    """p99/p50 of a constant-rate run, two decimals."""
    return f"{run.p99_ms / run.p50_ms:.2f}"


def measure_campaign_1x(ctx: Context) -> list[Row]:
    """The 1× baseline of /progress/campaigns/1 (compared in target 3)."""
    url = progress_urls(ctx)["campaign"]
    ctx.baselines["campaign"] = [
        wrk(ctx, "GET /progress/campaigns/1 (1×)", url, ctx.tokens["viewer"])
        for _ in range(ctx.config.rounds)
    ]
    return []


DASHBOARD_TARGETS = [
    "15a. /dashboard/ overview rps ≥ 0.3 × GET /api/v1/progress for the same period and data (same run)",
    "15b. overview p50 server time < 50 ms with 40 quarters of history",
]


def dashboard_cookie(ctx: Context) -> str:
    """A signed-in dashboard session as a Cookie header: the login form's CSRF token (cookie and hidden
    field), then POST /dashboard/login with the viewer token, as a browser signs in."""
    with httpx.Client(base_url=ctx.base_url, timeout=60) as client:
        form = client.get("/dashboard/login")
        if form.status_code in (404, 405):
            raise NotAvailable(f"{form.status_code} from GET /dashboard/login")
        form.raise_for_status()
        found = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
        if found is None:
            raise RuntimeError("the login form has no _csrf_token field")
        answer = client.post(
            "/dashboard/login", data={"token": ctx.tokens["viewer"], "_csrf_token": found.group(1)}
        )
        if not answer.is_redirect or answer.headers.get("location") != "/dashboard/":
            raise RuntimeError(f"dashboard login: {answer.status_code} {answer.text[:300]}")
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def measure_dashboard(ctx: Context) -> list[Row]:
    """Targets 15a and 15b: the overview page (signed in by its session cookie) vs GET /api/v1/progress for
    the same period, alternating for --rounds rounds; then the overview alone on one connection, whose
    p50 is the server's time per page without queueing behind other requests."""
    if ctx.plan is None:
        raise NotAvailable("no history loaded")
    last = history.periods(ctx.config.first_fiscal_year, ctx.config.years)[-1]
    overview = f"{ctx.base_url}/dashboard/?period={last}"
    cookie = dashboard_cookie(ctx)
    pages, apis = [], []
    for _ in range(ctx.config.rounds):
        pages.append(wrk(ctx, "GET /dashboard/ (overview)", overview, None, cookie=cookie))
        apis.append(
            wrk(
                ctx,
                "GET /api/v1/progress (overview's period)",
                progress_urls(ctx)["progress"],
                ctx.tokens["viewer"],
            )
        )
    alone = [
        wrk(ctx, "GET /dashboard/ (overview), one connection", overview, None, cookie=cookie, connections=1)
        for _ in range(ctx.config.rounds)
    ]
    quickest = min(alone, key=lambda run: run.p50_ms)
    every = ", ".join(f"{run.p50_ms:.1f}" for run in alone)
    periods = ctx.config.years * 4
    return [
        ratio_row(DASHBOARD_TARGETS[0], best(pages).rps, best(apis).rps, 0.3, "rps", True),
        Row(
            DASHBOARD_TARGETS[1],
            f"p50 {quickest.p50_ms:.1f} ms on one connection, {periods} quarters of history; "
            f"every round: {every} ms",
            f"{quickest.p50_ms:.1f} < 50 ms" + ("" if periods >= 40 else f"; only {periods} quarters"),
            "pass" if quickest.p50_ms < 50 and periods >= 40 else "FAIL",
        ),
    ]


@contextmanager
def reporting_every(ctx: Context, seconds: float) -> Iterator[list[int]]:
    """While open, one department posts a report every `seconds` from a thread of its own, as a script
    would: each post starts on its schedule, or as soon as the one before it is answered if that took
    longer (posts never pile up); yields the statuses answered so far."""
    plan = ctx.plan
    if plan is None:
        raise NotAvailable("no history (guidelines and departments) loaded")
    department = plan.departments()[0]
    guideline = plan.guidelines_of(department)[0]
    period = history.periods(ctx.config.first_fiscal_year, ctx.config.years)[-1]
    url = f"{ctx.base_url}/api/v1/guidelines/{guideline}/reports"
    statuses: list[int] = []
    stop = threading.Event()

    def post() -> None:
        started = time.perf_counter()
        with httpx.Client(headers=auth(ctx, department), timeout=30) as client:
            while not stop.wait(max(0.0, started + len(statuses) * seconds - time.perf_counter())):
                body = {"period": period, "status": STATUSES[len(statuses) % 5], "summary": "single-flight"}
                statuses.append(client.post(url, json=body).status_code)

    writer = threading.Thread(target=post, name="reporter", daemon=True)
    writer.start()
    try:
        yield statuses
    finally:
        stop.set()
        writer.join(60)


def measure_single_flight(ctx: Context) -> list[Row]:
    """Target 13.6: readers polling a campaign's progress while every write changes its ETag, vs SELECT 1."""
    url = progress_urls(ctx)["campaign"]
    pool = os.environ.get("WLBTRACK_DB_POOL_SIZE", "10")
    process, base = start_reference(
        ctx, "reference_select1", {"WLB_REF_DSN": ctx.dsn, "WLB_REF_POOL_SIZE": pool}
    )
    services, references, writes = [], [], []
    try:
        for _ in range(ctx.config.rounds):
            started = time.perf_counter()
            with reporting_every(ctx, WRITE_EVERY_S) as statuses:
                services.append(
                    wrk(ctx, "GET /progress/campaigns/1, a report every 50 ms", url, ctx.tokens["viewer"])
                )
            if any(status != 201 for status in statuses):
                raise RuntimeError(f"reports during the run were answered {sorted(set(statuses))}")
            writes.append(len(statuses) / (time.perf_counter() - started))
            references.append(wrk(ctx, "reference: SELECT 1", f"{base}/select1", None, process.pid))
    finally:
        stop_process(ctx, process)
    rates = ", ".join(f"{rate:.1f}" for rate in writes)
    ctx.facts["single flight"] = f"reports posted per second during the service runs (20 at most): {rates}"
    service, reference = best(services), best(references)
    return [ratio_row(SINGLE_FLIGHT_TARGET, service.rps, reference.rps, 0.3, "rps", True)]


def measure_deep(ctx: Context) -> list[Row]:
    """Target 3: the same endpoints after the history grows to 10× revisions."""
    start = time.perf_counter()
    added = asyncio.run(history.extend_revisions(ctx.dsn, ctx.config.deep_revisions))
    ctx.facts["bulk 10x"] = (
        f"revisions {ctx.config.base_revisions + 1}..{ctx.config.deep_revisions} by the bulk loader: "
        f"{added['report_revisions'] + added['value_revisions']:,} rows "
        f"in {time.perf_counter() - start:.0f} s"
    )
    ctx.log(str(ctx.facts["bulk 10x"]))
    verify_history(ctx, "10x")
    rows = []
    urls = progress_urls(ctx)
    for key, label in (("progress", "3a. /progress"), ("campaign", "3b. /progress/campaigns/1")):
        if key not in ctx.baselines:
            rows.append(
                Row(f"{label} p50 10× ≤ 1.2 × 1×", "not available", "no 1× measurement", "not available")
            )
            continue
        name = f"GET {urls[key].split('/api/v1', 1)[1].split('?')[0]} (10×)"
        deep = best([wrk(ctx, name, urls[key], ctx.tokens["viewer"]) for _ in range(ctx.config.rounds)])
        base = best(ctx.baselines[key])
        rows.append(ratio_row(f"{label} p50 10× ≤ 1.2 × 1×", deep.p50_ms, base.p50_ms, 1.2, "ms", False))
    return rows


def measure_submissions(ctx: Context) -> list[Row]:
    """Target 4: a department's quarter as one batch vs one request per report and value."""
    plan = ctx.plan
    if plan is None:
        raise NotAvailable("no history (indicators) loaded")
    probe_submissions(ctx)
    department = max(
        plan.departments(), key=lambda d: len(plan.guidelines_of(d)) + len(plan.indicators_of(d))
    )
    fresh = [
        p
        for p in history.periods(2010, 6)
        if p not in history.periods(ctx.config.first_fiscal_year, ctx.config.years)
    ]
    batch_times: list[float] = []
    single_times: list[float] = []
    headers = auth(ctx, department)
    with httpx.Client(base_url=ctx.base_url, headers=headers, timeout=120) as client:
        for rep in range(ctx.config.repetitions):
            body = history.submission(plan, department, fresh[2 * rep], 1)
            start = time.perf_counter()
            response = client.post("/api/v1/submissions", json=body)
            batch_times.append(time.perf_counter() - start)
            if response.status_code != 201:
                raise RuntimeError(f"batch: {response.status_code} {response.text[:300]}")
            body = history.submission(plan, department, fresh[2 * rep + 1], 1)
            start = time.perf_counter()
            for report in body["reports"]:
                item = {"period": body["period"], "status": report["status"], "summary": report["summary"]}
                response = client.post(f"/api/v1/guidelines/{report['guideline']}/reports", json=item)
                if response.status_code in (404, 405):
                    raise NotAvailable(
                        f"{response.status_code} from POST /api/v1/guidelines/{{code}}/reports"
                    )
                if response.status_code != 201:
                    raise RuntimeError(f"single report: {response.status_code} {response.text[:300]}")
            for value in body["values"]:
                item = {"period": body["period"], "value": value["value"], "note": value["note"]}
                response = client.post(f"/api/v1/indicators/{value['indicator']}/values", json=item)
                if response.status_code != 201:
                    raise RuntimeError(f"single value: {response.status_code} {response.text[:300]}")
            single_times.append(time.perf_counter() - start)
    items = len(body["reports"]) + len(body["values"])
    batch, single = statistics.median(batch_times), statistics.median(single_times)
    ctx.facts["submissions"] = (
        f"department {department}: {len(body['reports'])} reports + {len(body['values'])} values "
        "per quarter, "
        f"{ctx.config.repetitions} repetitions on fresh periods; batch "
        + ", ".join(f"{t * 1000:.0f}" for t in batch_times)
        + " ms; one by one "
        + ", ".join(f"{t * 1000:.0f}" for t in single_times)
        + " ms"
    )
    ctx.log(str(ctx.facts["submissions"]))
    row = ratio_row("4. batch ≥ 10× faster than one by one", single * 1000, batch * 1000, 10, "ms", True)
    row.measured = f"{items} items: batch {batch * 1000:.0f} ms, one by one {single * 1000:.0f} ms (medians)"
    return [row]


EXPORT_RUNS = 3  # streamed exports, and COPYs of the plain table; the best of each is compared
COPY_TARGET = "13.7 CSV export rows/s ≥ 0.25 × asyncpg COPY of the same rows from a plain table"
EXPORT_TARGETS = [
    "5a. CSV export ≥ 50,000 rows/s",
    "5b. worker RSS growth during export < 50 MB",
    COPY_TARGET,
]
PLAIN_EXPORT = """
    CREATE TEMP TABLE export_plain AS
    SELECT v.period, c.code AS campaign, d.code AS direction, g.code AS guideline, dep.code AS department,
           i.id AS indicator_id, i.name AS indicator_name, i.unit, i.baseline, i.target, v.value,
           CASE WHEN i.target = i.baseline THEN NULL ELSE
                least(greatest((v.value - i.baseline) / (i.target - i.baseline), 0), 1) END AS attainment,
           v.note, v.revision, v.updated_at
    FROM indicator_value v
    JOIN indicator i ON i.id = v.indicator_id
    JOIN guideline g ON g.id = i.guideline_id
    JOIN direction d ON d.id = g.direction_id
    JOIN campaign c ON c.id = d.campaign_id
    JOIN department dep ON dep.id = i.department_id
    ORDER BY v.period, g.position, i.id
"""


async def plain_copy_rate(dsn: str) -> tuple[int, float]:
    """Rows and the best rows/s of EXPORT_RUNS asyncpg COPYs (CSV) of the export's rows in a plain table."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(PLAIN_EXPORT)
        rows = await connection.fetchval("SELECT count(*) FROM export_plain")
        size = 0

        async def sink(chunk: bytes) -> None:
            nonlocal size
            size += len(chunk)

        times = []
        for _ in range(EXPORT_RUNS):
            start = time.perf_counter()
            await connection.copy_from_query("SELECT * FROM export_plain", output=sink, format="csv")
            times.append(time.perf_counter() - start)
    finally:
        await connection.close()
    return rows, rows / min(times)


@dataclass
class ExportRun:
    """One streamed CSV export: rows, size, time to the last byte, the worker's RSS and CPU use."""

    records: int
    megabytes: float
    elapsed: float
    first_byte: float
    baseline: float
    peak: float
    samples: int
    server_cpu: float
    postgres_cpu: float

    @property
    def rate(self) -> float:
        """Rows per second to the last byte."""
        return self.records / self.elapsed


def stream_export(ctx: Context, client: httpx.Client, url: str) -> ExportRun:
    """Stream one export while sampling the worker's RSS; rows are counted by parsing the CSV."""
    chunks: list[bytes] = []
    with RssSampler(ctx.server_pid) as sampler, cpu_meter(ctx, ctx.server_pid) as cpu:
        start = time.perf_counter()
        first_byte = None
        with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise RuntimeError(f"export: {response.status_code} {response.read()[:300]!r}")
            for chunk in response.iter_raw():
                first_byte = first_byte or time.perf_counter() - start
                chunks.append(chunk)
        elapsed = time.perf_counter() - start
    body = b"".join(chunks)
    records = sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8-sig")))) - 1
    return ExportRun(
        records=records,
        megabytes=len(body) / 1e6,
        elapsed=elapsed,
        first_byte=first_byte or 0.0,
        baseline=sampler.baseline,
        peak=sampler.peak,
        samples=len(sampler.samples),
        server_cpu=cpu["server"],
        postgres_cpu=cpu["postgres"],
    )


def measure_export(ctx: Context) -> list[Row]:
    """Targets 5 and 13.7: CSV export rows/s, vs a raw COPY of the same rows, and the worker's RSS growth."""
    url = f"{ctx.base_url}/api/v1/export/values?format=csv"
    probe(f"{ctx.base_url}/api/v1/export/values?format=csv&from=2010-Q1&to=2010-Q1", auth(ctx, "viewer"))
    start = time.perf_counter()
    filler = asyncio.run(history.add_export_rows(ctx.dsn, ctx.config.export_rows))
    ctx.facts["export rows"] = (
        f"{filler['value_rows']:,} current value rows after bulk-copying every indicator {filler['copies']}× "
        f"with its current values ({time.perf_counter() - start:.0f} s)"
    )
    ctx.log(str(ctx.facts["export rows"]))
    with httpx.Client(headers=auth(ctx, "viewer"), timeout=600) as client:
        client.get(f"{ctx.base_url}/api/v1/export/values?format=csv&from=2010-Q1&to=2010-Q1")
        runs = []
        for _ in range(EXPORT_RUNS):  # as many as the COPY reference, whose best run is kept
            time.sleep(0.5)
            runs.append(stream_export(ctx, client, url))
    run = max(runs, key=lambda run: run.rate)
    records, elapsed, rate = run.records, run.elapsed, run.rate
    ctx.facts["export"] = "; ".join(
        f"run {number}: {run.records:,} CSV rows, {run.megabytes:.1f} MB in {run.elapsed:.2f} s "
        f"= {run.rate:,.0f} rows/s (first byte {run.first_byte:.2f} s); "
        f"worker RSS {run.baseline:.0f} → peak {run.peak:.0f} MB ({run.samples} samples); "
        f"server CPU {run.server_cpu:.0f} %, PostgreSQL CPU {run.postgres_cpu:.0f} %"
        for number, run in enumerate(runs, 1)
    )
    ctx.log(str(ctx.facts["export"]))
    heaviest = max(runs, key=lambda run: run.peak - run.baseline)
    growth = heaviest.peak - heaviest.baseline
    rows = [
        Row(
            "5a. CSV export ≥ 50,000 rows/s",
            f"{records:,} rows in {elapsed:.2f} s = {rate:,.0f} rows/s (best of {len(runs)})",
            f"{rate / 50_000:.2f} ≥ 1 (×50,000 rows/s)" + ("" if records >= 100_000 else "; < 100,000 rows"),
            "pass" if rate >= 50_000 and records >= 100_000 else "FAIL",
        ),
        Row(
            "5b. worker RSS growth during export < 50 MB",
            f"{heaviest.baseline:.1f} → {heaviest.peak:.1f} MB (the largest growth of {len(runs)} runs)",
            f"+{growth:.1f} MB < 50 MB",
            "pass" if growth < 50 else "FAIL",
        ),
    ]
    plain_rows, plain_rate = asyncio.run(plain_copy_rate(ctx.dsn))
    ctx.facts["export COPY reference"] = (
        f"asyncpg copy_from_query of {plain_rows:,} rows from a plain table (best of {EXPORT_RUNS}): "
        f"{plain_rate:,.0f} rows/s"
    )
    ctx.log(str(ctx.facts["export COPY reference"]))
    rows.append(ratio_row(COPY_TARGET, rate, plain_rate, 0.25, "rows/s", True))
    if plain_rows != records:
        rows[-1].threshold += f"; {plain_rows:,} plain rows ≠ {records:,} exported"
        rows[-1].status = "FAIL"
    return rows


IMPORT_TARGETS = [
    "7a. import of 5,000 values (csv) ≤ 2 × JSON batches",
    "7b. import of 5,000 values (xlsx) ≤ 2 × JSON batches",
    "7c. worker RSS growth during imports < 50 MB",
]


def measure_import(ctx: Context) -> list[Row]:
    """Target 7: a 5,000-row values file (CSV, .xlsx) vs the same values as JSON batches; worker RSS."""
    department, count = "children", 5_000
    headers = auth(ctx, department)
    with httpx.Client(base_url=ctx.base_url, headers=headers, timeout=600) as client:
        probe_answer = client.post("/api/v1/imports", content=b"", headers={"Content-Type": "text/csv"})
        if probe_answer.status_code in (404, 405):
            raise NotAvailable(f"{probe_answer.status_code} from POST /api/v1/imports")
        indicators = asyncio.run(imports.create_indicators(ctx.dsn, department, count))
        repetitions = 2 if ctx.config.quick else 3
        # fresh periods (every row a new revision), apart from those the submissions step uses
        fresh = [
            p
            for p in history.periods(2010, 6)
            if p not in history.periods(ctx.config.first_fiscal_year, ctx.config.years)
        ]
        periods = iter(fresh[-3 * repetitions :])
        warm = imports.csv_file(imports.value_rows(indicators[:1], department, fresh[0]))
        client.post(
            "/api/v1/imports", params={"dry_run": "true"}, content=warm, headers={"Content-Type": "text/csv"}
        )
        times: dict[str, list[float]] = {"batch": [], "csv": [], "xlsx": []}
        with RssSampler(ctx.server_pid) as sampler:
            for _ in range(repetitions):
                start = time.perf_counter()
                for body in imports.batches(indicators, next(periods)):
                    response = client.post("/api/v1/submissions", json=body)
                    if response.status_code != 201:
                        raise RuntimeError(f"batch: {response.status_code} {response.text[:300]}")
                times["batch"].append(time.perf_counter() - start)
                for kind, media_type in (("csv", "text/csv"), ("xlsx", imports.XLSX)):
                    rows = imports.value_rows(indicators, department, next(periods))
                    content = imports.csv_file(rows) if kind == "csv" else imports.xlsx_file(rows)
                    start = time.perf_counter()
                    response = client.post(
                        "/api/v1/imports", files={"file": (f"values.{kind}", content, media_type)}
                    )
                    times[kind].append(time.perf_counter() - start)
                    if response.status_code != 201 or response.json()["values"]["written"] != count:
                        raise RuntimeError(f"import {kind}: {response.status_code} {response.text[:300]}")
    batch = statistics.median(times["batch"])
    growth = sampler.peak - sampler.baseline
    ctx.facts["import"] = (
        f"{count:,} values of {department} on fresh periods, {repetitions} repetitions; JSON batches of "
        f"{imports.BATCH_LIMIT:,} (the batch's limit) "
        + ", ".join(f"{kind} " + "/".join(f"{t:.2f}" for t in ts) + " s" for kind, ts in times.items())
        + f"; worker RSS {sampler.baseline:.0f} → peak {sampler.peak:.0f} MB"
    )
    ctx.log(str(ctx.facts["import"]))
    rows = []
    for kind in ("csv", "xlsx"):
        upload = statistics.median(times[kind])
        rows.append(
            Row(
                f"7{'a' if kind == 'csv' else 'b'}. import of 5,000 values ({kind}) ≤ 2 × JSON batches",
                f"{kind} {upload:.2f} s, batches {batch:.2f} s (medians)",
                f"{upload / batch:.2f} ≤ 2",
                "pass" if upload <= 2 * batch else "FAIL",
            )
        )
    rows.append(
        Row(
            "7c. worker RSS growth during imports < 50 MB",
            f"{sampler.baseline:.1f} → {sampler.peak:.1f} MB",
            f"+{growth:.1f} MB < 50 MB",
            "pass" if growth < 50 else "FAIL",
        )
    )
    return rows


def measure_final_rss(ctx: Context) -> list[Row]:
    """Target 6: the worker's RSS after the whole benchmark."""
    rss = rss_mb(ctx.server_pid)
    return [
        Row(
            "6. worker RSS after the benchmark ≤ 150 MB",
            f"{rss:.1f} MB",
            f"{rss:.1f} ≤ 150",
            "pass" if rss <= 150 else "FAIL",
        )
    ]


# --- report -----------------------------------------------------------------------------------


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages (other users of the machine show up here)."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def versions(ctx: Context) -> dict[str, str]:
    """Machine and software versions for the report."""
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )

    async def pg_version() -> str:
        connection = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            return str(await connection.fetchval("SHOW server_version"))
        finally:
            await connection.close()

    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("[")[0].strip()
    return {
        "machine": f"{os.cpu_count()} cores, {cpu_model}, Linux {platform.release()}",
        "python": platform.python_version(),
        "postgresql": asyncio.run(pg_version()),
        "litestar": metadata.version("litestar"),
        "sqlalchemy": metadata.version("sqlalchemy"),
        "asyncpg": metadata.version("asyncpg"),
        "uvicorn": metadata.version("uvicorn"),
        "wrk": wrk_version,
    }


def render(ctx: Context, started: datetime, elapsed: float) -> str:
    """The report as Markdown: targets, load runs, setup facts."""
    config = ctx.config
    info = versions(ctx)
    lines = [
        "# wlbtrack benchmark results",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC{' (--quick)' if config.quick else ''}, {elapsed / 60:.1f} min. "
        f"Machine: {info['machine']}. Python {info['python']}, PostgreSQL {info['postgresql']}, "
        f"Litestar {info['litestar']}, SQLAlchemy {info['sqlalchemy']}, asyncpg {info['asyncpg']}, "
        f"uvicorn {info['uvicorn']}, {info['wrk']}.",
        "",
        "| target | measured | ratio / threshold | result |",
        "| --- | --- | --- | --- |",
        *(f"| {r.target} | {r.measured} | {r.threshold} | {r.status} |" for r in ctx.rows),
        "",
        "## Load runs",
        "",
        f"Load generator pinned to CPU 0, servers (wlbtrack and the reference apps) to CPU 1; PostgreSQL "
        f"unpinned. Each wrk run follows a {config.warmup:g} s warm-up. "
        "CPU columns are % of one core over the run."
        if config.pin
        else "No CPU pinning (--no-pin).",
        "",
        "| run | req/s | p50 ms | p99 ms | requests | errors | load generator CPU | server CPU "
        "| server waiting for a CPU | PostgreSQL CPU | how |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        *(
            f"| {r.name} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.requests:,} | {r.errors} | "
            f"{r.driver_cpu:.0f} % | {r.server_cpu:.0f} % | {r.server_wait:.0f} % | {r.postgres_cpu:.0f} % "
            f"| {r.note} |"
            for r in ctx.runs
        ),
        "",
        "## Setup",
        "",
        *(f"- {key}: {value}" for key, value in ctx.facts.items() if not isinstance(value, LoadRun)),
        *(f"- note: {note}" for note in ctx.notes),
        "",
    ]
    return "\n".join(lines)


def write_results(path: Path, report: str) -> None:
    """Write the report, keeping the hand-written findings below the marker."""
    findings = FINDINGS_MARKER + "\n\n## Findings\n\n(none recorded yet)\n"
    if path.exists() and FINDINGS_MARKER in path.read_text():
        findings = FINDINGS_MARKER + path.read_text().split(FINDINGS_MARKER, 1)[1]
    path.write_text(report + "\n" + findings)


def parse_args(argv: list[str] | None = None) -> Config:
    """Command-line flags."""
    parser = argparse.ArgumentParser(description="wlbtrack performance benchmark (issue 6)")
    parser.add_argument(
        "--quick", action="store_true", help="short runs and a small history, for development"
    )
    parser.add_argument(
        "--keep-db", action="store_true", help="do not drop the benchmark database at the end"
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin load generator and servers to CPUs")
    parser.add_argument(
        "--years", type=int, default=None, help="fiscal years of history (default 10; quick 2)"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="alternating service/reference runs, best kept (default 2)"
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument(
        "--duration", type=float, default=None, help="seconds per load run (default 10; quick 3)"
    )
    parser.add_argument(
        "--results", type=Path, default=None, help="report file (default benchmarks/RESULTS.md; quick: none)"
    )
    parser.add_argument(
        "--py-spy",
        type=Path,
        default=None,
        help="record py-spy profiles (raw + summary) of wlbtrack runs here",
    )
    parser.add_argument(
        "--only-import", action="store_true", help="set up, then run target 7 (spreadsheet imports) alone"
    )
    parser.add_argument(
        "--only-export", action="store_true", help="set up, then run targets 5 and 13.7 (CSV export) alone"
    )
    parser.add_argument(
        "--only-dashboard",
        action="store_true",
        help="set up and load the 1× history, then run targets 15a and 15b (dashboard overview) alone",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    return Config(
        quick=quick,
        keep_db=args.keep_db,
        pin=not args.no_pin and (os.cpu_count() or 1) >= 2,
        first_fiscal_year=2026 - (args.years or (2 if quick else 10)),
        years=args.years or (2 if quick else 10),
        indicators_per_guideline=5,
        base_revisions=5,
        deep_revisions=50,
        api_revisions=2,
        connections=args.connections,
        duration=args.duration or (3.0 if quick else 10.0),
        warmup=1.0 if quick else 2.0,
        repetitions=3 if quick else 5,
        rounds=1 if quick else args.rounds,
        export_rows=20_000 if quick else 100_000,
        results=args.results or (None if quick else HERE / "RESULTS.md"),
        py_spy=args.py_spy,
        only_import=args.only_import,
        only_export=args.only_export,
        only_dashboard=args.only_dashboard,
    )


def run_steps(ctx: Context) -> None:
    """Every measurement, in order."""
    step(ctx, [GUIDELINES_TARGET], lambda: measure_guidelines(ctx))
    history_targets = ["2a. /progress rps ≥ 0.5 × SELECT 1", "2b. /progress p99 ≤ 5 × p50 at ½ peak"]
    try:
        load_base_history(ctx)
    except NotAvailable as exc:
        ctx.notes.append(f"history not loaded: {exc}")
        ctx.log(f"history not loaded: {exc}")
    except Exception as exc:
        ctx.notes.append(f"history load failed: {type(exc).__name__}: {exc}")
        ctx.log(f"history load failed: {type(exc).__name__}: {exc}")
    step(ctx, history_targets, lambda: measure_progress_1x(ctx))
    step(ctx, [], lambda: measure_campaign_1x(ctx))
    step(ctx, DASHBOARD_TARGETS, lambda: measure_dashboard(ctx))
    step(ctx, [SINGLE_FLIGHT_TARGET], lambda: measure_single_flight(ctx))
    step(
        ctx,
        ["3a. /progress p50 10× ≤ 1.2 × 1×", "3b. /progress/campaigns/1 p50 10× ≤ 1.2 × 1×"],
        lambda: measure_deep(ctx),
    )
    step(ctx, ["4. batch ≥ 10× faster than one by one"], lambda: measure_submissions(ctx))
    step(ctx, EXPORT_TARGETS, lambda: measure_export(ctx))
    step(ctx, IMPORT_TARGETS, lambda: measure_import(ctx))
    step(ctx, ["6. worker RSS after the benchmark ≤ 150 MB"], lambda: measure_final_rss(ctx))


def main() -> None:
    """Run every step, always tearing down; print the table and write the report."""
    config = parse_args()
    tools = check_tools()
    if config.py_spy is not None and not Path(py_spy_path()).exists() and not shutil.which("py-spy"):
        sys.exit("--py-spy needs py-spy: .venv/bin/pip install py-spy")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally block still cleans up
    started = datetime.now(UTC)
    clock = time.perf_counter()
    if config.pin:
        os.sched_setaffinity(0, {0})  # this script, wrk and the constant-rate driver share CPU 0
    with tempfile.TemporaryDirectory(prefix="wlbbench-") as workdir:
        ctx = Context(config=config, workdir=Path(workdir), wlbtrack=tools["wlbtrack"])
        ctx.facts["load average at start (1, 5, 15 min)"] = load_average()
        try:
            setup(ctx)
            if config.only_import:
                step(ctx, IMPORT_TARGETS, lambda: measure_import(ctx))
            elif config.only_export:
                load_base_history(ctx)
                step(ctx, EXPORT_TARGETS, lambda: measure_export(ctx))
            elif config.only_dashboard:
                load_base_history(ctx)
                step(ctx, DASHBOARD_TARGETS, lambda: measure_dashboard(ctx))
            else:
                run_steps(ctx)
        finally:
            ctx.facts["load average at end (1, 5, 15 min)"] = load_average()
            teardown(ctx)
        elapsed = time.perf_counter() - clock
        report = render(ctx, started, elapsed)
        print(report)
        if config.results is not None:
            write_results(config.results, report)
            ctx.log(f"written to {config.results}")


if __name__ == "__main__":
    main()
