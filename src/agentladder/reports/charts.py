"""Chart geometry shared by the PDF and the HTML reports: a chart becomes a `Drawing` of
rectangles, lines and texts in millimetres, which `pdf` paints with fpdf2 and `html` writes as
inline SVG. One layout, so paper and screen show the same picture."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from agentladder.reports.schemas import Chart, Section, cell_number, cell_text

PRIMARY = "#0b6e4f"
WARNING = "#d98e04"
TRACK = "#e5e7eb"
INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#d1d5db"
PT_TO_MM = 25.4 / 72


@dataclass(frozen=True)
class Rect:
    """A filled rectangle."""

    x: float
    y: float
    w: float
    h: float
    fill: str


@dataclass(frozen=True)
class Text:
    """A text whose baseline starts, centres or ends at (x, y); size in points."""

    x: float
    y: float
    text: str
    size: float = 8
    anchor: str = "start"  # start | middle | end
    color: str = INK


@dataclass(frozen=True)
class Line:
    """A straight line."""

    x1: float
    y1: float
    x2: float
    y2: float
    color: str = GRID
    width: float = 0.2


@dataclass(frozen=True)
class Polyline:
    """Connected points."""

    points: tuple[tuple[float, float], ...]
    color: str = PRIMARY
    width: float = 0.6


@dataclass(frozen=True)
class Dot:
    """A filled circle."""

    x: float
    y: float
    r: float
    fill: str = PRIMARY


Shape = Rect | Text | Line | Polyline | Dot


@dataclass
class Drawing:
    """A chart laid out in millimetres, origin at the top left."""

    width: float
    height: float
    label: str = ""
    shapes: list[Shape] = field(default_factory=list)


def text_width(text: str, size: float) -> float:
    """The approximate width in mm of a text at a size in points (CJK full width)."""
    ems = sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.56 for ch in text)
    return ems * size * PT_TO_MM


def fit(text: str, width: float, size: float) -> str:
    """The text, shortened with an ellipsis to fit the width."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def layout(section: Section, width: float) -> Drawing | None:
    """The section's chart laid out at a width; None when there is nothing to draw."""
    chart = section.chart
    if chart is None or not section.rows:
        return None
    if chart.kind == "bars":
        return _pyramid(section, chart, width)
    if chart.kind == "columns":
        return _columns(section, chart, width)
    if chart.kind == "line":
        return _line(section, chart, width)
    return _progress(section, chart, width)


def _label(section: Section, chart: Chart, row: int) -> str:
    # Labels are text; numbers are written alike in both languages.
    column = section.columns[chart.label]
    return cell_text(section.rows[row][chart.label], column, "en")


def _value(section: Section, chart: Chart, row: int) -> float | None:
    number = cell_number(section.rows[row][chart.value])
    return None if number is None else float(number)


def _pyramid(section: Section, chart: Chart, width: float) -> Drawing:
    """Centred horizontal bars, one per row, in the rows' order (the top level first)."""
    row_h, label_w, value_w = 6.0, min(48.0, width * 0.3), 14.0
    area = width - label_w - value_w
    values = [_value(section, chart, i) or 0.0 for i in range(len(section.rows))]
    most = max(values) or 1.0
    drawing = Drawing(width, row_h * len(values), section.title)
    for i, value in enumerate(values):
        y = i * row_h
        label = fit(_label(section, chart, i), label_w - 3, 8)
        drawing.shapes.append(Text(label_w - 2, y + row_h / 2 + 1.2, label, anchor="end"))
        bar = area * value / most
        drawing.shapes.append(Rect(label_w + (area - bar) / 2, y + 0.8, bar, row_h - 1.6, PRIMARY))
        drawing.shapes.append(
            Text(width - value_w + 2, y + row_h / 2 + 1.2, f"{value:g}", color=INK)
        )
    return drawing


def _columns(section: Section, chart: Chart, width: float) -> Drawing:
    """Vertical bars, one per row, labelled underneath, with the count on top."""
    top, plot_h, bottom = 5.0, 40.0, 7.0
    values = [_value(section, chart, i) or 0.0 for i in range(len(section.rows))]
    most = max(values) or 1.0
    col_w = width / len(values)
    drawing = Drawing(width, top + plot_h + bottom, section.title)
    base = top + plot_h
    for i, value in enumerate(values):
        centre = col_w * i + col_w / 2
        height = plot_h * value / most
        drawing.shapes.append(
            Rect(centre - col_w * 0.35, base - height, col_w * 0.7, height, PRIMARY)
        )
        drawing.shapes.append(Text(centre, base - height - 1, f"{value:g}", 7, "middle"))
        drawing.shapes.append(
            Text(centre, base + 4.5, fit(_label(section, chart, i), col_w, 7), 7, "middle", MUTED)
        )
    drawing.shapes.append(Line(0, base, width, base, MUTED, 0.3))
    return drawing


def _line(section: Section, chart: Chart, width: float) -> Drawing | None:
    """A composite-score trend on a 0..100 scale, oldest period on the left."""
    points = [
        (i, value)
        for i in range(len(section.rows))
        if (value := _value(section, chart, i)) is not None
    ]
    if not points:
        return None
    top, plot_h, bottom, left, right, inset = 5.0, 36.0, 7.0, 9.0, 2.0, 8.0
    count = len(section.rows)
    first, last = left + inset, width - right - inset
    drawing = Drawing(width, top + plot_h + bottom, section.title)

    def x_of(index: int) -> float:
        return first + (last - first) * index / (count - 1) if count > 1 else (first + last) / 2

    def y_of(value: float) -> float:
        return top + plot_h * (1 - max(0.0, min(100.0, value)) / 100)

    for mark in (0, 50, 100):
        drawing.shapes.append(Line(left, y_of(mark), width - right, y_of(mark)))
        drawing.shapes.append(Text(left - 1.5, y_of(mark) + 1, str(mark), 6.5, "end", MUTED))
    coordinates = tuple((x_of(i), y_of(v)) for i, v in points)
    if len(coordinates) > 1:
        drawing.shapes.append(Polyline(coordinates))
    for (x, y), (_, value) in zip(coordinates, points, strict=True):
        drawing.shapes.append(Dot(x, y, 0.9))
        drawing.shapes.append(Text(x, y - 2, f"{value:.1f}", 6.5, "middle"))
    # Period labels under the points, thinned out so they never overlap.
    every = max(1, math.ceil(count * 16 / (last - first + 16)))
    for i in range(0, count, every):
        drawing.shapes.append(
            Text(x_of(i), top + plot_h + 5, _label(section, chart, i), 6.5, "middle", MUTED)
        )
    return drawing


def _progress(section: Section, chart: Chart, width: float) -> Drawing:
    """One bar per gate: the share of the requirement reached, full and green when met."""
    row_h, label_w, text_w = 7.0, min(55.0, width * 0.35), 32.0
    bar_w = width - label_w - text_w
    drawing = Drawing(width, row_h * len(section.rows), section.title)
    for i, row in enumerate(section.rows):
        y = i * row_h
        share = max(0.0, min(1.0, _value(section, chart, i) or 0.0))
        done = section.done[i] if i < len(section.done) else share >= 1
        drawing.shapes.append(
            Text(0, y + row_h / 2 + 1.2, fit(_label(section, chart, i), label_w - 2, 8))
        )
        drawing.shapes.append(Rect(label_w, y + 1.5, bar_w, row_h - 3, TRACK))
        if share > 0:
            drawing.shapes.append(
                Rect(label_w, y + 1.5, bar_w * share, row_h - 3, PRIMARY if done else WARNING)
            )
        words = " / ".join(
            cell_text(row[index], section.columns[index], "en") for index in chart.text
        )
        drawing.shapes.append(
            Text(label_w + bar_w + 2, y + row_h / 2 + 1.2, fit(words, text_w - 2, 8))
        )
    return drawing


# --- SVG --------------------------------------------------------------------------------


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def svg(drawing: Drawing) -> Markup:
    """A drawing as inline SVG (user-visible text escaped)."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_num(drawing.width)} '
        f'{_num(drawing.height)}" width="{_num(drawing.width)}mm" '
        f'height="{_num(drawing.height)}mm" role="img" aria-label="{escape(drawing.label)}">'
    ]
    for shape in drawing.shapes:
        if isinstance(shape, Rect):
            parts.append(
                f'<rect x="{_num(shape.x)}" y="{_num(shape.y)}" width="{_num(shape.w)}" '
                f'height="{_num(shape.h)}" fill="{shape.fill}"/>'
            )
        elif isinstance(shape, Text):
            parts.append(
                f'<text x="{_num(shape.x)}" y="{_num(shape.y)}" font-size="'
                f'{_num(shape.size * PT_TO_MM)}" text-anchor="{shape.anchor}" '
                f'fill="{shape.color}">{escape(shape.text)}</text>'
            )
        elif isinstance(shape, Line):
            parts.append(
                f'<line x1="{_num(shape.x1)}" y1="{_num(shape.y1)}" x2="{_num(shape.x2)}" '
                f'y2="{_num(shape.y2)}" stroke="{shape.color}" stroke-width="{_num(shape.width)}"/>'
            )
        elif isinstance(shape, Polyline):
            points = " ".join(f"{_num(x)},{_num(y)}" for x, y in shape.points)
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{shape.color}" '
                f'stroke-width="{_num(shape.width)}"/>'
            )
        else:
            parts.append(
                f'<circle cx="{_num(shape.x)}" cy="{_num(shape.y)}" r="{_num(shape.r)}" '
                f'fill="{shape.fill}"/>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()
