"""The rendering toolkit: tables that pages show as CSV (UTF-8 with BOM, so Excel in China
opens it correctly) or XLSX, and documents (`reports.schemas.Document`: sections of tables,
figures and charts) as XLSX, PDF or HTML. It knows no domain: each domain builds its own
documents (the ladder's in `ladder/documents`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from agentladder.errors import InvalidInput
from agentladder.reports.schemas import Document

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


# A spreadsheet reads a cell that starts with one of these as a formula (CSV injection).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A cell as a spreadsheet will not run it: text that would start a formula gets a leading
    apostrophe (OWASP's advice for CSV); numbers and other values stay as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def export_table(
    rows: Sequence[Sequence[object]], header: Sequence[str], fmt: str, title: str = "export"
) -> bytes:
    """A table as CSV or XLSX bytes; user text never becomes a formula in either."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([spreadsheet_safe(cell) for cell in header])
        writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
        return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")
    if fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.styles import Font

        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None
        sheet.title = title[:31]
        sheet.append(list(header))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(list(row))
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # typed text, never a formula
        sheet.freeze_panes = "A2"
        output = io.BytesIO()
        workbook.save(output)
        return output.getvalue()
    raise InvalidInput("unknown export format {fmt}: csv or xlsx", fmt=fmt)


# --- documents -------------------------------------------------------------------------

REPORT_FORMATS = ("xlsx", "pdf", "html")
REPORT_MEDIA_TYPES = {
    "xlsx": MEDIA_TYPES["xlsx"],
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
}

__all__ = [
    "MEDIA_TYPES",
    "REPORT_FORMATS",
    "REPORT_MEDIA_TYPES",
    "export_table",
    "render_document",
]


def render_document(document: Document, fmt: str) -> bytes:
    """A report document as XLSX, PDF or HTML bytes."""
    if fmt == "xlsx":
        from agentladder.reports.xlsx import render_xlsx

        return render_xlsx(document)
    if fmt == "pdf":
        from agentladder.reports.pdf import render_pdf

        return render_pdf(document)
    if fmt == "html":
        from agentladder.reports.html import render_html

        return render_html(document)
    raise InvalidInput("unknown report format {fmt}: xlsx, pdf or html", fmt=fmt)
