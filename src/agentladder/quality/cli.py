"""`agentladder quality ...`: QA forms and scores from the command line."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from agentladder.cli_imports import DryRunOption, EncodingOption, FileArgument, print_import
from agentladder.cli_output import (
    FormatOption,
    OutputFormat,
    PeriodOption,
    console,
    emit,
    fail,
    period_option,
)
from agentladder.config import get_settings
from agentladder.db import session_scope
from agentladder.errors import DomainError, InvalidInput
from agentladder.i18n import translate
from agentladder.ladder.policy import service as policy_service
from agentladder.periods import Period
from agentladder.quality import forms_io, importing
from agentladder.quality import service as quality_service
from agentladder.quality.autoqa import importing as autoqa_importing
from agentladder.quality.autoqa import rulesets as autoqa_rulesets
from agentladder.quality.autoqa import service as autoqa_service
from agentladder.quality.calibration import service as calibration
from agentladder.quality.calibration.service import CalibrationCall
from agentladder.quality.sampling import drawing
from agentladder.quality.sampling import service as sampling

quality_app = typer.Typer(help="Service quality (质检): forms and QA scores.", no_args_is_help=True)
forms_app = typer.Typer(help="QA forms (质检评分表).", no_args_is_help=True)
quality_app.add_typer(forms_app, name="forms")
evaluations_app = typer.Typer(help="QA evaluations (质检评分记录).", no_args_is_help=True)
quality_app.add_typer(evaluations_app, name="evaluations")


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


# --- forms in and out of files ---------------------------------------------------------------


class FormFileFormat(StrEnum):
    """The file formats of a form."""

    yaml = "yaml"
    xlsx = "xlsx"


@forms_app.command(
    "import",
    help=(
        "Import QA forms from YAML (one form, as `quality forms export` writes it) or an "
        "XLSX/CSV sheet (one row per item). A form that has evaluations gets a new version; "
        "a file with any error changes nothing.\n\nColumns of a sheet (* required; Chinese | "
        "English header):\n\n" + forms_io.FORMS_IMPORTER.columns_help().replace("\n", "\n\n")
    ),
)
def forms_import(
    file: FileArgument,
    dry_run: DryRunOption = False,
    encoding: EncodingOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    data = file.read_bytes()
    try:
        with session_scope() as session:
            result = forms_io.import_forms(
                session=session,
                data=data,
                file_name=file.name,
                encoding=encoding,
                dry_run=dry_run,
            )
    except DomainError as exc:
        raise fail(exc) from exc
    print_import(
        result,
        forms_io.FORMS_IMPORTER,
        [("form", "form"), ("section", "section"), ("item", "item")],
        fmt,
    )
    if result.preview.errors:
        raise typer.Exit(code=1)


@forms_app.command("export")
def forms_export(
    form: Annotated[str, typer.Option("--form", help="The form's code.")] = "default",
    version: Annotated[
        int | None, typer.Option(help="The version (default: the latest).", min=1)
    ] = None,
    file_format: Annotated[
        FormFileFormat, typer.Option("--format", help="yaml or xlsx.")
    ] = FormFileFormat.yaml,
    output: Annotated[
        Path | None,
        typer.Option("--output", dir_okay=False, help="The file to write (YAML: default stdout)."),
    ] = None,
) -> None:
    """Write a QA form as YAML or XLSX (one row per item), ready to edit and import again; the
    shipped default form while none is stored."""
    try:
        with session_scope() as session:
            data = forms_io.export_form(
                session=session, code=form, fmt=file_format.value, version=version
            )
    except DomainError as exc:
        raise fail(exc) from exc
    if output is None and file_format is FormFileFormat.yaml:
        sys.stdout.write(data.decode())
        return
    target = output or Path(forms_io.form_file_name(form, file_format.value))
    target.write_bytes(data)
    console.print(f"form {form} written to {target}", highlight=False)


@forms_app.command("template")
def forms_template(
    out: Annotated[Path, typer.Option("--out", dir_okay=False, help="The .xlsx to write.")],
) -> None:
    """Write the XLSX template: the default form, one row per item, and the columns' guide."""
    out.write_bytes(forms_io.forms_template())
    console.print(f"template written to {out}", highlight=False)


# --- past evaluations ------------------------------------------------------------------------


@evaluations_app.command(
    "import",
    help=(
        "Import past evaluations from a CSV/XLSX file, one row per evaluation, each scored on "
        "the form version it names and stored submitted. Evaluations already stored (same "
        "call, evaluator and form version) are skipped; a file with any error changes "
        "nothing.\n\nColumns (* required; Chinese | English header):\n\n"
        + importing.fixed_columns_help().replace("\n", "\n\n")
        + "\n\n- one column per item code of the form: yes, no or na (是/否/不适用); 0 to "
        "the maximum for a scale item\n\n- comment:CODE: the evaluator's comment on an item"
    ),
)
def evaluations_import(
    file: FileArgument,
    dry_run: DryRunOption = False,
    encoding: EncodingOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    settings = get_settings()
    data = file.read_bytes()
    try:
        with session_scope(settings) as session:
            result = importing.import_evaluations(
                session=session,
                data=data,
                file_name=file.name,
                zone=settings.tz,
                encoding=encoding,
                dry_run=dry_run,
            )
    except DomainError as exc:
        raise fail(exc) from exc
    print_import(
        result,
        importing.EVALUATIONS_IMPORTER,
        [
            ("call_id", "call"),
            ("employee_no", "agent"),
            ("evaluator", "evaluator"),
            ("kind", "kind"),
            ("overall", "score"),
        ],
        fmt,
    )
    if result.preview.errors:
        raise typer.Exit(code=1)


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


# --- automatic QA on transcripts -------------------------------------------------------------

transcripts_app = typer.Typer(
    help="Call transcripts (通话转写) for automatic QA.", no_args_is_help=True
)
quality_app.add_typer(transcripts_app, name="transcripts")
autoqa_app = typer.Typer(
    help="Automatic QA (自动质检): phone etiquette checked on every transcript.",
    no_args_is_help=True,
)
quality_app.add_typer(autoqa_app, name="autoqa")
rules_app = typer.Typer(help="The automatic QA rule set (自动质检规则).", no_args_is_help=True)
autoqa_app.add_typer(rules_app, name="rules")


@transcripts_app.command(
    "import",
    help=(
        "Import call transcripts: JSON Lines (one call a line) or CSV/XLSX (one turn a row), "
        "as docs/autoqa.md and the transcript format describe. Lines or calls that cannot be "
        "read are rejected with their reason and kept in the import ledger; the others are "
        "stored with personal numbers masked and judged at once.\n\nColumns of a sheet (* "
        "required; Chinese | English header):\n\n"
        + autoqa_importing.TRANSCRIPT_ROWS_IMPORTER.columns_help().replace("\n", "\n\n")
    ),
)
def transcripts_import(
    file: FileArgument,
    dry_run: DryRunOption = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    settings = get_settings()
    data = file.read_bytes()
    try:
        with session_scope(settings) as session:
            result = autoqa_importing.import_transcripts(
                session=session, settings=settings, data=data, file_name=file.name, dry_run=dry_run
            )
    except DomainError as exc:
        raise fail(exc) from exc
    print_import(
        result,
        autoqa_importing.TRANSCRIPT_ROWS_IMPORTER,
        [("call_id", "call"), ("agent", "agent"), ("language", "language"), ("turns", "turns")],
        fmt,
    )
    if not result.applied and result.preview.errors:
        raise typer.Exit(code=1)


@autoqa_app.command("run")
def autoqa_run(
    period: PeriodOption,
    everything: Annotated[
        bool, typer.Option("--all", help="Judge every transcript again, not only stale ones.")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Judge the period's transcripts that the rule set in force has not judged yet."""
    settings = get_settings()
    try:
        with session_scope(settings) as session:
            run = autoqa_service.run_autoqa(
                session=session, settings=settings, period=period, everything=everything
            )
    except DomainError as exc:
        raise fail(exc) from exc
    document = {
        "period": run.period,
        "rule_set": run.rule_set_hash if fmt is OutputFormat.json else run.rule_set_hash[:12],
        "transcripts": run.transcripts,
        "judged": run.judged,
        "unchanged": run.unchanged,
    }
    if fmt is OutputFormat.json:
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return
    emit([document], list(document), fmt, f"Automatic QA {run.period}")


@autoqa_app.command("show")
def autoqa_show(
    call: Annotated[str | None, typer.Option("--call", help="One call's verdicts.")] = None,
    period: Annotated[Period | None, period_option("Every call of the period (2026-10).")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Every rule's verdict on a call (or on each call of a period) with the evidence quoted."""
    if (call is None) == (period is None):
        raise fail(InvalidInput("give either --call or --period"))
    settings = get_settings()
    try:
        with session_scope(settings) as session:
            if call is not None:
                document = autoqa_service.call_verdicts(session=session, call_id=call)
                calls = [document]
            else:
                assert period is not None
                document = autoqa_service.period_verdicts(
                    session=session, settings=settings, period=period
                )
                calls = document["calls"]
    except DomainError as exc:
        raise fail(exc) from exc
    if fmt is OutputFormat.json:
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return
    rows: list[dict[str, object]] = [
        {
            "call": item["call"],
            "agent": item["agent"] or "",
            "score": "" if item["score"] is None else f"{item['score']:.1f}",
            "rule": rule["rule"],
            "verdict": rule["verdict"],
            "evidence": " | ".join(
                (f"#{e['turn']} {e['start_s']:g}s " if e["turn"] is not None else "") + e["text"]
                for e in rule["evidence"]
            ),
        }
        for item in calls
        for rule in item["rules"]
    ]
    emit(rows, ["call", "agent", "score", "rule", "verdict", "evidence"], fmt, "Automatic QA")


RulesFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]


def _print_rule_problems(file: Path, problems: list[autoqa_rulesets.RuleProblem]) -> typer.Exit:
    language = get_settings().default_language
    console.print(f"{file.name}: not valid", highlight=False)
    for problem in problems:
        where = f"{problem.key}: " if problem.key else ""
        console.print(
            f"  {where}{translate(language, problem.message, **problem.params)}",
            markup=False,
            highlight=False,
        )
    return typer.Exit(code=1)


@rules_app.command("show")
def rules_show() -> None:
    """Print the rule set in force (the shipped one until one is applied)."""
    with session_scope() as session:
        loaded = autoqa_rulesets.current_rule_set(session=session)
    print(loaded.yaml_text)
    console.print(f"# hash {loaded.rules.content_hash}", highlight=False)


@rules_app.command("validate")
def rules_validate(file: RulesFile) -> None:
    """Check a rule set file; every problem is listed with its key."""
    try:
        text = policy_service.read_policy_file(file)
    except DomainError as exc:
        raise fail(exc) from exc
    rules, problems = autoqa_rulesets.check_rule_set_text(text)
    if rules is None:
        raise _print_rule_problems(file, problems)
    console.print(f"{file.name}: valid ({rules.name}, hash {rules.content_hash[:12]})")


@rules_app.command("apply")
def rules_apply(file: RulesFile) -> None:
    """Make a rule set the one in force (the diff against the current one is printed); the
    calls are judged again by `quality autoqa run` or the next period close."""
    try:
        text = policy_service.read_policy_file(file)
    except DomainError as exc:
        raise fail(exc) from exc
    rules, problems = autoqa_rulesets.check_rule_set_text(text)
    if rules is None:
        raise _print_rule_problems(file, problems)
    with session_scope() as session:
        current = autoqa_rulesets.current_rule_set(session=session)
        version = autoqa_rulesets.apply_rule_set(session=session, text=text, source=file.name)
        diff = policy_service.policy_diff(current.yaml_text, text)
        content_hash = version.content_hash
    for line in diff:
        console.print(line, markup=False, highlight=False)
    console.print(f"applied: {file.name} (hash {content_hash[:12]})")
