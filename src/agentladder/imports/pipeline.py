"""Read -> map headers -> check rows -> preview -> apply atomically, for every importer.

Every row is read and checked before anything is written; a file with any error changes
nothing (its ledger row keeps the rejected rows), and `dry_run` writes nothing at all.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from agentladder.i18n import N_
from agentladder.imports import service as ledger
from agentladder.imports.schemas import ImportPreview, ImportResult, RowT
from agentladder.imports.spec import (
    CellError,
    Importer,
    ImportRun,
    OptionsT,
    ParsedRow,
    Planned,
    Problems,
)
from agentladder.tabular import Table, map_headers, read_table


@dataclass
class ReadFile:
    """A file read and its cells parsed: rows, the headers found and the problems so far."""

    file_name: str
    file_sha256: str
    encoding: str
    headers: dict[str, str]  # field -> the file's header
    rows: list[ParsedRow]
    problems: Problems
    header_row: int | None = 1  # None: the file has no header row


def read_file(
    importer: Importer[Any, Any],
    data: bytes,
    file_name: str,
    encoding: str | None = None,
    table: Table | None = None,
) -> ReadFile:
    """Read a CSV/TSV/XLSX file, map its headers to the importer's columns and parse every
    cell; a file that cannot be read at all raises TableFileError. `table`: the file already
    read as a table by the importer (a document that is not a sheet, say YAML: its rows are
    numbered by the file's lines)."""
    if table is None:
        table = read_table(data, file_name, encoding)
    positions, header_problems = map_headers(table.header, importer.aliases, importer.required)
    headers = {name: table.header[index] for name, index in positions.items()}
    problems = Problems(headers)
    for header_problem in header_problems:
        problems.add(
            table.header_row,
            header_problem.column,
            header_problem.message,
            None,
            header_problem.severity,
        )
    rows: list[ParsedRow] = []
    # A file whose header is wrong is refused as a whole; its rows are counted, not checked.
    columns = [] if problems.has_errors else [c for c in importer.columns if c.name in positions]
    for number, cells in table.rows:
        if not any(cells):
            continue
        row = ParsedRow(number=number, cells={}, values={})
        for column in columns:
            index = positions[column.name]
            text = cells[index].strip() if index < len(cells) else ""
            row.cells[column.name] = text
            if not text:
                if column.required:
                    problems.add(number, column.name, column.if_empty or N_("the cell is empty"))
                row.values[column.name] = None
                continue
            try:
                row.values[column.name] = column.parse(text) if column.parse else text
            except CellError as error:
                value = text if error.value is None else error.value
                problems.add(number, column.name, error.message, value, **error.params)
                row.values[column.name] = None
        rows.append(row)
    return ReadFile(
        file_name=Path(file_name).name or importer.kind,
        file_sha256=hashlib.sha256(data).hexdigest(),
        encoding=table.encoding,
        headers=headers,
        rows=rows,
        problems=problems,
        header_row=table.header_row,
    )


def _check(
    importer: Importer[OptionsT, RowT],
    session: Session,
    read: ReadFile,
    run: ImportRun[OptionsT],
) -> tuple[ImportPreview[RowT], list[Planned[RowT]]]:
    problems = read.problems
    planned: list[Planned[RowT]] = []
    # A wrong header (or, in a file without one, a problem with the whole file) stops here.
    if not problems.failed(read.header_row):
        planned = importer.check(session, read.rows, problems, run)
        planned = [item for item in planned if not problems.failed(item.plan.row)]
        if not read.rows:
            problems.add(None, None, N_("the file has no data rows"))
    preview = ImportPreview[RowT](
        kind=importer.kind,
        file_name=read.file_name,
        file_sha256=read.file_sha256,
        encoding=read.encoding,
        columns=read.headers,
        rows_read=len(read.rows),
        header_row=read.header_row,
        rows=[item.plan for item in planned],
        issues=sorted(problems.issues, key=lambda issue: issue.row or 0),
        previous_import=ledger.previous_import(
            session=session, kind=importer.kind, file_sha256=read.file_sha256
        ),
    )
    return preview, planned


def importable(importer: Importer[Any, Any], preview: ImportPreview[Any]) -> bool:
    """Whether applying the previewed file stores anything: a file without errors, or, for an
    importer that `stores_good_rows`, one whose whole and header are sound with a good row."""
    return not preview.errors or (
        importer.stores_good_rows and bool(preview.rows) and not preview.file_errors
    )


def run_import(
    importer: Importer[OptionsT, RowT],
    *,
    session: Session,
    data: bytes,
    file_name: str,
    options: OptionsT,
    encoding: str | None = None,
    dry_run: bool = False,
    user_id: int | None = None,
    table: Table | None = None,
) -> ImportResult[RowT]:
    """Check a file and, unless `dry_run` or any row has an error, apply all its rows and add
    its ledger row (`table`: see read_file). A refused file adds a ledger row with its rejected
    rows and nothing else; an apply that fails half-way rolls the session back and re-raises, so
    nothing is kept. An importer that `stores_good_rows` applies the rows without errors of a
    file whose header and whole are sound, and keeps the rejected ones in the ledger."""
    read = read_file(importer, data, file_name, encoding, table)
    run = ImportRun(file_name=read.file_name, user_id=user_id, options=options)
    preview, planned = _check(importer, session, read, run)
    if dry_run:
        return ImportResult[RowT](applied=False, dry_run=True, preview=preview)
    applied = importable(importer, preview)
    if applied:
        try:
            importer.apply(session, planned, run)
            session.flush()
        except BaseException:
            session.rollback()
            raise
    import_id = ledger.record_import(
        session=session,
        preview=preview,  # type: ignore[arg-type]
        applied=applied,
        user_id=user_id,
    )
    return ImportResult[RowT](applied=applied, preview=preview, import_id=import_id)
