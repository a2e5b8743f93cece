"""`agentladder training exams ...` (list, show, item statistics, the essay grading queue) and
`agentladder training attempts ...` (import from Moodle's quiz Grades report, list)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer
import yaml
from pydantic import ValidationError
from rich import box
from rich.table import Table

from agentladder.cli_imports import DryRunOption, EncodingOption, FileArgument, print_import
from agentladder.cli_output import FormatOption, OutputFormat, console, emit, fail
from agentladder.config import get_settings
from agentladder.db import session_scope, utcnow
from agentladder.errors import DomainError
from agentladder.org import service as org_service
from agentladder.training.exams import analysis, moodle_grades
from agentladder.training.exams import service as exams_service
from agentladder.training.exams.schemas import ExamSettings

exams_app = typer.Typer(
    help="Exams (考试): save from a file, publish, list, settings, item statistics, the essay "
    "grading queue.",
    no_args_is_help=True,
)
attempts_app = typer.Typer(
    help="Exam attempts (考试记录): import from Moodle's quiz Grades report, list.",
    no_args_is_help=True,
)

EVERYONE = org_service.AgentScope(everyone=True, team_ids=frozenset(), agent_id=None)


class Which(StrEnum):
    highest = "highest"
    first = "first"
    last = "last"
    all = "all"


ExamArgument = Annotated[str, typer.Argument(metavar="EXAM", help="The exam's code.")]


@exams_app.command("list")
def exams_list(fmt: FormatOption = OutputFormat.table) -> None:
    """List the exams, newest first, with their number of attempts."""
    with session_scope() as session:
        rows = [exam.model_dump() for exam in exams_service.list_exams(session=session)]
    emit(
        rows,
        ["code", "title", "status", "grading_method", "pass_percent", "slots", "attempts"],
        fmt,
        "Exams",
    )


@exams_app.command("save")
def exams_save(
    file: FileArgument,
    publish: Annotated[bool, typer.Option("--publish", help="Publish it at once.")] = False,
) -> None:
    """Create an exam from a YAML or JSON file of its settings (code, title, blueprint with
    sections, audience ... as docs/training.md shows), or change the exam with that code."""
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
        settings_in = ExamSettings.model_validate(document)
    except (yaml.YAMLError, ValidationError) as exc:
        console.print(f"[red]error:[/red] {file.name}: {exc}", highlight=False)
        raise typer.Exit(code=1) from exc
    try:
        with session_scope() as session:
            existing = {exam.code for exam in exams_service.list_exams(session=session)}
            exam = exams_service.save_exam(
                session=session,
                settings_in=settings_in,
                user_id=None,
                code=settings_in.code if settings_in.code in existing else None,
            )
            if publish:
                exam = exams_service.set_exam_status(
                    session=session, code=exam.code, status="published"
                )
    except DomainError as exc:
        raise fail(exc) from exc
    console.print(f"exam {exam.code} saved ({exam.status}, {exam.slots} questions)")


@exams_app.command("status")
def exams_status(
    code: ExamArgument,
    status: Annotated[str, typer.Argument(help="draft, published or closed.")],
) -> None:
    """Publish an exam (agents may start it in its window), close it, or take it back to draft."""
    try:
        with session_scope() as session:
            exam = exams_service.set_exam_status(session=session, code=code, status=status)
    except DomainError as exc:
        raise fail(exc) from exc
    console.print(f"exam {exam.code}: {exam.status}")


@exams_app.command("show")
def exams_show(code: ExamArgument, fmt: FormatOption = OutputFormat.table) -> None:
    """An exam's settings, blueprint and attempts by state."""
    try:
        with session_scope() as session:
            exam = exams_service.get_exam(session=session, code=code)
            counts = analysis.attempt_counts(session=session, code=code)
    except DomainError as exc:
        raise fail(exc) from exc
    if fmt is OutputFormat.json:
        shown = {"exam": exam.model_dump(mode="json"), "attempts": counts.model_dump()}
        print(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    facts: list[dict[str, object]] = [
        {"setting": name, "value": value}
        for name, value in exam.model_dump(exclude={"blueprint", "audience"}).items()
    ]
    facts += [
        {"setting": f"section {index}", "value": section.model_dump_json(exclude_defaults=True)}
        for index, section in enumerate(exam.blueprint.sections, start=1)
    ]
    facts.append({"setting": "audience", "value": exam.audience.model_dump_json()})
    facts += [
        {"setting": f"attempts {name}", "value": n} for name, n in counts.model_dump().items()
    ]
    emit(facts, ["setting", "value"], fmt, f"Exam {exam.code}")


def _figure(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


@exams_app.command("stats")
def exams_stats(
    code: ExamArgument,
    which: Annotated[
        Which | None,
        typer.Option(
            help="Attempts to analyse: each agent's highest, first or last, or all "
            "(default: as the exam's grading method; average reads all)."
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Moodle's item statistics of an exam: the test's figures and one row per question slot
    (facility, discrimination, efficiency...); rows with an efficiency under 15% are dubious."""
    try:
        with session_scope() as session:
            result = analysis.exam_analysis(
                session=session,
                code=code,
                which=which.value if which else None,
            )
    except DomainError as exc:
        raise fail(exc) from exc
    if fmt is OutputFormat.json:
        print(result.model_dump_json(indent=2))
        return
    items = [item.model_dump() for item in result.items]
    if fmt is OutputFormat.csv:
        emit(items, list(items[0]) if items else ["slot"], fmt, "")
        return
    test = Table(title=f"Exam {result.exam}: {result.attempts} attempts ({result.which})")
    for column in ("mean %", "sd %", "skewness", "kurtosis", "CIC %", "error ratio %", "SE %"):
        test.add_column(column, justify="right")
    figures = result.test
    test.add_row(
        _figure(figures.mean),
        _figure(figures.sd),
        _figure(figures.skewness, 4),
        _figure(figures.kurtosis, 4),
        _figure(figures.cic),
        _figure(figures.error_ratio),
        _figure(figures.standard_error),
    )
    console.print(test)
    # Compact, one decimal, the question last (it folds): the rows fit an 80-column terminal;
    # the JSON keeps every digit.
    table = Table(
        title="Items (! = dubious: discriminative efficiency under 15%)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("", no_wrap=True)
    table.add_column("slot", justify="right", no_wrap=True)
    for column in ("facility", "SD", "guess", "int.w", "eff.w", "DI", "DE"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("question", overflow="fold")
    for item in result.items:
        table.add_row(
            "!" if item.dubious else "",
            str(item.slot),
            _figure(item.facility, 1),
            _figure(item.sd, 1),
            _figure(item.random_guess, 1),
            _figure(item.intended_weight, 1),
            "negcovar" if item.negcovar else _figure(item.effective_weight, 1),
            _figure(item.discrimination_index, 1),
            _figure(item.discriminative_efficiency, 1),
            item.question,
            style="yellow" if item.dubious else None,
        )
    console.print(table)


@exams_app.command("grading-queue")
def exams_grading_queue(fmt: FormatOption = OutputFormat.table) -> None:
    """Essay answers waiting for a trainer's mark, oldest first."""
    with session_scope() as session:
        rows = [item.model_dump() for item in exams_service.grading_queue(session=session)]
    emit(
        rows,
        [
            "attempt_id",
            "slot",
            "exam_code",
            "employee_no",
            "agent_name",
            "question_name",
            "max_mark",
            "submitted_at",
        ],
        fmt,
        f"Essays to grade ({len(rows)})",
    )


@exams_app.command("finish-overdue")
def exams_finish_overdue() -> None:
    """Submit the attempts whose time ran out while nobody had them open (a closed laptop), as
    the server would on the agent's next request; for cron on a server run without
    --scheduler."""
    with session_scope() as session:
        finished = exams_service.finish_overdue_attempts(session=session, now=utcnow())
    console.print(f"Finished {finished} overdue attempt(s).")


@attempts_app.command(
    "import",
    help="Import the attempts of Moodle's quiz Grades report (CSV or XLSX, English or Chinese "
    "headers) into an exam: finished attempts only, agents found by ID number, username or email. "
    "The same attempt again is unchanged, never duplicated; a file with any error changes "
    "nothing.\n\nColumns (* required; Chinese | English header), then Grade/N and Q. n /max:\n\n"
    + moodle_grades.GRADES_IMPORTER.columns_help().replace("\n", "\n\n"),
)
def attempts_import(
    file: FileArgument,
    exam: Annotated[str, typer.Option("--exam", help="The exam the attempts belong to.")],
    dry_run: DryRunOption = False,
    encoding: EncodingOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    settings = get_settings()
    data = file.read_bytes()
    try:
        with session_scope(settings) as session:
            result = moodle_grades.import_moodle_grades(
                session=session,
                data=data,
                file_name=file.name,
                exam_code=exam,
                zone=settings.tz,
                encoding=encoding,
                dry_run=dry_run,
            )
    except DomainError as exc:
        raise fail(exc) from exc
    print_import(
        result,
        moodle_grades.GRADES_IMPORTER,
        [
            ("employee_no", "employee no"),
            ("name", "name"),
            ("started_at", "started"),
            ("marks", "marks"),
            ("percent", "percent"),
            ("passed", "passed"),
        ],
        fmt,
    )
    if result.preview.errors:
        raise typer.Exit(code=1)


@attempts_app.command("list")
def attempts_list(
    exam: Annotated[str, typer.Option("--exam", help="The exam's code.")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Every attempt at an exam, newest first: online and imported."""
    try:
        with session_scope() as session:
            rows = [
                attempt.model_dump()
                for attempt in exams_service.exam_attempts(
                    session=session, code=exam, scope=EVERYONE
                )
            ]
    except DomainError as exc:
        raise fail(exc) from exc
    emit(
        rows,
        [
            "id",
            "employee_no",
            "agent_name",
            "number",
            "state",
            "started_at",
            "submitted_at",
            "marks",
            "max_marks",
            "percent",
            "passed",
            "source",
        ],
        fmt,
        f"Attempts at {exam} ({len(rows)})",
    )
