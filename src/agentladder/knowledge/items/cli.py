"""`agentladder knowledge import PATH [--dry-run]`, `knowledge export --out DIR|FILE` and
`knowledge template --out FILE.xlsx`: the library's items in and out of files. The commands are
registered by `knowledge/cli.py`; they parse, call the import or export service and print."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from agentladder.cli_imports import DryRunOption, EncodingOption, print_import
from agentladder.cli_output import (
    FormatOption,
    OutputFormat,
    cell_text,
    console,
    fail,
    local_time_text,
)
from agentladder.config import get_settings
from agentladder.db import session_scope
from agentladder.errors import DomainError
from agentladder.imports.schemas import ImportResult
from agentladder.imports.template import template_workbook
from agentladder.knowledge.items.exporting import export_items
from agentladder.knowledge.items.folders import FolderImportResult, import_markdown_folder
from agentladder.knowledge.items.importing import (
    ITEMS_IMPORTER,
    ItemRowPlan,
    import_items,
)

ROW_FIELDS = [("slug", "slug"), ("type", "type"), ("title", "title")]


def _changes(changes: dict[str, tuple[str, str]]) -> str:
    return "; ".join(f"{name}: {old} -> {new}" for name, (old, new) in changes.items())


def print_folder_import(result: FolderImportResult, fmt: OutputFormat) -> None:
    """Print what a folder import did, as `print_import` does for a table: counts, every problem
    (file, line, field, value, reason) and the files it changes; or JSON; or CSV lines."""
    language = get_settings().default_language
    if fmt is OutputFormat.json:
        print(result.model_dump_json(indent=2))
        return
    if fmt is OutputFormat.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(["file", "line", "outcome", "field", "value", "detail"])
        for issue in result.issues:
            writer.writerow(
                [
                    issue.file,
                    cell_text(issue.line),
                    issue.severity,
                    cell_text(issue.field),
                    cell_text(issue.value),
                    issue.text(language),
                ]
            )
        for plan in result.files:
            writer.writerow([plan.file, "", plan.action, "", plan.title, _changes(plan.changes)])
        return
    console.print(
        f"{result.folder}: {result.files_read} files read, {result.count('create')} new, "
        f"{result.count('update')} changed, {result.count('unchanged')} unchanged, "
        f"{len(result.errors)} errors in {result.rejected} files",
        highlight=False,
        markup=False,
    )
    if result.previous_import is not None:
        earlier = result.previous_import
        console.print(
            f"these files were imported before: import #{earlier.import_id} on "
            f"{local_time_text(earlier.imported_at)}",
            highlight=False,
        )
    if result.issues:
        table = Table(title="Problems")
        for column in ("file", "line", "field", "value", "problem"):
            table.add_column(column)
        for issue in result.issues:
            style = "red" if issue.severity == "error" else "yellow"
            table.add_row(
                issue.file,
                cell_text(issue.line),
                cell_text(issue.field),
                cell_text(issue.value),
                f"[{style}]{issue.text(language)}[/{style}]",
            )
        console.print(table)
    changed = [plan for plan in result.files if plan.action != "unchanged"]
    if changed:
        table = Table(title="Changes")
        for column in ("file", "slug", "type", "title", "action", "changes"):
            table.add_column(column)
        for plan in changed:
            table.add_row(
                plan.file,
                cell_text(plan.slug),
                plan.type,
                plan.title,
                plan.action,
                _changes(plan.changes),
            )
        console.print(table)
    if result.errors:
        console.print("[red]nothing imported:[/red] correct the files above and import again")
    elif result.dry_run:
        console.print("dry run: nothing written")
    else:
        console.print("[green]imported[/green]")


def import_command(
    path: Annotated[
        Path,
        typer.Argument(
            exists=True, readable=True, help="A .csv/.xlsx file, or a folder of .md item files."
        ),
    ],
    dry_run: DryRunOption = False,
    encoding: EncodingOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    # The help (columns included) is set below: a docstring cannot be computed.
    result: FolderImportResult | ImportResult[ItemRowPlan]
    try:
        with session_scope() as session:
            if path.is_dir():
                result = import_markdown_folder(
                    session=session, folder=path, dry_run=dry_run, by=None
                )
            else:
                result = import_items(
                    session=session,
                    data=path.read_bytes(),
                    file_name=path.name,
                    encoding=encoding,
                    dry_run=dry_run,
                )
    except DomainError as exc:
        raise fail(exc) from exc
    if isinstance(result, FolderImportResult):
        print_folder_import(result, fmt)
        failed = bool(result.errors)
    else:
        print_import(result, ITEMS_IMPORTER, ROW_FIELDS, fmt)
        failed = bool(result.preview.errors)
    if failed:
        raise typer.Exit(code=1)


import_command.__doc__ = (
    "Import library items from a CSV/XLSX file (one item a row) or a folder of Markdown item "
    "files (front matter and body, as the demo library's). Imported items are published at "
    "once, without contribution points. The same slug (else the same title and type) updates "
    "an item; a file or folder with any error changes nothing.\n\n"
    "Columns (* required; Chinese | English header):\n\n"
    + ITEMS_IMPORTER.columns_help().replace("\n", "\n\n")
)


def export_command(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="A .csv or .xlsx file (a row per item), or a folder (a Markdown file per item).",
        ),
    ],
) -> None:
    """Export every published item, as a table or as Markdown files that import again."""
    try:
        with session_scope() as session:
            count = export_items(session=session, out=out)
    except DomainError as exc:
        raise fail(exc) from exc
    console.print(f"{count} published items written to {out}", highlight=False)


def template_command(
    out: Annotated[Path, typer.Option("--out", dir_okay=False, help="The .xlsx to write.")],
) -> None:
    """Write the XLSX template of the item import: headers and one example row."""
    out.write_bytes(template_workbook(ITEMS_IMPORTER))
    console.print(f"template written to {out}", highlight=False)
