"""Charts from the ladder's real data: the figures hold the series, bands and threshold the
services give, the specifications write every number through the formatting layer, and the
PDF reports carry the rendered charts."""

from __future__ import annotations

import io
import json
import struct
from datetime import date
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session

from agentladder.ladder.documents import service as documents_service
from agentladder.ladder.insights import figures
from agentladder.ladder.insights import service as insights_service
from agentladder.metrics.figures import kpi_trend
from agentladder.metrics.service import TrendPoint
from agentladder.org import service as org_service
from agentladder.reports import service as reports_service
from agentladder.reports.charts import service as charts_service
from agentladder.reports.charts.schemas import BarChart, LineChart, Point
from tests.reports.situation import Centre

EVERYONE = org_service.AgentScope.everyone_scope()
TODAY = date(2026, 11, 15)


def _layers(spec: dict[str, Any], mark: str) -> list[dict[str, Any]]:
    return [
        layer
        for layer in spec["layer"]
        if (layer["mark"] if isinstance(layer["mark"], str) else layer["mark"]["type"]) == mark
    ]


def _labels(axis: dict[str, Any]) -> dict[str, str]:
    """An axis' tick labels as its lookup table holds them."""
    table, _, rest = axis["labelExpr"].partition("[datum.value]")
    assert rest == ""
    return dict(json.loads(table))


def test_score_trend_has_the_periods_level_bands_and_promotion_threshold(
    session: Session, centre: Centre
) -> None:
    card = insights_service.scorecard(session=session, agent_id=centre.at_risk.id, scope=EVERYONE)
    figure = figures.score_trend(card.trend, card.bands, card.promotion_score, "en")
    assert isinstance(figure, LineChart)
    assert [(p.category, p.value) for p in figure.points] == card.trend
    assert [p.category for p in figure.points] == ["2026-09", "2026-10"]
    # Basic Junior's next level is Basic Senior: entry 65 plus the policy's band of 2.
    assert card.promotion_score == 67
    [threshold] = figure.thresholds
    assert (threshold.value, threshold.label) == (67, "Next level needs 67.0")
    assert [(b.low, b.high) for b in figure.bands][:3] == [(0, 55), (55, 60), (60, 65)]
    assert figure.bands[-1].high == 100
    assert figure.bands[0].label == "Basic Fresh"

    spec = charts_service.vega_lite(figure, "en", width_px=600)
    [line] = _layers(spec, "line")
    assert [row["value"] for row in line["data"]["values"]] == [v for _, v in card.trend]
    assert line["encoding"]["x"]["sort"] == ["2026-09", "2026-10"]
    [rule] = _layers(spec, "rule")
    assert rule["data"]["values"] == [{"value": 67, "label": "Next level needs 67.0"}]
    [bands] = _layers(spec, "rect")
    lows = [band["low"] for band in bands["data"]["values"]]
    axis_low, axis_high = spec["layer"][-2]["encoding"]["y"]["scale"]["domain"]
    # The axis zooms in on the data and the threshold, and shows the bands inside it.
    assert axis_low <= 45
    assert axis_high >= 67
    assert all(axis_low <= low < axis_high for low in lows)
    assert _labels(line["encoding"]["y"]["axis"])["50"] == "50.0"


def test_no_trend_without_a_score() -> None:
    assert figures.score_trend([("2026-10", None)], [], None, "en") is None


def test_dashboard_charts_from_the_board(session: Session, centre: Centre) -> None:
    board = insights_service.team_dashboard(session=session, scope=EVERYONE, today=TODAY)
    charts = figures.DashboardCharts.of(board, "zh_Hans")
    assert [p.value for p in charts.pyramid.bars] == [n for _, n in reversed(board.pyramid)]
    assert charts.pyramid.bars[0].category == "高级座席·超级"
    assert charts.pyramid.layout == "centred"
    assert [(p.category, p.value) for p in charts.distribution.bars] == board.score_bins
    assert charts.teams is not None
    means = {t.team_code: t for t in board.teams}
    assert set(means) == {"T01", "T02"}
    assert [p.category for p in charts.teams.bars] == [t.team_code for t in board.teams]
    for bar in charts.teams.bars:
        team = means[bar.category]
        assert bar.value == pytest.approx(team.mean_composite)
        assert bar.text == f"{team.mean_composite:.1f} (n = {team.agents})"
    composites = [v.composite for v in board.decisions if v.team_code == "T01"]
    assert means["T01"].mean_composite == pytest.approx(sum(composites) / len(composites))

    one_team = insights_service.team_dashboard(
        session=session, scope=EVERYONE, today=TODAY, team_id=centre.demoted.team_id
    )
    assert figures.team_comparison(one_team, "en") is None  # nothing to compare


def test_tallest_bar_keeps_room_for_its_label() -> None:
    figure = BarChart("d", "Band", "Agents", "int", (Point("60-70", 25), Point("70-80", 3)))
    spec = charts_service.vega_lite(figure, "en", width_px=400)
    [bar] = _layers(spec, "bar")
    low, high = bar["encoding"]["y"]["scale"]["domain"]
    assert low == 0
    assert high > 25 * 1.1
    [text] = _layers(spec, "text")
    assert text["mark"]["baseline"] == "bottom"
    assert [row["text"] for row in spec["data"]["values"]] == ["25", "3"]


@pytest.mark.parametrize(
    ("unit", "values", "language", "expected"),
    [
        ("rate", [0.82, 0.9], "en", {"0.8": "80.0%", "0.9": "90.0%"}),
        ("s", [263, 299], "zh_Hans", {"260": "4:20", "300": "5:00"}),
        ("count", [1200, 2600], "en", {"1000": "1,000", "2000": "2,000"}),
    ],
)
def test_kpi_trend_axis_and_labels_in_the_metric_unit(
    unit: str, values: list[float], language: str, expected: dict[str, str]
) -> None:
    points = [TrendPoint(f"2026-0{i + 1}", v, 100) for i, v in enumerate(values)]
    figure = kpi_trend("KPI", unit, points, language)  # type: ignore[arg-type]
    assert figure is not None
    spec = charts_service.vega_lite(figure, language)  # type: ignore[arg-type]
    [line] = _layers(spec, "line")
    labels = _labels(line["encoding"]["y"]["axis"])
    assert expected.items() <= labels.items()
    assert spec["width"] == "container"
    texts = [row["text"] for row in line["data"]["values"]]
    assert texts[0] == {"rate": "82.0%", "s": "4:23", "count": "1,200"}[unit]
    assert kpi_trend("KPI", unit, points[:1], "en") is None


def test_png_renders_without_a_browser() -> None:
    bars = (Point("初级座席·新手", 4), Point("中级座席·潜力", 2))
    figure = BarChart("d", "级别", "人数", "int", bars)
    png = charts_service.render_png(figure, "zh_Hans", 400, scale=2)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert 780 <= width <= 840
    assert height > 100


def _image_sizes(data: bytes) -> list[tuple[int, int]]:
    reader = PdfReader(io.BytesIO(data))
    return [
        (image.image.width, image.image.height)
        for page in reader.pages
        for image in page.images
        if image.image is not None
    ]


@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_pdf_reports_carry_the_charts(session: Session, centre: Centre, language: str) -> None:
    team = documents_service.team_document(
        session=session,
        language=language,  # type: ignore[arg-type]
        scope=EVERYONE,
        today=TODAY,
    )
    sizes = _image_sizes(reports_service.render_document(team, "pdf"))
    assert len(sizes) == 3  # pyramid, distribution, teams compared
    assert all(width > 1000 for width, _ in sizes)  # sharp: twice the layout width
    card = documents_service.scorecard_document(
        session=session,
        employee_no="100004",
        language=language,  # type: ignore[arg-type]
        scope=EVERYONE,
    )
    assert len(_image_sizes(reports_service.render_document(card, "pdf"))) == 2  # gates, trend
