"""The printed certificate: one A4 landscape page in the reader's language with the holder's
name, the certification, its dates, the centre's name when the settings give one, and the
verification code with the address where anyone can check it.

Drawn with fpdf2 and Noto Sans CJK SC embedded as a subset (the fonts the reports toolkit uses),
so Chinese prints on any machine with only the pip-installed packages. fpdf2 loads only when a
certificate is printed: the web app and the CLI start without it.
"""

from __future__ import annotations

from contextlib import ExitStack
from importlib.resources import as_file
from typing import TYPE_CHECKING

from agentladder.config import Language
from agentladder.formatting import format_date
from agentladder.i18n import N_, translate
from agentladder.training.certifications.schemas import CertificateDocument

if TYPE_CHECKING:
    from fpdf import FPDF

FONT_FAMILY = "NotoSansSC"
# Noto Sans CJK is a collection; face 2 is the Simplified Chinese one ("Noto Sans CJK SC").
FONT_INDEX = 2
GREEN = (11, 110, 79)
GOLD = (176, 141, 58)
INK = (31, 41, 55)
MUTED = (107, 114, 128)
RED = (185, 28, 28)
PAGE_W, PAGE_H = 297.0, 210.0


def _centred(pdf: FPDF, y: float, size: float, text: str, color: tuple[int, int, int]) -> None:
    pdf.set_xy(20, y)
    pdf.set_font(FONT_FAMILY, size=size)
    pdf.set_text_color(*color)
    pdf.cell(PAGE_W - 40, size * 0.5, text, align="C")


def _frame(pdf: FPDF) -> None:
    pdf.set_draw_color(*GREEN)
    pdf.set_line_width(1.6)
    pdf.rect(9, 9, PAGE_W - 18, PAGE_H - 18)
    pdf.set_draw_color(*GOLD)
    pdf.set_line_width(0.4)
    pdf.rect(13, 13, PAGE_W - 26, PAGE_H - 26)


def _fact(pdf: FPDF, x: float, label: str, value: str) -> None:
    pdf.set_xy(x, 128)
    pdf.set_font(FONT_FAMILY, size=9.5)
    pdf.set_text_color(*MUTED)
    pdf.cell(80, 5, label, align="C")
    pdf.set_xy(x, 135)
    pdf.set_font(FONT_FAMILY, size=14)
    pdf.set_text_color(*INK)
    pdf.cell(80, 7, value, align="C")


def _revoked_stamp(pdf: FPDF, language: Language, document: CertificateDocument) -> None:
    assert document.revoked_on is not None
    text = translate(
        language,
        N_("REVOKED on {day}"),
        day=format_date(document.revoked_on, language),
    )
    pdf.set_draw_color(*RED)
    pdf.set_text_color(*RED)
    pdf.set_line_width(0.8)
    with pdf.rotation(12, PAGE_W / 2, 95):
        pdf.set_font(FONT_FAMILY, size=26)
        width = pdf.get_string_width(text) + 16
        pdf.rect((PAGE_W - width) / 2, 86, width, 18)
        pdf.set_xy((PAGE_W - width) / 2, 89)
        pdf.cell(width, 12, text, align="C")


def certificate_pdf(
    document: CertificateDocument,
    *,
    language: Language,
    verify_url: str,
    centre_name: str | None = None,
) -> bytes:
    """The certificate as the bytes of a one-page A4 landscape PDF."""
    import noto_cjk_sans_otc
    from fpdf import FPDF

    def tr(message: str, **params: str) -> str:
        return translate(language, message, **params)

    with ExitStack() as stack:
        font_path = stack.enter_context(as_file(noto_cjk_sans_otc.FONT_PATH))
        pdf = FPDF(orientation="L", unit="mm", format="A4")
        pdf.set_auto_page_break(False)
        pdf.add_font(FONT_FAMILY, fname=str(font_path), collection_font_number=FONT_INDEX)
        title = tr(N_("Certificate"))
        pdf.set_title(f"{title}: {document.type_name(language)} · {document.agent_name}")
        pdf.set_creator("agentladder")
        pdf.set_lang("zh-CN" if language == "zh_Hans" else "en")
        pdf.add_page()
        _frame(pdf)
        if centre_name:
            _centred(pdf, 24, 13, centre_name, MUTED)
        _centred(pdf, 36, 34, title, GREEN)
        _centred(pdf, 60, 12, tr(N_("This certifies that")), MUTED)
        _centred(pdf, 71, 30, document.agent_name, INK)
        _centred(pdf, 92, 12, tr(N_("has been awarded the certification")), MUTED)
        _centred(pdf, 103, 24, document.type_name(language), GREEN)
        pdf.set_draw_color(*GOLD)
        pdf.set_line_width(0.3)
        pdf.line(PAGE_W / 2 - 60, 122, PAGE_W / 2 + 60, 122)
        _fact(pdf, PAGE_W / 2 - 85, tr(N_("Issued on")), format_date(document.issued_on, language))
        _fact(
            pdf,
            PAGE_W / 2 + 5,
            tr(N_("Valid until")),
            format_date(document.expires_on, language)
            if document.expires_on
            else tr(N_("No expiry")),
        )
        # The check, bottom left: the code in large type, the address to type it at.
        pdf.set_xy(24, 160)
        pdf.set_font(FONT_FAMILY, size=9)
        pdf.set_text_color(*MUTED)
        pdf.cell(160, 5, tr(N_("Verification code")))
        pdf.set_xy(24, 166)
        pdf.set_font(FONT_FAMILY, size=17)
        pdf.set_text_color(*INK)
        pdf.cell(160, 8, document.verification_code)
        pdf.set_xy(24, 176)
        pdf.set_font(FONT_FAMILY, size=9)
        pdf.set_text_color(*MUTED)
        pdf.cell(
            200,
            5,
            tr(N_("Check that this certificate is valid at {url}"), url=verify_url),
            link=verify_url,
        )
        pdf.set_xy(PAGE_W - 24 - 90, 176)
        pdf.cell(
            90,
            5,
            tr(N_("Certificate no. {number}"), number=str(document.certification_id)),
            align="R",
        )
        if document.revoked_on is not None:
            _revoked_stamp(pdf, language, document)
        return bytes(pdf.output())
