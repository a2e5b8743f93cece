"""A report document as one standalone, printable HTML file: inline CSS, charts as inline
SVG, no external resources; every text from the database is escaped."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from agentladder.reports import charts
from agentladder.reports.schemas import Cell, Column, Document, Section, cell_text

TEMPLATES = Path(__file__).resolve().parent / "templates"
CHART_WIDTH = 170.0  # mm, the printable width of a portrait A4 page


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
        drawing = charts.layout(section, CHART_WIDTH)
        return charts.svg(drawing) if drawing is not None else ""

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
