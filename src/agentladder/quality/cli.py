"""`agentladder quality ...`: QA forms and scores from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

# Every table known to the ORM: an evaluation refers to import_batches (ingest), which no quality
# module imports, and a flush that writes evaluations must be able to order the tables.
import agentladder.tables  # noqa: F401
from agentladder.cli_output import FormatOption, OutputFormat, PeriodOption, console, emit, fail
from agentladder.config import get_settings
from agentladder.db import session_scope
from agentladder.errors import DomainError
from agentladder.quality import calibration
from agentladder.quality import service as quality_service
from agentladder.quality.calibration import CalibrationCall

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


# --- calibration and reliability ------------------------------------------------------------

calibration_app = typer.Typer(
    help="Calibration sessions (质检校准): calls scored blind by several evaluators.",
    no_args_is_help=True,
)
quality_app.add_typer(calibration_app, name="calibration")


def _local_moment(text: str, option: str) -> datetime:
    """'2026-11-03' or '2026-11-03 10:15' in the centre's zone, as a UTC moment."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise typer.BadParameter(
            f"{text!r}: write 2026-11-03 or 2026-11-03 10:15", param_hint=option
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=get_settings().tz)
    return moment.astimezone(UTC)


def _calibration_call(text: str) -> CalibrationCall:
    try:
        return calibration.parse_call(text, get_settings().tz)
    except DomainError as exc:
        raise typer.BadParameter(str(exc), param_hint="--call") from exc


@calibration_app.command("list")
def calibration_list(fmt: FormatOption = OutputFormat.table) -> None:
    """Calibration sessions, latest first, with their agreement on the totals."""
    settings = get_settings()
    with session_scope(settings) as session:
        summaries = calibration.list_sessions(session=session)
    rows: list[dict[str, object]] = [
        {
            "session": s.code,
            "title": s.title,
            "held_on": s.held_on.astimezone(settings.tz).date().isoformat() if s.held_on else None,
            "form": s.form,
            "calls": s.calls,
            "anchored": s.anchored,
            "evaluators": s.evaluators,
            "evaluations": s.evaluations,
            "icc2_1": None if s.icc2_1 is None else round(s.icc2_1, 3),
            "alpha_interval": None if s.alpha_interval is None else round(s.alpha_interval, 3),
        }
        for s in summaries
    ]
    emit(rows, list(rows[0]) if rows else ["session"], fmt, "Calibration sessions")
    if fmt is OutputFormat.table and not rows:
        console.print("no calibration sessions")


@calibration_app.command("create")
def calibration_create(
    code: Annotated[str, typer.Option("--code", help="The session's code, e.g. CAL-2026-11.")],
    title: Annotated[str, typer.Option("--title", help="What the session is about.")] = "",
    form: Annotated[
        str | None, typer.Option("--form", help="The form's code; default: the shipped form.")
    ] = None,
    held_on: Annotated[
        str | None,
        typer.Option("--held-on", help="2026-11-03 (the centre's zone); default: now."),
    ] = None,
    calls: Annotated[
        list[str] | None,
        typer.Option(
            "--call",
            help="A call to score: CALL_ID,EMPLOYEE_NO,2026-11-03 10:15 (repeat the option).",
        ),
    ] = None,
) -> None:
    """Create a calibration session on a form's current version, with its calls."""
    settings = get_settings()
    parsed = [_calibration_call(text) for text in calls or []]
    held = _local_moment(held_on, "--held-on") if held_on else None
    try:
        with session_scope(settings) as session:
            created = calibration.create_session(
                session=session, code=code, title=title, form_code=form, held_on=held, calls=parsed
            )
            console.print(f"calibration session {created.code}: {len(parsed)} calls")
    except DomainError as exc:
        raise fail(exc) from exc


@calibration_app.command("anchor")
def calibration_anchor(
    session_code: Annotated[str, typer.Option("--session", help="The calibration session's code.")],
    evaluation: Annotated[
        int, typer.Option("--evaluation", min=1, help="The expert's submitted evaluation (id).")
    ],
) -> None:
    """Make an expert's submitted evaluation the anchor of its call."""
    settings = get_settings()
    try:
        with session_scope(settings) as session:
            anchored = calibration.mark_anchor(
                session=session, code=session_code, evaluation_id=evaluation
            )
            console.print(f"call {anchored.call_id}: anchor is evaluation {anchored.id}")
    except DomainError as exc:
        raise fail(exc) from exc


@quality_app.command("reliability")
def reliability(
    session_code: Annotated[str, typer.Option("--session", help="The calibration session's code.")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """A calibration session's reliability: Krippendorff's alpha per item (nominal for yes/no,
    ordinal for scales), ICC(2,1) and interval alpha on the totals, and each evaluator's mean
    deviation from the anchor."""
    settings = get_settings()
    try:
        with session_scope(settings) as session:
            result = calibration.session_reliability(session=session, code=session_code)
    except DomainError as exc:
        raise fail(exc) from exc
    document = result.as_json()
    if fmt is OutputFormat.json:
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return
    emit(document["items"], ["item", "alpha", "level", "calls"], fmt, f"Items {result.session}")
    if fmt is OutputFormat.table:
        emit([document["total"]], ["icc2_1", "alpha_interval"], fmt, "Totals")
        emit(document["evaluators"], ["evaluator", "mean_deviation", "n"], fmt, "Evaluators")
