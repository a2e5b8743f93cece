"""The ladder's reports as documents: an agent's scorecard, a team's dashboard, and the
period's promotion list (奖惩、升迁依据) with the fairness table.

Every number comes from the ladder service's report functions (`scorecard`,
`team_dashboard`, `promotion_list`, `fairness_table`), the same ones the pages read; this
module only arranges and translates them. The documents render as XLSX, PDF and HTML.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from agentladder.config import Language
from agentladder.errors import NotFound
from agentladder.formatting import format_date, format_number, format_value, kind_of_unit
from agentladder.i18n import N_, N_plural, translate, translate_count
from agentladder.ladder import labels
from agentladder.ladder.decisions import schemas as decisions_schemas
from agentladder.ladder.insights import figures
from agentladder.ladder.insights import service as insights_service
from agentladder.org import service as org_service
from agentladder.org.levels import service as levels_service
from agentladder.org.schemas import LEVELS, TIER_NAMES
from agentladder.periods import Period
from agentladder.reports.schemas import Cell, Chart, Column, Document, Section, Value

labels = labels

_LEVEL_IDS = [level.id for level in LEVELS]


# --- small helpers ------------------------------------------------------------------------


def _tr(language: Language, message: str, **params: Any) -> str:
    return translate(language, message, **params)


def _level(level_id: str | None, language: Language) -> str:
    if not level_id:
        return ""
    return levels_service.get_level(level_id).label(language)


def _next_level(level_id: str) -> str | None:
    index = _LEVEL_IDS.index(level_id)
    return _LEVEL_IDS[index + 1] if index + 1 < len(_LEVEL_IDS) else None


def _number(value: object) -> Cell:
    """A gate's or a weight's value as a cell: numbers stay numbers, anything else is text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return Value(value, "int")
    if isinstance(value, float):
        return Value(value, "int" if value.is_integer() else "decimal2")
    return str(value)


def _gate_value(value: object, language: Language) -> Cell:
    if isinstance(value, bool):
        return _yes_no(value, language)
    return _number(value)


def _skill_groups(person: org_service.AgentRead, language: Language) -> str:
    """The agent's skill groups by name, the primary one first and marked (as on the page)."""
    names = (
        [_tr(language, N_("{group} (primary)"), group=person.primary_skill_group_name)]
        if person.primary_skill_group_name
        else []
    )
    names += person.other_skill_group_names
    return _tr(language, labels.LIST_SEPARATOR).join(names) or "—"


def _yes_no(flag: bool, language: Language) -> str:
    return _tr(language, N_("Yes") if flag else N_("No"))


EVALUATOR_EFFECT = N_plural(
    "{evaluator} {effect} ({count} evaluation)", "{evaluator} {effect} ({count} evaluations)"
)


def _adjustment_note(metric: dict[str, Any], language: Language) -> str:
    """A metric scored with or beside its evaluator-adjusted value: both, and the effect of
    each evaluator who scored the agent."""
    adjustment = metric["adjustment"]
    unit = labels.metric_unit(metric["metric"])
    effects = "; ".join(
        translate_count(
            language,
            EVALUATOR_EFFECT,
            int(e["evaluations"]),
            evaluator=e["evaluator"],
            effect=format_number(e["effect"], "signed_score", language),
            count=format_number(e["evaluations"], "int", language),
        )
        for e in adjustment.get("evaluators", [])
    )
    text = (
        _tr(
            language,
            N_("adjusted for evaluators; as scored: {raw}"),
            raw=format_value(adjustment["raw"], unit, language),
        )
        if adjustment.get("used")
        else _tr(
            language,
            N_("as scored; adjusted for evaluators: {adjusted}"),
            adjusted=format_value(adjustment["adjusted"], unit, language),
        )
    )
    name = labels.metric_name(metric["metric"], language)
    return f"{name}: {text}" + (f"; {effects}" if effects else "")


def _metric_value(value: float | None, metric_id: str) -> Value:
    return Value(value, kind_of_unit(labels.metric_unit(metric_id)))


def _generated(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _subtitle(language: Language, period: str, generated_at: datetime) -> str:
    return _tr(
        language,
        N_("Period {period} · generated {date}"),
        period=period,
        date=format_date(generated_at.date(), language),
    )


def _team(view: decisions_schemas.DecisionView) -> str:
    return view.team_code or "—"


def _agent_columns(language: Language) -> list[Column]:
    return [
        Column(_tr(language, N_("Employee no.")), width=0.9),
        Column(_tr(language, N_("Name")), width=0.9),
        Column(_tr(language, N_("Team")), width=0.6),
    ]


def _agent_cells(view: decisions_schemas.DecisionView) -> list[Cell]:
    return [view.employee_no, view.name, _team(view)]


def _facts(language: Language, pairs: Iterable[tuple[str, Cell]]) -> Section:
    return Section(
        key="summary",
        title=_tr(language, N_("Summary")),
        columns=[
            Column(_tr(language, N_("Item")), width=1),
            Column(_tr(language, N_("Value")), width=2),
        ],
        rows=[[label, value] for label, value in pairs],
    )


def _none(language: Language) -> str:
    return _tr(language, N_("None"))


# --- the agent's scorecard ----------------------------------------------------------------


def scorecard_document(
    *,
    session: Session,
    employee_no: str,
    language: Language,
    scope: org_service.AgentScope,
    period: Period | None = None,
    now: datetime | None = None,
) -> Document:
    """An agent's scorecard for a period (default: the latest decided): level, progress to
    the next level per gate, trend, evidence with sample sizes, decisions and appeals."""
    agent = org_service.get_agent_by_employee_no(session=session, employee_no=employee_no)
    if agent is None:
        raise NotFound("no agent has the employee number {employee_no}", employee_no=employee_no)
    card = insights_service.scorecard(session=session, agent_id=agent.id, scope=scope)
    if card.latest is None:
        raise NotFound(
            "the ladder has not decided any period for agent {employee_no} yet",
            employee_no=employee_no,
        )
    wanted = period.label if period else card.latest.period
    view = next((v for v in card.decisions if v.period == wanted), None)
    if view is None:
        raise NotFound(
            "agent {employee_no} has no ladder decision for {period} (decided: {periods})",
            employee_no=employee_no,
            period=wanted,
            periods=", ".join(v.period for v in card.decisions),
        )
    history = [v for v in card.decisions if v.period <= view.period]  # newest first
    generated_at = _generated(now)
    person = card.agent
    title = _tr(language, N_("Agent scorecard"))
    return Document(
        kind="scorecard",
        title=f"{title} · {person.name} ({person.employee_no})",
        subtitle=_subtitle(language, view.period, generated_at),
        language=language,
        generated_at=generated_at,
        footer=title,
        sections=[
            _scorecard_summary(card, view, language),
            _progress_section(card, view, language),
            _trend_section(card, history, language),
            _evidence_section(view, language),
            _decisions_section(history, language),
            _appeals_section(history, language),
        ],
    )


def _scorecard_summary(
    card: insights_service.Scorecard, view: decisions_schemas.DecisionView, language: Language
) -> Section:
    person = card.agent
    team = f"{person.team_name} ({person.team_code})" if person.team_code else "—"
    following = _next_level(view.effective_level)
    section = _facts(
        language,
        [
            (_tr(language, N_("Employee no.")), person.employee_no),
            (_tr(language, N_("Name")), person.name),
            (_tr(language, N_("Team")), team),
            (_tr(language, N_("Skill groups")), _skill_groups(person, language)),
            (_tr(language, N_("Hire date")), format_date(person.hire_date, language)),
            (_tr(language, N_("Current level")), _level(person.current_level, language)),
            (_tr(language, N_("At this level since")), format_date(person.level_since, language)),
            (_tr(language, N_("Period")), view.period),
            (_tr(language, N_("Level in the period")), _level(view.from_level, language)),
            (
                _tr(language, N_("Decision")),
                labels.name(labels.DECISION_NAMES, view.decision, language),
            ),
            (
                _tr(language, N_("Status")),
                labels.name(labels.STATUS_NAMES, view.status, language),
            ),
            (_tr(language, N_("Level after the decision")), _level(view.effective_level, language)),
            (_tr(language, N_("Composite score")), Value(view.composite, "decimal1")),
            (
                _tr(language, N_("Next level")),
                _level(following, language)
                if following
                else _tr(language, N_("the top of the ladder")),
            ),
            (_tr(language, N_("Policy version")), view.policy_hash[:12]),
        ],
    )
    section.notes_title = _tr(language, N_("Explanation"))
    section.notes = view.explanation(language)
    return section


def _progress_section(
    card: insights_service.Scorecard, view: decisions_schemas.DecisionView, language: Language
) -> Section:
    section = Section(
        key="progress",
        title=_tr(language, N_("Progress to the next level")),
        columns=[
            Column(_tr(language, N_("Gate")), width=1.6),
            Column(_tr(language, N_("For level")), width=1.2),
            Column(_tr(language, N_("Required")), "decimal2", width=0.8),
            Column(_tr(language, N_("Actual")), "decimal2", width=0.8),
            Column(_tr(language, N_("Progress")), "percent", width=0.8),
            Column(_tr(language, N_("Met")), width=0.5),
        ],
        chart=Chart("progress", label=0, value=4),
        notes_title=_tr(language, N_("Still needed")),
    )
    if view.effective_level != view.from_level:
        section.empty = _tr(
            language,
            N_(
                "This period's decision moves the agent to {level}; progress toward the next "
                "level starts with the next period."
            ),
            level=_level(view.effective_level, language),
        )
        return section
    target = _next_level(view.from_level)
    if target is None:
        section.empty = _tr(language, N_("At the top of the ladder."))
        return section
    if card.latest is not None and view.period == card.latest.period:
        progress = card.progress
    else:
        progress = insights_service.progress_toward(view, target)
    for gate in progress:
        section.rows.append(
            [
                labels.gate_name(gate.gate, language),
                _level(gate.level, language) if gate.level else _tr(language, N_("Evidence")),
                _gate_value(gate.required, language),
                _gate_value(gate.actual, language),
                gate.share,
                _yes_no(gate.passed, language),
            ]
        )
    section.figure = figures.gate_progress(progress, language)
    section.notes = view.gaps(language)
    section.empty = _none(language)
    return section


def _trend_section(
    card: insights_service.Scorecard,
    history: list[decisions_schemas.DecisionView],
    language: Language,
) -> Section:
    trend = [(v.period, v.composite) for v in reversed(history)]
    return Section(
        key="trend",
        title=_tr(language, N_("Composite score over time")),
        columns=[
            Column(_tr(language, N_("Period"))),
            Column(_tr(language, N_("Composite score")), "decimal1"),
            Column(_tr(language, N_("Decision"))),
            Column(_tr(language, N_("Level after the decision")), width=1.4),
        ],
        rows=[
            [
                v.period,
                v.composite,
                labels.name(labels.DECISION_NAMES, v.decision, language),
                _level(v.effective_level, language),
            ]
            for v in reversed(history)
        ],
        chart=Chart("line", label=0, value=1),
        figure=figures.score_trend(trend, card.bands, card.promotion_score, language),
        empty=_none(language),
    )


def _evidence_section(view: decisions_schemas.DecisionView, language: Language) -> Section:
    section = Section(
        key="evidence",
        title=_tr(language, N_("Evidence {period}"), period=view.period),
        columns=[
            Column(_tr(language, N_("Component")), width=1.3),
            Column(_tr(language, N_("Weight")), "decimal1", width=0.6),
            Column(_tr(language, N_("Component score")), "decimal1", width=0.8),
            Column(_tr(language, N_("Metric")), width=1.5),
            Column(_tr(language, N_("Metric weight")), "decimal1", width=0.6),
            Column(_tr(language, N_("Value")), "decimal2", width=0.8),
            Column(_tr(language, N_("Sample size")), "int", width=0.7),
            Column(_tr(language, N_("Shrunk value")), "decimal2", width=0.8),
            Column(_tr(language, N_("Points")), "decimal1", width=0.6),
            Column(_tr(language, N_("Source")), width=0.7),
        ],
        empty=_none(language),
    )
    for component in view.detail.get("components", []):
        for metric in component["metrics"]:
            section.rows.append(
                [
                    labels.name(labels.COMPONENT_NAMES, component["component"], language),
                    _number(component["weight"]),
                    component["score"],
                    labels.metric_name(metric["metric"], language),
                    _number(metric["weight"]),
                    _metric_value(metric["raw"], metric["metric"]),
                    metric["sample_size"],
                    _metric_value(metric["shrunk"], metric["metric"]),
                    metric["points"],
                    labels.name(labels.SOURCE_NAMES, metric["source"], language)
                    if metric["source"]
                    else "—",
                ]
            )
            if metric.get("adjustment"):
                section.notes.append(_adjustment_note(metric, language))
            if metric.get("pooled"):
                name = labels.metric_name(metric["metric"], language)
                section.notes.append(
                    f"{name}: {decisions_schemas.pooled_text(metric['pooled'], language)}"
                )
        if component.get("renormalised"):
            section.notes.append(
                _tr(
                    language,
                    N_(
                        "{component}: some metrics had no data; the others' weights were scaled up."
                    ),
                    component=labels.name(labels.COMPONENT_NAMES, component["component"], language),
                )
            )
    return section


def _decisions_section(
    history: list[decisions_schemas.DecisionView], language: Language
) -> Section:
    return Section(
        key="decisions",
        title=_tr(language, N_("Decisions")),
        columns=[
            Column(_tr(language, N_("Period")), width=0.7),
            Column(_tr(language, N_("From")), width=1.1),
            Column(_tr(language, N_("To")), width=1.1),
            Column(_tr(language, N_("Decision")), width=0.8),
            Column(_tr(language, N_("Status")), width=0.8),
            Column(_tr(language, N_("Composite score")), "decimal1", width=0.7),
            Column(_tr(language, N_("Explanation")), "longtext", width=3.2),
        ],
        rows=[
            [
                v.period,
                _level(v.from_level, language),
                _level(v.to_level, language),
                labels.name(labels.DECISION_NAMES, v.decision, language),
                labels.name(labels.STATUS_NAMES, v.status, language),
                v.composite,
                "\n".join(v.explanation(language)),
            ]
            for v in history
        ],
        empty=_none(language),
    )


def _appeals_section(history: list[decisions_schemas.DecisionView], language: Language) -> Section:
    section = Section(
        key="appeals",
        title=_tr(language, N_("Overrides and appeals")),
        columns=[
            Column(_tr(language, N_("Period")), width=0.7),
            Column(_tr(language, N_("Type")), width=0.6),
            Column(_tr(language, N_("Decision or status")), width=0.9),
            Column(_tr(language, N_("Level")), width=1.1),
            Column(_tr(language, N_("Reason or appeal")), "longtext", width=2.2),
            Column(_tr(language, N_("Response")), "longtext", width=1.6),
            Column(_tr(language, N_("Date")), width=0.8),
        ],
        empty=_none(language),
    )
    for view in history:
        for override in view.overrides:
            section.rows.append(
                [
                    view.period,
                    _tr(language, N_("Override")),
                    labels.name(labels.DECISION_NAMES, override["decision"], language),
                    _level(override["to_level"], language),
                    override["reason"],
                    "",
                    str(override["at"])[:10],
                ]
            )
        for appeal in view.appeals:
            section.rows.append(
                [
                    view.period,
                    _tr(language, N_("Appeal")),
                    labels.name(labels.APPEAL_NAMES, appeal["status"], language),
                    "",
                    appeal["text"],
                    appeal["response"] or "",
                    str(appeal["at"])[:10],
                ]
            )
    return section


# --- the team dashboard -------------------------------------------------------------------


def team_document(
    *,
    session: Session,
    language: Language,
    scope: org_service.AgentScope,
    today: date,
    period: Period | None = None,
    team_code: str | None = None,
    now: datetime | None = None,
) -> Document:
    """A team's (or the centre's) dashboard for a period (default: the latest decided): the
    level pyramid, the score distribution, who is close to promotion, who is at risk, and
    what waits for approval."""
    team_id, team_label = None, _tr(language, N_("All teams"))
    if team_code:
        team = org_service.get_team_by_code(session=session, code=team_code)
        if team is None:
            raise NotFound("no team has the code {code}", code=team_code)
        team_id, team_label = team.id, f"{team.name} ({team.code})"
    board = insights_service.team_dashboard(
        session=session, scope=scope, today=today, period=period, team_id=team_id
    )
    if board.period is None:
        raise NotFound("the ladder has not decided any period yet")
    if not board.decisions:
        raise NotFound(
            "no ladder decisions for {period} ({team})", period=board.period, team=team_label
        )
    generated_at = _generated(now)
    title = _tr(language, N_("Team dashboard"))
    kinds = Counter(v.decision for v in board.decisions)
    summary = _facts(
        language,
        [
            (_tr(language, N_("Period")), board.period),
            (_tr(language, N_("Team")), team_label),
            (_tr(language, N_("Agents")), Value(sum(n for _, n in board.pyramid), "int")),
            (_tr(language, N_("Decisions")), Value(len(board.decisions), "int")),
            *(
                (
                    labels.name(labels.DECISION_NAMES, kind, language),
                    Value(kinds[kind], "int"),
                )
                for kind in labels.DECISION_NAMES
            ),
            (_tr(language, N_("Waiting for approval")), Value(len(board.pending), "int")),
            (_tr(language, N_("Close to promotion")), Value(len(board.close_to_promotion), "int")),
            (_tr(language, N_("At risk of demotion")), Value(len(board.at_risk), "int")),
        ],
    )
    summary.notes = [
        _tr(
            language,
            N_("The pyramid counts the agents employed on {date}."),
            date=format_date(today, language),
        )
    ]
    return Document(
        kind="team",
        title=f"{title} · {team_label}",
        subtitle=_subtitle(language, board.period, generated_at),
        language=language,
        generated_at=generated_at,
        footer=title,
        sections=[
            summary,
            _pyramid_section(board, language),
            _distribution_section(board, language),
            *([_teams_section(board, language)] if len(board.teams) > 1 else []),
            _close_section(board, language),
            _at_risk_section(board, language),
            _pending_section(board, language),
            _team_decisions_section(board, language),
        ],
    )


def _pyramid_section(board: insights_service.TeamDashboard, language: Language) -> Section:
    tiers = {level.id: level.tier for level in LEVELS}
    return Section(
        key="pyramid",
        title=_tr(language, N_("Level pyramid")),
        columns=[
            Column(_tr(language, N_("Tier"))),
            Column(_tr(language, N_("Level")), width=1.4),
            Column(_tr(language, N_("Agents")), "int", width=0.6),
        ],
        rows=[
            [
                _tr(language, TIER_NAMES[tiers[level_id]]),
                _level(level_id, language),
                count,
            ]
            for level_id, count in reversed(board.pyramid)
        ],
        chart=Chart("bars", label=1, value=2),
        figure=figures.level_pyramid(board, language),
    )


def _distribution_section(board: insights_service.TeamDashboard, language: Language) -> Section:
    return Section(
        key="distribution",
        title=_tr(language, N_("Composite score distribution")),
        columns=[
            Column(_tr(language, N_("Score band"))),
            Column(_tr(language, N_("Agents")), "int", width=0.6),
        ],
        rows=[[band, count] for band, count in board.score_bins],
        chart=Chart("columns", label=0, value=1),
        figure=figures.score_distribution(board, language),
    )


def _teams_section(board: insights_service.TeamDashboard, language: Language) -> Section:
    return Section(
        key="teams",
        title=_tr(language, N_("Teams compared")),
        columns=[
            Column(_tr(language, N_("Team"))),
            Column(_tr(language, N_("Agents")), "int", width=0.6),
            Column(_tr(language, N_("Mean composite score")), "score", width=0.9),
        ],
        rows=[[team.team_code, team.agents, team.mean_composite] for team in board.teams],
        chart=Chart("bars", label=0, value=2),
        figure=figures.team_comparison(board, language),
    )


def _close_section(board: insights_service.TeamDashboard, language: Language) -> Section:
    return Section(
        key="close_to_promotion",
        title=_tr(language, N_("Close to promotion")),
        columns=[
            *_agent_columns(language),
            Column(_tr(language, N_("Level")), width=1.1),
            Column(_tr(language, N_("Next level")), width=1.1),
            Column(_tr(language, N_("Composite score")), "decimal1", width=0.7),
            Column(_tr(language, N_("Still needed")), "longtext", width=2.2),
        ],
        rows=[
            [
                *_agent_cells(v),
                _level(v.from_level, language),
                _level(_next_level(v.from_level), language),
                v.composite,
                "\n".join(v.gaps(language)) or _tr(language, N_("Every gate is met.")),
            ]
            for v in board.close_to_promotion
        ],
        empty=_none(language),
    )


def _floor_reason(view: decisions_schemas.DecisionView, language: Language) -> str:
    sentences = view.explanation(language)
    for index, reason in enumerate(view.detail.get("reasons", [])):
        if str(reason.get("message", "")).startswith("Below the floor"):
            return sentences[index]
    return sentences[-1] if sentences else ""


def _at_risk_section(board: insights_service.TeamDashboard, language: Language) -> Section:
    return Section(
        key="at_risk",
        title=_tr(language, N_("At risk of demotion")),
        columns=[
            *_agent_columns(language),
            Column(_tr(language, N_("Level")), width=1.1),
            Column(_tr(language, N_("Composite score")), "decimal1", width=0.7),
            Column(_tr(language, N_("Why")), "longtext", width=3.3),
        ],
        rows=[
            [
                *_agent_cells(v),
                _level(v.from_level, language),
                v.composite,
                _floor_reason(v, language),
            ]
            for v in board.at_risk
        ],
        empty=_none(language),
    )


def _pending_section(board: insights_service.TeamDashboard, language: Language) -> Section:
    return Section(
        key="pending",
        title=_tr(language, N_("Waiting for approval")),
        columns=[
            *_agent_columns(language),
            Column(_tr(language, N_("Decision")), width=0.8),
            Column(_tr(language, N_("From")), width=1.1),
            Column(_tr(language, N_("To")), width=1.1),
            Column(_tr(language, N_("Composite score")), "decimal1", width=0.7),
            Column(_tr(language, N_("Explanation")), "longtext", width=2.2),
        ],
        rows=[
            [
                *_agent_cells(v),
                labels.name(labels.DECISION_NAMES, v.decision, language),
                _level(v.from_level, language),
                _level(v.to_level, language),
                v.composite,
                "\n".join(v.explanation(language)[-1:]),
            ]
            for v in board.pending
        ],
        empty=_none(language),
    )


def _team_decisions_section(board: insights_service.TeamDashboard, language: Language) -> Section:
    return Section(
        key="decisions",
        title=_tr(language, N_("Decisions")),
        columns=[
            *_agent_columns(language),
            Column(_tr(language, N_("Level")), width=1.1),
            Column(_tr(language, N_("Decision")), width=0.8),
            Column(_tr(language, N_("Status")), width=0.8),
            Column(_tr(language, N_("Level after the decision")), width=1.1),
            Column(_tr(language, N_("Composite score")), "decimal1", width=0.7),
        ],
        rows=[
            [
                *_agent_cells(v),
                _level(v.from_level, language),
                labels.name(labels.DECISION_NAMES, v.decision, language),
                labels.name(labels.STATUS_NAMES, v.status, language),
                _level(v.effective_level, language),
                v.composite,
            ]
            for v in sorted(board.decisions, key=lambda v: (v.team_code or "", v.employee_no))
        ],
        empty=_none(language),
    )


# --- the promotion list and the fairness table ---------------------------------------------


def promotions_document(
    *,
    session: Session,
    language: Language,
    period: Period | None = None,
    now: datetime | None = None,
) -> Document:
    """The period's promotions and demotions with the evidence behind each (奖惩、升迁依据),
    and the fairness table: promotion and demotion rates by team, skill group, tenure band
    and evaluator group, with counts."""
    chosen = period or insights_service.latest_period(session=session)
    if chosen is None:
        raise NotFound("the ladder has not decided any period yet")
    moves = insights_service.promotion_list(session=session, period=chosen)
    fairness = insights_service.fairness_table(session=session, period=chosen)
    if not fairness:
        raise NotFound("no ladder decisions for {period}", period=chosen.label)
    generated_at = _generated(now)
    title = _tr(language, N_("Promotion list"))
    decided = [row for row in fairness if row.dimension == "team"]
    agents = sum(row.agents for row in decided)
    promoted = sum(row.promoted for row in decided)
    demoted = sum(row.demoted for row in decided)
    summary = _facts(
        language,
        [
            (_tr(language, N_("Period")), chosen.label),
            (_tr(language, N_("Agents decided")), Value(agents, "int")),
            (_tr(language, N_("Promotions")), Value(promoted, "int")),
            (
                _tr(language, N_("Promotion rate")),
                Value(promoted / agents if agents else None, "percent"),
            ),
            (_tr(language, N_("Demotions")), Value(demoted, "int")),
            (
                _tr(language, N_("Demotion rate")),
                Value(demoted / agents if agents else None, "percent"),
            ),
            (
                _tr(language, N_("Insufficient evidence")),
                Value(sum(row.insufficient for row in decided), "int"),
            ),
            (
                _tr(language, N_("Waiting for approval")),
                Value(sum(1 for v in moves if v.status == "pending"), "int"),
            ),
            (
                _tr(language, N_("Policy version")),
                ", ".join(sorted({v.policy_hash[:12] for v in moves})) or "—",
            ),
        ],
    )
    return Document(
        kind="promotions",
        title=f"{title} · {chosen.label}",
        subtitle=_subtitle(language, chosen.label, generated_at),
        language=language,
        generated_at=generated_at,
        footer=title,
        landscape=True,
        sections=[summary, _moves_section(moves, language), _fairness_section(fairness, language)],
    )


def _basis(view: decisions_schemas.DecisionView, language: Language) -> str:
    lines = list(view.explanation(language))
    for override in view.overrides:
        lines.append(
            _tr(
                language,
                N_("Override: {decision} to {level} ({reason})"),
                decision=labels.name(labels.DECISION_NAMES, override["decision"], language),
                level=_level(override["to_level"], language),
                reason=override["reason"],
            )
        )
    for appeal in view.appeals:
        lines.append(
            _tr(
                language,
                N_("Appeal ({status}): {text}"),
                status=labels.name(labels.APPEAL_NAMES, appeal["status"], language),
                text=appeal["text"],
            )
        )
    return "\n".join(lines)


def _moves_section(moves: list[decisions_schemas.DecisionView], language: Language) -> Section:
    return Section(
        key="promotions",
        title=_tr(language, N_("Promotions and demotions")),
        columns=[
            *_agent_columns(language),
            Column(_tr(language, N_("Decision")), width=0.7),
            Column(_tr(language, N_("From")), width=1.1),
            Column(_tr(language, N_("To")), width=1.1),
            Column(_tr(language, N_("Composite score")), "decimal1", width=0.7),
            Column(_tr(language, N_("Status")), width=0.8),
            Column(_tr(language, N_("Basis")), "longtext", width=4.2),
        ],
        rows=[
            [
                *_agent_cells(v),
                labels.name(labels.DECISION_NAMES, v.decision, language),
                _level(v.from_level, language),
                _level(v.to_level, language),
                v.composite,
                labels.name(labels.STATUS_NAMES, v.status, language),
                _basis(v, language),
            ]
            for v in moves
        ],
        empty=_tr(language, N_("No promotions or demotions in this period.")),
    )


def _fairness_section(fairness: list[insights_service.FairnessRow], language: Language) -> Section:
    return Section(
        key="fairness",
        title=_tr(language, N_("Fairness table")),
        columns=[
            Column(_tr(language, N_("Dimension")), width=1.1),
            Column(_tr(language, N_("Group")), width=1.5),
            Column(_tr(language, N_("Agents")), "int", width=0.7),
            Column(_tr(language, N_("Promoted")), "int", width=0.7),
            Column(_tr(language, N_("Promotion rate")), "percent", width=0.8),
            Column(_tr(language, N_("Demoted")), "int", width=0.7),
            Column(_tr(language, N_("Demotion rate")), "percent", width=0.8),
            Column(_tr(language, N_("Insufficient evidence")), "int", width=0.8),
        ],
        rows=[
            [
                labels.name(labels.DIMENSION_NAMES, row.dimension, language),
                row.group,
                row.agents,
                row.promoted,
                row.promotion_rate,
                row.demoted,
                row.demotion_rate,
                row.insufficient,
            ]
            for row in fairness
        ],
        notes=[
            _tr(
                language,
                N_(
                    "Promotion and demotion rates by group. Large differences between groups "
                    "of similar size deserve a look at the evidence behind them."
                ),
            ),
            _tr(
                language,
                N_("Evaluator group: where the agent's QA evidence came from."),
            ),
        ],
    )
