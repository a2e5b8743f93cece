"""An agent's KPI trends as charts (`reports.charts`), each written in its metric's unit."""

from __future__ import annotations

from agentladder.config import Language
from agentladder.formatting import kind_of_unit
from agentladder.i18n import N_, translate
from agentladder.metrics.service import TrendPoint
from agentladder.reports.charts.schemas import LineChart, Point


def kpi_trend(
    name: str, unit: str, points: list[TrendPoint], language: Language
) -> LineChart | None:
    """A metric's values per period (oldest first), named and written in its unit; None when
    fewer than two periods have a value (no trend to draw)."""
    if sum(1 for point in points if point.value is not None) < 2:
        return None
    return LineChart(
        description=translate(language, N_("{metric} over time"), metric=name),
        category_title=translate(language, N_("Period")),
        value_title=name,
        kind=kind_of_unit(unit),
        points=tuple(Point(point.period, point.value) for point in points),
        height_px=150,
    )
