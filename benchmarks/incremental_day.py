"""Benchmark: adding one day's queue_log to a month already stored.

A target of issue 19: adding a day costs in proportion to the day (import) and to one period
(compute), not to the month's history. The generated month (`generate_queue_log.py`, cached
with the other benchmarks' files) is cut at the start of its last local day into two files.
Each run, as a user runs them, one CLI process each (start-up included):

- **after the month**: a data directory holding the month's other days (imported untimed), then
  `agentladder import queue-log DAY` and `agentladder metrics compute --period DAY` timed;
- **alone**: a fresh data directory, the same two commands on the same day file.

The ratio after / alone is what the stored history adds; 1.0 is the target's ideal. The two
computes' values are compared.

    python benchmarks/incremental_day.py                    # 1.8 M calls, 2 runs
    python benchmarks/incremental_day.py --calls 0.2M --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
RESULTS = HERE / "results"
TIMEZONE = "Asia/Shanghai"


def split_month(file: Path, month: str, out: Path) -> tuple[Path, Path, str]:
    """The month's file cut at the start of its last local day: (earlier days, last day, the
    last day's label)."""
    first = date.fromisoformat(f"{month}-01")
    last_day = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    cut = datetime.combine(last_day, time(), ZoneInfo(TIMEZONE)).astimezone(UTC).timestamp()
    earlier, day = out / "month-without-last-day", out / "last-day"
    if not day.exists():
        out.mkdir(parents=True, exist_ok=True)
        with file.open("rb") as source, earlier.open("wb") as before, day.open("wb") as after:
            for line in source:
                (before if float(line.split(b"|", 1)[0]) < cut else after).write(line)
    return earlier, day, last_day.isoformat()


def one_run(args: argparse.Namespace, earlier: Path, day: Path, label: str) -> dict[str, Any]:
    """Both data directories, set up untimed; the day's two commands timed in each."""
    from bench_queue_log import spawn, warm
    from end_to_end import agentladder_command, product_env, run_process

    cli = agentladder_command()
    phases: dict[str, Any] = {}
    values: dict[str, str] = {}
    for case in ("after_month", "alone"):
        run_dir = args.work / case
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        data_dir = run_dir / "data"
        spawn("setup", {"data_dir": str(data_dir), "agents": args.agents}, run_dir)
        env = product_env(data_dir)
        if case == "after_month":
            warm(earlier)
            run_process(
                "month",
                [cli, "import", "queue-log", str(earlier)],
                cwd=run_dir,
                env=env,
                stdout=run_dir / "month.out",
            )
        warm(day)
        commands = {
            "import": [cli, "import", "queue-log", str(day)],
            "compute": [cli, "metrics", "compute", "--period", label],
            "show": [cli, "metrics", "show", "--period", label, "--format", "json"],
        }
        for phase, command in commands.items():
            out = run_dir / f"{phase}.out"
            phases[f"{case}.{phase}"] = run_process(
                phase, command, cwd=run_dir, env=env, stdout=out
            )
        values[case] = (run_dir / "show.out").read_text()
    return {"phases": phases, "same_values": values["after_month"] == values["alone"]}


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", default="1.8M", help="calls in the month: 1.8M, 200k ...")
    parser.add_argument("--agents", type=int, default=1_000)
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--cache-dir", type=Path, help="default $AGENTLADDER_BENCH_DIR or /tmp")
    args = parser.parse_args()
    from bench_queue_log import parse_size
    from end_to_end import the_file

    args.calls = parse_size(args.calls)
    default_cache = os.environ.get("AGENTLADDER_BENCH_DIR", "/tmp/agentladder-bench")
    cache = args.cache_dir or Path(default_cache)
    file, _ = the_file(args, cache)
    args.work = cache / f"incremental_day-{args.calls}c-{args.agents}a"
    earlier, day, label = split_month(file, args.month, args.work / "files")
    mib = {path: path.stat().st_size / 2**20 for path in (day, earlier)}
    print(f"day {label}: {mib[day]:.1f} MiB, after {mib[earlier]:.1f} MiB of the month")
    runs = [one_run(args, earlier, day, label) for _ in range(args.repeat)]
    best = {
        phase: min(run["phases"][phase]["seconds"] for run in runs) for phase in runs[0]["phases"]
    }
    print(f"{'command':10} {'after the month':>16} {'alone':>8} {'ratio':>6}")
    for phase in ("import", "compute", "show"):
        after, alone = best[f"after_month.{phase}"], best[f"alone.{phase}"]
        print(f"{phase:10} {after:15.2f}s {alone:7.2f}s {after / alone:5.2f}x")
    print(f"same values after the month as alone: {all(run['same_values'] for run in runs)}")
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out = RESULTS / f"incremental_day-{stamp}.json"
    out.write_text(json.dumps({"calls": args.calls, "day": label, "runs": runs}, indent=2))
    print(f"written: {out}")


if __name__ == "__main__":
    main()
