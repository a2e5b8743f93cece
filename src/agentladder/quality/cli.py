"""`agentladder quality ...`: QA forms and scores from the command line."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from pydantic import ValidationError

from agentladder.cli_output import FormatOption, OutputFormat, PeriodOption, console, emit, fail
from agentladder.config import get_settings
from agentladder.db import session_scope
from agentladder.errors import DomainError, InvalidInput
from agentladder.ladder.policy import service as policy_service
from agentladder.quality import drawing, sampling
from agentladder.quality import service as quality_service

quality_app = typer.Typer(help="Service quality (质检): forms and QA scores.", no_args_is_help=True)
forms_app = typer.Typer(help="QA forms (质检评分表).", no_args_is_help=True)
quality_app.add_typer(forms_app, name="forms")


@forms_app.command("show")
def forms_show(fmt: FormatOption = OutputFormat.table) -> None:
    """The default form: sections, items, weights, scales and fatal classes."""
    form = quality_service.default_form()
    if fmt is OutputFormat.json:
        print(json.dumps(form.model_dump(), ensure_ascii=False, indent=2))
        return
    rows: list[dict[str, object]] = [
        {
            "section": f"{section.code} ({section.weight:g})",
            "item": item.code,
            "zh": item.zh,
            "en": item.en,
            "weight": item.weight,
            "answer": f"0..{item.scale_max}" if item.kind == "scale" else "yes/no",
            "fatal": item.fatal or "",
        }
        for section in form.sections
        for item in section.items
    ]
    emit(rows, list(rows[0]), fmt, f"{form.en} {form.zh}")


@quality_app.command("scores")
def scores(
    period: PeriodOption,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """QA scores per agent, raw and with the evaluators' effects taken out (fitted over the
    three months ending with the period), and the evaluators' effects."""
    settings = get_settings()
    try:
        with session_scope(settings) as session:
            result = quality_service.period_scores(session=session, period=period, zone=settings.tz)
    except DomainError as exc:
        raise fail(exc) from exc
    document = result.as_json()
    if fmt is OutputFormat.json:
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return
    emit(
        document["agents"],
        ["agent", "qa_score", "qa_score_adjusted", "evaluations", "fatal_errors"],
        fmt,
        f"QA scores {result.period}",
    )
    if fmt is OutputFormat.table:
        emit(document["evaluators"], ["evaluator", "effect", "evaluations"], fmt, "Evaluators")
        if not document["agents"]:
            console.print(f"no official evaluations in {result.period}")


@quality_app.command("sample")
def sample(
    period: PeriodOption,
    seed: Annotated[
        int | None, typer.Option(help="Draw again exactly: the seed of an earlier draw.")
    ] = None,
    per_agent: Annotated[
        int | None,
        typer.Option(
            "--per-agent",
            help="Random calls per agent (default: the ladder policy's min_qa_evaluations, "
            "else 6).",
        ),
    ] = None,
    max_targeted: Annotated[
        int, typer.Option("--max-targeted", help="Targeted calls per agent, on top.")
    ] = 2,
    blind: Annotated[
        bool, typer.Option("--blind", help="Evaluators do not see the agent's name.")
    ] = False,
    not_own_team: Annotated[
        bool,
        typer.Option("--not-own-team", help="Never assign a call to its agent's team's evaluator."),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Draw the period's QA sample (random per agent, stratified by queue and week, plus
    complaints, low surveys, repeat callers, transfers, very short and very long talk),
    assign it to the QA evaluators and store it with its seed."""
    settings = get_settings()
    try:
        with session_scope(settings) as session:
            if per_agent is None:
                loaded = policy_service.current_policy(session=session)
                per_agent = sampling.target_from_policy(
                    policy_service.sample_minimums(loaded.policy)
                )
            drawn = sampling.draw_sample(
                session=session,
                settings=settings,
                period=period,
                seed=seed,
                per_agent=per_agent,
                rules=drawing.SamplingRules(
                    repeat_days=settings.fcr_window_days, max_targeted=max_targeted
                ),
                blind=blind,
                exclude_own_team=not_own_team,
            )
            summary = sampling.sample_summary(session=session, sample_id=drawn.id)
    except (DomainError, ValidationError) as exc:
        raise fail(exc if isinstance(exc, DomainError) else InvalidInput(str(exc))) from exc
    document = summary.as_json()
    if fmt is OutputFormat.json:
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return
    if fmt is OutputFormat.csv:
        emit(
            document["sampled_calls"],
            ["call", "call_at", "queue", "agent", "reason", "evaluator"],
            fmt,
            "",
        )
        return
    title = f"QA sample {summary.id} {summary.period} (seed {summary.seed})"
    emit(document["evaluators"], ["evaluator", "calls"], fmt, title)
    emit(
        [{"reason": reason, "calls": count} for reason, count in document["reasons"].items()],
        ["reason", "calls"],
        fmt,
        "Reasons",
    )
    console.print(
        f"{document['calls']} calls of {document['agents']} agents; "
        f"{document['unassigned']} unassigned",
        highlight=False,
    )
