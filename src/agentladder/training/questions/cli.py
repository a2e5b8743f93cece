"""`agentladder training questions ...`: import and export question banks (GIFT, Moodle XML,
XLSX), the XLSX template, and the bank's questions listed."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from agentladder.cli_imports import DryRunOption, FileArgument, print_import
from agentladder.cli_output import FormatOption, OutputFormat, console, emit, fail
from agentladder.config import get_settings
from agentladder.db import session_scope
from agentladder.errors import DomainError
from agentladder.i18n import translate
from agentladder.training.questions import importing
from agentladder.training.questions import service as bank
from agentladder.training.questions.schemas import QuestionFilter, parse_category_path

questions_app = typer.Typer(
    help="The question bank (题库): import, export, the XLSX template, list.",
    no_args_is_help=True,
)


class BankFormatChoice(StrEnum):
    gift = "gift"
    moodle_xml = "moodle-xml"
    xlsx = "xlsx"


class ReportFormat(StrEnum):
    table = "table"
    json = "json"


CategoryOption = Annotated[
    str | None,
    typer.Option(help="Category path, names separated by / (e.g. '产品知识/宽带')."),
]


@questions_app.command("import")
def questions_import(
    file: FileArgument,
    bank_format: Annotated[
        BankFormatChoice | None,
        typer.Option("--format", help="The file's format (default: by its suffix and content)."),
    ] = None,
    category: CategoryOption = None,
    dry_run: DryRunOption = False,
    output: Annotated[
        ReportFormat,
        typer.Option("--output", help="table: every problem and change; json: the report."),
    ] = ReportFormat.table,
) -> None:
    """Import a GIFT, Moodle XML or XLSX/CSV question bank, its questions under --category
    and their own categories. Questions of types the bank lacks are listed and skipped; a
    file with any other error changes nothing."""
    data = file.read_bytes()
    try:
        with session_scope() as session:
            result, report = importing.import_questions(
                session=session,
                data=data,
                file_name=file.name,
                bank_format=bank_format.value if bank_format else None,
                category=parse_category_path(category or ""),
                dry_run=dry_run,
            )
    except DomainError as exc:
        raise fail(exc) from exc
    if output is ReportFormat.json:
        print(report.model_dump_json(indent=2, exclude={"skipped": {"__all__": {"line"}}}))
    else:
        importer = (
            importing.QUESTION_SHEET_IMPORTER
            if "text" in result.preview.columns
            else importing.QUESTION_DOCUMENT_IMPORTER
        )
        print_import(
            result,
            importer,
            [("name", "name"), ("type", "type"), ("category", "category")],
            OutputFormat.table,
        )
        language = get_settings().default_language
        for skipped in report.skipped:
            console.print(
                f"skipped: {skipped.name} ({skipped.type}): {translate(language, skipped.reason)}",
                highlight=False,
                markup=False,
            )
    if result.preview.errors:
        raise typer.Exit(code=1)


@questions_app.command("export")
def questions_export(
    bank_format: Annotated[BankFormatChoice, typer.Option("--format", help="The file's format.")],
    out: Annotated[Path, typer.Option(help="The file to write.", dir_okay=False)],
    category: CategoryOption = None,
) -> None:
    """Write the bank's active questions (or one category and below) to a file that imports
    again as it is; questions the format cannot carry are named and left out."""
    try:
        with session_scope() as session:
            data, left_out = importing.export_questions(
                session=session,
                bank_format=bank_format.value,
                category=parse_category_path(category or ""),
            )
    except DomainError as exc:
        raise fail(exc) from exc
    out.write_bytes(data)
    for question in left_out:
        console.print(f"left out: {question.name} ({question.type})", highlight=False)
    console.print(f"wrote {out}", highlight=False)


@questions_app.command("template")
def questions_template(
    out: Annotated[Path, typer.Option(help="Where to write the XLSX template.", dir_okay=False)],
) -> None:
    """Write the XLSX template: the columns and an example row of every question type."""
    out.write_bytes(importing.template_workbook())
    console.print(f"wrote {out}", highlight=False)


@questions_app.command("list")
def questions_list(
    category: CategoryOption = None,
    search: Annotated[str, typer.Option(help="Words in the name or text.")] = "",
    retired: Annotated[bool, typer.Option("--retired", help="Retired questions.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 100,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List the bank's questions, newest first."""
    with session_scope() as session:
        page = bank.find_questions(
            session=session,
            query=QuestionFilter(
                category=parse_category_path(category or ""),
                search=search,
                status="retired" if retired else "active",
                page_size=limit,
            ),
        )
    rows = [
        {
            **item.model_dump(mode="json", include={"id", "name", "type", "difficulty", "version"}),
            "category": " / ".join(item.category),
            "tags": ", ".join(item.tags),
        }
        for item in page.items
    ]
    emit(
        rows,
        ["id", "name", "type", "difficulty", "category", "tags", "version"],
        fmt,
        f"Questions ({page.total})",
    )
