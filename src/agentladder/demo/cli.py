"""`agentladder demo`: build the synthetic centre and print what it holds."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from agentladder.cli_output import console, fail
from agentladder.config import get_settings
from agentladder.db import session_scope, upgrade_schema
from agentladder.demo import service as demo_service
from agentladder.errors import DomainError
from agentladder.ladder.decisions import service as decisions_service
from agentladder.ladder.decisions.schemas import decision_name, status_name
from agentladder.org.levels import service as levels_service
from agentladder.org.schemas import LEVELS
from agentladder.periods import parse_period


def demo(
    agents: Annotated[int, typer.Option(min=1, max=20000, help="How many agents.")] = 120,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed builds the same centre.")
    ] = 42,
    reset: Annotated[bool, typer.Option(help="Delete the demo centre and build it again.")] = False,
    periods: Annotated[
        str,
        typer.Option(
            help="Which period kinds to compute KPIs for, comma-separated: day (the last "
            "month's), week, month, quarter. Months are enough for the ladder."
        ),
    ] = "day,week,month,quarter",
) -> None:
    """Build a realistic synthetic call centre in the configured database and show how to use it."""
    try:
        kinds = demo_service.check_period_kinds(
            kind.strip() for kind in periods.split(",") if kind.strip()
        )
    except DomainError as exc:
        raise typer.BadParameter(str(exc), param_hint="--periods") from exc
    settings = get_settings()
    upgrade_schema(settings)
    progress = _StepProgress()
    try:
        with progress.status, session_scope(settings) as session:
            summary = demo_service.build_demo(
                session=session,
                settings=settings,
                agents=agents,
                seed=seed,
                reset=reset,
                period_kinds=kinds,
                on_step=progress.begin,
            )
            progress.finish()
    except DomainError as exc:
        raise fail(exc) from exc
    _print_demo_summary(summary, settings.resolved_database_url)


# What each step of the demo builds, as the terminal names it while it runs.
STEP_TITLES = {
    "organisation": "teams, skill groups and the roster",
    "levels": "level histories",
    "users": "logins",
    "calls": "calls: queue_log files, imported",
    "surveys": "satisfaction surveys, imported",
    "feedback": "complaints and praise, imported",
    "tickets": "tickets, imported",
    "schedules": "shift schedules, imported",
    "daily_stats": "daily statistics reports, imported",
    "leads": "sales leads, imported",
    "quality": "QA: samples, evaluations, coaching, disputes, calibration, recordings",
    "transcripts": "call transcripts: generated, imported and judged by the auto-QA rules",
    "training": "question bank, certification exams taken, certificates awarded",
    "knowledge": "knowledge library: written, reviewed, adopted, voted, used on calls, searched",
    "metrics": "KPIs for every period",
    "ladder": "evidence, certificates and the ladder's monthly cycles",
}


class _StepProgress:
    """The spinner names the step it waits for; each finished step is printed with its time."""

    def __init__(self) -> None:
        self.status = console.status("building the demo centre...")
        self.current: tuple[int, int, str] | None = None
        self.started = 0.0

    def begin(self, number: int, of: int, name: str) -> None:
        self.finish()
        title = STEP_TITLES.get(name, f"{name} export, imported")
        self.current = (number, of, title)
        self.started = time.monotonic()
        self.status.update(f"building the demo centre: step {number} of {of}, {title}...")

    def finish(self) -> None:
        if self.current is not None:
            number, of, title = self.current
            seconds = time.monotonic() - self.started
            console.print(f"  {number}/{of} {title} ({seconds:.1f} s)", highlight=False)
            self.current = None


def _print_demo_summary(summary: demo_service.DemoSummary, database_url: str) -> None:
    if summary.created:
        console.print(f"[green]Built the demo centre[/green] (seed {summary.seed}).")
    else:
        console.print(
            f"The demo centre is already built (seed {summary.seed}); "
            "run with --reset to build it again."
        )
    teams = Table(title="Teams 班组")
    for column in ("code", "name", "active agents", "lead"):
        teams.add_column(column)
    for code, name, count, leads in summary.teams:
        teams.add_row(code, name, str(count), ", ".join(leads))
    console.print(teams)
    pyramid = Table(title="Level pyramid 级别金字塔")
    pyramid.add_column("level")
    pyramid.add_column("agents", justify="right")
    pyramid.add_column("")
    peak = max(summary.pyramid.values()) or 1
    for level in reversed(LEVELS):
        count = summary.pyramid[level.id]
        pyramid.add_row(f"{level.zh}  {level.en}", str(count), "█" * round(30 * count / peak))
    console.print(pyramid)
    console.print(f"{summary.agents} active agents in {database_url}")
    if summary.roster_file:
        console.print(f"Roster file written and imported: {summary.roster_file}")
    _print_demo_facts(summary.facts)
    console.print("\n[bold]Open the UI[/bold]: agentladder serve   then http://127.0.0.1:8000/")
    password = summary.password or "(the password printed when the demo was built)"
    console.print(
        f"Log in as admin, manager, qa or trainer, or as an agent by employee number "
        f"(e.g. 100001); password: [bold]{password}[/bold]"
    )


def _print_demo_facts(facts: dict[str, object]) -> None:
    """The calls and metrics the demo generated (nothing when the demo was already built)."""
    if "queue_log_files" in facts:
        console.print(
            f"Queue logs written to {facts['queue_log_dir']} and imported through the "
            f"queue_log adapter: {facts['queue_log_files']} files "
            f"({facts['queue_log_first_day']} to {facts['queue_log_last_day']}), "
            f"{facts['queue_log_lines']:,} lines, {facts['queue_log_rows_rejected']:,} rejected"
        )
        offered = facts["calls_by_month"]
        handled = facts["handled_by_month"]
        assert isinstance(offered, dict)
        assert isinstance(handled, dict)
        calls = Table(title="Calls per month 月度话务")
        for column in ("month", "offered", "handled"):
            calls.add_column(column, justify="right")
        for month, count in offered.items():
            calls.add_row(month, f"{count:,}", f"{handled.get(month, 0):,}")
        calls.add_row(
            "total", f"{facts['calls_offered']:,}", f"{facts['calls_handled']:,}", style="bold"
        )
        console.print(calls)
        spread = facts.get("handled_per_agent_month")
        if isinstance(spread, tuple):
            low, middle, high = spread
            console.print(
                f"Handled calls per agent and month: median {middle:,}, from {low:,} to "
                f"{high:,} ({facts['handled_per_agent_day']} per agent and day worked)"
            )
    if "daily_report_team" in facts:
        console.print(
            f"Team {facts['daily_report_team']} sits on a second site whose ACD exports only "
            f"daily reports (坐席日报): {facts['daily_report_calls_handled']:,} calls handled, "
            "in no queue_log"
        )
    evidence = facts.get("evidence")
    if isinstance(evidence, dict) and evidence:
        files = Table(title="Other evidence 其他证据 (shipped *_zh mappings)")
        for column in ("adapter", "files", "rows", "accepted", "skipped", "rejected"):
            files.add_column(column, justify="left" if column == "adapter" else "right")
        for adapter, figures in evidence.items():
            counts = ("files", "rows_read", "rows_accepted", "rows_ignored", "rows_rejected")
            files.add_row(adapter, *(f"{figures[key]:,}" for key in counts))
        console.print(files)
        console.print(f"Evidence files written under {facts['evidence_dir']}")
    computed = facts.get("periods_computed")
    values = facts.get("metric_values_by_kind")
    if isinstance(computed, dict) and isinstance(values, dict) and computed.get("month"):
        kinds = {"day": "days", "week": "ISO weeks", "month": "months", "quarter": "quarters"}
        parts = [
            f"{len(labels)} {kinds[kind]} ({labels[0]} to {labels[-1]})"
            for kind, labels in computed.items()
            if labels
        ]
        console.print(
            f"Metrics computed for {', '.join(parts)}: {sum(values.values()):,} values; see "
            f"`agentladder metrics show --period {computed['month'][-1]}`"
        )
    _print_demo_quality(facts)
    _print_demo_transcripts(facts)
    _print_demo_library(facts)
    _print_demo_ladder(facts)


def _print_demo_quality(facts: dict[str, object]) -> None:
    """The QA the demo's evaluators did, and how harsh each one secretly is."""
    quality = facts.get("quality")
    if not isinstance(quality, dict):
        return
    harshness = ", ".join(f"{name} {value:+.1f}" for name, value in quality["evaluators"].items())
    console.print(
        f"QA: {quality['samples']} monthly samples of the imported calls, "
        f"{quality['official']:,} official evaluations ({quality['open_assignments']} of the "
        f"last month still assigned), {quality['coaching']} coaching; {quality['disputes']} "
        f"disputes ({quality['overturned']} overturned); calibration sessions "
        f"{', '.join(quality['calibration_sessions']) or 'none'}; {quality['recordings']} "
        "synthetic recordings. The evaluators' latent harshness (points; the product never "
        f"sees it): {harshness}; see `agentladder quality scores --period "
        f"{facts.get('months_computed', ['?'])[-1]}`"  # type: ignore[index]
    )


def _print_demo_transcripts(facts: dict[str, object]) -> None:
    """The transcripts the demo imported, and the spread of the agents' autoqa_score."""
    transcripts = facts.get("transcripts")
    if not isinstance(transcripts, dict):
        return
    spread = transcripts.get("autoqa_score_by_agent")
    scores = (
        f"; agents' autoqa_score {spread[0]:.1f} to {spread[2]:.1f} (median {spread[1]:.1f})"
        if isinstance(spread, tuple)
        else ""
    )
    console.print(
        f"Auto QA: {transcripts['transcripts']:,} call transcripts ({transcripts['sampled']:,} "
        f"of QA-sampled calls, {transcripts['english']:,} in English) written to "
        f"{transcripts['folder']} as {transcripts['files']} monthly JSON Lines files, imported "
        f"and judged{scores}; see `agentladder quality autoqa show --period "
        f"{facts.get('months_computed', ['?'])[-1]}`"  # type: ignore[index]
    )


def _print_demo_library(facts: dict[str, object]) -> None:
    """The knowledge library the demo's agents and staff wrote, read and searched."""
    library = facts.get("knowledge")
    if not isinstance(library, dict):
        return
    types = ", ".join(
        f"{count} {kind}s" for kind, count in sorted(library["items_by_type"].items())
    )
    statuses = ", ".join(
        f"{count} {status.replace('_', ' ')}"
        for status, count in sorted(library["items_by_status"].items())
    )
    console.print(
        f"Knowledge library 知识库: {types} ({statuses}); {library['agent_items']} written by "
        f"{library['agent_authors']} agents, {library['staff_items']} by staff; "
        f"{library['returned']} returned by a reviewer first; {library['adopted']} cases adopted "
        f"as best practice ({library['sops_from_cases']} made SOPs); {library['votes']:,} helpful "
        f"votes, {library['comments']} comments, {library['usages']:,} uses on calls; "
        f"{library['points']:,.0f} contribution points in {library['ledger_entries']:,} ledger "
        f"entries; {library['waiting_review']} waiting for review; {library['searches']} searches "
        f"logged ({library['searches_without_results']} found nothing); see `agentladder "
        "knowledge search 光猫红灯` or the Knowledge page"
    )


def _print_demo_ladder(facts: dict[str, object]) -> None:
    """The ladder cycles the demo ran, and the decisions of the last one."""
    ladder = facts.get("ladder")
    if not isinstance(ladder, dict):
        return
    periods = ladder["periods"]
    console.print(
        f"Ladder: {ladder['evidence_files']} monthly QA/exam files "
        f"({ladder['evidence_rows']:,} rows) and {ladder['certificate_rows']:,} certificates "
        f"imported; {len(periods)} monthly cycles ({periods[0]} to {periods[-1]}) under the "
        f"default policy with autoqa_score in its quality component, {ladder['approved']} "
        "moves approved by the manager"
    )
    with session_scope(get_settings()) as session:
        views = decisions_service.decision_views(session=session, period=parse_period(periods[-1]))
    counts = ", ".join(
        f"{decision_name(kind, 'en').lower()} {n}"
        for kind, n in sorted(ladder["last_counts"].items())
    )
    table = Table(title=f"Ladder decisions {periods[-1]} 晋级决定 (moves; {counts})")
    for column in ("agent", "name", "team", "decision", "from", "to", "composite", "status"):
        table.add_column(
            column, justify="right" if column == "composite" else "left", overflow="fold"
        )
    for view in views:
        if view.decision in ("promote", "demote"):
            table.add_row(
                view.employee_no,
                view.name,
                view.team_code or "",
                decision_name(view.decision, "en"),
                levels_service.get_level(view.from_level).zh,
                levels_service.get_level(view.to_level).zh,
                f"{view.composite:.1f}" if view.composite is not None else "",
                status_name(view.status, "en"),
            )
    console.print(table)
    console.print(
        f"Every decision with its explanation: `agentladder ladder run --period {periods[-1]} "
        "--dry-run`, `agentladder ladder explain <agent> --period ...`, or the Decisions page"
    )
