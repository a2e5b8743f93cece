"""A report document as an A4 PDF: fpdf2 with Noto Sans CJK SC embedded (subset), so Chinese
renders on any machine with only the pip-installed packages; tables repeat their header on
every page; charts are the sections' figures rendered to PNG by vl-convert (no browser)."""

from __future__ import annotations

import io
import struct
from contextlib import ExitStack
from dataclasses import dataclass
from importlib.resources import as_file

import noto_cjk_sans_otc
from fpdf import FPDF
from fpdf.enums import TableHeadingsDisplay, WrapMode, XPos, YPos
from fpdf.fonts import FontFace

from agentladder.reports.charts import service as charts_service
from agentladder.reports.schemas import Document, Section, cell_text

FONT_FAMILY = "NotoSansSC"
# Noto Sans CJK is a collection; face 2 is the Simplified Chinese one ("Noto Sans CJK SC").
FONT_INDEX = 2
HEADER_FILL = (220, 239, 231)
STRIPE_FILL = (246, 248, 247)
TITLE_COLOR = (11, 110, 79)
MUTED = (107, 114, 128)
INK = (31, 41, 55)
CHART_WIDTH_MM = 170.0
# Charts are laid out this many CSS pixels wide (their fonts are sized in pixels), then
# scaled to the printable width: 640 px over 170 mm gives 11 px text about 8 pt on paper.
CHART_LAYOUT_PX = 640


@dataclass(frozen=True)
class _Picture:
    """A rendered chart and its size on paper."""

    png: bytes
    width_mm: float
    height_mm: float


def _picture(section: Section, document: Document, width_mm: float) -> _Picture | None:
    if section.figure is None:
        return None
    png = charts_service.render_png(section.figure, document.language, CHART_LAYOUT_PX)
    # A PNG's IHDR chunk holds its width and height at bytes 16..24.
    width_px, height_px = struct.unpack(">II", png[16:24])
    return _Picture(png, width_mm, width_mm * height_px / width_px)


class _ReportPdf(FPDF):
    """The report's pages with a running footer: report name, period, page x of y."""

    def __init__(self, document: Document) -> None:
        super().__init__(orientation="L" if document.landscape else "P", unit="mm", format="A4")
        self.document = document
        self.set_margins(14, 14, 14)
        self.set_auto_page_break(True, margin=16)

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(FONT_FAMILY, size=7.5)
        self.set_text_color(*MUTED)
        self.cell(0, 5, f"agentladder · {self.document.footer} · {self.document.subtitle}")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"{self.page_no()} / {{nb}}", align="R")


def render_pdf(document: Document) -> bytes:
    """The document as PDF bytes."""
    with ExitStack() as stack:
        font_path = stack.enter_context(as_file(noto_cjk_sans_otc.FONT_PATH))
        pdf = _ReportPdf(document)
        pdf.add_font(FONT_FAMILY, fname=str(font_path), collection_font_number=FONT_INDEX)
        pdf.set_title(document.title)
        pdf.set_subject(document.subtitle)
        pdf.set_creator("agentladder")
        pdf.set_lang("zh-CN" if document.language == "zh_Hans" else "en")
        pdf.add_page()
        _title(pdf, document)
        for section in document.sections:
            _section(pdf, document, section)
        return bytes(pdf.output())


def _title(pdf: _ReportPdf, document: Document) -> None:
    pdf.set_font(FONT_FAMILY, size=17)
    pdf.set_text_color(*TITLE_COLOR)
    pdf.multi_cell(0, 8, document.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT_FAMILY, size=9)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(0, 5, document.subtitle, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)


def _section(pdf: _ReportPdf, document: Document, section: Section) -> None:
    picture = _picture(section, document, min(pdf.epw, CHART_WIDTH_MM))
    # Keep the heading with its chart, or with the table's header and first rows.
    needed = 12 + (picture.height_mm + 4 if picture else 32 if section.rows else 10)
    if pdf.will_page_break(needed):
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font(FONT_FAMILY, size=12.5)
    pdf.set_text_color(*TITLE_COLOR)
    pdf.multi_cell(0, 7, section.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(*TITLE_COLOR)
    pdf.set_line_width(0.3)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
    pdf.ln(2)
    if picture is not None:
        pdf.image(io.BytesIO(picture.png), x=pdf.l_margin, y=pdf.get_y() + 1, w=picture.width_mm)
        pdf.set_y(pdf.get_y() + 1 + picture.height_mm + 3)
    if section.rows:
        _table(pdf, document, section)
    elif section.empty:
        pdf.set_font(FONT_FAMILY, size=9)
        pdf.set_text_color(*MUTED)
        pdf.multi_cell(0, 5, section.empty, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if section.notes:
        pdf.ln(1.5)
        if section.notes_title:
            pdf.set_font(FONT_FAMILY, size=9.5)
            pdf.set_text_color(*TITLE_COLOR)
            pdf.multi_cell(0, 5.5, section.notes_title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FONT_FAMILY, size=8.5)
        pdf.set_text_color(*INK)
        for note in section.notes:
            pdf.multi_cell(
                0, 4.6, f"•  {note}", new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode=_wrap(document)
            )


def _wrap(document: Document) -> WrapMode:
    # Chinese has no spaces to break at: wrap by character.
    return WrapMode.CHAR if document.language == "zh_Hans" else WrapMode.WORD


def _table(pdf: _ReportPdf, document: Document, section: Section) -> None:
    pdf.set_font(FONT_FAMILY, size=8)
    pdf.set_text_color(*INK)
    pdf.set_draw_color(200, 205, 210)
    pdf.set_line_width(0.2)
    # fpdf2 fills the unstriped rows with the fill colour current when the table starts.
    pdf.set_fill_color(255, 255, 255)
    with pdf.table(
        col_widths=tuple(column.width for column in section.columns),
        width=pdf.epw,
        text_align=tuple("RIGHT" if column.numeric else "LEFT" for column in section.columns),
        line_height=4.2,
        padding=(1.2, 1.5),
        wrapmode=_wrap(document),
        headings_style=FontFace(emphasis="", color=INK, fill_color=HEADER_FILL),
        cell_fill_color=STRIPE_FILL,
        cell_fill_mode="ROWS",
        borders_layout="HORIZONTAL_LINES",
        repeat_headings=TableHeadingsDisplay.ON_TOP_OF_EVERY_PAGE,
        v_align="TOP",
    ) as table:
        table.row([column.title for column in section.columns])
        for row in section.rows:
            table.row(
                [
                    cell_text(value, column, document.language)
                    for value, column in zip(row, section.columns, strict=True)
                ]
            )
    pdf.ln(1)
