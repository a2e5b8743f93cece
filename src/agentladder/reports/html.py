"""A report document as one standalone, printable HTML file: inline CSS, charts as SVG
images rendered by vl-convert (no script runs), no external resources; every text from the
database is escaped."""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from agentladder.reports.charts import service as charts_service
from agentladder.reports.schemas import Cell, Column, Document, Section, cell_text

TEMPLATES = Path(__file__).resolve().parent / "templates"
CHART_WIDTH_PX = 640  # about the printable width of a portrait A4 page


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The reports' own Jinja environment (autoescaped)."""
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(document: Document) -> bytes:
    """The document as UTF-8 HTML bytes."""

    def chart(section: Section) -> str:
        """The section's chart as a data URL of its SVG ("" without one): an image, so the
        SVG's text can never act as markup in the page."""
        if section.figure is None:
            return ""
        svg = charts_service.render_svg(section.figure, document.language, CHART_WIDTH_PX)
        return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode()

    def text(value: Cell, column: Column) -> str:
        return cell_text(value, column, document.language)

    page = (
        environment()
        .get_template("reports/report.html")
        .render(
            document=document,
            html_lang="zh-Hans" if document.language == "zh_Hans" else "en",
            chart=chart,
            text=text,
        )
    )
    return page.encode("utf-8")
