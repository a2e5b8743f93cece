"""What-if measurements behind the proposals in benchmarks/README.md.

Each experiment times a piece of the import or of the KPI computation as it is now and a
cheaper way of doing the same work, on a file and data directory that `bench_queue_log.py`
left behind, and checks that the cheaper way gives the same result. Nothing here changes
agentladder: alternatives are written out in this file (or swapped in with monkeypatching
inside a throwaway child process).

    python benchmarks/whatif_queue_log.py --calls 5M            # after bench_queue_log.py
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bench_queue_log import (
    CALLS_PER_AGENT,
    RESULTS,
    Steps,
    _settings,
    parse_size,
    spawn,
)

MONTH = "2026-10"


def _fingerprint(table: Any) -> dict[str, Any]:
    """Rows and an order-independent hash of every column (DuckDB's hash), to show that two
    ways of building a table built the same one."""
    import duckdb

    con = duckdb.connect()
    con.register("t", table)
    columns = ", ".join(f'"{c}"' for c in table.column_names)
    rows, digest = con.execute(f"SELECT count(*), bit_xor(hash({columns})) FROM t").fetchone()
    return {"rows": rows, "hash": str(digest)}


# --- the import's SQL -----------------------------------------------------------------------

LEAN_LOAD = r"""
CREATE TABLE raw AS
SELECT row_number() OVER () AS line_no, line
FROM read_csv('{path}', columns = {{'line': 'VARCHAR'}}, delim = '{delimiter}', quote = '',
              escape = '', header = false, auto_detect = false, strict_mode = false,
              null_padding = true);
CREATE TABLE ev AS
SELECT line_no, to_timestamp(TRY_CAST(f[1] AS DOUBLE)) AS ts, f[2] AS callid, f[3] AS queue,
       f[4] AS agent, upper(trim(f[5])) AS verb, list_slice(f, 6, len(f)) AS d
FROM (SELECT line_no, string_split(line, '|') AS f FROM raw
      WHERE line IS NOT NULL AND trim(line) <> '')
WHERE len(f) >= 5 AND regexp_full_match(trim(f[1]), '[0-9]{{9,11}}(\.[0-9]+)?');
CREATE TABLE bad AS
SELECT line_no, line AS raw,
       CASE WHEN len(f) < 5 THEN 'fewer than 5 fields (epoch|callid|queue|agent|EVENT)'
            ELSE 'the first field is not a Unix time: ' || f[1] END AS reason
FROM (SELECT line_no, line, string_split(line, '|') AS f FROM raw
      WHERE line IS NOT NULL AND trim(line) <> '')
WHERE NOT (len(f) >= 5 AND regexp_full_match(trim(f[1]), '[0-9]{{9,11}}(\.[0-9]+)?'));
CREATE TABLE blank AS SELECT count(*) AS n FROM raw WHERE line IS NULL OR trim(line) = '';
DROP TABLE raw;
"""


def worker_parse(job: dict[str, Any]) -> dict[str, Any]:
    """`queue_log.parse` as it is, or with the lean load: the events table without the copy of
    every raw line (`parts`, `ev.raw`, which `seg`'s SELECT * copies again), the line table
    dropped once split, and `conn`/`fin` dropped once joined."""
    from agentladder.ingest import queue_log
    from agentladder.ingest.adapters import AdapterInput

    settings = _settings(job["data_dir"])
    data = Path(job["file"]).read_bytes()
    if job["variant"] == "lean":

        def lean_load(db: Any, path: Path, data: bytes) -> None:
            delimiter = next(c for c in queue_log._NEVER_SEEN if c.encode() not in data)
            db.execute(LEAN_LOAD.format(path=path, delimiter=delimiter))

        queue_log._load_flat = lean_load
        queue_log.ASSEMBLE_CALLS += "\nDROP TABLE conn; DROP TABLE fin;"
    steps = Steps()
    with steps.step(f"queue_log.parse ({job['variant']})"):
        parsed = queue_log.parse(AdapterInput(data, Path(job["file"]).name, settings))
    return {
        "steps": steps.rows,
        "interactions": _fingerprint(parsed.datasets["interactions"]),
        "agent_states": _fingerprint(parsed.datasets["agent_states"]),
        "rows_read": parsed.rows_read,
        "rows_accepted": parsed.rows_accepted,
    }


# --- the import's Python and Arrow steps ----------------------------------------------------


def _stored(settings: Any, dataset: str) -> Any:
    import pyarrow.parquet as pq

    from agentladder.ingest import datasets

    files = sorted(datasets.dataset_dir(settings, dataset).glob("month=*/*.parquet"))
    return pq.ParquetDataset([str(f) for f in files], schema=datasets.SCHEMAS[dataset]).read()


def worker_arrow_steps(job: dict[str, Any]) -> dict[str, Any]:
    """The import after parsing, on the stored rows (the same table the parser returned):
    `_new_rows` and `write_batch` as they are, and the same work without Python objects."""
    import duckdb
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from agentladder.ingest import datasets
    from agentladder.ingest import service as ingest_service

    settings = _settings(job["data_dir"])
    table = _stored(settings, "interactions")
    scratch = Path(job["data_dir"]).parent / "whatif-scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    steps = Steps()
    out: dict[str, Any] = {"rows": table.num_rows}

    with steps.step("month_of_rows (tz cast + strftime of every row)"):
        months = datasets.month_of_rows(table, settings)
    with steps.step("set(months.to_pylist())"):
        set(months.to_pylist())
    with steps.step("alternative: months from min/max event time only"):
        low, high = pc.min_max(table["event_at"]).values()
        zone = settings.tz
        {f"{low.as_py().astimezone(zone):%Y-%m}", f"{high.as_py().astimezone(zone):%Y-%m}"}
    with steps.step("_new_rows(interactions) as is (no overlapping batch stored)"):
        kept = ingest_service._new_rows(settings, "interactions", table, [])
    out["new_rows_kept"] = kept.num_rows
    with steps.step("alternative: key uniqueness in Arrow (count_distinct), no Python objects"):
        unique = pc.count_distinct(table["key"]).as_py() == table.num_rows
        no_open = not pc.any(pc.equal(table["outcome"], "open")).as_py()
    out["alternative_keeps_all"] = bool(unique and no_open)
    with steps.step("alternative: same with DuckDB (anti-join on stored keys + first per key)"):
        con = duckdb.connect()
        con.register("t", table)
        kept_sql = con.execute(
            "SELECT count(*) FROM (SELECT key FROM t QUALIFY row_number() OVER "
            "(PARTITION BY key ORDER BY outcome = 'open') = 1)"
        ).fetchone()[0]
        con.close()
    out["duckdb_kept"] = kept_sql

    with steps.step("write_batch as is (month split + pq.write_table zstd)"):
        datasets.write_batch(
            settings.model_copy(update={"data_dir": scratch / "as-is"}), "interactions", table, "x"
        )
    with steps.step("pq.write_table zstd alone"):
        pq.write_table(table, scratch / "alone.parquet", compression="zstd")
    with steps.step("pq.write_table zstd, 128k-row groups"):
        pq.write_table(table, scratch / "rg.parquet", compression="zstd", row_group_size=131072)
    with steps.step("DuckDB COPY ... TO parquet zstd (from the Arrow table)"):
        con = duckdb.connect()
        con.register("t", table)
        con.execute(f"COPY t TO '{scratch / 'duck.parquet'}' (FORMAT parquet, COMPRESSION zstd)")
        con.close()
    sizes = {p.name: p.stat().st_size for p in scratch.rglob("*.parquet")}
    out["parquet_bytes"] = sizes
    out["row_groups"] = {
        p.name: pq.ParquetFile(p).metadata.num_row_groups for p in scratch.rglob("*.parquet")
    }
    with steps.step("Arrow keys as Python list (what _new_rows holds)"):
        keys = table["key"].to_pylist()
        seen = set(keys)
    out["python_keys"] = len(seen)
    del keys, seen
    shutil.rmtree(scratch, ignore_errors=True)
    pa.default_memory_pool().release_unused()
    out["steps"] = steps.rows
    return out


# --- the KPI computation --------------------------------------------------------------------


def worker_engine(job: dict[str, Any]) -> dict[str, Any]:
    """The KPI queries (`metrics.compiled`) as they are, and with the Parquet rewritten in
    128k-row groups (DuckDB scans row groups in parallel; pyarrow writes up to 1M rows per
    group). (The variant without the settled/open union went when the superseded copies
    became a probe.)"""
    import pyarrow.parquet as pq

    from agentladder import db
    from agentladder.ingest import service as ingest_service
    from agentladder.metrics import compiled
    from agentladder.metrics import service as metrics_service
    from agentladder.metrics.service import metric_config
    from agentladder.periods import parse_period

    settings = _settings(job["data_dir"])
    with db.session_scope(settings) as session:
        files = ingest_service.dataset_files(session=session, settings=settings)
        identities = metrics_service.resolved_identities(session=session)
    start, end = parse_period(MONTH).bounds_utc(settings.tz)
    config = metric_config(settings)
    if job["variant"] == "row-groups-128k":
        scratch = Path(job["data_dir"]).parent / "whatif-rowgroups"
        shutil.rmtree(scratch, ignore_errors=True)
        rewritten = {}
        for name, paths in files.items():
            rewritten[name] = []
            for path in paths:
                target = scratch / name / path.parent.name / path.name
                target.parent.mkdir(parents=True)
                pq.write_table(
                    pq.read_table(path), target, compression="zstd", row_group_size=131072
                )
                rewritten[name].append(target)
        files = rewritten
    steps = Steps()
    with steps.step(f"KpiQueries.run ({job['variant']})"):
        rows = compiled.KpiQueries(files, identities, config).run(start, end)
    # The same numbers (to 9 significant digits) whichever way they were computed.
    values = sorted(
        (r.scope, r.subject, r.metric_id, None if r.value is None else f"{r.value:.9g}")
        for r in rows
    )
    digest = hashlib.sha256(repr(values).encode()).hexdigest()[:16]
    return {"steps": steps.rows, "rows": len(rows), "digest": digest}


def worker_store(job: dict[str, Any]) -> dict[str, Any]:
    """Storing a month's MetricValue rows as `compute_period` does (ORM objects, add_all,
    flush) against a bulk INSERT of the same rows, and against leaving out the rows that hold
    no value, on a copy of the database."""
    from sqlalchemy import delete, func, insert, select

    from agentladder import db
    from agentladder.metrics.models import MetricValue

    source = Path(job["data_dir"])
    copy = source.parent / "whatif-db"
    shutil.rmtree(copy, ignore_errors=True)
    copy.mkdir()
    shutil.copy(source / "agentladder.db", copy / "agentladder.db")
    settings = _settings(str(copy))
    columns = (
        "period_kind", "period", "scope", "subject", "agent_id", "metric_id", "value",
        "numerator", "denominator", "sample_size", "engine",
    )  # fmt: skip
    with db.session_scope(settings) as session:
        stored = session.execute(select(*(getattr(MetricValue, c) for c in columns))).all()
    rows = [dict(zip(columns, row, strict=True)) for row in stored]
    steps = Steps()
    out: dict[str, Any] = {
        "rows": len(rows),
        "rows_with_value": sum(r["value"] is not None for r in rows),
    }

    def clear(session: Any) -> None:
        session.execute(delete(MetricValue))
        session.flush()

    with db.session_scope(settings) as session:
        clear(session)
        with steps.step("as is: MetricValue objects, add_all, flush, commit"):
            session.add_all(MetricValue(**row) for row in rows)
            session.flush()
            session.commit()
    with db.session_scope(settings) as session:
        clear(session)
        with steps.step("bulk: session.execute(insert(MetricValue), rows), commit"):
            session.execute(insert(MetricValue), rows)
            session.commit()
    with db.session_scope(settings) as session:
        clear(session)
        with steps.step("bulk, rows with a value or a sample only"):
            session.execute(
                insert(MetricValue), [r for r in rows if r["value"] is not None or r["sample_size"]]
            )
            session.commit()
        out["stored_after"] = session.scalar(select(func.count()).select_from(MetricValue))
    shutil.rmtree(copy, ignore_errors=True)
    out["steps"] = steps.rows
    return out


def worker_load_pieces(job: dict[str, Any]) -> dict[str, Any]:
    """What each per-line expression of `_load_flat` costs: one pass over the line table for
    each (count(*) over the expression, so nothing is stored)."""
    import duckdb

    con = duckdb.connect()
    con.execute(
        f"CREATE TABLE raw AS SELECT row_number() OVER () AS line_no, line FROM read_csv("
        f"'{job['file']}', columns = {{'line': 'VARCHAR'}}, delim = '\x1f', quote = '', "
        "escape = '', header = false, auto_detect = false)"
    )
    steps = Steps()
    pieces = {
        "scan only": "SELECT count(line) FROM raw",
        "trim(line) <> ''": "SELECT count(*) FROM raw WHERE trim(line) <> ''",
        "string_split(line, '|')": "SELECT sum(len(string_split(line, '|'))) FROM raw",
        "regexp_full_match on the first field": (
            "SELECT count(*) FROM raw WHERE regexp_full_match(trim(split_part(line, '|', 1)), "
            "'[0-9]{9,11}(\\.[0-9]+)?')"
        ),
        "TRY_CAST of the first field instead": (
            "SELECT count(*) FROM raw WHERE TRY_CAST(split_part(line, '|', 1) AS DOUBLE) "
            "IS NOT NULL"
        ),
        "copy the lines into a new table (what parts, ev.raw and seg do)": (
            "CREATE TABLE copied AS SELECT line_no, line FROM raw"
        ),
    }
    for name, sql in pieces.items():
        with steps.step(name):
            con.execute(sql).fetchall()
    return {"steps": steps.rows}


WORKERS = {
    "parse": worker_parse,
    "load_pieces": worker_load_pieces,
    "arrow_steps": worker_arrow_steps,
    "engine": worker_engine,
    "store": worker_store,
}


def main() -> None:
    """Run every experiment for one size and print the steps."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", default="5M")
    parser.add_argument("--agents", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache-dir", type=Path)
    parser.add_argument("--only", help="comma separated experiments: " + ",".join(WORKERS))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--job", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = WORKERS[args.worker](json.loads(args.job))
        Path(json.loads(args.job)["result"]).write_text(json.dumps(result, default=str))
        return
    calls = parse_size(args.calls)
    agents = args.agents or max(1, calls // CALLS_PER_AGENT)
    cache = args.cache_dir or Path(
        os.environ.get("AGENTLADDER_BENCH_DIR", "/tmp/agentladder-bench")
    )
    file = cache / f"queue_log-{MONTH}-{calls}c-{agents}a-s{args.seed}"
    scratch = cache / f"run-{calls}c-{agents}a"
    data_dir = scratch / "data"
    if not file.exists() or not (data_dir / "agentladder.db").exists():
        sys.exit(f"run bench_queue_log.py --sizes {calls} first ({file}, {data_dir})")
    base = {"file": str(file), "data_dir": str(data_dir)}
    me = Path(__file__).resolve()
    wanted = set(args.only.split(",")) if args.only else set(WORKERS)
    jobs = [
        ("load_pieces", {}),
        ("parse", {"variant": "as-is"}),
        ("parse", {"variant": "lean"}),
        ("arrow_steps", {}),
        ("engine", {"variant": "as-is"}),
        ("engine", {"variant": "row-groups-128k"}),
        ("store", {}),
    ]
    results = []
    for name, extra in jobs:
        if name not in wanted:
            continue
        started = time.perf_counter()
        result = spawn(name, {**base, **extra}, scratch, script=me)
        result["experiment"] = name
        result.update(extra)
        results.append(result)
        print(
            f"\n== {name} {extra or ''} ({time.perf_counter() - started:.1f} s in all, "
            f"peak {result['peak_rss'] / 2**30:.2f} GiB, load {result['load_before']:.1f})"
        )
        for row in result.get("steps", []):
            print(f"   {row['seconds']:8.2f} s  peak {row['peak'] / 2**30:5.2f} GiB  {row['step']}")
        for key, value in result.items():
            if key not in {"steps", "experiment", "variant"} and not key.startswith(
                ("peak", "cpu", "process", "load")
            ):
                print(f"   {key}: {value}")
    out = RESULTS / f"whatif-{calls}c-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=1, default=str))
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
