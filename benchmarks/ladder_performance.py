"""How long the ladder takes, and how much memory, for a large centre.

The issue's figures: `ladder run` for 10,000 agents and one period with all evidence
present, and a 12-period backtest for 10,000 agents, each with its run time and peak memory,
on SQLite and PostgreSQL.

The set-up (not measured as a ladder figure) builds a real database through the migrations:
teams and skill groups through `org.service`, 10,000 agents through `org_service.create_agent`
(levels on a pyramid), twelve months of evidence for every agent as `ExternalEvidence` rows,
the very rows the external-evidence provider hands the ladder (service statistics, QA, exams,
knowledge: every metric the default policy weighs, every evidence minimum met), and
certifications. Then each phase runs in a fresh Python process, so that its peak memory
(VmHWM, read from /proc/self/status as the phase ends) is its own:

* `run`: `run_period(session=..., period=<last month>)` under the policy in
  force (the shipped default), decisions stored and committed: what `agentladder ladder
  run` does;
* `rerun`: the same again (every decision unchanged: the idempotent path);
* `backtest`: `backtest(session=..., proposed=..., first=..., last=...)` over the
  twelve months, the shipped default against a proposal (the default with promotion band 5);
* `profile-run`, `profile-backtest` (with `--profile`): the same under cProfile, top
  functions by own and cumulative time; the profiled run deletes the stored decisions in its
  transaction first and rolls back, so it profiles the storing path and changes nothing.

Usage:
    python benchmarks/ladder_performance.py [--agents 10000] [--months 12]
        [--backend sqlite|postgresql|both] [--pg-admin-url URL] [--profile]

Writes `benchmarks/results/ladder_performance.json`. The PostgreSQL database (`bench_ladder`
next to the admin URL's database) is created for the run and dropped after it.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import math
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from bench_db import pg_database

RESULTS = Path(__file__).parent / "results" / "ladder_performance.json"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_DATABASE = "bench_ladder"
LOOKBACK_MONTHS = 12  # the longest evidence window a policy reads
FIRST_MONTH = (2025, 1)
AGENTS_PER_TEAM = 15
SKILL_GROUPS = ("general", "billing", "complaints", "sales", "vip", "english")
LEVEL_SHARES = (0.20, 0.17, 0.15, 0.13, 0.11, 0.09, 0.07, 0.05, 0.03)  # as the demo's pyramid
LEVELS = (
    "basic_fresh",
    "basic_sophomore",
    "basic_junior",
    "basic_senior",
    "potential",
    "developing",
    "skilled",
    "expert",
    "super",
)
# Certificates held from this level up (what the default policy's entries ask for).
CERT_FROM_LEVEL = {"product_knowledge": 2, "service_skill": 3, "sales_skill": 5, "comprehensive": 7}
CHUNK = 20_000
SOURCE = "bench-evidence.xlsx"


def month_label(index: int) -> str:
    """Label of month `index` counted from FIRST_MONTH (0-based)."""
    months = FIRST_MONTH[0] * 12 + FIRST_MONTH[1] - 1 + index
    return f"{months // 12}-{months % 12 + 1:02d}"


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (VmHWM), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    """Current resident memory (VmRSS), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds() -> float:
    """User + system CPU time of this process so far: unlike wall time, it does not grow
    when other work shares the machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def make_settings(url: str, data_dir: Path) -> Any:
    """Settings for the benchmark database."""
    from agentladder.config import Settings

    return Settings(data_dir=data_dir, database_url=url, secret_key="bench")


# --- set-up ------------------------------------------------------------------------------


def evidence_rows(agent_ids: list[int], skills: np.ndarray, months: int, seed: int):
    """Every metric the default policy weighs (and the gates count) for every agent and
    month, all evidence minimums met; values drawn around a latent skill with sampling
    noise. Yields ExternalEvidence rows as dicts, a month at a time."""
    rng = np.random.default_rng(seed)
    n = len(agent_ids)
    for index in range(months):
        period = month_label(index)
        s = skills + 0.03 * index + rng.normal(0, 0.3, n)
        calls = rng.integers(400, 901, n)
        evals = rng.integers(6, 11, n)
        surveys = rng.integers(30, 81, n)
        tickets = rng.binomial(calls, 0.2)

        def share(p: np.ndarray, k: np.ndarray) -> np.ndarray:
            return rng.binomial(k, np.clip(p, 0.001, 0.999)) / np.maximum(k, 1)

        metrics: dict[str, tuple[np.ndarray, np.ndarray]] = {
            "handled_calls": (calls.astype(float), calls),
            "avg_ring_s": (np.clip(9 - 2 * s + rng.normal(0, 0.3, n), 1, 30), calls),
            "aht_s": (420 - 35 * s + rng.normal(0, 10, n), calls),
            "fcr_rate": (share(0.72 + 0.05 * s, calls), calls),
            "transfer_rate": (share(0.08 - 0.02 * s, calls), calls),
            "attendance_rate": (
                1 - rng.binomial(21, np.clip(0.05 - 0.02 * s, 0.002, 1)) / 21,
                np.full(n, 21),
            ),
            "ticket_validity_rate": (share(0.92 + 0.03 * s, tickets), tickets),
            "sales_lead_rate": (share(0.03 * np.exp(0.3 * s), calls), calls),
            "qa_score": (np.clip(84 + 5 * s + rng.normal(0, 3, n), 0, 100), evals),
            "qa_fatal_errors": (rng.poisson(0.03, n).astype(float), evals),
            "csat_rate": (share(0.84 + 0.05 * s, surveys), surveys),
            "complaint_rate": (rng.poisson(0.004 * calls) / calls, calls),
            "exam_score": (np.clip(80 + 8 * s + rng.normal(0, 6, n), 0, 100), np.ones(n, int)),
            "kb_contribution_points": (
                rng.poisson(np.exp(1 + 0.6 * s)).astype(float),
                np.ones(n, int),
            ),
            "kb_adopted": (rng.poisson(0.15 * np.exp(0.6 * s)).astype(float), np.ones(n, int)),
        }
        rows = []
        for metric, (values, samples) in metrics.items():
            for i, agent_id in enumerate(agent_ids):
                rows.append(
                    {
                        "agent_id": agent_id,
                        "period": period,
                        "metric_id": metric,
                        "value": float(values[i]),
                        "sample_size": int(samples[i]),
                        "source": SOURCE,
                    }
                )
        yield period, rows


def phase_setup(url: str, data_dir: Path, agents: int, months: int, seed: int) -> dict[str, Any]:
    """Schema, organisation, agents, evidence, certifications."""
    from sqlalchemy import func, insert, select

    from agentladder.db import session_scope, upgrade_schema
    from agentladder.external.models import ExternalEvidence
    from agentladder.org import service as org_service
    from agentladder.org.models import Agent
    from agentladder.org.schemas import AgentCreate, SkillGroupCreate, TeamCreate
    from agentladder.training.models import Certification

    settings = make_settings(url, data_dir)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    upgrade_schema(settings)
    timings["schema_s"] = time.perf_counter() - t
    rng = np.random.default_rng(seed)
    first_day = date(*FIRST_MONTH, 1)

    t = time.perf_counter()
    skills = rng.normal(0, 1, agents)
    hires = [first_day - timedelta(days=int(d)) for d in rng.integers(60, 36 * 30, agents)]
    # Pyramid by skill rank, capped by tenure (a level a quarter at most), as the demo places.
    order = np.argsort(-skills)
    bounds = np.cumsum([round(s * agents) for s in reversed(LEVEL_SHARES)])
    levels = np.zeros(agents, dtype=int)
    for rank, i in enumerate(order):
        top = len(LEVELS) - 1 - int(np.searchsorted(bounds, rank, side="right"))
        tenure = (first_day - hires[i]).days // 30
        levels[i] = max(0, min(top, tenure // 3))
    with session_scope(settings) as session:
        teams = math.ceil(agents / AGENTS_PER_TEAM)
        for team in range(teams):
            org_service.create_team(
                session=session, team_in=TeamCreate(code=f"T{team + 1:04d}", name=f"班组{team + 1}")
            )
        for code in SKILL_GROUPS:
            org_service.create_skill_group(
                session=session, group_in=SkillGroupCreate(code=code, name=code)
            )
        for i in range(agents):
            extra = [g for g in SKILL_GROUPS[1:] if rng.random() < 0.15]
            org_service.create_agent(
                session=session,
                agent_in=AgentCreate(
                    employee_no=f"{200001 + i}",
                    name=f"座席{i + 1}",
                    hire_date=hires[i],
                    team_code=f"T{i % teams + 1:04d}",
                    skill_group_codes=["general", *extra],
                    level=LEVELS[levels[i]],
                ),
                source="roster",
            )
            if i % 1000 == 999:
                session.expunge_all()  # keep the identity map small while creating
    timings["agents_s"] = time.perf_counter() - t

    with session_scope(settings) as session:
        ids = dict(session.execute(select(Agent.employee_no, Agent.id)).all())
    agent_ids = [ids[f"{200001 + i}"] for i in range(agents)]

    t = time.perf_counter()
    evidence = 0
    for _period, rows in evidence_rows(agent_ids, skills, months, seed + 1):
        with session_scope(settings) as session:
            for start in range(0, len(rows), CHUNK):
                session.execute(insert(ExternalEvidence), rows[start : start + CHUNK])
        evidence += len(rows)
    timings["evidence_s"] = time.perf_counter() - t

    t = time.perf_counter()
    certificates = []
    validity = {
        "product_knowledge": 12,
        "service_skill": 24,
        "sales_skill": 12,
        "comprehensive": 24,
    }
    for i, agent_id in enumerate(agent_ids):
        for cert, level in CERT_FROM_LEVEL.items():
            if levels[i] + 1 < level:
                continue
            # Issued some time in the two years before; some expire inside the window.
            issued = first_day - timedelta(days=int(rng.integers(0, 720)))
            expires = issued + timedelta(days=30 * validity[cert])
            certificates.append(
                {
                    "agent_id": agent_id,
                    "cert_type": cert,
                    "issued_on": issued,
                    "expires_on": expires,
                    "source": "import:bench",
                }
            )
    with session_scope(settings) as session:
        for start in range(0, len(certificates), CHUNK):
            session.execute(insert(Certification), certificates[start : start + CHUNK])
        counted = session.scalar(select(func.count()).select_from(ExternalEvidence))
    timings["certifications_s"] = time.perf_counter() - t
    return {
        "agents": agents,
        "teams": teams,
        "evidence_rows": evidence,
        "evidence_rows_counted": counted,
        "certifications": len(certificates),
        "pyramid": {LEVELS[k]: int((levels == k).sum()) for k in range(len(LEVELS))},
        **{k: round(v, 2) for k, v in timings.items()},
    }


# --- the measured phases ---------------------------------------------------------------


def proposed_policy_text() -> str:
    """The proposal the backtest compares with the default: promotion band 5 instead of 2."""
    from agentladder.ladder.policy.service import default_policy_text

    text = default_policy_text()
    old = "  band: 2                      # points above the entry score"
    assert old in text, "the default policy changed: update the backtest's proposal"
    return text.replace(old, "  band: 5                      # points above the entry score")


def phase_run(url: str, data_dir: Path, months: int) -> dict[str, Any]:
    """`ladder run` for the last month, stored and committed."""
    from agentladder.db import session_scope
    from agentladder.ladder.decisions import service as decisions_service
    from agentladder.periods import parse_period

    settings = make_settings(url, data_dir)
    before = rss_mib()
    cpu = cpu_seconds()
    t = time.perf_counter()
    with session_scope(settings) as session:
        report = decisions_service.run_period(
            session=session, period=parse_period(month_label(months - 1))
        )
    elapsed = time.perf_counter() - t
    return {
        "period": report.period,
        "decisions": len(report.decisions),
        "counts": report.counts(),
        "stored": report.stored,
        "unchanged": report.unchanged,
        "seconds": round(elapsed, 2),
        "cpu_seconds": round(cpu_seconds() - cpu, 2),
        "rss_before_mib": round(before, 1),
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }


def phase_backtest(url: str, data_dir: Path, months: int) -> dict[str, Any]:
    """The default against the proposal over every month, nothing written."""
    from agentladder.db import session_scope
    from agentladder.ladder.backtest import service as backtest_service
    from agentladder.ladder.policy import service as policy_service
    from agentladder.periods import parse_period

    settings = make_settings(url, data_dir)
    before = rss_mib()
    cpu = cpu_seconds()
    t = time.perf_counter()
    with session_scope(settings) as session:
        proposed = policy_service.load_policy_text(session=session, text=proposed_policy_text())
        report = backtest_service.backtest(
            session=session,
            proposed=proposed,
            first=parse_period(month_label(0)),
            last=parse_period(month_label(months - 1)),
        )
    elapsed = time.perf_counter() - t
    return {
        "periods": len(report.periods),
        "current_counts": report.current_counts,
        "proposed_counts": report.proposed_counts,
        "changes": len(report.changes),
        "seconds": round(elapsed, 2),
        "cpu_seconds": round(cpu_seconds() - cpu, 2),
        "rss_before_mib": round(before, 1),
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }


def _profile(call: Any) -> dict[str, Any]:
    profiler = cProfile.Profile()
    t = time.perf_counter()
    profiler.enable()
    call()
    profiler.disable()
    elapsed = time.perf_counter() - t
    tables = {}
    for key in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(key).print_stats(25)
        tables[key] = out.getvalue()
    return {"seconds_under_profiler": round(elapsed, 2), "top": tables}


def phase_profile_run(url: str, data_dir: Path, months: int) -> dict[str, Any]:
    """The storing run under cProfile, in a transaction that is rolled back."""
    from sqlalchemy import delete
    from sqlalchemy.orm import Session

    from agentladder.db import get_engine
    from agentladder.ladder.decisions import service as decisions_service
    from agentladder.ladder.models import LadderDecision
    from agentladder.periods import parse_period

    settings = make_settings(url, data_dir)
    session = Session(get_engine(settings.resolved_database_url), expire_on_commit=False)
    try:
        session.execute(delete(LadderDecision))
        result = _profile(
            lambda: decisions_service.run_period(
                session=session, period=parse_period(month_label(months - 1))
            )
        )
    finally:
        session.rollback()
        session.close()
    return result


def phase_profile_backtest(url: str, data_dir: Path, months: int) -> dict[str, Any]:
    """The backtest under cProfile (over `months` months)."""
    from agentladder.db import session_scope
    from agentladder.ladder.backtest import service as backtest_service
    from agentladder.ladder.policy import service as policy_service
    from agentladder.periods import parse_period

    settings = make_settings(url, data_dir)
    with session_scope(settings) as session:
        proposed = policy_service.load_policy_text(session=session, text=proposed_policy_text())
        return _profile(
            lambda: backtest_service.backtest(
                session=session,
                proposed=proposed,
                first=parse_period(month_label(0)),
                last=parse_period(month_label(months - 1)),
            )
        )


def phase_probe_gather(url: str, data_dir: Path, months: int) -> dict[str, Any]:
    """What reading a run's evidence window costs as the product reads it
    (`external.external_facts_between`, whatever it does in the code measured), against a
    plain column read of the same rows and a read of only what the rules use."""
    from sqlalchemy import select

    from agentladder.db import session_scope
    from agentladder.external import service as external
    from agentladder.external.models import ExternalEvidence
    from agentladder.periods import parse_period

    settings = make_settings(url, data_dir)
    period = parse_period(month_label(months - 1))
    # The window a run reads for a year-long metric: its months, and the quarters they close.
    months = period.months_back(LOOKBACK_MONTHS)
    window = sorted(
        {*(m.label for m in months), *(m.quarter().label for m in months if m.closes_quarter())}
        | {period.label}
    )
    columns = (
        ExternalEvidence.period,
        ExternalEvidence.agent_id,
        ExternalEvidence.metric_id,
        ExternalEvidence.value,
        ExternalEvidence.sample_size,
        ExternalEvidence.source,
    )
    result: dict[str, Any] = {"window_periods": len(window), "rss_start_mib": round(rss_mib())}
    # Cheapest first: the peak memory (VmHWM) after each read then says what that read
    # added, since each result is dropped before the next read.
    with session_scope(settings) as session:
        t = time.perf_counter()
        own = session.execute(select(*columns).where(ExternalEvidence.period == period.label))
        counted = session.execute(
            select(*columns).where(
                ExternalEvidence.period.in_(window),
                ExternalEvidence.metric_id.in_(("qa_fatal_errors", "kb_adopted")),
            )
        )
        needed = own.all() + counted.all()
        result["columns_needed_only_s"] = round(time.perf_counter() - t, 2)
        result["columns_needed_only_rows"] = len(needed)
        result["columns_needed_only_peak_mib"] = round(peak_rss_mib())
        del needed, own, counted
        t = time.perf_counter()
        rows = session.execute(select(*columns).where(ExternalEvidence.period.in_(window))).all()
        result["columns_window_s"] = round(time.perf_counter() - t, 2)
        result["columns_window_rows"] = len(rows)
        result["columns_window_peak_mib"] = round(peak_rss_mib())
        del rows
        t = time.perf_counter()
        found = external.external_facts_between(session=session, periods=window)
        result["product_window_s"] = round(time.perf_counter() - t, 2)
        result["product_window_rows"] = sum(len(v) for v in found.values())
        result["product_window_peak_mib"] = round(peak_rss_mib())
    return result


PHASES = {
    "probe-gather": phase_probe_gather,
    "run": phase_run,
    "rerun": phase_run,
    "backtest": phase_backtest,
    "profile-run": phase_profile_run,
    "profile-backtest": phase_profile_backtest,
}


# --- orchestration -----------------------------------------------------------------------


def code_fingerprint() -> dict[str, str]:
    """Which product code a phase ran: others edit src/ while benchmarks run, so every
    result names the sha256 (first 12) of the ladder, org, external and training modules it
    imported."""
    import agentladder

    root = Path(agentladder.__file__).parent
    digest = hashlib.sha256()
    newest = 0.0
    for path in sorted(
        [
            *root.glob("ladder/**/*.py"),
            *root.glob("external/*.py"),
            root / "org" / "service.py",
            root / "training" / "provider.py",
        ]
    ):
        digest.update(path.read_bytes())
        newest = max(newest, path.stat().st_mtime)
    return {
        "sha256": digest.hexdigest()[:12],
        "newest_file_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(newest)),
    }


def child(args: argparse.Namespace) -> None:
    """Run one phase in this process and print its result as the last line (JSON)."""
    data_dir = Path(args.data_dir)
    code = code_fingerprint()
    if args.phase == "setup":
        result = phase_setup(args.url, data_dir, args.agents, args.months, args.seed)
        result["peak_rss_mib"] = round(peak_rss_mib(), 1)
    else:
        result = PHASES[args.phase](args.url, data_dir, args.months)
    result["code"] = code
    print(json.dumps(result, ensure_ascii=False))


def spawn(phase: str, url: str, data_dir: Path, args: argparse.Namespace, months: int) -> dict:
    """One phase in a fresh interpreter, so that its peak memory is its own."""
    command = [
        sys.executable,
        __file__,
        "--child",
        phase,
        "--url",
        url,
        "--data-dir",
        str(data_dir),
        "--agents",
        str(args.agents),
        "--months",
        str(months),
        "--seed",
        str(args.seed),
    ]
    load = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"phase {phase} failed:\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_seconds"] = round(time.perf_counter() - started, 2)
    # Wall times grow when other work shares the machine: the load says how busy it was.
    result["load_average_1m_at_start"] = round(load, 2)
    return result


DEFAULT_PHASES = ("setup", "run", "rerun", "backtest", "probe-gather")


def bench_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    """Set up one database and run every phase against it."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"ladder-perf-{backend}-"))
    if backend == "sqlite":
        url = f"sqlite:///{data_dir / 'bench.db'}"
    else:
        url = pg_database(args.pg_admin_url, PG_DATABASE, create=True)
    results: dict[str, Any] = {"database": url.split("@")[-1]}
    try:
        phases = args.phases.split(",") if args.phases else [*DEFAULT_PHASES]
        if args.profile:
            phases += ["profile-run", "profile-backtest"]
        if phases[0] != "setup":
            phases.insert(0, "setup")  # every backend run starts from a fresh database
        for phase in phases:
            months = args.profile_months if phase == "profile-backtest" else args.months
            print(f"[{backend}] {phase} ...", flush=True)
            results[phase] = spawn(phase, url, data_dir, args, months)
            summary = {k: v for k, v in results[phase].items() if k != "top"}
            print(f"[{backend}] {phase}: {summary}", flush=True)
            if "top" in results[phase]:
                print(results[phase]["top"]["cumulative"][:6000], flush=True)
        if backend == "sqlite":
            results["database_file_mib"] = round((data_dir / "bench.db").stat().st_size / 2**20, 1)
    finally:
        if backend == "postgresql":
            pg_database(args.pg_admin_url, PG_DATABASE, create=False)
        shutil.rmtree(data_dir, ignore_errors=True)
    return results


def main() -> None:
    """Parse arguments; run the orchestration or, with --child, one phase."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    parser.add_argument("--profile", action="store_true", help="also profile run and backtest")
    parser.add_argument(
        "--profile-months", type=int, default=3, help="months of the profiled backtest"
    )
    parser.add_argument(
        "--phases",
        help="comma-separated phases after setup (default: run,rerun,backtest,probe-gather)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--child", dest="phase", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        child(args)
        return
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    report: dict[str, Any] = {
        "agents": args.agents,
        "months": args.months,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "backends": {},
    }
    # Results of an earlier invocation with the same size are kept: a phase re-run on its
    # own (say `--backend postgresql --phases probe-gather`) replaces only itself.
    if args.out.exists():
        earlier = json.loads(args.out.read_text(encoding="utf-8"))
        if (earlier.get("agents"), earlier.get("months")) == (args.agents, args.months):
            report["backends"] = earlier.get("backends", {})
    for backend in backends:
        report["backends"].setdefault(backend, {}).update(bench_backend(backend, args))
    print("\nbackend      phase        seconds   peak RSS MiB   (RSS before MiB)")
    for backend, phases in report["backends"].items():
        for phase in ("run", "rerun", "backtest"):
            got = phases.get(phase)
            if got is None:
                continue
            print(
                f"{backend:<12} {phase:<10} {got['seconds']:>9.1f} {got['peak_rss_mib']:>13.0f}"
                f"   ({got['rss_before_mib']:.0f})"
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
