"""Exports of tables that pages show: CSV (UTF-8 with BOM, so Excel in China opens it
correctly) and XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font

from agentladder.errors import InvalidInput

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export_table(
    rows: Sequence[Sequence[object]], header: Sequence[str], fmt: str, title: str = "export"
) -> bytes:
    """A table as CSV or XLSX bytes."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(rows)
        return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")
    if fmt == "xlsx":
        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None
        sheet.title = title[:31]
        sheet.append(list(header))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(list(row))
        sheet.freeze_panes = "A2"
        output = io.BytesIO()
        workbook.save(output)
        return output.getvalue()
    raise InvalidInput("unknown export format {fmt}: csv or xlsx", fmt=fmt)
