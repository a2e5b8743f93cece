"""Benchmark: what one more period costs the metrics engine, once the month is stored.

A target of issue 19: the fixed cost of computing one more period under 0.1 s (it was 0.6-1 s:
the engine built and compiled its queries for every period), so that the demo and a close can
compute every day, week, month and quarter. The month is generated (`generate_queue_log.py`,
cached with `bench_queue_log.py`'s and `end_to_end.py`'s files) and imported once, untimed.
Then, in one process and alternately so that both see the same machine:

- **fresh**: every period sets up and compiles its queries anew (a new `compiled.KpiQueries`
  without a cache), what every period cost before the queries were kept;
- **kept**: the queries `metrics_service.compute_period` keeps while the stored files stay the
  same (`compiled.kpi_queries`), run for the period;
- **stored**: `metrics_service.compute_period` itself, the product's path: the kept plan, and
  the period's values written to the database.

Periods: a day without calls (the fixed cost), seven days with calls, an ISO week, the month.
The values of both paths are compared.

    python benchmarks/period_cost.py                   # 0.2 M calls, 1,000 agents, 3 rounds
    python benchmarks/period_cost.py --calls 1.8M --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
RESULTS = HERE / "results"
TARGET_FIXED_S = 0.1
MONTH = "2026-10"
EMPTY_DAY = "2026-12-25"  # after the month: no calls, no states
DAYS = [f"{MONTH}-{day:02d}" for day in range(5, 12)]
WEEK = "2026-W41"


def prepared_store(args: argparse.Namespace) -> Path:
    """A data directory holding the generated month, imported once (reused when present)."""
    from bench_queue_log import spawn, warm
    from end_to_end import the_file

    default_cache = os.environ.get("AGENTLADDER_BENCH_DIR", "/tmp/agentladder-bench")
    cache = args.cache_dir or Path(default_cache)
    cache.mkdir(parents=True, exist_ok=True)
    file, _ = the_file(args, cache)
    run_dir = cache / f"period_cost-{args.calls}c-{args.agents}a"
    data_dir = run_dir / "data"
    if not (data_dir / "imported").exists():
        run_dir.mkdir(parents=True, exist_ok=True)
        spawn("setup", {"data_dir": str(data_dir), "agents": args.agents}, run_dir)
        warm(file)
        print(f"   importing {file.name} ...", flush=True)
        spawn("import", {"data_dir": str(data_dir), "file": str(file)}, run_dir)
        (data_dir / "imported").write_text("yes")
    return data_dir


def measure(data_dir: Path, rounds: int) -> dict[str, Any]:
    """Each period computed `rounds` times by each path, in turn; their median seconds."""
    from bench_queue_log import _settings
    from sqlalchemy import select

    from agentladder.db import session_scope
    from agentladder.ingest import service as ingest_service
    from agentladder.metrics import compiled
    from agentladder.metrics import service as metrics_service
    from agentladder.metrics.models import MetricValue
    from agentladder.periods import parse_period

    settings = _settings(str(data_dir))
    config = metrics_service.metric_config(settings)
    with session_scope(settings) as session:
        files = ingest_service.dataset_files(session=session, settings=settings)
        identities = metrics_service.resolved_identities(session=session)

    def fresh(label: str) -> list[Any]:
        start, end = parse_period(label).bounds_utc(settings.tz)
        return compiled.KpiQueries(files, identities, config).run(start, end)

    def kept(label: str) -> list[Any]:
        start, end = parse_period(label).bounds_utc(settings.tz)
        cache = settings.data_dir / metrics_service.KPI_CACHE
        return compiled.kpi_queries(files, identities, config, cache).run(start, end)

    def store(label: str) -> int:
        with session_scope(settings) as session:
            return metrics_service.compute_period(
                session=session, settings=settings, period=parse_period(label)
            ).values

    def stored(label: str) -> dict[tuple[str, str, str], float | None]:
        period = parse_period(label)
        with session_scope(settings) as session:
            rows = session.execute(
                select(
                    MetricValue.scope, MetricValue.subject, MetricValue.metric_id, MetricValue.value
                ).where(MetricValue.period_kind == period.kind, MetricValue.period == period.label)
            )
            return {(scope, subject, metric): value for scope, subject, metric, value in rows}

    periods = [EMPTY_DAY, *DAYS, WEEK, MONTH]
    # The first period of the kept path sets up its queries: timed apart.
    started = time.perf_counter()
    store(MONTH)
    first_period_s = time.perf_counter() - started
    paths = {"fresh": fresh, "kept": kept, "stored": store}
    seconds = {label: {path: [] for path in paths} for label in periods}
    values: dict[str, int] = {}
    agree: dict[str, bool] = {}
    for _ in range(rounds):
        for label in periods:
            results = {}
            for path, run in paths.items():
                started = time.perf_counter()
                results[path] = run(label)
                seconds[label][path].append(time.perf_counter() - started)
            values[label] = results["stored"]
            fresh_values = {(r.scope, r.subject, r.metric_id): r.value for r in results["fresh"]}
            kept_values = {(r.scope, r.subject, r.metric_id): r.value for r in results["kept"]}
            agree[label] = stored(label) == fresh_values == kept_values
    return {
        "first_period_s": first_period_s,
        "periods": {
            label: {
                "values": values[label],
                **{f"{path}_s": statistics.median(seconds[label][path]) for path in paths},
                "same_values": agree[label],
            }
            for label in periods
        },
    }


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", default="200000", help="calls in the month: 1.8M, 200k ...")
    parser.add_argument("--agents", type=int, default=1_000)
    parser.add_argument("--month", default=MONTH, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache-dir", type=Path, help="default $AGENTLADDER_BENCH_DIR or /tmp")
    args = parser.parse_args()
    from bench_queue_log import parse_size

    args.calls = parse_size(args.calls)
    data_dir = prepared_store(args)
    result = measure(data_dir, args.rounds)
    print(f"first period (sets up the queries): {result['first_period_s']:.3f} s")
    print(
        f"{'period':12} {'values':>7} {'fresh':>8} {'kept':>8} {'fresh/kept':>10} "
        f"{'stored':>8}  same values"
    )
    for label, figures in result["periods"].items():
        ratio = figures["fresh_s"] / figures["kept_s"]
        print(
            f"{label:12} {figures['values']:7,} {figures['fresh_s']:7.3f}s "
            f"{figures['kept_s']:7.3f}s {ratio:9.1f}x {figures['stored_s']:7.3f}s  "
            f"{figures['same_values']}"
        )
    fixed = result["periods"][EMPTY_DAY]
    verdict = "meets" if fixed["stored_s"] < TARGET_FIXED_S else "MISSES"
    print(
        f"fixed cost of one more period (compute_period, a day without calls): "
        f"{fixed['stored_s']:.3f} s (queries set up anew: {fixed['fresh_s']:.3f} s), "
        f"{verdict} the target of {TARGET_FIXED_S} s"
    )
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out = RESULTS / f"period_cost-{stamp}.json"
    out.write_text(json.dumps({"calls": args.calls, "agents": args.agents, **result}, indent=2))
    print(f"written: {out}")


if __name__ == "__main__":
    main()
