"""Reading tabular files people export: CSV/TSV in UTF-8, UTF-16 or GBK/GB18030, and XLSX."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Literal

from charset_normalizer import from_bytes

from agentladder.errors import DomainError
from agentladder.i18n import N_


class TableFileError(DomainError):
    """The file as a whole cannot be read (wrong format, no header, undecodable)."""

    status_code = 422


@dataclass
class Table:
    """A file's header and its rows, each with the row number a spreadsheet would show."""

    encoding: str
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (row number as the user sees it, cells)
    # The header's row number; None for a document without one (JSON Lines: every line a row).
    header_row: int | None = 1


def decode_csv_bytes(data: bytes, encoding: str | None) -> tuple[str, str]:
    """Text and the encoding used: the given one, else UTF-8 (BOM or not), else GB18030, else
    what charset-normalizer finds. GB18030 is a superset of GBK and GB2312 (Chinese Excel)."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        # ValueError: bytes that do not decode, or a name no codec has (a NUL in it, too).
        except (ValueError, LookupError) as exc:
            raise TableFileError(
                "the file cannot be read as {encoding}: {error}", encoding=encoding, error=str(exc)
            ) from exc
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    for candidate in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError:
            continue
        return text, "utf-8" if candidate == "utf-8-sig" else candidate
    best = from_bytes(data).best()
    if best is None:
        # Said the same on a page and in a terminal: both let the user name the encoding.
        raise TableFileError(
            "the file's text encoding cannot be recognised; say which it is (GBK, UTF-8...)"
        )
    return str(best), best.encoding


def cell_text(value: object) -> str:
    """A cell as text: dates ISO (with the time when it is not midnight), whole floats without
    .0, strings stripped."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() == time():
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise TableFileError(
            "the file is not a readable XLSX workbook: {error}", error=str(exc)
        ) from exc
    sheet = workbook.worksheets[0]
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = [cell_text(v) for v in values]
        if header is None:
            if any(cells):
                header = cells
            continue
        rows.append((number, cells))
    workbook.close()
    if header is None:
        raise TableFileError("the file has no header row")
    return Table(encoding="xlsx", header=header, rows=rows)


def _read_csv(data: bytes, encoding: str | None) -> Table:
    text, used = decode_csv_bytes(data, encoding)
    sample = text[:8192]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        delimiter = ","
    # Only the delimiter is sniffed: exports quote with '"', and a guessed "'" would join the
    # lines between two apostrophes (O'Brien, 客户's) into one record.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"')
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    # Row numbers count records as a spreadsheet would show them (the header is row 1).
    for number, cells in enumerate(reader, start=1):
        cells = [cell.strip() for cell in cells]
        if header is None:
            if any(cells):
                header = cells
            continue
        rows.append((number, cells))
    if header is None:
        raise TableFileError("the file has no header row")
    return Table(encoding=used, header=header, rows=rows)


def read_table(data: bytes, file_name: str, encoding: str | None = None) -> Table:
    """The header and rows of a CSV/TSV (any common encoding) or XLSX file."""
    suffix = Path(file_name).suffix.lower()
    if suffix in {".xlsx", ".xlsm"} or data[:4] == b"PK\x03\x04":
        return _read_xlsx(data)
    if suffix == ".xls" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise TableFileError("old .xls workbooks are not supported; save the sheet as .xlsx or CSV")
    return _read_csv(data, encoding)


def fold_header(text: str) -> str:
    """A header as matching sees it: no spaces, punctuation or case (工号 (必填) = 工号)."""
    return re.sub(r"[\s_\-:：*()（）]+", "", text).casefold()


@dataclass(frozen=True)
class HeaderProblem:
    """Something wrong with a file's header row: the column and an English msgid."""

    column: str
    message: str
    severity: Literal["error", "warning"]


def map_headers(
    header: list[str], aliases: dict[str, tuple[str, ...]], required: tuple[str, ...]
) -> tuple[dict[str, int], list[HeaderProblem]]:
    """Which column holds each field, from the spellings each field may have (Chinese or
    English); unknown columns are warnings, duplicated or missing required fields errors."""
    lookup = {fold_header(s): name for name, spellings in aliases.items() for s in spellings}
    columns: dict[str, int] = {}
    problems: list[HeaderProblem] = []
    for index, title in enumerate(header):
        name = lookup.get(fold_header(title))
        if name is None:
            if title:
                problems.append(
                    HeaderProblem(title, N_("column not recognised; it is ignored"), "warning")
                )
        elif name in columns:
            problems.append(HeaderProblem(title, N_("two columns mean the same field"), "error"))
        else:
            columns[name] = index
    problems += [
        HeaderProblem(aliases[name][0], N_("required column is missing"), "error")
        for name in required
        if name not in columns
    ]
    return columns, problems
