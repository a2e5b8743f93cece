"""Charts as plain data, already translated: what a chart shows, not how it is drawn.

A domain builds a `LineChart` or `BarChart` from its own service data; `charts.service`
turns it into one Vega-Lite specification that the browser draws (vega-embed) and that
vl-convert renders for PDFs and standalone HTML, so screen and paper show the same picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from agentladder.formatting import NumberKind


@dataclass(frozen=True)
class Point:
    """One value on a category (a period, a level, a team); `text` replaces the formatted
    value as its label ("62.5 / 72"); `highlight` draws a bar in the accent colour."""

    category: str
    value: float | None
    text: str | None = None
    highlight: bool = False


@dataclass(frozen=True)
class Band:
    """A shaded stretch of the value axis with its name (a level's score range)."""

    low: float
    high: float
    label: str


@dataclass(frozen=True)
class Threshold:
    """A dashed line across the chart at a value, named (the score a promotion needs)."""

    value: float
    label: str


@dataclass(frozen=True)
class LineChart:
    """Values over ordered categories (a trend, oldest first), with optional bands and
    thresholds behind the line."""

    description: str  # what the chart shows, for screen readers
    category_title: str
    value_title: str
    kind: NumberKind  # how values and axis ticks are written
    points: tuple[Point, ...]
    bands: tuple[Band, ...] = ()
    thresholds: tuple[Threshold, ...] = ()
    value_range: tuple[float, float] | None = None  # default: around the data
    height_px: int = 220


BarLayout = Literal["vertical", "horizontal", "centred"]


@dataclass(frozen=True)
class BarChart:
    """One bar per category in the given order, each labelled with its value: `vertical`
    columns (a distribution), `horizontal` bars (progress, team comparison), or `centred`
    horizontal bars (the level pyramid, top level first)."""

    description: str
    category_title: str
    value_title: str
    kind: NumberKind
    bars: tuple[Point, ...]
    layout: BarLayout = "vertical"
    value_range: tuple[float, float] | None = None  # default: from 0 to above the tallest

    @property
    def height_px(self) -> int:
        """Tall enough for every horizontal bar's label; columns have a fixed height."""
        if self.layout == "vertical":
            return 200
        return max(60, 26 * len(self.bars))


Figure = LineChart | BarChart
