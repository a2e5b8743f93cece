"""`agentladder quality ...`: QA forms and scores from the command line."""

from __future__ import annotations

import json

import typer

from agentladder.cli_output import FormatOption, OutputFormat, PeriodOption, console, emit, fail
from agentladder.config import get_settings
from agentladder.db import session_scope
from agentladder.errors import DomainError
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
