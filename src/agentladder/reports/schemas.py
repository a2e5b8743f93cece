"""A report as plain data: sections of typed tables, with charts and notes drawn from them.

The ladder reports are built once as a `Document` (already translated) and rendered by
`xlsx`, `pdf` and `html` alike, so the three formats always show the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from babel.numbers import format_decimal, format_percent

from agentladder.config import Language
from agentladder.i18n import babel_locale

# How a column's values are written: text, long text (wrapped), whole numbers, one or two
# decimals, or a share shown as a percentage (0.125 -> 12.5%).
Kind = Literal["text", "longtext", "int", "decimal1", "decimal2", "percent"]
NUMERIC_KINDS = frozenset({"int", "decimal1", "decimal2", "percent"})
# Excel number formats of the numeric kinds.
EXCEL_FORMATS: dict[str, str] = {
    "int": "#,##0",
    "decimal1": "#,##0.0",
    "decimal2": "#,##0.00",
    "percent": "0.0%",
}
_BABEL_FORMATS = {"int": "#,##0", "decimal1": "#,##0.0", "decimal2": "#,##0.00"}


@dataclass(frozen=True)
class Value:
    """A cell whose number is written in another kind than its column's (a metric's value)."""

    number: float | int | None
    kind: Kind


Cell = str | int | float | Value | None


@dataclass(frozen=True)
class Column:
    """A column: its heading, kind and relative width on paper."""

    title: str
    kind: Kind = "text"
    width: float = 1.0

    @property
    def numeric(self) -> bool:
        """Whether the column holds numbers (aligned right)."""
        return self.kind in NUMERIC_KINDS


@dataclass(frozen=True)
class Chart:
    """A chart drawn from a section's own rows.

    `bars`: horizontal bars (the pyramid), `columns`: vertical bars (a distribution),
    `line`: a trend, `progress`: one 0..1 bar per row (the section's `done` marks the rows
    complete) with the `text` columns written beside it ("62.5 / 72").
    """

    kind: Literal["bars", "columns", "line", "progress"]
    label: int  # column index of the labels
    value: int  # column index of the values
    text: tuple[int, ...] = ()


@dataclass
class Section:
    """One part of a report: a sheet in XLSX, a heading with its table on paper and screen."""

    key: str  # stable id (HTML anchors, tests)
    title: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    chart: Chart | None = None
    notes_title: str = ""
    notes: list[str] = field(default_factory=list)
    empty: str = ""  # what to say when there are no rows
    done: list[bool] = field(default_factory=list)  # per row, for progress charts


@dataclass
class Document:
    """A whole report, translated into one language."""

    kind: str  # scorecard | team | promotions
    title: str
    subtitle: str
    language: Language
    generated_at: datetime
    sections: list[Section]
    landscape: bool = False
    footer: str = ""

    def section(self, key: str) -> Section:
        """The section with this key."""
        for section in self.sections:
            if section.key == key:
                return section
        raise KeyError(key)


def cell_kind(cell: Cell, column: Column) -> Kind:
    """The kind a cell is written in: its own, else its column's."""
    return cell.kind if isinstance(cell, Value) else column.kind


def cell_number(cell: Cell) -> float | int | None:
    """A cell's number, if it holds one."""
    if isinstance(cell, Value):
        return cell.number
    if isinstance(cell, bool):
        return None
    if isinstance(cell, int | float):
        return cell
    return None


def cell_text(cell: Cell, column: Column, language: Language) -> str:
    """A cell as people read it in the report's language (numbers grouped, percentages)."""
    if cell is None:
        return "—"
    if isinstance(cell, str):
        return cell
    number = cell_number(cell)
    if number is None:
        return "—"
    kind = cell_kind(cell, column)
    locale = babel_locale(language)
    if kind == "percent":
        return str(format_percent(number, format="#,##0.0%", locale=locale))
    if kind in _BABEL_FORMATS:
        return str(format_decimal(number, format=_BABEL_FORMATS[kind], locale=locale))
    return str(number)
