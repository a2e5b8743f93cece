"""The ladder's charts, each defined once from the insights' data: the pages draw them in
the browser and the PDF/HTML reports render the same figure (`reports.charts`)."""

from __future__ import annotations

from dataclasses import dataclass

from agentladder.config import Language
from agentladder.formatting import format_number
from agentladder.i18n import N_, translate
from agentladder.ladder import labels
from agentladder.ladder.insights.service import GateProgress, LevelBand, TeamDashboard
from agentladder.org.levels import service as levels_service
from agentladder.reports.charts.schemas import Band, BarChart, LineChart, Point, Threshold


def _level(level_id: str, language: Language) -> str:
    return levels_service.get_level(level_id).label(language)


def score_trend(
    trend: list[tuple[str, float | None]],
    bands: list[LevelBand],
    promotion_score: float | None,
    language: Language,
) -> LineChart | None:
    """An agent's composite score per period (oldest first) over the level bands, with the
    score that qualifies for the next level; None when no period has a score."""
    if all(value is None for _, value in trend):
        return None
    thresholds: tuple[Threshold, ...] = ()
    if promotion_score is not None:
        label = translate(
            language,
            N_("Next level needs {score}"),
            score=format_number(promotion_score, "score", language),
        )
        thresholds = (Threshold(promotion_score, label),)
    return LineChart(
        description=translate(language, N_("Composite score over time")),
        category_title=translate(language, N_("Period")),
        value_title=translate(language, N_("Composite score")),
        kind="score",
        points=tuple(Point(period, value) for period, value in trend),
        bands=tuple(Band(b.low, b.high, _level(b.level, language)) for b in bands),
        thresholds=thresholds,
        height_px=240,
    )


def gate_progress(progress: list[GateProgress], language: Language) -> BarChart | None:
    """How far each gate toward the next level got (met gates full); None without gates."""
    if not progress:
        return None

    def text(gate: GateProgress) -> str:
        actual = labels.gate_value_text(gate.actual, language)
        return f"{actual} / {labels.gate_value_text(gate.required, language)}"

    return BarChart(
        description=translate(language, N_("Progress to the next level")),
        category_title=translate(language, N_("Gate")),
        value_title=translate(language, N_("Progress")),
        kind="percent",
        bars=tuple(
            Point(labels.gate_name(g.gate, language), g.share, text(g), highlight=not g.passed)
            for g in progress
        ),
        layout="horizontal",
        value_range=(0.0, 1.0),
    )


def level_pyramid(board: TeamDashboard, language: Language) -> BarChart:
    """Agents per level, the top level first, as centred bars."""
    return BarChart(
        description=translate(language, N_("Level pyramid")),
        category_title=translate(language, N_("Level")),
        value_title=translate(language, N_("Agents")),
        kind="int",
        bars=tuple(
            Point(_level(level, language), count) for level, count in reversed(board.pyramid)
        ),
        layout="centred",
    )


def score_distribution(board: TeamDashboard, language: Language) -> BarChart:
    """Agents per composite-score band of ten points."""
    return BarChart(
        description=translate(language, N_("Composite score distribution")),
        category_title=translate(language, N_("Score band")),
        value_title=translate(language, N_("Agents")),
        kind="int",
        bars=tuple(Point(band, count) for band, count in board.score_bins),
    )


def team_comparison(board: TeamDashboard, language: Language) -> BarChart | None:
    """Each team's mean composite score in the period, best first; None for fewer than two
    teams (nothing to compare)."""
    teams = board.teams
    if len(teams) < 2:
        return None
    return BarChart(
        description=translate(language, N_("Teams compared")),
        category_title=translate(language, N_("Team")),
        value_title=translate(language, N_("Mean composite score")),
        kind="score",
        bars=tuple(
            Point(
                team.team_code,
                team.mean_composite,
                f"{format_number(team.mean_composite, 'score', language)}"
                f" (n = {format_number(team.agents, 'int', language)})",
            )
            for team in teams
        ),
        layout="horizontal",
        value_range=(0.0, 100.0),
    )


@dataclass(frozen=True)
class DashboardCharts:
    """The team dashboard's charts."""

    pyramid: BarChart
    distribution: BarChart
    teams: BarChart | None

    @classmethod
    def of(cls, board: TeamDashboard, language: Language) -> DashboardCharts:
        """The charts of a dashboard in a language."""
        return cls(
            level_pyramid(board, language),
            score_distribution(board, language),
            team_comparison(board, language),
        )
