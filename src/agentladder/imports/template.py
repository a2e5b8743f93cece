"""The XLSX template of an importer: its headers and one example row, and a sheet that lists
every accepted header (Chinese and English) with what the column holds."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from agentladder.i18n import translate
from agentladder.imports.spec import Importer


def template_file_name(importer: Importer[Any, Any]) -> str:
    """The template's download name: `<kind>-template.xlsx`."""
    return f"{importer.kind}-template.xlsx"


def template_workbook(importer: Importer[Any, Any]) -> bytes:
    """The template as XLSX bytes: sheet 1 has the Chinese headers and one example row (it
    imports as it is); sheet 2 lists each column's Chinese and English headers, whether it is
    required, its example and what it holds."""
    return rows_workbook(importer, [[column.example for column in importer.columns]])


def rows_workbook(importer: Importer[Any, Any], rows: Sequence[Sequence[object]]) -> bytes:
    """A file the importer reads, as XLSX bytes: sheet 1 has the Chinese headers and `rows`
    (a cell each column, in the importer's order; text cells stay text in Excel), sheet 2 the
    columns' guide as in the template. An export that imports again as it is."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = importer.kind[:31]
    sheet.append([column.zh[0] for column in importer.columns])
    for row in rows:
        sheet.append(list(row))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, column in enumerate(importer.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, 2 * len(column.zh[0]) + 4)
        # Text cells: Excel would otherwise turn 100001 into a number and 2024-03-01 into a date.
        for number in range(2, len(rows) + 2):
            cell = sheet.cell(row=number, column=index)
            if isinstance(cell.value, str):
                cell.number_format = "@"
                # A text starting with = is text, never a formula (an option "=5" would be
                # computed by Excel, and a crafted one could run as a formula).
                cell.data_type = "s"
    guide = workbook.create_sheet("字段说明 Columns")
    guide.append(["中文表头", "English header", "必填 Required", "示例 Example", "说明", "Help"])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for column in importer.columns:
        guide.append(
            [
                " / ".join(column.zh),
                " / ".join(column.en),
                "必填 required" if column.required else "",
                column.example,
                translate("zh_Hans", column.help) if column.help else "",
                column.help,
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
