"""Benchmark: a month of flat queue_log through the CLI, end to end, against a DuckDB script.

The first target of issue 19: a month of flat Asterisk queue_log for 1,000 agents (about
1.8 M calls) goes through `agentladder` as a user runs it, three separate processes with their
start-up included:

    agentladder import queue-log FILE
    agentladder metrics compute --period YYYY-MM
    agentladder metrics show --period YYYY-MM --format json

The baseline is a hand-written DuckDB script, run as its own process (start-up included), that
reads the same raw file and computes the same figures: handled calls, talk, ring and
ring-no-answer per agent; offered, answered, abandoned, timed-out and ASA per queue. A plain
pandas script of the same figures, also its own process, is a second reference. Target: the
product's three processes take at most 3x the DuckDB script; aim: 1.5x. The figures must be
identical: the product's `metrics show` JSON is compared with the DuckDB script's figures, and
the pandas script's with the DuckDB script's, value for value and sample for sample.

Each run uses a fresh data directory and SQLite database, prepared beforehand and not timed,
as `bench_queue_log.py` prepares its own: the schema and the 1,000 agents (employee numbers
100001...), so that `Agent/100001` in the file resolves to an agent as in a real centre. Wall
time is taken around each process in this one; peak memory is the process's own peak resident
set size (`ru_maxrss` from `os.wait4`). The file is in the page cache when a process starts.

    python benchmarks/end_to_end.py                           # 1.8 M calls, 2 runs
    python benchmarks/end_to_end.py --calls 0.2M --repeat 1   # a quick check

The file is generated once (with `generate_queue_log.py`) and kept in $AGENTLADDER_BENCH_DIR
(default /tmp/agentladder-bench), where `bench_queue_log.py` keeps its own; results go to
benchmarks/results/end_to_end-<UTC stamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Only the standard library at the top: the reference scripts run this file as their own
# process, and should pay for nothing they do not use (the driver's helpers load lazily).
HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DEFAULT_CALLS = 1_800_000
AGENTS = 1_000
MONTH = "2026-10"
TIMEZONE = "Asia/Shanghai"  # the centre's zone: the month's bounds, as bench_queue_log uses
TARGET_RATIO = 3.0
AIM_RATIO = 1.5
AGENT_FIGURES = ("handled_calls", "total_talk_s", "avg_ring_s", "ring_no_answer")
QUEUE_FIGURES = ("offered", "answered", "abandoned", "timed_out", "asa_s")
PRODUCT_PHASES = ("import", "compute", "show")
REFERENCE_PHASES = ("duckdb", "pandas")

# The queue_log verbs the reference scripts read (stock Asterisk layouts, as generated).
CALLER_ENDS = ("ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY", "WITHDRAW")
AGENT_ENDS = ("COMPLETEAGENT", "COMPLETECALLER", "TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER")
TRANSFERS = ("TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER")
# epoch|callid|queue|agent|verb|data1..data5: the widest stock line (ATTENDEDTRANSFER).
COLUMNS = ("epoch", "callid", "queue", "agent", "verb", "d1", "d2", "d3", "d4", "d5")


# --- the reference scripts (each runs as its own process) -----------------------------------


def month_bounds(month: str, timezone: str) -> tuple[float, float]:
    """The month's first and following local midnights, as Unix seconds."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(timezone)
    year, number = (int(part) for part in month.split("-"))
    start = datetime(year, number, 1, tzinfo=zone)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return start.timestamp(), end.timestamp()


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _ratio(total: float | None, count: int) -> float | None:
    # A mean is its total over its count, divided in Python as agentladder stores it.
    return None if total is None or not count else total / count


def figures_rows(
    agents: list[tuple[Any, ...]], rings: list[tuple[Any, ...]], queues: list[tuple[Any, ...]]
) -> list[list[Any]]:
    """The figures as [scope, subject, metric, value, sample] rows, from the per-agent
    (subject, handled, talk_sum, talk_n, ring_sum, ring_n), per-agent ring-no-answer
    (subject, count) and per-queue (queue, offered, answered, abandoned, timed_out, wait_sum,
    wait_n) aggregates; each value and sample as the catalog defines it."""
    rows: list[list[Any]] = []
    for subject, handled, talk_sum, talk_n, ring_sum, ring_n in agents:
        rows += [
            ["agent", subject, "handled_calls", float(handled), int(handled)],
            ["agent", subject, "total_talk_s", float(talk_sum or 0.0), int(talk_n)],
            ["agent", subject, "avg_ring_s", _ratio(ring_sum, int(ring_n)), int(ring_n)],
        ]
    for subject, count in rings:
        rows.append(["agent", subject, "ring_no_answer", float(count), int(count)])
    for queue, offered, answered, abandoned, timed_out, wait_sum, wait_n in queues:
        for metric, count in (
            ("offered", offered),
            ("answered", answered),
            ("abandoned", abandoned),
            ("timed_out", timed_out),
        ):
            rows.append(["queue", queue, metric, float(count), int(count)])
        rows.append(["queue", queue, "asa_s", _ratio(wait_sum, int(wait_n)), int(wait_n)])
    return rows


def duckdb_figures(path: Path, start: float, end: float) -> list[list[Any]]:
    """The figures with hand-written DuckDB SQL over the raw file: a call is its callid and
    queue; it is the month's when its ENTERQUEUE is; the agent is `Agent/<employee no>`."""
    import duckdb

    con = duckdb.connect()
    columns = ", ".join(
        f"'{name}': '{'DOUBLE' if name == 'epoch' else 'VARCHAR'}'" for name in COLUMNS
    )
    calls_sql = f"""
        CREATE TABLE ev AS
        SELECT * FROM read_csv('{path}', columns = {{{columns}}}, delim = '|', quote = '',
                               escape = '', header = false, auto_detect = false,
                               null_padding = true)
        WHERE queue <> 'NONE';
        CREATE TABLE calls AS
        SELECT queue,
               regexp_replace(coalesce(connect_agent, end_agent), '^[^/]*/', '') AS subject,
               answer_at, ring_s,
               end_verb IN {_sql_list(AGENT_ENDS)} AS answered,
               CASE WHEN end_verb IN {_sql_list(AGENT_ENDS)} THEN end_n END AS talk_s,
               coalesce(connect_wait_s,
                        CASE WHEN end_verb IN {_sql_list(CALLER_ENDS)} THEN end_n END) AS wait_s,
               end_verb
        FROM (
          SELECT callid, queue,
                 min(epoch) FILTER (verb = 'ENTERQUEUE') AS enter_at,
                 min(agent) FILTER (verb = 'CONNECT') AS connect_agent,
                 min(epoch) FILTER (verb = 'CONNECT') AS answer_at,
                 min(TRY_CAST(d1 AS DOUBLE)) FILTER (verb = 'CONNECT') AS connect_wait_s,
                 min(TRY_CAST(d3 AS DOUBLE)) FILTER (verb = 'CONNECT') AS ring_s,
                 min(verb) FILTER (verb IN {_sql_list(AGENT_ENDS + CALLER_ENDS)}) AS end_verb,
                 min(agent) FILTER (verb IN {_sql_list(AGENT_ENDS)}) AS end_agent,
                 -- talk (agent ends: data2, transfers: data4) or wait (caller ends: data3)
                 min(TRY_CAST(CASE WHEN verb IN ('COMPLETEAGENT', 'COMPLETECALLER') THEN d2
                                   WHEN verb IN {_sql_list(TRANSFERS)} THEN d4
                                   WHEN verb IN {_sql_list(CALLER_ENDS)} THEN d3 END
                              AS DOUBLE)) AS end_n
          FROM ev GROUP BY callid, queue
        )
        WHERE enter_at >= {start} AND enter_at < {end};
    """
    con.execute(calls_sql)
    agents = con.execute(
        """
        SELECT subject, count(*), sum(talk_s), count(talk_s), sum(ring_s), count(ring_s)
        FROM calls WHERE answered GROUP BY subject
        """
    ).fetchall()
    rings = con.execute(
        f"""
        SELECT regexp_replace(agent, '^[^/]*/', ''), count(*) FROM ev
        WHERE verb = 'RINGNOANSWER' AND epoch >= {start} AND epoch < {end} GROUP BY 1
        """
    ).fetchall()
    queues = con.execute(
        """
        SELECT queue, count(*),
               count(*) FILTER (answer_at IS NOT NULL OR answered),
               count(*) FILTER (end_verb = 'ABANDON'),
               count(*) FILTER (end_verb = 'EXITWITHTIMEOUT'),
               sum(wait_s) FILTER (answered), count(wait_s) FILTER (answered)
        FROM calls GROUP BY queue
        """
    ).fetchall()
    return figures_rows(agents, rings, queues)


def pandas_figures(path: Path, start: float, end: float) -> list[list[Any]]:
    """The same figures in plain pandas: read the file, take each call's first ENTERQUEUE,
    CONNECT and closing line, join them on (callid, queue), group by."""
    import csv

    import pandas as pd

    ev = pd.read_csv(
        path,
        sep="|",
        header=None,
        names=list(COLUMNS),
        dtype=str,
        quoting=csv.QUOTE_NONE,
        keep_default_na=False,  # "NONE" and empty fields stay text
    )
    ev = ev[ev["queue"] != "NONE"]
    ev = ev.assign(epoch=pd.to_numeric(ev["epoch"]))
    keys = ["callid", "queue"]

    def first(verbs: tuple[str, ...]) -> pd.DataFrame:
        return ev[ev["verb"].isin(verbs)].drop_duplicates(keys).set_index(keys)

    enter = first(("ENTERQUEUE",))
    connect = first(("CONNECT",))
    finish = first(AGENT_ENDS + CALLER_ENDS)
    calls = pd.DataFrame({"enter_at": enter["epoch"]})
    calls = calls[(calls["enter_at"] >= start) & (calls["enter_at"] < end)]
    calls = calls.join(
        pd.DataFrame(
            {
                "connect_agent": connect["agent"],
                "answer_at": connect["epoch"],
                "connect_wait_s": pd.to_numeric(connect["d1"], errors="coerce"),
                "ring_s": pd.to_numeric(connect["d3"], errors="coerce"),
            }
        )
    )
    verb = finish["verb"]
    end_n = pd.to_numeric(
        finish["d2"]
        .where(verb.isin(("COMPLETEAGENT", "COMPLETECALLER")))
        .fillna(finish["d4"].where(verb.isin(TRANSFERS)))
        .fillna(finish["d3"].where(verb.isin(CALLER_ENDS))),
        errors="coerce",
    )
    calls = calls.join(
        pd.DataFrame({"end_verb": verb, "end_agent": finish["agent"], "end_n": end_n})
    )
    answered = calls["end_verb"].isin(AGENT_ENDS)
    calls = calls.assign(
        answered=answered,
        subject=calls["connect_agent"]
        .fillna(calls["end_agent"].where(answered))
        .str.replace(r"^[^/]*/", "", regex=True),
        talk_s=calls["end_n"].where(answered),
        wait_s=calls["connect_wait_s"].fillna(
            calls["end_n"].where(calls["end_verb"].isin(CALLER_ENDS))
        ),
    ).reset_index()

    handled = calls[calls["answered"]]
    per_agent = handled.groupby("subject").agg(
        handled=("subject", "size"),
        talk_sum=("talk_s", "sum"),
        talk_n=("talk_s", "count"),
        ring_sum=("ring_s", "sum"),
        ring_n=("ring_s", "count"),
    )
    rings = ev[(ev["verb"] == "RINGNOANSWER") & (ev["epoch"] >= start) & (ev["epoch"] < end)]
    per_ring = rings["agent"].str.replace(r"^[^/]*/", "", regex=True).value_counts()
    per_queue = (
        calls.assign(
            answered_any=calls["answer_at"].notna() | calls["answered"],
            abandoned=calls["end_verb"] == "ABANDON",
            timed_out=calls["end_verb"] == "EXITWITHTIMEOUT",
            wait_answered=calls["wait_s"].where(calls["answered"]),
        )
        .groupby("queue")
        .agg(
            offered=("queue", "size"),
            answered=("answered_any", "sum"),
            abandoned=("abandoned", "sum"),
            timed_out=("timed_out", "sum"),
            wait_sum=("wait_answered", "sum"),
            wait_n=("wait_answered", "count"),
        )
    )
    return figures_rows(
        list(per_agent.itertuples(name=None)),
        list(per_ring.items()),
        list(per_queue.itertuples(name=None)),
    )


def reference_main(args: argparse.Namespace) -> None:
    """Child side: one reference script, its figures written as JSON."""
    start, end = month_bounds(args.month, args.timezone)
    compute = duckdb_figures if args.reference == "duckdb" else pandas_figures
    rows = compute(Path(args.file), start, end)
    Path(args.out).write_text(json.dumps(rows))


# --- processes ------------------------------------------------------------------------------


def run_process(
    name: str, command: list[str], *, cwd: Path, env: dict[str, str], stdout: Path
) -> dict[str, Any]:
    """Run one command to its end: wall seconds around the whole process (start-up included),
    its peak RSS and CPU time. The machine is shared: a process is stopped when less than
    bench_queue_log's MIN_AVAILABLE memory is left, rather than leave the kernel to pick one."""
    from bench_queue_log import MIN_AVAILABLE, _meminfo_bytes, _rss_of

    stderr = stdout.with_suffix(".stderr")
    load = os.getloadavg()[0]
    watched: dict[str, Any] = {"sampled": 0, "aborted": None}
    with stdout.open("wb") as out, stderr.open("wb") as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err)
        finished = threading.Event()

        def watch() -> None:
            while not finished.wait(0.1):
                watched["sampled"] = max(watched["sampled"], _rss_of(child.pid))
                available = _meminfo_bytes("MemAvailable")
                if watched["aborted"] is None and available < MIN_AVAILABLE:
                    watched["aborted"] = (
                        f"stopped: the machine had {available / 2**30:.1f} GiB left; the "
                        f"process held {watched['sampled'] / 2**30:.1f} GiB"
                    )
                    child.send_signal(signal.SIGKILL)

        # The main thread blocks in wait4, so the wall time ends when the process does.
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        finished.set()
        watcher.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    result = {
        "phase": name,
        "command": command,
        "seconds": seconds,
        "peak_rss": max(usage.ru_maxrss * 1024, watched["sampled"]),  # Linux: KiB
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "load_before": load,
        "returncode": child.returncode,
    }
    if watched["aborted"]:
        result["aborted"] = watched["aborted"]
    elif child.returncode != 0:
        tail = stderr.read_text(errors="replace")[-2000:] or stdout.read_text(errors="replace")
        raise RuntimeError(f"{name} failed with exit code {child.returncode}:\n{tail[-2000:]}")
    return result


def agentladder_command() -> str:
    """The `agentladder` entry point of this interpreter's environment, as a user runs it."""
    beside = Path(sys.executable).parent / "agentladder"
    found = str(beside) if beside.exists() else shutil.which("agentladder")
    if found is None:
        sys.exit("agentladder is not installed in this environment (pip install -e .)")
    return found


def product_env(data_dir: Path) -> dict[str, str]:
    """The environment of the CLI processes: the settings bench_queue_log's set-up used for the
    same data directory (its `_settings`), read from AGENTLADDER_* as a deployment would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTLADDER_")}
    env.update(
        AGENTLADDER_DATA_DIR=str(data_dir),
        AGENTLADDER_DATABASE_URL=f"sqlite:///{data_dir}/agentladder.db",
        AGENTLADDER_SECRET_KEY="bench",
        AGENTLADDER_TIMEZONE=TIMEZONE,
    )
    return env


# --- one run --------------------------------------------------------------------------------


def load_figures(path: Path) -> dict[tuple[str, str, str], tuple[float | None, int]]:
    """A reference script's rows as reference_kpis' Results."""
    return {(r[0], r[1], r[2]): (r[3], r[4]) for r in json.loads(path.read_text())}


def product_figures(show_json: Path) -> dict[tuple[str, str, str], tuple[float | None, int]]:
    """What `metrics show --format json` printed, as Results, the compared metrics only."""
    from reference_kpis import stored_results

    stored = stored_results(json.loads(show_json.read_text()))
    return {
        key: value
        for key, value in stored.items()
        if key[2] in (AGENT_FIGURES if key[0] == "agent" else QUEUE_FIGURES)
    }


def check(
    expected: dict[tuple[str, str, str], tuple[float | None, int]],
    actual: dict[tuple[str, str, str], tuple[float | None, int]],
) -> dict[str, Any]:
    """reference_kpis.compare, exactly (relative tolerance 0) and within its default 1e-9."""
    from reference_kpis import compare

    compared, exact_problems = compare(expected, actual, rel=0.0)
    _, close_problems = compare(expected, actual)
    return {
        "compared": compared,
        "exact_disagreements": len(exact_problems),
        "disagreements_beyond_1e-9": len(close_problems),
        "examples": exact_problems[:20],
    }


def one_run(args: argparse.Namespace, number: int, file: Path, run_dir: Path) -> dict[str, Any]:
    """Set up a fresh data directory (untimed), then the three CLI processes and the two
    reference scripts, each timed as a whole; then the figures compared."""
    from bench_queue_log import spawn, warm

    data_dir = run_dir / "data"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    # The schema and the agents, as bench_queue_log's set-up makes them: not part of the target.
    setup = spawn("setup", {"data_dir": str(data_dir), "agents": args.agents}, run_dir)
    env = product_env(data_dir)
    cli = agentladder_command()
    commands = {
        "import": [cli, "import", "queue-log", str(file)],
        "compute": [cli, "metrics", "compute", "--period", args.month],
        "show": [cli, "metrics", "show", "--period", args.month, "--format", "json"],
    }
    phases: dict[str, Any] = {}
    for phase, command in commands.items():
        if phase == "import":
            warm(file)
        phases[phase] = run_process(
            phase, command, cwd=run_dir, env=env, stdout=run_dir / f"{phase}.out"
        )
        if phases[phase].get("aborted"):
            break
    for engine in REFERENCE_PHASES:
        warm(file)
        command = [
            sys.executable, str(Path(__file__).resolve()), "--reference", engine,
            "--file", str(file), "--month", args.month, "--timezone", TIMEZONE,
            "--out", str(run_dir / f"{engine}.json"),
        ]  # fmt: skip
        phases[engine] = run_process(
            engine, command, cwd=run_dir, env=os.environ.copy(), stdout=run_dir / f"{engine}.out"
        )
    # `metrics compute` says how long the computation itself took, inside its process.
    said = re.search(r"\(duckdb, ([0-9.]+) s\)", (run_dir / "compute.out").read_text())
    if said and "compute" in phases:
        phases["compute"]["inside_s"] = float(said.group(1))

    checks: dict[str, Any] = {}
    duckdb_json = run_dir / "duckdb.json"
    if duckdb_json.exists():
        reference = load_figures(duckdb_json)
        if (run_dir / "show.out").exists() and not phases.get("show", {}).get("aborted"):
            checks["product_vs_duckdb"] = check(product_figures(run_dir / "show.out"), reference)
        if (run_dir / "pandas.json").exists():
            checks["pandas_vs_duckdb"] = check(reference, load_figures(run_dir / "pandas.json"))
    return {
        "run": number,
        "setup_s": setup["seconds"],
        "phases": phases,
        "product_s": product_seconds(phases),
        "checks": checks,
    }


def product_seconds(phases: dict[str, Any]) -> float | None:
    """The three CLI processes together; None when one did not finish."""
    if any(p not in phases or phases[p].get("aborted") for p in PRODUCT_PHASES):
        return None
    return sum(phases[p]["seconds"] for p in PRODUCT_PHASES)


def best_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each phase's fastest run (the least disturbed by other work on the machine) with the
    highest peak of all runs; the product's total is its fastest whole sequence."""
    phases: dict[str, Any] = {}
    for phase in (*PRODUCT_PHASES, *REFERENCE_PHASES):
        done = [r["phases"][phase] for r in runs if phase in r["phases"]]
        done = [d for d in done if not d.get("aborted")]
        if done:
            phases[phase] = dict(min(done, key=lambda d: d["seconds"]))
            phases[phase]["all_seconds"] = [d["seconds"] for d in done]
            phases[phase]["peak_rss"] = max(d["peak_rss"] for d in done)
    totals = [r["product_s"] for r in runs if r["product_s"] is not None]
    return {"phases": phases, "product_s": min(totals) if totals else None}


# --- printing -------------------------------------------------------------------------------

LABELS = {
    "import": "agentladder import",
    "compute": "agentladder metrics compute",
    "show": "agentladder metrics show (json)",
    "duckdb": "DuckDB script",
    "pandas": "pandas script",
}


def verdicts(product_s: float | None, duckdb_s: float | None) -> dict[str, Any]:
    """product / DuckDB against the target and the aim."""
    if product_s is None or not duckdb_s:
        return {"ratio": None}
    ratio = product_s / duckdb_s
    return {
        "ratio": ratio,
        "target": TARGET_RATIO,
        "meets_target": ratio <= TARGET_RATIO,
        "aim": AIM_RATIO,
        "meets_aim": ratio <= AIM_RATIO,
    }


def print_table(title: str, phases: dict[str, Any], product_s: float | None) -> None:
    """Phase, seconds, peak memory; the totals and the ratio against target and aim."""
    print(f"\n== {title}")
    print(f"   {'phase':<34} {'seconds':>9} {'peak GiB':>9} {'CPU s':>8}")
    for phase in (*PRODUCT_PHASES, *REFERENCE_PHASES):
        entry = phases.get(phase)
        if entry is None:
            print(f"   {LABELS[phase]:<34} {'-':>9}")
            continue
        note = ""
        if entry.get("aborted"):
            note = f"   ABORTED: {entry['aborted']}"
        elif "inside_s" in entry:
            note = f"   ({entry['inside_s']:.2f} s computing, as the command reports)"
        print(
            f"   {LABELS[phase]:<34} {entry['seconds']:9.2f} {entry['peak_rss'] / 2**30:9.2f}"
            f" {entry['cpu_s']:8.1f}{note}"
        )
        if phase == PRODUCT_PHASES[-1]:
            total = f"{product_s:9.2f}" if product_s is not None else f"{'-':>9}"
            print(f"   {'product total (3 processes)':<34} {total}")
    duckdb = phases.get("duckdb", {})
    pandas = phases.get("pandas", {})
    result = verdicts(product_s, None if duckdb.get("aborted") else duckdb.get("seconds"))
    if result["ratio"] is None:
        print("   product / DuckDB: not measured")
        return
    target = "meets" if result["meets_target"] else "MISSES"
    aim = "meets" if result["meets_aim"] else "MISSES"
    print(
        f"   product / DuckDB script: {result['ratio']:.2f}x   target <= {TARGET_RATIO}x: "
        f"{target}   aim <= {AIM_RATIO}x: {aim}"
    )
    if pandas and not pandas.get("aborted") and product_s is not None:
        print(f"   product / pandas script: {product_s / pandas['seconds']:.2f}x")


def print_checks(checks: dict[str, Any]) -> None:
    """Whether the figures agree, and the first few differences."""
    names = {"product_vs_duckdb": "agentladder vs DuckDB", "pandas_vs_duckdb": "pandas vs DuckDB"}
    for name, entry in checks.items():
        exact = entry["exact_disagreements"]
        verdict = "identical" if exact == 0 else f"{exact} DIFFER exactly"
        print(
            f"   figures {names[name]}: {entry['compared']:,} compared, {verdict}"
            f" ({entry['disagreements_beyond_1e-9']} beyond a relative 1e-9)"
        )
        for problem in entry["examples"][:5]:
            print(f"      {problem}")


# --- the driver -----------------------------------------------------------------------------


def the_file(args: argparse.Namespace, cache: Path) -> tuple[Path, dict[str, Any]]:
    """The generated month, named and cached as bench_queue_log.py names its own (the same
    arguments give the same bytes, so either script may reuse the other's file)."""
    from bench_queue_log import spawn

    name = f"queue_log-{args.month}-{args.calls}c-{args.agents}a-s{args.seed}"
    file = cache / name
    sidecar = file.with_suffix(".json")
    if not file.exists() or not sidecar.exists():
        scratch = cache / "end_to_end-generate"
        scratch.mkdir(parents=True, exist_ok=True)
        job = {
            "file": str(file),
            "calls": args.calls,
            "agents": args.agents,
            "month": args.month,
            "seed": args.seed,
        }
        print(f"   generating {file} ...", flush=True)
        sidecar.write_text(json.dumps(spawn("generate", job, scratch)))
    return file, json.loads(sidecar.read_text())


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--calls", default=str(DEFAULT_CALLS), help="calls in the month: 1.8M, 200k, 0.1M ..."
    )
    parser.add_argument("--agents", type=int, default=AGENTS)
    parser.add_argument("--month", default=MONTH)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2, help="whole sequences; the best counts")
    parser.add_argument("--cache-dir", type=Path, help="default $AGENTLADDER_BENCH_DIR or /tmp")
    parser.add_argument("--out", type=Path, help="results JSON (default benchmarks/results/)")
    # A reference script's own process (see reference_main).
    parser.add_argument("--reference", choices=REFERENCE_PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--timezone", default=TIMEZONE, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reference:
        reference_main(args)
        return

    from bench_queue_log import machine, parse_size

    args.calls = parse_size(args.calls)
    cache = args.cache_dir or Path(
        os.environ.get("AGENTLADDER_BENCH_DIR", "/tmp/agentladder-bench")
    )
    cache.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    started = datetime.now(UTC)
    out = args.out or RESULTS / f"end_to_end-{started:%Y%m%dT%H%M%S}.json"
    print(f"== {args.calls:,} calls, {args.agents:,} agents, {args.month}", flush=True)
    file, generated = the_file(args, cache)
    print(
        f"   file {file}: {generated['lines']:,} lines, {generated['calls']:,} calls, "
        f"{generated['bytes'] / 2**20:,.0f} MiB",
        flush=True,
    )
    results: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "target_ratio": TARGET_RATIO,
        "aim_ratio": AIM_RATIO,
        "arguments": {k: str(v) for k, v in vars(args).items()},
        "file": generated,
        "figures": {"agent": AGENT_FIGURES, "queue": QUEUE_FIGURES},
        "runs": [],
    }
    run_dir = cache / f"end_to_end-{args.calls}c-{args.agents}a"
    for number in range(1, args.repeat + 1):
        run = one_run(args, number, file, run_dir)
        duckdb = run["phases"].get("duckdb", {})
        run["verdict"] = verdicts(run["product_s"], duckdb.get("seconds"))
        results["runs"].append(run)
        out.write_text(json.dumps(results, indent=1, default=str))  # keep what was measured
        print_table(
            f"run {number} of {args.repeat} (set-up, untimed: {run['setup_s']:.1f} s)",
            run["phases"],
            run["product_s"],
        )
        print_checks(run["checks"])
    best = best_of(results["runs"])
    duckdb_best = best["phases"].get("duckdb", {}).get("seconds")
    best["verdict"] = verdicts(best["product_s"], duckdb_best)
    results["best"] = best
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    out.write_text(json.dumps(results, indent=1, default=str))
    print_table(
        f"best of {args.repeat} (each phase's fastest; product total: fastest sequence)",
        best["phases"],
        best["product_s"],
    )
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
