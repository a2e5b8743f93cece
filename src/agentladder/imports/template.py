"""The XLSX template of an importer: its headers and one example row, and a sheet that lists
every accepted header (Chinese and English) with what the column holds."""

from __future__ import annotations

import io
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
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = importer.kind[:31]
    sheet.append([column.zh[0] for column in importer.columns])
    sheet.append([column.example for column in importer.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, column in enumerate(importer.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, 2 * len(column.zh[0]) + 4)
        # Text cells: Excel would otherwise turn 100001 into a number and 2024-03-01 into a date.
        sheet.cell(row=2, column=index).number_format = "@"
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
