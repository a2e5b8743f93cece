"""A report as plain data: sections of typed tables, with charts and notes drawn from them.

The ladder reports are built once as a `Document` (already translated) and rendered by
`xlsx`, `pdf` and `html` alike, so the three formats always show the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, cast, get_args

from agentladder.config import Language
from agentladder.formatting import MISSING, NumberKind, format_number
from agentladder.reports.charts.schemas import Figure

# How a column's values are written: text, long text (wrapped), whole numbers, one or two
# decimals, a share shown as a percentage (0.125 -> 12.5%), or seconds as a duration (4:23).
Kind = Literal["text", "longtext"] | NumberKind
NUMERIC_KINDS = frozenset(get_args(NumberKind))
# Excel number formats of the numeric kinds (a duration is stored as a fraction of a day).
EXCEL_FORMATS: dict[str, str] = {
    "int": "#,##0",
    "plain": "General",
    "decimal1": "#,##0.0",
    "decimal2": "#,##0.00",
    "score": "#,##0.0",
    "signed_score": "+#,##0.0;-#,##0.0",
    "percent": "0.0%",
    "duration": "[h]:mm:ss",
}


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
    """The spreadsheet's own (editable) chart of a section's rows: `bars` horizontal (top row
    first), `columns` vertical, `line` a 0..100 trend, `progress` 0..1 bars. PDF and HTML draw
    the section's `figure` instead."""

    kind: Literal["bars", "columns", "line", "progress"]
    label: int  # column index of the labels
    value: int  # column index of the values


@dataclass
class Section:
    """One part of a report: a sheet in XLSX, a heading with its table on paper and screen."""

    key: str  # stable id (HTML anchors, tests)
    title: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    chart: Chart | None = None
    figure: Figure | None = None  # the chart on paper and screen (reports.charts)
    notes_title: str = ""
    notes: list[str] = field(default_factory=list)
    empty: str = ""  # what to say when there are no rows


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
        return MISSING
    if isinstance(cell, str):
        return cell
    number = cell_number(cell)
    if number is None:
        return MISSING
    kind = cell_kind(cell, column)
    if kind in NUMERIC_KINDS:
        return format_number(number, cast("NumberKind", kind), language)
    return str(number)
