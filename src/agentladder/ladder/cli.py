"""`agentladder ladder ...`: the policy, period runs, explanations, approvals, backtests and
external evidence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from agentladder.cli_lazy import LazyCommand, lazy_group
from agentladder.cli_output import (
    AgentArgument,
    AgentOption,
    FormatOption,
    OutputFormat,
    chosen_agent,
    console,
    emit,
    fail,
    period_option,
)
from agentladder.config import Language
from agentladder.db import session_scope
from agentladder.errors import DomainError, InvalidInput
from agentladder.ladder.decisions import service as decisions_service
from agentladder.ladder.decisions.schemas import decision_name, status_name
from agentladder.ladder.policy import service as policy_service
from agentladder.ladder.policy.schemas import PolicyError
from agentladder.org import service as org_service
from agentladder.org.levels.service import level_name
from agentladder.periods import Period

ladder_app = typer.Typer(
    cls=lazy_group(
        {
            "evidence": LazyCommand(
                "agentladder.external.cli:evidence_app", "Evidence brought from other tools."
            )
        }
    ),
    help="The career ladder: policy, runs, decisions, backtests.",
    no_args_is_help=True,
)
policy_app = typer.Typer(help="The ladder policy (YAML).", no_args_is_help=True)
ladder_app.add_typer(policy_app, name="policy")

PeriodOption = Annotated[Period, period_option("2026-10 (month) or 2026-Q4.")]
PolicyFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]
LanguageOption = Annotated[str, typer.Option("--language", help="zh_Hans or en (explanations).")]


def _language(value: str) -> Language:
    if value not in ("zh_Hans", "en"):
        raise typer.BadParameter("zh_Hans or en")
    return value  # type: ignore[return-value]


def _print_policy_error(error: PolicyError) -> typer.Exit:
    console.print("[red]the policy is not valid:[/red]")
    for key, message in error.problems:
        console.print(f"  {key}: {message}")
    return typer.Exit(code=1)


@policy_app.command("validate")
def validate(file: PolicyFile) -> None:
    """Check a policy file; every problem is listed with its key."""
    try:
        loaded, against_centre = policy_service.check_policy_text(
            policy_service.read_policy_file(file)
        )
    except PolicyError as exc:
        raise _print_policy_error(exc) from exc
    except DomainError as exc:
        raise fail(exc) from exc
    console.print(f"{file.name}: valid ({loaded.policy.name}, hash {loaded.content_hash[:12]})")
    if not against_centre:
        console.print(
            "checked against the shipped metrics and certification types (no current database:"
            " types a centre added are not known here)"
        )


@policy_app.command("apply")
def apply(
    file: PolicyFile,
    note: Annotated[str, typer.Option(help="Why the policy changes.")] = "",
) -> None:
    """Make a policy the one in force (the diff against the current one is printed)."""
    try:
        text = policy_service.read_policy_file(file)
        with session_scope() as session:
            current = policy_service.current_policy(session=session)
            version = policy_service.apply_policy(session=session, text=text, note=note)
            diff = policy_service.policy_diff(current.text, text)
            content_hash = version.content_hash
    except PolicyError as exc:
        raise _print_policy_error(exc) from exc
    except DomainError as exc:
        raise fail(exc) from exc
    for line in diff:
        console.print(line, markup=False, highlight=False)
    console.print(f"applied: {file.name} (hash {content_hash[:12]})")


@policy_app.command("show")
def show() -> None:
    """Print the policy in force."""
    with session_scope() as session:
        loaded = policy_service.current_policy(session=session)
    print(loaded.text)
    console.print(f"# hash {loaded.content_hash}", highlight=False)


@policy_app.command("history")
def history(fmt: FormatOption = OutputFormat.table) -> None:
    """Every stored policy version."""
    with session_scope() as session:
        rows: list[dict[str, object]] = [
            {
                "id": v.id,
                "name": v.name,
                "hash": v.content_hash[:12],
                "applied_at": v.applied_at,
                "note": v.note,
            }
            for v in policy_service.policy_versions(session=session)
        ]
    emit(rows, ["id", "name", "hash", "applied_at", "note"], fmt, "Policy versions")


@ladder_app.command("run")
def run(
    period: PeriodOption,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Decide; store nothing.")] = False,
    policy: Annotated[
        Path | None, typer.Option(help="A policy file instead of the one in force.")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
    allow_stale: Annotated[
        bool,
        typer.Option(
            "--allow-stale",
            help="Decide even on evidence that changed after it was computed; the decisions "
            "record it.",
        ),
    ] = False,
) -> None:
    """Decide every agent's level for a period (re-running changes nothing). Refuses evidence
    that changed after it was computed (an import newer than the period's metrics), naming the
    command that refreshes it."""
    try:
        with session_scope() as session:
            loaded = (
                policy_service.load_policy_text(
                    session=session, text=policy_service.read_policy_file(policy)
                )
                if policy
                else None
            )
            report = decisions_service.run_period(
                session=session,
                period=period,
                dry_run=dry_run,
                policy=loaded,
                allow_stale=allow_stale,
            )
    except PolicyError as exc:
        raise _print_policy_error(exc) from exc
    except DomainError as exc:
        raise fail(exc) from exc
    if fmt is OutputFormat.json:
        print(json.dumps([v.as_json() for v in report.decisions], ensure_ascii=False, indent=2))
        return
    # A table is read by people: names. CSV keeps the ids scripts match on.
    readable = fmt is OutputFormat.table
    rows: list[dict[str, object]] = [
        {
            "agent": v.employee_no,
            "name": v.name,
            "team": v.team_code,
            "from": level_name(v.from_level, "en") if readable else v.from_level,
            "to": level_name(v.to_level, "en") if readable else v.to_level,
            "decision": decision_name(v.decision, "en") if readable else v.decision,
            "status": status_name(v.status, "en") if readable else v.status,
            "composite": None if v.composite is None else round(v.composite, 1),
        }
        for v in report.decisions
    ]
    emit(rows, list(rows[0].keys()) if rows else ["agent"], fmt, f"Ladder {report.period}")
    if readable:
        counts = ", ".join(
            f"{decision_name(k, 'en').lower()} {n}" for k, n in sorted(report.counts().items())
        )
        stored = (
            "dry run: nothing stored"
            if report.dry_run
            else f"stored {report.stored}, unchanged {report.unchanged}, kept {report.kept}, "
            f"levels changed {report.applied}"
        )
        console.print(f"{counts}; {stored}; policy {report.policy_hash[:12]}")
        for item in report.stale_inputs:
            console.print(f"[yellow]decided on stale evidence:[/yellow] {item.describe('en')}")


def _agent_id(session: object, employee_no: str) -> int:
    agent = org_service.get_agent_by_employee_no(session=session, employee_no=employee_no)  # type: ignore[arg-type]
    if agent is None:
        raise InvalidInput("unknown agent {agent}", agent=employee_no)
    return agent.id


@ladder_app.command("explain")
def explain(
    period: PeriodOption,
    agent_argument: AgentArgument = None,
    agent_option: AgentOption = None,
    language: LanguageOption = "zh_Hans",
) -> None:
    """Why an agent's decision for a period is what it is, and the gap to the next level."""
    agent = chosen_agent(agent_argument, agent_option)
    chosen = _language(language)
    try:
        with session_scope() as session:
            view = decisions_service.decision_for(
                session=session, agent_id=_agent_id(session, agent), period=period
            )
    except DomainError as exc:
        raise fail(exc) from exc
    console.print(
        f"{view.employee_no} {view.name} {view.period}: {view.headline(chosen)}",
        highlight=False,
    )
    for sentence in view.explanation(chosen):
        console.print(f"  {sentence}", highlight=False)
    gaps = view.gaps(chosen)
    if gaps:
        console.print("  -> " + "; ".join(gaps), highlight=False)
    for passed, line in view.gate_lines(chosen):
        console.print(f"  {'✓' if passed else '✗'} {line}", markup=False, highlight=False)
    for override in view.overrides:
        console.print(f"  override: {override['decision']} ({override['reason']})", highlight=False)
    for appeal in view.appeals:
        console.print(
            f"  appeal ({appeal['status']}): {appeal['text']} / {appeal['response']}",
            highlight=False,
        )


def _review(agent: str, period: Period, approve: bool, reason: str) -> None:
    try:
        with session_scope() as session:
            view = decisions_service.decision_for(
                session=session, agent_id=_agent_id(session, agent), period=period
            )
            assert view.decision_id is not None
            row = decisions_service.review_decision(
                session=session,
                decision_id=view.decision_id,
                approve=approve,
                by=None,
                reason=reason,
            )
            status, level = row.status, row.to_level if approve else row.from_level
    except DomainError as exc:
        raise fail(exc) from exc
    console.print(f"{agent} {period}: {status}; level {level}")


@ladder_app.command("approve")
def approve(
    period: PeriodOption,
    agent_argument: AgentArgument = None,
    agent_option: AgentOption = None,
    reason: Annotated[str, typer.Option(help="A note kept with the approval.")] = "",
) -> None:
    """Approve a pending decision: the agent's level changes."""
    _review(chosen_agent(agent_argument, agent_option), period, True, reason)


@ladder_app.command("reject")
def reject(
    period: PeriodOption,
    reason: Annotated[str, typer.Option(help="Why (required).")],
    agent_argument: AgentArgument = None,
    agent_option: AgentOption = None,
) -> None:
    """Reject a pending decision: the level stays."""
    _review(chosen_agent(agent_argument, agent_option), period, False, reason)


@ladder_app.command("backtest")
def backtest(
    policy: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Proposed policy.")],
    first: Annotated[Period, period_option("First period.", "--from")],
    last: Annotated[Period, period_option("Last period.", "--to")],
    fmt: FormatOption = OutputFormat.table,
    language: LanguageOption = "zh_Hans",
) -> None:
    """Run a proposed policy over past periods beside the one in force; nothing is written."""
    chosen = _language(language)
    # Only this command simulates: the other commands start without its service.
    from agentladder.ladder.backtest import service as backtest_service

    try:
        with session_scope() as session:
            proposed = policy_service.load_policy_text(
                session=session, text=policy_service.read_policy_file(policy)
            )
            report = backtest_service.backtest(
                session=session, proposed=proposed, first=first, last=last
            )
            session.rollback()
    except PolicyError as exc:
        raise _print_policy_error(exc) from exc
    except DomainError as exc:
        raise fail(exc) from exc
    rows: list[dict[str, object]] = [
        {
            "period": change.period,
            "agent": change.employee_no,
            "name": change.name,
            "current": f"{change.current.decision} -> {change.current.to_level}",
            "proposed": f"{change.proposed.decision} -> {change.proposed.to_level}",
            "why": " ".join(change.proposed.explanation(chosen)[-1:]),
        }
        for change in report.changes
    ]
    emit(
        rows,
        ["period", "agent", "name", "current", "proposed", "why"],
        fmt,
        f"Backtest {report.periods[0]}..{report.periods[-1]}",
    )
    if fmt is OutputFormat.table:
        console.print(
            f"current {report.current_hash[:12]}: {report.current_counts}; "
            f"proposed {report.proposed_hash[:12]}: {report.proposed_counts}; "
            f"{len(report.changes)} agent-periods decided differently",
            highlight=False,
        )
