"""The commands every importer shares: `import FILE [--dry-run] [--encoding] [--format]` with one
printer, and `template --out FILE.xlsx`. A domain's cli.py adds them with `add_import_commands`."""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Protocol, cast

import typer
from rich.table import Table
from sqlalchemy.orm import Session

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
from agentladder.imports.schemas import ImportResult, RowPlan
from agentladder.imports.spec import Importer
from agentladder.imports.template import template_workbook


class RunImport(Protocol):
    """A domain's import service, called with these keywords."""

    def __call__(
        self, *, session: Session, data: bytes, file_name: str, encoding: str | None, dry_run: bool
    ) -> ImportResult[Any]: ...


def _changes(row: RowPlan) -> str:
    return "; ".join(f"{name}: {old} -> {new}" for name, (old, new) in row.changes.items())


def print_import(
    result: ImportResult[Any],
    importer: Importer[Any, Any],
    row_fields: Sequence[tuple[str, str]],
    fmt: OutputFormat,
) -> None:
    """Print what an import did: counts, every problem (row, column, value, reason) and the
    rows it changes, as a table; or the whole result as JSON; or one CSV line a problem and a
    row (row, outcome, column, value, detail)."""
    preview = result.preview
    language = get_settings().default_language
    if fmt is OutputFormat.json:
        print(result.model_dump_json(indent=2))
        return
    if fmt is OutputFormat.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(["row", "outcome", "column", "value", "detail"])
        for issue in preview.issues:
            writer.writerow(
                [
                    cell_text(issue.row),
                    issue.severity,
                    cell_text(issue.column),
                    cell_text(issue.value),
                    issue.text(language),
                ]
            )
        for row in preview.rows:
            shown = " ".join(cell_text(getattr(row, name)) for name, _ in row_fields)
            writer.writerow([row.row, row.action, "", shown, _changes(row)])
        return
    words = importer.words
    console.print(
        f"{preview.file_name} ({preview.encoding}): {preview.rows_read} rows read, "
        f"{preview.count('create')} {words['create']}, {preview.count('update')} "
        f"{words['update']}, {preview.count('unchanged')} {words['unchanged']}, "
        f"{len(preview.errors)} {words['errors']}",
        highlight=False,
        markup=False,
    )
    if preview.previous_import is not None:
        earlier = preview.previous_import
        console.print(
            f"this file was imported before: import #{earlier.import_id} on "
            f"{local_time_text(earlier.imported_at)}",
            highlight=False,
        )
    if preview.issues:
        table = Table(title="Problems")
        for column in ("row", "column", "value", "problem"):
            table.add_column(column)
        for issue in preview.issues:
            style = "red" if issue.severity == "error" else "yellow"
            table.add_row(
                cell_text(issue.row),
                cell_text(issue.column),
                cell_text(issue.value),
                f"[{style}]{issue.text(language)}[/{style}]",
            )
        console.print(table)
    changed = [row for row in preview.rows if row.action != "unchanged"]
    if changed:
        table = Table(title="Changes")
        for column in ("row", *(title for _, title in row_fields), "action", "changes"):
            table.add_column(column)
        for row in changed:
            cells = [cell_text(getattr(row, name)) for name, _ in row_fields]
            table.add_row(str(row.row), *cells, row.action, _changes(row))
        console.print(table)
    if preview.errors:
        console.print("[red]nothing imported:[/red] correct the rows above and import again")
    elif result.dry_run:
        console.print("dry run: nothing written")
    else:
        console.print("[green]imported[/green]" if result.applied else "nothing imported")


@dataclass(frozen=True)
class ImportFlag:
    """An importer's own on/off option (`--create-teams`): passed to its service as `keyword`,
    and suggested after a refused file whose errors include the `suggested_by` message."""

    option: str
    keyword: str
    help: str
    suggested_by: str


def _suggest(flag: ImportFlag, result: ImportResult[Any]) -> None:
    if any(issue.message == flag.suggested_by for issue in result.preview.errors):
        console.print(f"{flag.option}: {flag.help}", highlight=False)


FileArgument = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
]
EncodingOption = Annotated[
    str | None,
    typer.Option(help="CSV text encoding (default: detect; gb18030 for Chinese Excel)."),
]


def add_import_commands(
    app: typer.Typer,
    importer: Importer[Any, Any],
    *,
    summary: str,
    run: RunImport,
    row_fields: Sequence[tuple[str, str]],
    flag: ImportFlag | None = None,
) -> None:
    """Add `import` and `template` to a command group; `--help` of `import` lists every accepted
    header. `row_fields`: the (attribute, title) of a planned row the printer shows."""
    columns = importer.columns_help().replace("\n", "\n\n")
    help_text = (
        f"{summary} A file with any error changes nothing.\n\n"
        f"Columns (* required; Chinese | English header):\n\n{columns}"
    )

    def import_file(
        file: Path, dry_run: bool, encoding: str | None, fmt: OutputFormat, **flags: bool
    ) -> None:
        data = file.read_bytes()
        # With a flag, `run` also takes the flag's keyword (the importer's own option).
        run_with_flags = cast("Callable[..., ImportResult[Any]]", run)
        try:
            with session_scope() as session:
                result = run_with_flags(
                    session=session,
                    data=data,
                    file_name=file.name,
                    encoding=encoding,
                    dry_run=dry_run,
                    **flags,
                )
        except DomainError as exc:
            raise fail(exc) from exc
        print_import(result, importer, row_fields, fmt)
        if result.preview.errors:
            if flag is not None and not any(flags.values()):
                _suggest(flag, result)
            raise typer.Exit(code=1)

    if flag is None:

        @app.command("import", help=help_text)
        def import_command(
            file: FileArgument,
            dry_run: DryRunOption = False,
            encoding: EncodingOption = None,
            fmt: FormatOption = OutputFormat.table,
        ) -> None:
            import_file(file, dry_run, encoding, fmt)

    else:

        @app.command("import", help=help_text)
        def import_command_with_flag(
            file: FileArgument,
            dry_run: DryRunOption = False,
            encoding: EncodingOption = None,
            fmt: FormatOption = OutputFormat.table,
            # A default, not an annotation: annotations are strings here, read without `flag`.
            flag_on: bool = typer.Option(False, flag.option, help=flag.help),
        ) -> None:
            import_file(file, dry_run, encoding, fmt, **{flag.keyword: flag_on})

    @app.command("template", help="Write the XLSX template: headers and one example row.")
    def write_template(
        out: Annotated[Path, typer.Option("--out", dir_okay=False, help="The .xlsx to write.")],
    ) -> None:
        out.write_bytes(template_workbook(importer))
        console.print(f"template written to {out}", highlight=False)
