"""A report document as an XLSX workbook: one sheet per section, a bold frozen header row,
numbers stored as numbers with their display format, and native charts beside the data."""

from __future__ import annotations

import io
import re
import unicodedata

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from agentladder.reports.schemas import (
    EXCEL_FORMATS,
    NUMERIC_KINDS,
    Cell,
    Column,
    Document,
    Section,
    Value,
    cell_kind,
    cell_number,
    cell_text,
)

_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_HEADER_FILL = PatternFill("solid", fgColor="DCEFE7")
_WIDTH_CAP = {"longtext": 60, "text": 36}


def _sheet_title(title: str, used: set[str]) -> str:
    """A valid, unique sheet name (31 characters at most, none of []:*?/\\)."""
    base = _SHEET_FORBIDDEN.sub(" ", title).strip()[:31] or "Sheet"
    name, suffix = base, 2
    while name.casefold() in used:
        tail = f" ({suffix})"
        name, suffix = base[: 31 - len(tail)] + tail, suffix + 1
    used.add(name.casefold())
    return name


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _excel_value(cell: Cell, column: Column) -> str | float | None:
    """What the sheet stores: numbers as numbers, the rest as text."""
    kind = cell_kind(cell, column)
    if kind in NUMERIC_KINDS or isinstance(cell, Value):
        number = cell_number(cell)
        if number is not None and kind == "duration":
            return number / 86_400  # Excel counts time in days
        return number
    return None if cell is None else str(cell)


def _write_section(sheet: Worksheet, section: Section, document: Document) -> None:
    sheet.append([column.title for column in section.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    sheet.freeze_panes = "A2"
    widths = [_display_width(column.title) for column in section.columns]
    for row_index, row in enumerate(section.rows, start=2):
        for col_index, (value, column) in enumerate(zip(row, section.columns, strict=True), 1):
            stored = _excel_value(value, column)
            target = sheet.cell(row=row_index, column=col_index, value=stored)
            if isinstance(stored, str) and stored.startswith("="):
                target.data_type = "s"  # typed text, never a formula
            kind = cell_kind(value, column)
            if kind in EXCEL_FORMATS:
                target.number_format = EXCEL_FORMATS[kind]
                target.alignment = Alignment(horizontal="right", vertical="top")
            else:
                target.alignment = Alignment(vertical="top", wrap_text=kind == "longtext")
            shown = cell_text(value, column, document.language)
            longest = max((_display_width(line) for line in shown.splitlines()), default=0)
            widths[col_index - 1] = max(widths[col_index - 1], longest)
    if section.rows:
        last = get_column_letter(len(section.columns))
        sheet.auto_filter.ref = f"A1:{last}{len(section.rows) + 1}"
    for index, column in enumerate(section.columns, start=1):
        cap = _WIDTH_CAP.get(column.kind, 16)
        sheet.column_dimensions[get_column_letter(index)].width = min(cap, widths[index - 1] + 2)
    next_row = len(section.rows) + 3
    if not section.rows and section.empty:
        sheet.cell(row=2, column=1, value=section.empty).font = Font(italic=True)
    if section.notes:
        if section.notes_title:
            sheet.cell(row=next_row, column=1, value=section.notes_title).font = Font(bold=True)
            next_row += 1
        for note in section.notes:
            sheet.cell(row=next_row, column=1, value=note)
            next_row += 1
    _add_chart(sheet, section)


def _add_chart(sheet: Worksheet, section: Section) -> None:
    chart_spec = section.chart
    if chart_spec is None or not section.rows:
        return
    rows = len(section.rows)
    data = Reference(sheet, min_col=chart_spec.value + 1, min_row=1, max_row=rows + 1)
    categories = Reference(sheet, min_col=chart_spec.label + 1, min_row=2, max_row=rows + 1)
    chart: BarChart | LineChart
    if chart_spec.kind == "line":
        chart = LineChart()
        chart.y_axis.scaling.min = 0
        chart.y_axis.scaling.max = 100
    else:
        chart = BarChart()
        chart.type = "col" if chart_spec.kind == "columns" else "bar"
        if chart_spec.kind != "columns":
            # Rows are listed top first (the highest level): keep that order on the chart.
            chart.x_axis.scaling.orientation = "maxMin"
        if chart_spec.kind == "progress":
            chart.y_axis.scaling.min = 0
            chart.y_axis.scaling.max = 1
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(categories)
    chart.title = section.title
    chart.legend = None
    # Without these, recent Excel versions hide both axes of an openpyxl chart.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.height = max(7.5, 0.6 * rows + 3)
    chart.width = 16
    sheet.add_chart(chart, f"{get_column_letter(len(section.columns) + 2)}2")


def render_xlsx(document: Document) -> bytes:
    """The document as XLSX bytes."""
    workbook = Workbook()
    default = workbook.active
    if default is not None:
        workbook.remove(default)
    used: set[str] = set()
    for section in document.sections:
        sheet = workbook.create_sheet(_sheet_title(section.title, used))
        _write_section(sheet, section, document)
    workbook.properties.title = document.title
    workbook.properties.subject = document.subtitle
    workbook.properties.creator = "agentladder"
    workbook.properties.language = "zh-CN" if document.language == "zh_Hans" else "en"
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
