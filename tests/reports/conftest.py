"""The reports' situation as a fixture, and reading the files back."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session

from agentladder.config import Settings
from tests.reports.situation import Centre, build_centre


@pytest.fixture
def centre(session: Session, settings: Settings) -> Centre:
    return build_centre(session, settings)


def pdf_text(data: bytes) -> list[str]:
    """The text of each page of a PDF.

    pypdf does not apply the encoding CMap that fpdf2 embeds for a CFF-based CJK font, so it
    reads each two-byte code as two one-byte ones and puts a NUL before every character;
    viewers and copy-paste are not affected. Dropping the NULs gives the text.
    """
    reader = PdfReader(io.BytesIO(data))
    return [page.extract_text().replace("\x00", "") for page in reader.pages]
