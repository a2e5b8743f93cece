"""Benchmark: a month of queue_log for a large centre, imported and turned into KPIs.

One run measures, for each size (calls in the month; agents grow with the calls):

(a) `ingest.service.import_file` of the flat file (reading the bytes, parsing, de-duplicating,
    writing Parquet, committing the ledger) against DuckDB's own `read_csv` of the same file
    into a table; target <= 2x;
(b) `metrics.service.compute_period` for the month (incl. storing the values) against a
    hand-written DuckDB SQL query for the same numbers over the same Parquet; target <= 1.5x;
(c) the same KPIs in plain pandas; target: agentladder faster;
peak memory of every phase; target < 4 GiB.

Every phase runs in a fresh child process (`--worker`): its timing is taken inside the child
around the measured call only, and its peak memory is the child's peak resident set size
(`ru_maxrss` from `os.wait4`), so phases never inherit each other's heap. The file and the
Parquet are in the page cache when a phase runs (warm cache). With `--profile` the import and
the computation run once more, instrumented, to say where time and memory go.

    python benchmarks/bench_queue_log.py                      # 0.5M, 1M, 2.5M, 5M calls
    python benchmarks/bench_queue_log.py --sizes 1M --repeat 3 --profile

Generated files and databases live in $AGENTLADDER_BENCH_DIR (default /tmp/agentladder-bench);
results go to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DEFAULT_SIZES = (500_000, 1_000_000, 2_500_000, 5_000_000)
CALLS_PER_AGENT = 2500  # 5M calls: 2,000 agents
MONTH = "2026-10"
TIMEZONE = "Asia/Shanghai"
# Issue 19: the import within 2.5x of `read_csv`, the KPIs within 1.2x of hand-written SQL.
TARGETS = {"import_vs_read_csv": 2.5, "compute_vs_sql": 1.2, "compute_vs_pandas": 1.0}
PEAK_TARGET = 4 * 2**30
MIN_AVAILABLE = 2 * 2**30  # see spawn()
PHASES = ("read_csv", "read_csv_lines", "import", "compute", "sql", "pandas", "pandas_csv")
# Also available: import_weekly (the month as weekly rotated files); it runs by itself when
# the single-file import is stopped for lack of memory, so that the KPIs can still be measured.
EXTRA_PHASES = ("import_weekly",)


# --- memory ---------------------------------------------------------------------------------


def _status_kib(field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    return int(match.group(1)) if match else 0


def rss() -> int:
    """This process's resident set size in bytes."""
    return _status_kib("VmRSS") * 1024


def peak_rss() -> int:
    """This process's peak resident set size since start or the last `reset_peak`."""
    return _status_kib("VmHWM") * 1024


def reset_peak() -> None:
    """Restart the kernel's peak-RSS counter (Linux: writing 5 to clear_refs)."""
    Path("/proc/self/clear_refs").write_text("5")


class Steps:
    """Wall time and peak RSS of named steps (nested steps feed their parent's peak); with
    `progress`, the steps so far are written there as each one ends (a phase stopped for
    lack of memory still tells how far it got)."""

    def __init__(self, progress: Path | None = None) -> None:
        self.rows: list[dict[str, Any]] = []
        self._open: list[dict[str, Any]] = []
        self._progress = progress

    @contextmanager
    def step(self, name: str, **extra: Any):  # type: ignore[no-untyped-def]
        """Time one step; its peak is the highest RSS reached inside it."""
        if self._open:  # keep the enclosing step's peak before the counter restarts
            self._open[-1]["peak"] = max(self._open[-1]["peak"], peak_rss())
        reset_peak()
        row = {"step": name, "depth": len(self._open), "rss_before": rss(), "peak": 0, **extra}
        self._open.append(row)
        self.rows.append(row)
        started = time.perf_counter()
        try:
            yield row
        finally:
            row["seconds"] = time.perf_counter() - started
            self._open.pop()
            row["peak"] = max(row["peak"], peak_rss())
            if self._open:
                self._open[-1]["peak"] = max(self._open[-1]["peak"], row["peak"])
            if self._progress is not None:
                self._progress.write_text(json.dumps(self.rows, default=str))


# --- workers (each runs in its own process) -------------------------------------------------


def _settings(data_dir: str) -> Any:
    from agentladder.config import Settings

    return Settings(
        data_dir=Path(data_dir),
        database_url=f"sqlite:///{data_dir}/agentladder.db",
        secret_key="bench",
        timezone=TIMEZONE,
    )


def worker_generate(job: dict[str, Any]) -> dict[str, Any]:
    """Write the queue_log file."""
    from generate_queue_log import generate

    report = generate(
        calls=job["calls"],
        agents=job["agents"],
        month=job["month"],
        out=Path(job["file"]),
        seed=job["seed"],
        rotate=job.get("rotate", False),
    )
    return {
        "files": [str(f) for f in report.files],
        "seconds": report.seconds,
        "lines": report.lines,
        "bytes": report.bytes,
        "calls": report.calls,
        "agents": report.agents,
        "shifts": report.shifts,
        "verbs": report.verbs,
    }


def worker_setup(job: dict[str, Any]) -> dict[str, Any]:
    """A fresh data directory: schema, and the agents (employee numbers 100001...), so that
    `Agent/100001` and `SIP/100001` resolve to an agent as in a real centre."""
    from datetime import date

    from agentladder import db
    from agentladder.org import service as org_service
    from agentladder.org.schemas import AgentCreate

    shutil.rmtree(job["data_dir"], ignore_errors=True)
    Path(job["data_dir"]).mkdir(parents=True)
    settings = _settings(job["data_dir"])
    started = time.perf_counter()
    db.upgrade_schema(settings)
    with db.session_scope(settings) as session:
        for number in range(100001, 100001 + job["agents"]):
            org_service.create_agent(
                session=session,
                agent_in=AgentCreate(
                    employee_no=str(number), name=f"坐席{number}", hire_date=date(2025, 1, 6)
                ),
            )
    return {"seconds": time.perf_counter() - started}


def worker_read_csv(job: dict[str, Any]) -> dict[str, Any]:
    """DuckDB's own reader: the file into a table (types sniffed; lines have 5-10 fields)."""
    import duckdb

    con = duckdb.connect()
    before = rss()
    started, cpu_started = time.perf_counter(), time.process_time()
    con.execute(
        f"CREATE TABLE queue_log AS SELECT * FROM read_csv('{job['file']}', delim = '|', "
        "header = false, null_padding = true)"
    )
    seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    rows = con.execute("SELECT count(*) FROM queue_log").fetchone()[0]  # type: ignore[index]
    return {"seconds": seconds, "cpu_s": cpu_s, "rows": rows, "rss_before": before}


def worker_read_csv_lines(job: dict[str, Any]) -> dict[str, Any]:
    """DuckDB reading each line as one VARCHAR (no field splitting, nothing sniffed): the
    fastest way DuckDB takes the file in, and the import's own first step."""
    import duckdb

    con = duckdb.connect()
    before = rss()
    started, cpu_started = time.perf_counter(), time.process_time()
    con.execute(
        f"CREATE TABLE queue_log AS SELECT * FROM read_csv('{job['file']}', "
        "columns = {'line': 'VARCHAR'}, delim = '\x1f', quote = '', escape = '', "
        "header = false, auto_detect = false)"
    )
    seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    rows = con.execute("SELECT count(*) FROM queue_log").fetchone()[0]  # type: ignore[index]
    return {"seconds": seconds, "cpu_s": cpu_s, "rows": rows, "rss_before": before}


def worker_pandas_csv(job: dict[str, Any]) -> dict[str, Any]:
    """Plain pandas reading the same file (the reference the issue quotes)."""
    import pandas as pd

    before = rss()
    started, cpu_started = time.perf_counter(), time.process_time()
    frame = pd.read_csv(job["file"], sep="|", header=None, names=range(10))
    seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    return {"seconds": seconds, "cpu_s": cpu_s, "rows": len(frame), "rss_before": before}


def worker_import(job: dict[str, Any]) -> dict[str, Any]:
    """`import_file` as `agentladder import queue_log FILE` runs it: read, import, commit."""
    from agentladder import db
    from agentladder.ingest import service as ingest_service

    settings = _settings(job["data_dir"])
    path = Path(job["file"])
    before = rss()
    started, cpu_started = time.perf_counter(), time.process_time()
    with db.session_scope(settings) as session:
        report = ingest_service.import_file(
            session=session, settings=settings, adapter="queue_log", path=path
        )
        imported = time.perf_counter()
    committed, cpu_s = time.perf_counter(), time.process_time() - cpu_started
    return {
        "seconds": committed - started,
        "cpu_s": cpu_s,
        "import_file_s": imported - started,
        "commit_s": committed - imported,
        "rss_before": before,
        "rows_read": report.rows_read,
        "rows_accepted": report.rows_accepted,
        "rows_ignored": report.rows_ignored,
        "rows_rejected": report.rows_rejected,
        "stored": report.stored,
        "notes": report.notes,
        "unmapped": len(report.unmapped_identities),
    }


def worker_import_weekly(job: dict[str, Any]) -> dict[str, Any]:
    """The same month as the PBX rotates it (weekly files), imported oldest first, one
    session per file, as `agentladder import queue_log queue_log-*` does."""
    from agentladder import db
    from agentladder.ingest import service as ingest_service

    settings = _settings(job["data_dir"])
    files = ingest_service.import_order("queue_log", [Path(f) for f in job["files"]])
    steps = Steps()
    before = rss()
    started, cpu_started = time.perf_counter(), time.process_time()
    for path in files:
        with steps.step(path.name), db.session_scope(settings) as session:
            ingest_service.import_file(
                session=session, settings=settings, adapter="queue_log", path=path
            )
    return {
        "seconds": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu_started,
        "rss_before": before,
        "steps": steps.rows,
    }


def worker_compute(job: dict[str, Any]) -> dict[str, Any]:
    """`compute_period` for the month, committed; then (untimed) the stored values. Like the
    reference, which finds DuckDB loaded, it starts with DuckDB loaded: that one-time load is
    timed on its own (`backend_load_s`). The product's compiled queries are kept in the data
    directory; the first compute of a shape compiles them (Ibis), later ones read them."""
    import duckdb

    from agentladder import db
    from agentladder.metrics import service as metrics_service
    from agentladder.periods import parse_period

    settings = _settings(job["data_dir"])
    loading = time.perf_counter()
    duckdb.connect().close()
    backend_load_s = time.perf_counter() - loading
    before = rss()
    started, cpu_started = time.perf_counter(), time.process_time()
    with db.session_scope(settings) as session:
        report = metrics_service.compute_period(
            session=session, settings=settings, period=parse_period(job["month"])
        )
        computed = time.perf_counter()
    committed, cpu_s = time.perf_counter(), time.process_time() - cpu_started
    if job.get("dump"):
        with db.session_scope(settings) as session:
            values = metrics_service.period_values(
                session=session, period=parse_period(job["month"])
            )
        Path(job["dump"]).write_text(json.dumps(values))
    return {
        "seconds": committed - started,
        "cpu_s": cpu_s,
        "compute_period_s": computed - started,
        "backend_load_s": backend_load_s,
        "commit_s": committed - computed,
        "rss_before": before,
        "agents": report.agents,
        "queues": report.queues,
        "values": report.values,
    }


def _reference_inputs(job: dict[str, Any]) -> dict[str, Any]:
    """What the reference computations need, found the way `compute_period` finds it (not
    timed): the batches' Parquet files, the identity -> employee number map, the period."""
    from reference_kpis import Thresholds

    from agentladder import db
    from agentladder.ingest import service as ingest_service
    from agentladder.metrics import service as metrics_service
    from agentladder.metrics.service import metric_config
    from agentladder.periods import parse_period

    settings = _settings(job["data_dir"])
    with db.session_scope(settings) as session:
        files = ingest_service.dataset_files(session=session, settings=settings)
        mapping = metrics_service.resolved_identities(session=session)
    start, end = parse_period(job["month"]).bounds_utc(settings.tz)
    config = metric_config(settings)
    return {
        "interactions": files["interactions"],
        "states": files["agent_states"],
        "mapping": mapping,
        "start": start,
        "end": end,
        "limits": Thresholds(
            config.service_level_s,
            config.short_abandon_s,
            config.short_call_s,
            config.fcr_window_days,
        ),
    }


def _reference(job: dict[str, Any], engine: str) -> dict[str, Any]:
    import reference_kpis

    inputs = _reference_inputs(job)
    compute = reference_kpis.duckdb_kpis if engine == "sql" else reference_kpis.pandas_kpis
    before = rss()
    started, cpu_started = time.perf_counter(), time.process_time()
    results = compute(**inputs)
    seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    if job.get("dump"):
        Path(job["dump"]).write_text(json.dumps([[*k, *v] for k, v in results.items()]))
    return {"seconds": seconds, "cpu_s": cpu_s, "rss_before": before, "values": len(results)}


def worker_sql(job: dict[str, Any]) -> dict[str, Any]:
    """The KPIs with hand-written DuckDB SQL over the same Parquet."""
    return _reference(job, "sql")


def worker_pandas(job: dict[str, Any]) -> dict[str, Any]:
    """The KPIs in plain pandas over the same Parquet."""
    return _reference(job, "pandas")


class _TimedRelation:
    """A DuckDB relation whose materialisation is timed as one step."""

    def __init__(self, relation: Any, steps: Steps, label: str) -> None:
        self._relation, self._steps, self._label = relation, steps, label

    def to_arrow_table(self) -> Any:
        with self._steps.step(self._label):
            return self._relation.to_arrow_table()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._relation, name)


class _TimedConnection:
    """A DuckDB connection that times every statement (a multi-statement script is run one
    statement at a time, which DuckDB does anyway) and notes DuckDB's own memory use."""

    def __init__(self, con: Any, steps: Steps) -> None:
        self._con, self._steps = con, steps

    def _label(self, sql: str) -> str:
        text = " ".join(sql.split())
        match = re.match(r"CREATE (?:TEMP )?TABLE (\w+)", text, re.I)
        return f"sql: {match.group(1)}" if match else f"sql: {text[:70]}"

    def _duckdb_bytes(self) -> int:
        row = self._con.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchone()
        return int(row[0] or 0)

    def execute(self, sql: str, *args: Any) -> Any:
        statements = [s for s in sql.split(";") if s.strip()] if not args else [sql]
        result = None
        for statement in statements:
            with self._steps.step(self._label(statement)) as row:
                result = self._con.execute(statement, *args)
            if statement.lstrip().upper().startswith("CREATE"):
                row["duckdb_bytes"] = self._duckdb_bytes()
        return result

    def sql(self, sql: str) -> _TimedRelation:
        return _TimedRelation(self._con.sql(sql), self._steps, self._label(sql) + " (arrow)")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _timed(steps: Steps, name: str, function: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with steps.step(name):
            return function(*args, **kwargs)

    return wrapper


def worker_profile_import(job: dict[str, Any]) -> dict[str, Any]:
    """The import once more, every step (and every DuckDB statement of the parse) timed with
    its peak RSS."""
    import types

    import duckdb

    from agentladder import db
    from agentladder.ingest import datasets, queue_log
    from agentladder.ingest import service as ingest_service

    steps = Steps(progress=Path(job["result"] + ".partial"))
    settings = _settings(job["data_dir"])
    path = Path(job["file"])

    # Wrap the functions import_file and parse look up at call time (module globals).
    shim = types.SimpleNamespace(
        **{k: getattr(duckdb, k) for k in dir(duckdb) if not k.startswith("__")}
    )
    shim.connect = lambda *a, **k: _TimedConnection(duckdb.connect(*a, **k), steps)
    queue_log.duckdb = shim  # type: ignore[assignment]
    for name in ("_load", "_line_count", "_collect"):
        setattr(queue_log, name, _timed(steps, f"parse: {name}", getattr(queue_log, name)))
    # The adapter looks its parser up by name when a file is parsed.
    queue_log.parse = _timed(steps, "parse (queue_log.parse)", queue_log.parse)
    original_new_rows = ingest_service._new_rows

    def new_rows(settings: Any, dataset: str, table: Any, *rest: Any) -> Any:
        with steps.step(f"_new_rows({dataset}, {table.num_rows:,} rows)"):
            return original_new_rows(settings, dataset, table, *rest)

    ingest_service._new_rows = new_rows
    for name in ("_complete_open_calls", "_time_range", "applied_batches"):
        setattr(ingest_service, name, _timed(steps, name, getattr(ingest_service, name)))
    original_write = datasets.write_batch

    def write_batch(settings: Any, dataset: str, table: Any, token: str) -> Any:
        with steps.step(f"write_batch({dataset})"):
            return original_write(settings, dataset, table, token)

    datasets.write_batch = write_batch

    with steps.step("total: import_file + commit"):
        scope = db.session_scope(settings)
        session = scope.__enter__()
        with steps.step("import_file"):
            ingest_service.import_file(
                session=session, settings=settings, adapter="queue_log", path=path
            )
        with steps.step("commit"):
            scope.__exit__(None, None, None)
    return {"steps": steps.rows}


def worker_profile_compute(job: dict[str, Any]) -> dict[str, Any]:
    """The month's KPIs once more, step by step: the stored files' queries set up (views,
    probes, compiled SQL kept or compiled), each frame's DuckDB query, the rows in Python, the
    write; and EXPLAIN ANALYZE of the two slowest frames saved."""
    from agentladder import db
    from agentladder.ingest import service as ingest_service
    from agentladder.metrics import compiled
    from agentladder.metrics import service as metrics_service
    from agentladder.periods import parse_period

    steps = Steps()
    settings = _settings(job["data_dir"])
    period = parse_period(job["month"])
    start, end = period.bounds_utc(settings.tz)
    config = metrics_service.metric_config(settings)
    with steps.step("total: compute_period's steps + commit"):
        with db.session_scope(settings) as session, steps.step("identities and files"):
            identities = metrics_service.resolved_identities(session=session)
            files = ingest_service.dataset_files(session=session, settings=settings)
        cache = settings.data_dir / metrics_service.KPI_CACHE
        with steps.step("queries: views, probes, SQL kept or compiled"):
            queries = compiled.KpiQueries(files, identities, config, cache_dir=cache)
        with steps.step("run: frames and rows") as run_row:
            queries.run(start, end)
        for name, seconds in queries.timings.items():
            steps.rows.append({"step": f"frame {name}", "depth": run_row["depth"] + 1,
                               "seconds": seconds, "peak": run_row["peak"]})  # fmt: skip
        with db.session_scope(settings) as session, steps.step("compute_period (kept queries)"):
            metrics_service.compute_period(session=session, settings=settings, period=period)

    # The two slowest frames, explained (run again, outside the measurements above).
    slowest = sorted(queries.timings, key=lambda name: -queries.timings[name])[:2]
    explained = {}
    for name in slowest:
        sql, _ = queries.frames[name]
        plan = queries.connection.execute("EXPLAIN ANALYZE " + sql).fetchall()
        explained[f"frame {name}"] = {"sql": sql, "plan": "\n".join(str(p[-1]) for p in plan)}
    if job.get("explain"):
        Path(job["explain"]).write_text(
            "\n\n".join(
                f"==== {label}\n---- SQL\n{e['sql']}\n---- EXPLAIN ANALYZE\n{e['plan']}"
                for label, e in explained.items()
            )
        )
    return {"steps": steps.rows}


WORKERS = {
    "generate": worker_generate,
    "setup": worker_setup,
    "read_csv": worker_read_csv,
    "read_csv_lines": worker_read_csv_lines,
    "pandas_csv": worker_pandas_csv,
    "import": worker_import,
    "import_weekly": worker_import_weekly,
    "compute": worker_compute,
    "sql": worker_sql,
    "pandas": worker_pandas,
    "profile_import": worker_profile_import,
    "profile_compute": worker_profile_compute,
}


def run_worker(phase: str, job: dict[str, Any]) -> None:
    """Child side: run one phase and write its result as JSON to job['result']."""
    result = WORKERS[phase](job)
    Path(job["result"]).write_text(json.dumps(result, default=str))


# --- the driver -----------------------------------------------------------------------------


def _meminfo_bytes(field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    return int(match.group(1)) * 1024 if match else 0


def _rss_of(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmRSS:\s+(\d+) kB", text, re.M)
    return int(match.group(1)) * 1024 if match else 0


def spawn(
    phase: str, job: dict[str, Any], scratch: Path, script: Path | None = None
) -> dict[str, Any]:
    """Run a phase in a child process (`script --worker phase`, this file by default); its
    result plus the child's peak RSS and CPU time.

    The child runs in `scratch` (DuckDB spills to `.tmp` in the working directory). The
    machine is shared: a child is stopped, and the phase reported as aborted, when less than
    MIN_AVAILABLE memory is left, rather than leave the kernel to kill someone's process."""
    result_file = scratch / f"{phase}.result.json"
    result_file.unlink(missing_ok=True)
    Path(f"{result_file}.partial").unlink(missing_ok=True)
    job = {**job, "result": str(result_file)}
    load = os.getloadavg()[0]
    started = time.perf_counter()
    program = str(script or Path(__file__).resolve())
    child = subprocess.Popen(
        [sys.executable, program, "--worker", phase, "--job", json.dumps(job)], cwd=scratch
    )
    sampled, aborted = 0, None
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        sampled = max(sampled, _rss_of(child.pid))
        available = _meminfo_bytes("MemAvailable")
        if aborted is None and available < MIN_AVAILABLE:
            aborted = (
                f"stopped after {time.perf_counter() - started:.0f} s: the machine had "
                f"{available / 2**30:.1f} GiB left; the phase held {sampled / 2**30:.1f} GiB"
            )
            child.kill()
        time.sleep(0.1)
    child.returncode = os.waitstatus_to_exitcode(status)
    measured = {
        "peak_rss": max(usage.ru_maxrss * 1024, sampled),  # Linux reports ru_maxrss in KiB
        "cpu_user_s": usage.ru_utime,
        "cpu_sys_s": usage.ru_stime,
        "process_s": time.perf_counter() - started,
        "load_before": load,
    }
    if aborted:
        partial = Path(job["result"] + ".partial")
        steps = json.loads(partial.read_text()) if partial.exists() else []
        return {"aborted": aborted, "seconds": measured["process_s"], "steps": steps, **measured}
    if child.returncode != 0:
        raise RuntimeError(f"phase {phase} failed with exit code {child.returncode}")
    return {**json.loads(result_file.read_text()), **measured}


def warm(path: Path) -> None:
    """Read a file once so that it is in the page cache (warm-cache measurements)."""
    with path.open("rb") as handle:
        while handle.read(1 << 24):
            pass


def parse_size(text: str) -> int:
    """500k, 0.5M, 2.5m or 500000."""
    text = text.strip().lower().replace("_", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return round(float(text.rstrip("km")) * factor)


def best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest of repeated runs (the least disturbed by other work on the machine), with
    every run's time and the highest peak kept."""
    fastest = dict(min(runs, key=lambda r: r["seconds"]))
    fastest["all_seconds"] = [r["seconds"] for r in runs]
    fastest["peak_rss"] = max(r["peak_rss"] for r in runs)
    return fastest


def bench_size(
    args: argparse.Namespace, calls: int, cache: Path, out: Path, results: dict[str, Any]
) -> None:
    """Every phase for one size, added to `results` and saved to `out` as each one ends (a
    long run that breaks keeps what it measured)."""
    agents = args.agents or max(1, calls // CALLS_PER_AGENT)
    name = f"queue_log-{args.month}-{calls}c-{agents}a-s{args.seed}"
    file = cache / name
    scratch = cache / f"run-{calls}c-{agents}a"
    scratch.mkdir(parents=True, exist_ok=True)
    data_dir = scratch / "data"
    sidecar = file.with_suffix(".json")
    base = {"file": str(file), "data_dir": str(data_dir), "month": args.month}
    print(f"\n== {calls:,} calls, {agents:,} agents", flush=True)
    if not file.exists() or not sidecar.exists():
        job = {**base, "calls": calls, "agents": agents, "seed": args.seed}
        sidecar.write_text(json.dumps(spawn("generate", job, scratch)))
    generated = json.loads(sidecar.read_text())
    print(
        f"   file {file} : {generated['lines']:,} lines, {generated['bytes'] / 2**20:,.0f} MiB "
        f"(generated in {generated['seconds']:.1f} s)",
        flush=True,
    )
    result: dict[str, Any] = {"calls": calls, "agents": agents, "file": generated, "phases": {}}
    results["sizes"].append(result)
    phases = result["phases"]

    def save() -> None:
        result["ratios"] = ratios(phases)
        out.write_text(json.dumps(results, indent=1, default=str))

    wanted = set(args.phases)

    for stale in ("stored.json", "sql.json", "pandas.json"):
        (scratch / stale).unlink(missing_ok=True)

    def measure(phase: str, job: dict[str, Any], fresh_data: bool = False) -> bool:
        runs = []
        for _ in range(args.repeat):
            if fresh_data:  # an import needs a data directory that has not seen the file
                phases["setup"] = spawn("setup", {**base, "agents": agents}, scratch)
            warm(file)
            runs.append(spawn(phase, job, scratch))
            if runs[-1].get("aborted"):
                break
        done = [run for run in runs if not run.get("aborted")]
        phases[phase] = shown = best(done) if done else runs[-1]
        save()
        print(
            f"   {phase:<14} {shown['seconds']:8.2f} s   peak {shown['peak_rss'] / 2**30:5.2f} GiB"
            f"   cpu {_cpu(shown):7.1f} s"
            f"   load {shown['load_before']:.1f}"
            + (f"   ABORTED: {shown['aborted']}" if shown.get("aborted") else ""),
            flush=True,
        )
        return bool(done)

    for phase in ("read_csv", "read_csv_lines", "pandas_csv"):
        if phase in wanted:
            measure(phase, base)
    weekly: dict[str, Any] | None = None
    imported = (data_dir / "agentladder.db").exists() and "import" not in wanted
    if not imported:
        imported = measure("import", base, fresh_data=True)
    if "import_weekly" in wanted or not imported:
        folder = cache / f"{name}-weekly"
        rotated = folder.with_suffix(".json")
        if not rotated.exists():
            job = {**base, "file": str(folder), "calls": calls, "agents": agents, "seed": args.seed}
            rotated.write_text(json.dumps(spawn("generate", {**job, "rotate": True}, scratch)))
        weekly = {**base, "files": json.loads(rotated.read_text())["files"]}
        imported = measure("import_weekly", weekly, fresh_data=True) or imported
    stored = scratch / "stored.json"
    if imported and "compute" in wanted:
        measure("compute", {**base, "dump": str(stored)})
    for phase in ("sql", "pandas"):
        if imported and phase in wanted:
            measure(phase, {**base, "dump": str(scratch / f"{phase}.json")})

    # The numbers must agree with what compute_period stored.
    from reference_kpis import compare, stored_results

    checks: dict[str, Any] = {}
    if stored.exists():
        expected = stored_results(json.loads(stored.read_text()))
        for phase in ("sql", "pandas"):
            dump = scratch / f"{phase}.json"
            if phase in wanted and dump.exists():
                actual = {(r[0], r[1], r[2]): (r[3], r[4]) for r in json.loads(dump.read_text())}
                compared, problems = compare(expected, actual)
                checks[phase] = {
                    "compared": compared,
                    "disagreements": len(problems),
                    "examples": problems[:20],
                }
                print(
                    f"   check {phase:<6} vs stored MetricValue: {checks[phase]['compared']:,} "
                    f"values, {len(problems)} disagreements",
                    flush=True,
                )
                for problem in problems[:10]:
                    print(f"      {problem}")
    result["checks"] = checks
    save()

    if args.profile and (
        args.profile == "all" or calls in map(parse_size, args.profile.split(","))
    ):
        spawn("setup", {**base, "agents": agents}, scratch)
        warm(file)
        result["profile_import"] = spawn("profile_import", base, scratch)
        save()
        print_profile("import", result["profile_import"])
        profiled = not result["profile_import"].get("aborted")
        if not profiled and weekly is not None:  # the computation needs imported data
            spawn("setup", {**base, "agents": agents}, scratch)
            profiled = not spawn("import_weekly", weekly, scratch).get("aborted")
        if profiled:
            explain = out.with_name(f"{out.stem}-explain-{calls}c.txt")
            result["profile_compute"] = spawn(
                "profile_compute", {**base, "explain": str(explain)}, scratch
            )
            save()
            print_profile("compute", result["profile_compute"])
    save()


def ratios(phases: dict[str, Any]) -> dict[str, Any]:
    """agentladder's time over the reference's, per target."""
    pairs = {
        "import_vs_read_csv": ("import", "read_csv"),
        "compute_vs_sql": ("compute", "sql"),
        "compute_vs_pandas": ("compute", "pandas"),
        "import_weekly_vs_read_csv": ("import_weekly", "read_csv"),
        "import_vs_read_csv_lines": ("import", "read_csv_lines"),
        "pandas_csv_vs_read_csv": ("pandas_csv", "read_csv"),
    }
    out = {}
    done = {name: phase for name, phase in phases.items() if not phase.get("aborted")}
    for name, (ours, theirs) in pairs.items():
        if ours in done and theirs in done:
            value = done[ours]["seconds"] / done[theirs]["seconds"]
            target = TARGETS.get(name)
            out[name] = {
                "ratio": value,
                # CPU seconds are less sensitive to other work on the machine.
                "cpu_ratio": _cpu(done[ours]) / _cpu(done[theirs]),
                "target": target,
                "met": None if target is None else value <= target,
            }
    return out


def _cpu(phase: dict[str, Any]) -> float:
    """CPU seconds of the measured call (all threads); results of older runs only have the
    whole child process's, start-up and imports included."""
    if "cpu_s" in phase:
        return float(phase["cpu_s"])
    return float(phase["cpu_user_s"] + phase["cpu_sys_s"])


def print_profile(kind: str, profile: dict[str, Any]) -> None:
    """Steps of an instrumented run, indented by nesting."""
    print(f"   -- profile of the {kind} (wall s, peak RSS GiB, DuckDB memory GiB)")
    if profile.get("aborted"):
        print(f"   ABORTED: {profile['aborted']}; the steps finished until then:")
    for row in profile["steps"]:
        duck = row.get("duckdb_bytes")
        duck_text = f"{duck / 2**30:6.2f}" if duck is not None else "      "
        name = "  " * row["depth"] + row["step"]
        # A step still open when the phase was stopped has no time.
        seconds = f"{row['seconds']:8.2f}" if "seconds" in row else f"{'(open)':>8}"
        print(f"   {seconds} {row['peak'] / 2**30:6.2f} {duck_text}  {name}")
    for row in profile.get("pieces", []):
        if "bytes" in row and row.get("seconds", 0) == 0:
            print(f"   {'':8} {'':6} {'':6}  {row['step']}: {row['bytes'] / 2**20:,.0f} MiB")
        else:
            print(
                f"   {row['seconds']:8.2f} {row['peak'] / 2**30:6.2f} {'':6}  (piece) {row['step']}"
            )


def _cell(size: dict[str, Any], phase: str, value: str) -> str:
    entry = size["phases"].get(phase)
    if entry is None:
        return f"{'-':>14}"
    if entry.get("aborted"):
        return f"{'aborted':>14}"
    if value == "seconds":
        return f"{entry['seconds']:14.2f}"
    if value == "cpu":
        return f"{_cpu(entry):14.1f}"
    return f"{entry['peak_rss'] / 2**30:14.2f}"


def print_summary(results: dict[str, Any]) -> None:
    """The figures tables: times, CPU, ratios against the targets, peak memory, growth."""
    sizes = sorted(results["sizes"], key=lambda size: size["calls"])
    columns = (
        "read_csv", "read_csv_lines", "import", "import_weekly", "compute", "sql", "pandas",
        "pandas_csv",
    )  # fmt: skip
    header = f"   {'calls':>10} {'lines':>11} " + " ".join(f"{c:>14}" for c in columns)
    for title, value in (
        ("wall seconds, best of runs, measured inside the child process", "seconds"),
        ("CPU seconds of the measured call (all threads) in that run", "cpu"),
        (f"peak RSS per phase, GiB (target < {PEAK_TARGET / 2**30:.0f} GiB)", "peak"),
    ):
        print(f"\n== {title}\n{header}")
        for size in sizes:
            cells = " ".join(_cell(size, c, value) for c in columns)
            print(f"   {size['calls']:>10,} {size['file']['lines']:>11,} {cells}")
    print("\n== ratios: agentladder / reference, wall (CPU); target")
    for size in sizes:
        parts = []
        for name, entry in ratios(size["phases"]).items():
            verdict = "" if entry["met"] is None else (" ok" if entry["met"] else " MISSED")
            target = f" <= {entry['target']}" if entry["target"] else ""
            parts.append(f"{name} {entry['ratio']:.2f} ({entry['cpu_ratio']:.2f}){target}{verdict}")
        print(f"   {size['calls']:>10,}: " + "; ".join(parts))
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        factor = large["calls"] / small["calls"]
        print(f"\n== growth {small['calls']:,} -> {large['calls']:,} calls (x{factor:g})")
        for phase in columns:
            first, last = small["phases"].get(phase), large["phases"].get(phase)
            if not first or not last or first.get("aborted") or last.get("aborted"):
                continue
            t0, t1 = first["seconds"], last["seconds"]
            exponent = math.log(t1 / t0) / math.log(factor)
            print(
                f"   {phase:<14} time x{t1 / t0:6.2f} (exponent {exponent:.2f}; "
                f"{t0 / small['calls'] * 1e6:6.2f} -> {t1 / large['calls'] * 1e6:6.2f} s per "
                f"million calls)   CPU x{_cpu(last) / _cpu(first):6.2f}   "
                f"peak x{last['peak_rss'] / first['peak_rss']:5.2f}"
            )


def report(paths: list[Path]) -> None:
    """Print the summary of earlier runs; a size measured in several files: the last wins."""
    merged: dict[int, dict[str, Any]] = {}
    for path in paths:
        for size in json.loads(path.read_text())["sizes"]:
            merged[size["calls"]] = size
    print_summary({"sizes": list(merged.values())})


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import duckdb
    import pandas as pd
    import pyarrow as pa

    memory = _status_kib_meminfo("MemTotal")
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(memory / 2**20, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pandas": pd.__version__,
        "pyarrow": pa.__version__,
        "platform": platform.platform(),
        "load_at_start": os.getloadavg(),
    }


def _status_kib_meminfo(field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    return int(match.group(1)) if match else 0


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default=",".join(str(s) for s in DEFAULT_SIZES),
        help="calls per month, comma separated (500k, 1M, 2.5M ...)",
    )
    parser.add_argument("--agents", type=int, help=f"default: calls / {CALLS_PER_AGENT}")
    parser.add_argument("--month", default=MONTH)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="runs per phase; the best counts")
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        help=f"comma separated, from {','.join(PHASES + EXTRA_PHASES)}",
    )
    parser.add_argument(
        "--profile",
        nargs="?",
        const="all",
        help="also profile import and compute: for every size, or for the sizes given (5M,...)",
    )
    parser.add_argument("--cache-dir", type=Path, help="default $AGENTLADDER_BENCH_DIR or /tmp")
    parser.add_argument("--out", type=Path, help="results JSON (default benchmarks/results/)")
    parser.add_argument(
        "--report", type=Path, nargs="+", help="only print the summary of earlier results JSON"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--job", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args.worker, json.loads(args.job))
        return
    if args.report:
        report(args.report)
        return
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    cache = args.cache_dir or Path(
        os.environ.get("AGENTLADDER_BENCH_DIR", "/tmp/agentladder-bench")
    )
    cache.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    started = datetime.now(UTC)
    results: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "targets": {**TARGETS, "peak_rss_bytes": PEAK_TARGET},
        "arguments": {k: str(v) for k, v in vars(args).items() if k not in ("worker", "job")},
        "sizes": [],
    }
    out = args.out or RESULTS / f"queue_log-{started:%Y%m%dT%H%M%S}.json"
    for calls in sizes:
        bench_size(args, calls, cache, out, results)
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    out.write_text(json.dumps(results, indent=1, default=str))
    print_summary(results)
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
