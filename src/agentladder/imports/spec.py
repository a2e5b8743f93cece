"""What an importer declares: its columns (Chinese and English headers, how a cell is read, an
example, a help text) and the two functions only it knows, `check` and `apply`.

    ROSTER = Importer(
        kind="roster",
        title=N_("Roster"),
        columns=(Column("employee_no", zh=("工号",), en=("employee no",), example="100001",
                        required=True, if_empty=N_("employee number is empty")), ...),
        check=_check,   # domain checks (lookups, duplicates) -> a Planned row per good row
        apply=_apply,   # writes the planned rows; runs only for a file without errors
    )
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy.orm import Session

from agentladder.imports.schemas import ImportIssue, RowT

OptionsT = TypeVar("OptionsT")


class CellError(ValueError):
    """A cell that cannot be read: an English msgid, its params, and optionally the value to
    show instead of the whole cell."""

    def __init__(self, message: str, value: str | None = None, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.value = value
        self.params: dict[str, Any] = params


Parser = Callable[[str], Any]


@dataclass(frozen=True)
class Column:
    """One column an importer reads. The first Chinese and English spellings are the template's
    headers; every spelling is accepted (compared without case, spaces or punctuation)."""

    name: str
    label: str  # an English msgid: the field's short name on pages (the changes of a row)
    zh: tuple[str, ...]
    en: tuple[str, ...]
    example: str  # the template's example cell
    help: str = ""  # an English msgid: what the column holds
    required: bool = False  # the column must be present and its cells filled
    if_empty: str = ""  # the msgid for an empty required cell
    parse: Parser | None = None  # text -> value, raising CellError; None: the text itself

    @property
    def spellings(self) -> tuple[str, ...]:
        """Every accepted header, Chinese first."""
        return (*self.zh, *self.en)


@dataclass
class ParsedRow:
    """A data row: the text of each mapped column and its parsed value (None when the cell is
    empty or unreadable; an unreadable cell is already reported)."""

    number: int  # the row number a spreadsheet shows (the header is row 1)
    cells: dict[str, str]
    values: dict[str, Any]

    def text(self, name: str) -> str:
        """The cell's text ('' when the file has no such column)."""
        return self.cells.get(name, "")

    def value(self, name: str) -> Any:
        """The cell's parsed value (None when empty, unreadable or absent)."""
        return self.values.get(name)


class Problems:
    """Collects the problems of one file, each naming row, column (the file's header) and
    reason."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self.headers = headers  # field -> the file's header
        self.issues: list[ImportIssue] = []
        self._rows_with_errors: set[int | None] = set()
        self._first_rows: dict[tuple[str, Hashable], int] = {}

    def add(
        self,
        row: int | None,
        column: str | None,
        message: str,
        value: str | None = None,
        /,
        severity: Literal["error", "warning"] = "error",
        **params: object,
    ) -> None:
        """Report a problem; `column` is a field name (or a header the file has)."""
        header = self.headers.get(column, column) if column is not None else None
        self.issues.append(
            ImportIssue(
                row=row,
                column=header,
                message=message,
                value=value,
                severity=severity,
                params=params,
            )
        )
        if severity == "error":
            self._rows_with_errors.add(row)

    def failed(self, row: int | None) -> bool:
        """Whether the row has an error already."""
        return row in self._rows_with_errors

    @property
    def has_errors(self) -> bool:
        """Whether anything rejects the file."""
        return bool(self._rows_with_errors)

    def first_row(
        self, key: Hashable, row: ParsedRow, column: str, message: str, value: str | None = None
    ) -> bool:
        """True for the first row with this key; a later one is reported with `message`, whose
        {row} is the first row's number (`value`: what to show, default the cell)."""
        seen = self._first_rows.setdefault((message, key), row.number)
        if seen == row.number:
            return True
        self.add(
            row.number, column, message, row.text(column) if value is None else value, row=seen
        )
        return False


@dataclass
class Planned(Generic[RowT]):
    """A row that passed every check: what the preview shows and what `apply` needs."""

    plan: RowT
    record: Any = None  # the importer's own data for `apply` (ids looked up while checking)


@dataclass(frozen=True)
class ImportRun(Generic[OptionsT]):
    """One import of one file: who imports it and the importer's own options."""

    file_name: str  # the file's base name
    user_id: int | None
    options: OptionsT


Check = Callable[[Session, list[ParsedRow], Problems, ImportRun[Any]], list[Planned[Any]]]
Apply = Callable[[Session, list[Planned[Any]], ImportRun[Any]], None]

DEFAULT_WORDS: Mapping[str, str] = {
    "create": "new",
    "update": "changed",
    "unchanged": "unchanged",
    "errors": "errors",
}


@dataclass(frozen=True)
class Importer(Generic[OptionsT, RowT]):
    """An import of one kind of file: its columns and its check and apply functions."""

    kind: str  # names the upload stash, the ledger rows and the template file
    title: str  # an English msgid
    columns: tuple[Column, ...]
    check: Callable[[Session, list[ParsedRow], Problems, ImportRun[OptionsT]], list[Planned[RowT]]]
    apply: Callable[[Session, list[Planned[RowT]], ImportRun[OptionsT]], None]
    words: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_WORDS))  # CLI summary
    # Rows with errors are rejected (kept in the ledger) and the others applied, as a format
    # whose records stand alone asks (a transcript per call); otherwise one error refuses all.
    stores_good_rows: bool = False

    @property
    def aliases(self) -> dict[str, tuple[str, ...]]:
        """Field -> every accepted header."""
        return {column.name: column.spellings for column in self.columns}

    @property
    def labels(self) -> dict[str, str]:
        """Field -> its short name (an English msgid)."""
        return {column.name: column.label for column in self.columns}

    @property
    def required(self) -> tuple[str, ...]:
        """The fields whose columns a file must have."""
        return tuple(column.name for column in self.columns if column.required)

    def columns_help(self) -> str:
        """The accepted headers, one column a line: `* 工号 | employee no (also: ...)`."""
        lines = []
        for column in self.columns:
            mark = "*" if column.required else "-"
            others = [*column.zh[1:], *column.en[1:]]
            also = f" (also: {', '.join(others)})" if others else ""
            lines.append(f"{mark} {column.zh[0]} | {column.en[0]}{also}")
        return "\n".join(lines)


# --- cell readers shared by importers ---------------------------------------------------------

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_LIST_SEPARATORS = re.compile(r"[,，;；、|\n]+")
_WHOLE_NUMBER = re.compile(r"^\+?\d+$")


def parse_date(text: str) -> date:
    """A date as exports write it: 2024-03-01, 2024/3/1, 2024.3.1, 2024年3月1日, 20240301.
    Raises ValueError for anything else."""
    value = text.strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.match(value)
        if match:
            year, month, day = (int(part) for part in match.groups())
            return date(year, month, day)
    raise ValueError(value)


def date_cell(text: str) -> date:
    """A date cell (see parse_date); anything else is a CellError."""
    try:
        return parse_date(text)
    except ValueError as exc:
        raise CellError("not a date (write 2024-03-01)") from exc


def list_cell(text: str) -> list[str]:
    """A cell holding several values separated by , ， ; ； 、 | or new lines."""
    return [part.strip() for part in _LIST_SEPARATORS.split(text) if part.strip()]


def whole_number_cell(message: str) -> Parser:
    """A reader of whole numbers of 0 or more (1,234 too); `message` says what is wrong."""

    def parse(text: str) -> int:
        cleaned = text.replace(",", "")
        if not _WHOLE_NUMBER.match(cleaned):
            raise CellError(message)
        return int(cleaned)

    return parse


def text_cell(limit: int, message: str) -> Parser:
    """A reader of text up to `limit` characters; `message` may name {limit}."""

    def parse(text: str) -> str:
        if len(text) > limit:
            raise CellError(message, value=text[:40] + "…", limit=limit)
        return text

    return parse
