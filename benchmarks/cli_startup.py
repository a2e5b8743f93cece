"""How long `agentladder` takes to start: the root help, a domain's help, bare imports and,
given a data directory, the commands that only read stored results.

Each command runs as a fresh process, several times; the figure is the median wall time, with
`python -c pass` measured the same way as the baseline (what any Python command costs here).
The targets: `agentladder --help` under 0.5 s (the architecture issue); `metrics show`,
`ladder explain` and `--help` start and answer in under 0.5 s (issue 19).

    python benchmarks/cli_startup.py            # 7 runs of each
    python benchmarks/cli_startup.py --runs 15
    # with the demo's data (after `agentladder demo` in DIR):
    python benchmarks/cli_startup.py --data-dir DIR/agentladder-data --period 2026-11 --agent 100013
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_S = 0.5


def timed(command: list[str], runs: int, env: dict[str, str] | None = None) -> list[float]:
    """Wall seconds of each run of a command (its output discarded)."""
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--data-dir", type=Path, help="a data directory with stored results")
    parser.add_argument("--period", default="2026-11", help="a period computed and decided there")
    parser.add_argument("--agent", default="100013", help="an agent decided in that period")
    args = parser.parse_args()
    entry = shutil.which("agentladder")
    if entry is None:
        sys.exit("agentladder is not installed in this environment (pip install -e .)")
    commands = {
        "python -c pass (baseline)": [sys.executable, "-c", "pass"],
        "agentladder --help": [entry, "--help"],
        "agentladder ladder --help": [entry, "ladder", "--help"],
        "agentladder metrics --help": [entry, "metrics", "--help"],
        "import agentladder.web.app": [sys.executable, "-c", "import agentladder.web.app"],
    }
    reading = {}
    env = None
    if args.data_dir is not None:
        env = {**os.environ, "AGENTLADDER_DATA_DIR": str(args.data_dir.resolve())}
        reading = {
            "agentladder metrics show (json)": [
                entry, "metrics", "show", "--period", args.period, "--format", "json"
            ],
            "agentladder ladder explain": [
                entry, "ladder", "explain", args.agent, "--period", args.period
            ],
        }  # fmt: skip
    results = {}
    for name, command in {**commands, **reading}.items():
        runs = timed(command, args.runs, env if name in reading else None)
        results[name] = {"median_s": round(statistics.median(runs), 3), "runs_s": runs}
    baseline = results["python -c pass (baseline)"]["median_s"]
    print(f"{'command':32} {'median':>8} {'over python':>12}")
    for name, figures in results.items():
        median = figures["median_s"]
        print(f"{name:32} {median:7.3f}s {median - baseline:11.3f}s")
    for name in ["agentladder --help", *reading]:
        median = results[name]["median_s"]
        verdict = "meets" if median < TARGET_S else "MISSES"
        print(f"{name}: {median:.3f} s, {verdict} the target of {TARGET_S} s")
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out = RESULTS / f"cli_startup-{stamp}.json"
    out.write_text(json.dumps({"runs": args.runs, "results": results}, indent=2))
    print(f"written: {out}")


if __name__ == "__main__":
    main()
