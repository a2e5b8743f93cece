"""The QA dashboard: a period's official evaluations by team, agent and item, the item failure
heatmap, the trend over recent months, and each evaluator's workload and fitted effect; and
the QA section of an agent's scorecard. Everything is read within the viewer's scope."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agentladder.config import Language
from agentladder.formatting import format_date, local_date
from agentladder.i18n import N_, translate
from agentladder.org import service as org_service
from agentladder.org.accounts import service as accounts_service
from agentladder.org.schemas import AgentFilter, AgentRead
from agentladder.periods import Period, period_of
from agentladder.quality import service as quality_service
from agentladder.quality.calibration import service as calibration_service
from agentladder.quality.models import (
    QaDispute,
    QaEvaluation,
    QaFormVersion,
    QaSample,
    QaSampledCall,
)
from agentladder.quality.schemas import Answer, FormItem
from agentladder.reports.charts.schemas import BarChart, LineChart, Point
from agentladder.reports.schemas import Cell, Column, Document, Section, Value

TREND_MONTHS = 6
NO_TEAM = ""  # the heatmap's column of agents without a team


@dataclass(frozen=True)
class QaFigures:
    """Evaluations of a group (a team, an agent, the whole scope) and what they scored."""

    evaluations: int = 0
    qa_score: float | None = None
    qa_score_adjusted: float | None = None
    fatal_errors: int = 0
    compliance_score: float | None = None

    @property
    def fatal_accuracy(self) -> float | None:
        """The share of evaluated calls without a fatal error."""
        return 1 - self.fatal_errors / self.evaluations if self.evaluations else None


@dataclass(frozen=True)
class TeamQa:
    """One team's QA in the period."""

    code: str
    name: str
    agents: int
    figures: QaFigures


@dataclass(frozen=True)
class AgentQa:
    """One agent's QA in the period."""

    agent_id: int
    employee_no: str
    name: str
    team_name: str
    figures: QaFigures


@dataclass(frozen=True)
class ItemQa:
    """One form item over the period's evaluations: how often it applied and the share of its
    points missed (for a yes/no item, the share answered no)."""

    code: str
    zh: str
    en: str
    fatal: bool
    applicable: int
    failure_rate: float | None
    # The same per team code (NO_TEAM for agents without one), for the heatmap.
    by_team: dict[str, tuple[int, float | None]] = field(default_factory=dict)

    def name(self, language: str) -> str:
        """The item's name in the reader's language."""
        return self.zh if language == "zh_Hans" else self.en


@dataclass(frozen=True)
class EvaluatorQa:
    """One evaluator's period: evaluations made in the scope, the mean they gave, their
    assignments still open, and the effect fitted over the scoring window."""

    username: str
    evaluations: int
    mean_given: float | None
    open_assignments: int
    effect: float | None  # None: too few evaluations in the window to estimate
    # From the calibration sessions: the latest month's mean deviation from the anchors and
    # its change from the month before (None: no session, or the first).
    calibration_deviation: float | None = None
    drift: float | None = None


@dataclass(frozen=True)
class TrendPoint:
    """The scope's QA in one month."""

    period: str
    figures: QaFigures


@dataclass
class QaDashboard:
    """Everything the QA dashboard shows for a period."""

    period: str
    team_code: str | None
    overall: QaFigures
    open_disputes: int
    teams: list[TeamQa]
    agents: list[AgentQa]
    items: list[ItemQa]
    heatmap_teams: list[tuple[str, str]]  # (code, name) of the heatmap's columns
    evaluators: list[EvaluatorQa]
    trend: list[TrendPoint]


def _mean(values: Iterable[float]) -> float | None:
    listed = list(values)
    return sum(listed) / len(listed) if listed else None


def _figures(rows: list[QaEvaluation], adjusted: dict[int, float]) -> QaFigures:
    """Figures of a group of evaluations; `adjusted` maps an evaluation's evaluator to the
    effect taken out of its score."""
    if not rows:
        return QaFigures()
    return QaFigures(
        evaluations=len(rows),
        qa_score=_mean(r.overall or 0.0 for r in rows),
        qa_score_adjusted=_mean(
            (r.overall or 0.0) - adjusted.get(r.evaluator_user_id or 0, 0.0) for r in rows
        ),
        fatal_errors=sum(1 for r in rows if r.fatal),
        compliance_score=_mean(r.compliance for r in rows if r.compliance is not None),
    )


def _visible_agents(
    session: Session, scope: org_service.AgentScope, team_code: str | None
) -> dict[int, AgentRead]:
    filters = AgentFilter(status="all", team=team_code)
    return {
        a.id: a for a in org_service.filtered_agents(session=session, scope=scope, filters=filters)
    }


def _evaluations(
    session: Session, period: Period, zone: ZoneInfo, agent_ids: Iterable[int]
) -> list[QaEvaluation]:
    start, end = period.bounds_utc(zone)
    wanted = list(agent_ids)
    if not wanted:
        return []
    return list(
        session.scalars(
            select(QaEvaluation).where(
                QaEvaluation.status == "submitted",
                QaEvaluation.kind == "official",
                QaEvaluation.call_at >= start,
                QaEvaluation.call_at < end,
                QaEvaluation.agent_id.in_(wanted),
            )
        )
    )


def _effects(session: Session, period: Period, zone: ZoneInfo) -> dict[int, float]:
    """The evaluators' fitted effects for the period by user id: only those with enough
    evaluations in the scoring window to estimate one (the others' scores count as given)."""
    scores = quality_service.period_scores(session=session, period=period, zone=zone)
    fitted = {
        e.evaluator: e.effect
        for e in scores.evaluators
        if e.evaluations >= quality_service.MIN_EVALUATOR_EVALUATIONS
    }
    return {
        user_id: fitted[username]
        for user_id, username in accounts_service.user_names(
            session=session, usernames_only=True
        ).items()
        if username in fitted
    }


def _item_score(item: FormItem, answer: Answer) -> float | None:
    if answer is None:
        return None
    if item.kind == "scale":
        return float(answer) / (item.scale_max or 1)
    return 1.0 if answer is True else 0.0


def _items(session: Session, rows: list[QaEvaluation], team_of: dict[int, str]) -> list[ItemQa]:
    """Each item's failure rate overall and per team, in the order of the newest form."""
    specs = {
        version.id: quality_service.form_spec(version)
        for version in session.scalars(
            select(QaFormVersion)
            .where(QaFormVersion.id.in_({r.form_version_id for r in rows}))
            .order_by(QaFormVersion.id)
        )
    }
    known: dict[str, FormItem] = {}
    order: list[str] = []
    for spec in reversed(list(specs.values())):  # newest first: its names and order win
        for item in spec.items():
            if item.code not in known:
                known[item.code] = item
                order.append(item.code)
    missed: dict[str, list[float]] = defaultdict(list)
    missed_by_team: dict[tuple[str, str], list[float]] = defaultdict(list)
    for row in rows:
        answers = json.loads(row.answers_json or "{}")
        for item in specs[row.form_version_id].items():
            score = _item_score(item, answers.get(item.code))
            if score is None:
                continue
            missed[item.code].append(1 - score)
            missed_by_team[(item.code, team_of.get(row.agent_id, NO_TEAM))].append(1 - score)
    items = []
    for code in order:
        item = known[code]
        if not missed[code]:
            continue
        by_team = {
            team: (len(values), _mean(values))
            for (item_code, team), values in missed_by_team.items()
            if item_code == code
        }
        items.append(
            ItemQa(
                code,
                item.zh,
                item.en,
                item.fatal is not None,
                len(missed[code]),
                _mean(missed[code]),
                by_team,
            )
        )
    return items


def _open_assignments(session: Session, period: Period) -> dict[int, int]:
    rows = session.execute(
        select(QaSampledCall.evaluator_user_id, func.count())
        .join(QaSample, QaSample.id == QaSampledCall.sample_id)
        .where(
            QaSample.period_label == period.label,
            QaSampledCall.evaluation_id.is_(None),
            QaSampledCall.evaluator_user_id.is_not(None),
        )
        .group_by(QaSampledCall.evaluator_user_id)
    ).all()
    return {user_id: count for user_id, count in rows if user_id is not None}


def _open_disputes(session: Session, agent_ids: Iterable[int]) -> int:
    wanted = list(agent_ids)
    if not wanted:
        return 0
    return (
        session.scalar(
            select(func.count())
            .select_from(QaDispute)
            .join(QaEvaluation, QaEvaluation.id == QaDispute.evaluation_id)
            .where(QaDispute.status == "open", QaEvaluation.agent_id.in_(wanted))
        )
        or 0
    )


def qa_dashboard(
    *,
    session: Session,
    period: Period,
    zone: ZoneInfo,
    scope: org_service.AgentScope,
    team_code: str | None = None,
    trend_months: int = TREND_MONTHS,
) -> QaDashboard:
    """The period's QA as the dashboard shows it, for the agents the viewer may see (of one
    team when `team_code` is given)."""
    agents = _visible_agents(session, scope, team_code)
    rows = _evaluations(session, period, zone, agents)
    effects = _effects(session, period, zone) if rows else {}
    by_agent: dict[int, list[QaEvaluation]] = defaultdict(list)
    for row in rows:
        by_agent[row.agent_id].append(row)
    team_of = {agent_id: agent.team_code or NO_TEAM for agent_id, agent in agents.items()}
    team_names = {t.code: t.name for t in org_service.list_teams(session=session)}
    by_team: dict[str, list[QaEvaluation]] = defaultdict(list)
    members: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        by_team[team_of[row.agent_id]].append(row)
        members[team_of[row.agent_id]].add(row.agent_id)
    teams = [
        TeamQa(code, team_names.get(code, code), len(members[code]), _figures(group, effects))
        for code, group in sorted(by_team.items())
        if code != NO_TEAM
    ]
    agent_rows = [
        AgentQa(
            agent_id,
            agents[agent_id].employee_no,
            agents[agent_id].name,
            agents[agent_id].team_name or "",
            _figures(group, effects),
        )
        for agent_id, group in by_agent.items()
    ]
    agent_rows.sort(key=lambda a: (a.figures.qa_score or 0.0, a.employee_no))
    usernames = accounts_service.user_names(session=session, usernames_only=True)
    given: dict[int, list[float]] = defaultdict(list)
    for row in rows:
        if row.evaluator_user_id is not None:
            given[row.evaluator_user_id].append(row.overall or 0.0)
    open_work = _open_assignments(session, period)
    calibrated = {
        drift.evaluator: drift.months[-1]
        for drift in calibration_service.evaluator_drift(session=session, zone=zone)
        if drift.months
    }
    evaluators = []
    for user_id in sorted(set(given) | set(open_work), key=lambda u: usernames.get(u, "?")):
        name = usernames.get(user_id, "?")
        latest = calibrated.get(name)
        evaluators.append(
            EvaluatorQa(
                name,
                len(given.get(user_id, [])),
                _mean(given.get(user_id, [])),
                open_work.get(user_id, 0),
                effects.get(user_id),
                latest.mean_deviation if latest else None,
                latest.drift if latest else None,
            )
        )
    heatmap_teams = [(code, team_names.get(code, code)) for code in sorted(by_team)]
    trend = []
    for month in sorted(period.months_back(trend_months), key=lambda p: p.label):
        month_rows = (
            rows if month.label == period.label else _evaluations(session, month, zone, agents)
        )
        month_effects = (
            (effects if month.label == period.label else _effects(session, month, zone))
            if month_rows
            else {}
        )
        trend.append(TrendPoint(month.label, _figures(month_rows, month_effects)))
    return QaDashboard(
        period=period.label,
        team_code=team_code,
        overall=_figures(rows, effects),
        open_disputes=_open_disputes(session, agents),
        teams=teams,
        agents=agent_rows,
        items=_items(session, rows, team_of) if rows else [],
        heatmap_teams=heatmap_teams,
        evaluators=evaluators,
        trend=trend,
    )


@dataclass(frozen=True)
class EvaluationSummary:
    """One of an agent's submitted evaluations as their scorecard lists it."""

    evaluation_id: int
    call_id: str
    call_at: datetime
    kind: str
    overall: float
    fatal: bool
    acknowledged: bool
    open_disputes: int


@dataclass
class AgentQaCard:
    """The QA section of an agent's scorecard: the period's figures, the items that cost the
    most points, and the latest evaluations."""

    period: str
    figures: QaFigures
    weakest_items: list[ItemQa]
    evaluations: list[EvaluationSummary]


def agent_qa_card(
    *,
    session: Session,
    agent_id: int,
    period: Period,
    zone: ZoneInfo,
    latest: int = 10,
) -> AgentQaCard:
    """An agent's QA for their scorecard (official evaluations count; coaching ones are listed
    but never scored): of the period, else of the latest month before it with evaluations."""
    rows = _evaluations(session, period, zone, [agent_id])
    if not rows:
        newest = session.scalar(
            select(func.max(QaEvaluation.call_at)).where(
                QaEvaluation.agent_id == agent_id,
                QaEvaluation.status == "submitted",
                QaEvaluation.kind == "official",
                QaEvaluation.call_at < period.bounds_utc(zone)[1],
            )
        )
        if newest is not None:
            period = period_of("month", local_date(newest, zone))
            rows = _evaluations(session, period, zone, [agent_id])
    effects = _effects(session, period, zone) if rows else {}
    items = _items(session, rows, {}) if rows else []
    weakest = sorted(
        (item for item in items if (item.failure_rate or 0) > 0),
        key=lambda item: -(item.failure_rate or 0.0),
    )[:3]
    recent = session.scalars(
        select(QaEvaluation)
        .where(
            QaEvaluation.agent_id == agent_id,
            QaEvaluation.status == "submitted",
            QaEvaluation.kind.in_(("official", "coaching")),
        )
        .order_by(QaEvaluation.call_at.desc(), QaEvaluation.id.desc())
        .limit(latest)
    ).all()
    disputes = dict(
        session.execute(
            select(QaDispute.evaluation_id, func.count())
            .where(
                QaDispute.status == "open",
                QaDispute.evaluation_id.in_([r.id for r in recent]),
            )
            .group_by(QaDispute.evaluation_id)
        ).all()
    )
    return AgentQaCard(
        period=period.label,
        figures=_figures(rows, effects),
        weakest_items=weakest,
        evaluations=[
            EvaluationSummary(
                r.id,
                r.call_id,
                r.call_at,
                r.kind,
                r.overall or 0.0,
                r.fatal,
                r.acknowledged_at is not None,
                disputes.get(r.id, 0),
            )
            for r in recent
        ],
    )


# --- the dashboard as a report (XLSX, PDF, HTML) ------------------------------------------


def _score(value: float | None) -> Cell:
    return Value(value, "score")


def _trend_figure(board: QaDashboard, language: Language) -> LineChart | None:
    if not any(point.figures.evaluations for point in board.trend):
        return None
    return LineChart(
        description=translate(language, N_("QA score by month")),
        category_title=translate(language, N_("Period")),
        value_title=translate(language, N_("QA score")),
        kind="score",
        points=tuple(Point(p.period, p.figures.qa_score) for p in board.trend),
    )


def _teams_figure(board: QaDashboard, language: Language) -> BarChart | None:
    if len(board.teams) < 2:
        return None
    return BarChart(
        description=translate(language, N_("QA score by team")),
        category_title=translate(language, N_("Team")),
        value_title=translate(language, N_("QA score")),
        kind="score",
        bars=tuple(Point(t.name, t.figures.qa_score) for t in board.teams),
        layout="horizontal",
        value_range=(0, 100),
    )


@dataclass(frozen=True)
class DashboardCharts:
    """The dashboard's charts, built once for the page and the report."""

    trend: LineChart | None
    teams: BarChart | None

    @classmethod
    def of(cls, board: QaDashboard, language: Language) -> DashboardCharts:
        """The charts of a dashboard in the reader's language."""
        return cls(_trend_figure(board, language), _teams_figure(board, language))


def _figure_columns(language: Language) -> list[Column]:
    return [
        Column(translate(language, N_("Evaluations")), "int"),
        Column(translate(language, N_("QA score")), "score"),
        Column(translate(language, N_("Adjusted for evaluators")), "score"),
        Column(translate(language, N_("Fatal errors")), "int"),
        Column(translate(language, N_("Fatal accuracy")), "percent"),
        Column(translate(language, N_("Compliance score")), "score"),
    ]


def _figure_cells(figures: QaFigures) -> list[Cell]:
    return [
        Value(figures.evaluations, "int"),
        _score(figures.qa_score),
        _score(figures.qa_score_adjusted),
        Value(figures.fatal_errors, "int"),
        Value(figures.fatal_accuracy, "percent"),
        _score(figures.compliance_score),
    ]


def qa_document(
    board: QaDashboard, *, language: Language, team_label: str, generated_at: datetime
) -> Document:
    """The QA dashboard as a report: summary, teams, agents, items with the per-team failure
    rates of the heatmap, and evaluators."""
    tr = partial(translate, language)
    charts = DashboardCharts.of(board, language)
    summary = Section(
        key="summary",
        title=tr(N_("Summary")),
        columns=[Column(tr(N_("Item")), width=1), Column(tr(N_("Value")), width=2)],
        rows=[
            [tr(N_("Period")), board.period],
            [tr(N_("Team")), team_label],
            [tr(N_("Evaluations")), Value(board.overall.evaluations, "int")],
            [tr(N_("QA score")), _score(board.overall.qa_score)],
            [tr(N_("Adjusted for evaluators")), _score(board.overall.qa_score_adjusted)],
            [tr(N_("Fatal accuracy")), Value(board.overall.fatal_accuracy, "percent")],
            [tr(N_("Compliance score")), _score(board.overall.compliance_score)],
            [tr(N_("Open disputes")), Value(board.open_disputes, "int")],
        ],
    )
    trend = Section(
        key="trend",
        title=tr(N_("QA score by month")),
        columns=[Column(tr(N_("Period"))), *_figure_columns(language)],
        rows=[[p.period, *_figure_cells(p.figures)] for p in board.trend],
        figure=charts.trend,
    )
    teams = Section(
        key="teams",
        title=tr(N_("By team")),
        columns=[
            Column(tr(N_("Team")), width=2),
            Column(tr(N_("Agents")), "int"),
            *_figure_columns(language),
        ],
        rows=[[t.name, Value(t.agents, "int"), *_figure_cells(t.figures)] for t in board.teams],
        figure=charts.teams,
        empty=tr(N_("None")),
    )
    agents = Section(
        key="agents",
        title=tr(N_("By agent")),
        columns=[
            Column(tr(N_("Employee no.")), width=1.2),
            Column(tr(N_("Name")), width=1.2),
            Column(tr(N_("Team")), width=1.5),
            *_figure_columns(language),
        ],
        rows=[
            [a.employee_no, a.name, a.team_name, *_figure_cells(a.figures)] for a in board.agents
        ],
        empty=tr(N_("None")),
    )
    items = Section(
        key="items",
        title=tr(N_("Item failure rates by team")),
        columns=[
            Column(tr(N_("Item")), "longtext", width=3),
            Column(tr(N_("Evaluations")), "int"),
            Column(tr(N_("Failure rate")), "percent"),
            *(Column(name or tr(N_("No team")), "percent") for _, name in board.heatmap_teams),
        ],
        rows=[
            [
                item.name(language),
                Value(item.applicable, "int"),
                Value(item.failure_rate, "percent"),
                *(
                    Value(item.by_team.get(code, (0, None))[1], "percent")
                    for code, _ in board.heatmap_teams
                ),
            ]
            for item in board.items
        ],
        notes=[
            tr(
                N_(
                    "Failure rate: for a yes/no item the share answered no; for a scale the share "
                    "of its points missed. Not applicable answers are left out."
                )
            )
        ],
        empty=tr(N_("None")),
    )
    evaluators = Section(
        key="evaluators",
        title=tr(N_("Evaluators")),
        columns=[
            Column(tr(N_("Evaluator")), width=1.5),
            Column(tr(N_("Evaluations")), "int"),
            Column(tr(N_("Mean score given")), "score"),
            Column(tr(N_("Open assignments")), "int"),
            Column(tr(N_("Fitted effect")), "signed_score"),
            Column(tr(N_("Deviation from the anchor")), "signed_score"),
            Column(tr(N_("Drift")), "signed_score"),
        ],
        rows=[
            [
                e.username,
                Value(e.evaluations, "int"),
                _score(e.mean_given),
                Value(e.open_assignments, "int"),
                Value(e.effect, "signed_score"),
                Value(e.calibration_deviation, "signed_score"),
                Value(e.drift, "signed_score"),
            ]
            for e in board.evaluators
        ],
        notes=[
            tr(
                N_(
                    "Fitted effect: how far an evaluator's scores run above (+) or below (-) the "
                    "others' for the same agents, over the scoring window; none with too few "
                    "evaluations."
                )
            )
        ],
        empty=tr(N_("None")),
    )
    title = tr(N_("QA dashboard"))
    return Document(
        kind="quality",
        title=f"{title} · {team_label}",
        subtitle=tr(
            N_("Period {period} · generated {date}"),
            period=board.period,
            date=format_date(generated_at, language),
        ),
        language=language,
        generated_at=generated_at,
        sections=[summary, trend, teams, agents, items, evaluators],
        landscape=True,
    )


def default_period(*, session: Session, zone: ZoneInfo, today: date) -> Period:
    """The month of the latest official evaluation, else the current month."""
    latest = session.scalar(
        select(func.max(QaEvaluation.call_at)).where(
            QaEvaluation.status == "submitted", QaEvaluation.kind == "official"
        )
    )
    day = local_date(latest, zone) if latest is not None else today
    return period_of("month", day)


def all_teams_label(language: Language) -> str:
    """What a report of every team the viewer may see is titled with."""
    return translate(language, N_("All teams"))
