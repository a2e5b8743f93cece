"""What the ladder's reports show, from stored decisions: an agent's scorecard (the career
plan), a team's dashboard, the period's promotion list and the fairness table. The pages,
the CLI reports and the XLSX/PDF exports all read these."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from agentladder.config import Language
from agentladder.formatting import name_sort_key
from agentladder.ladder.decisions.rules import months_between
from agentladder.ladder.decisions.schemas import DecisionView
from agentladder.ladder.decisions.scoring import wilson_interval
from agentladder.ladder.decisions.service import decision_periods, decision_views
from agentladder.ladder.policy.schemas import LadderPolicy
from agentladder.ladder.policy.service import current_policy
from agentladder.metrics import service as metrics_service
from agentladder.org import service as org_service
from agentladder.org.schemas import LEVELS
from agentladder.periods import Period, parse_period

TENURE_BANDS = ((0, 6, "0-6"), (6, 12, "6-12"), (12, 24, "12-24"), (24, 10_000, "24+"))


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass
class GateProgress:
    """One gate toward the next level as a progress bar."""

    gate: str
    level: str
    required: Any
    actual: Any
    passed: bool
    share: float  # 0..1

    @classmethod
    def of(cls, gate: dict[str, Any]) -> GateProgress:
        """A stored gate as progress: a number short of the least it requires shows how far it
        got; anything else (a certificate, a quota place, a limit exceeded) is met or not."""
        share = 1.0 if gate["passed"] else 0.0
        required, actual = gate["required"], gate["actual"]
        if (
            not gate["passed"]
            and _number(required)
            and _number(actual)
            and required
            and actual < required
        ):
            share = max(0.0, min(1.0, actual / required))
        return cls(gate["gate"], gate["level"], required, actual, gate["passed"], share)


@dataclass(frozen=True)
class LevelBand:
    """The composite scores that belong to a level under the policy: from its entry score up
    to the next level's."""

    level: str
    low: float
    high: float


def level_bands(policy: LadderPolicy) -> list[LevelBand]:
    """Every level's score band, bottom to top (the first level starts at 0, the top ends at
    100)."""
    ids = policy.level_ids()
    entries = [
        policy.promotion.entry[i].min_score if i in policy.promotion.entry else 0.0 for i in ids
    ]
    entries[0] = 0.0
    return [
        LevelBand(level, low, entries[k + 1] if k + 1 < len(ids) else 100.0)
        for k, (level, low) in enumerate(zip(ids, entries, strict=True))
    ]


def promotion_score(policy: LadderPolicy, target: str | None) -> float | None:
    """The composite a period must reach to qualify for a level (its entry score plus the
    policy's band); None at the top."""
    entry = policy.promotion.entry.get(target) if target else None
    return entry.min_score + policy.promotion.band if entry is not None else None


@dataclass
class Scorecard:
    """An agent's career plan: level, the gates to the next one, evidence, history."""

    agent: org_service.AgentRead
    latest: DecisionView | None
    next_level: str | None
    progress: list[GateProgress]
    trend: list[tuple[str, float | None]]  # (period, composite), oldest first
    decisions: list[DecisionView]
    bands: list[LevelBand] = field(default_factory=list)
    promotion_score: float | None = None  # what qualifies for the next level

    def gaps(self, language: Language) -> list[str]:
        """The latest decision's gap to the next level in words."""
        return self.latest.gaps(language) if self.latest else []


def _next_level(level: str) -> str | None:
    ids = [lvl.id for lvl in LEVELS]
    index = ids.index(level)
    return ids[index + 1] if index + 1 < len(ids) else None


def progress_toward(view: DecisionView, target: str | None) -> list[GateProgress]:
    """A decision's gates toward a level (and the evidence minimums) as progress bars."""
    return [
        GateProgress.of(gate)
        for gate in view.detail["gates"]
        if gate["level"] in ("", target) and gate["gate"] != "current_certifications"
    ]


def scorecard(
    *,
    session: Session,
    agent_id: int,
    scope: org_service.AgentScope,
    period: Period | None = None,
) -> Scorecard:
    """An agent's scorecard (the agent's own home page), as of a period's decision (default:
    the latest); out of scope: NotFound."""
    agent = org_service.get_agent_or_raise(session=session, agent_id=agent_id, scope=scope)
    person = org_service.agent_read(agent)
    views = decision_views(session=session, agent_ids=[agent_id])
    if period is not None:
        views = [view for view in views if view.period <= period.label]
    latest = views[0] if views else None
    level = latest.from_level if latest is not None and period is not None else agent.current_level
    target = _next_level(level)
    progress = (
        progress_toward(latest, target) if latest is not None and latest.from_level == level else []
    )
    trend = [(view.period, view.composite) for view in reversed(views)]
    policy = current_policy(session=session).policy
    return Scorecard(
        person,
        latest,
        target,
        progress,
        trend,
        views,
        bands=level_bands(policy),
        promotion_score=promotion_score(policy, target),
    )


@dataclass(frozen=True)
class TeamScore:
    """A team's composite scores in a period, for comparing teams."""

    team_code: str
    agents: int  # agents with a composite score
    mean_composite: float


def team_scores(views: list[DecisionView]) -> list[TeamScore]:
    """The mean composite score of each team's decided agents, best first."""
    scores: dict[str, list[float]] = defaultdict(list)
    for view in views:
        if view.composite is not None:
            scores[view.team_code or "-"].append(view.composite)
    found = [TeamScore(team, len(got), sum(got) / len(got)) for team, got in scores.items()]
    return sorted(found, key=lambda t: (-t.mean_composite, t.team_code))


@dataclass
class TeamDashboard:
    """A team's (or the centre's) standing for a period."""

    period: str | None
    pyramid: list[tuple[str, int]]  # level id, agents (bottom to top)
    score_bins: list[tuple[str, int]]  # "60-70", agents
    close_to_promotion: list[DecisionView]
    at_risk: list[DecisionView]
    pending: list[DecisionView]
    decisions: list[DecisionView] = field(default_factory=list)

    @property
    def teams(self) -> list[TeamScore]:
        """The teams side by side: mean composite score of the period's decisions."""
        return team_scores(self.decisions)


def latest_period(*, session: Session) -> Period | None:
    """The newest period with decisions."""
    periods = decision_periods(session=session)
    return parse_period(periods[0]) if periods else None


@dataclass(frozen=True)
class CompositeTrend:
    """An agent's composite score in the latest decided period and the change since the period
    before it."""

    period: str
    composite: float | None
    previous_period: str | None
    previous: float | None

    @property
    def change(self) -> float | None:
        """Points gained (negative: lost) since the previous period; None without both."""
        if self.composite is None or self.previous is None:
            return None
        return self.composite - self.previous


def composite_trends(*, session: Session, agent_ids: Sequence[int]) -> dict[int, CompositeTrend]:
    """Each agent's composite score in the newest decided period, with the period of the same
    kind before it (agents without a decision in the newest period are absent)."""
    latest = latest_period(session=session)
    if latest is None or not agent_ids:
        return {}
    before = latest.previous()
    current = decision_views(session=session, period=latest, agent_ids=agent_ids)
    earlier = {
        view.agent_id: view.composite
        for view in decision_views(session=session, period=before, agent_ids=agent_ids)
    }
    return {
        view.agent_id: CompositeTrend(
            latest.label,
            view.composite,
            before.label if view.agent_id in earlier else None,
            earlier.get(view.agent_id),
        )
        for view in current
    }


@dataclass(frozen=True)
class AgentListRow:
    """A line of the agent list: who the agent is, and their latest composite score."""

    agent: org_service.AgentRead
    trend: CompositeTrend | None

    @property
    def composite(self) -> float | None:
        """The composite score of the newest decided period."""
        return self.trend.composite if self.trend else None

    @property
    def change(self) -> float | None:
        """The change of the composite score since the period before."""
        return self.trend.change if self.trend else None


AGENT_LIST_SORTS = ("employee_no", "name", "team", "level", "composite", "change", "since", "hired")


def agent_list(
    *, session: Session, agents: list[org_service.AgentRead], sort: str, desc: bool
) -> list[AgentListRow]:
    """Agents with their latest composite score and its trend, ordered by a column (ties and
    missing scores by employee number, missing scores last either way)."""
    trends = composite_trends(session=session, agent_ids=[a.id for a in agents])
    rows = sorted(
        (AgentListRow(agent, trends.get(agent.id)) for agent in agents),
        key=lambda r: r.agent.employee_no,
    )
    if sort in ("composite", "change"):
        known = [r for r in rows if getattr(r, sort) is not None]
        known.sort(key=lambda r: getattr(r, sort) or 0.0, reverse=desc)
        return known + [r for r in rows if getattr(r, sort) is None]
    ranks = {level.id: index for index, level in enumerate(LEVELS)}
    keys: dict[str, Any] = {
        "name": lambda r: r.agent.name,
        "team": lambda r: name_sort_key(r.agent.team_name or ""),
        "level": lambda r: ranks.get(r.agent.current_level, -1),
        "since": lambda r: r.agent.level_since,
        "hired": lambda r: r.agent.hire_date,
    }
    return sorted(rows, key=keys.get(sort, lambda r: r.agent.employee_no), reverse=desc)


def team_dashboard(
    *,
    session: Session,
    scope: org_service.AgentScope,
    today: date,
    period: Period | None = None,
    team_id: int | None = None,
) -> TeamDashboard:
    """Pyramid, score distribution, who is close to promotion or at risk, what waits for
    approval: the agents the viewer may see (optionally one team)."""
    chosen = period or latest_period(session=session)
    standings = [
        p
        for p in org_service.standings_on(session=session, on=today)
        if scope.everyone or p.team_id in scope.team_ids or p.agent_id == scope.agent_id
    ]
    if team_id is not None:
        standings = [p for p in standings if p.team_id == team_id]
    visible = {p.agent_id for p in standings}
    counts = Counter(p.level for p in standings)
    views = (
        [v for v in decision_views(session=session, period=chosen) if v.agent_id in visible]
        if chosen
        else []
    )
    bins = Counter(
        f"{int(v.composite // 10 * 10)}-{int(v.composite // 10 * 10) + 10}"
        for v in views
        if v.composite is not None
    )
    close = sorted(
        (v for v in views if v.decision == "hold" and _qualifying(v)),
        key=lambda v: -(v.composite or 0),
    )
    at_risk = sorted(
        (v for v in views if v.decision == "hold" and v.below_floor),
        key=lambda v: v.composite or 0,
    )
    return TeamDashboard(
        period=chosen.label if chosen else None,
        pyramid=[(level.id, counts.get(level.id, 0)) for level in LEVELS],
        score_bins=[
            (f"{low}-{low + 10}", bins.get(f"{low}-{low + 10}", 0)) for low in range(0, 100, 10)
        ],
        close_to_promotion=close,
        at_risk=at_risk,
        pending=[v for v in views if v.status == "pending"],
        decisions=views,
    )


def _qualifying(view: DecisionView) -> bool:
    target = [g for g in view.detail["gates"] if g["level"] and g["level"] != view.from_level]
    return bool(target) and all(g["passed"] for g in target if g["gate"] != "quota")


def promotion_list(*, session: Session, period: Period) -> list[DecisionView]:
    """The period's promotions and demotions (奖惩、升迁依据), promotions first, best first."""
    views = [
        v
        for v in decision_views(session=session, period=period)
        if v.decision in ("promote", "demote")
    ]
    return sorted(
        views, key=lambda v: (v.decision != "promote", -(v.composite or 0), v.employee_no)
    )


# The order of the decisions page: what waits for a manager first.
STATUS_ORDER = ("pending", "final", "approved", "applied", "rejected")
DECISION_ORDER = ("promote", "demote", "hold", "insufficient_evidence")
DECISION_SORTS = ("status", "agent", "team", "decision", "composite")


def review_list(
    *,
    session: Session,
    period: Period,
    team_code: str | None = None,
    decision: str | None = None,
    status: str | None = None,
    sort: str = "status",
    desc: bool = False,
) -> list[DecisionView]:
    """A period's decisions, filtered by team, kind and status; by default those pending
    approval first, then by employee number."""
    views = [
        view
        for view in decision_views(
            session=session, period=period, statuses=[status] if status else None
        )
        if (not team_code or (view.team_code or "").lower() == team_code.lower())
        and (not decision or view.decision == decision)
    ]
    return sort_decisions(views, sort, desc)


def sort_decisions(views: list[DecisionView], sort: str, desc: bool) -> list[DecisionView]:
    """Decisions ordered by a column (status: pending first); ties by employee number, and
    decisions without a composite score last whichever the direction."""
    views = sorted(views, key=lambda v: v.employee_no)
    if sort == "composite":
        scored = [v for v in views if v.composite is not None]
        scored.sort(key=lambda v: v.composite or 0.0, reverse=desc)
        return scored + [v for v in views if v.composite is None]
    keys: dict[str, Any] = {
        "agent": lambda v: v.employee_no,
        "team": lambda v: v.team_code or "",
        "decision": lambda v: _rank(DECISION_ORDER, v.decision),
        "status": lambda v: _rank(STATUS_ORDER, v.status),
    }
    return sorted(views, key=keys.get(sort, keys["status"]), reverse=desc)


def _rank(order: tuple[str, ...], value: str) -> int:
    return order.index(value) if value in order else len(order)


@dataclass
class FairnessRow:
    """Promotion and demotion rates of one group, and whether they differ from the period's
    rates by more than chance would explain."""

    dimension: str  # team | skill_group | tenure | evaluator_group
    group: str  # the team's code, the skill group, the tenure band, the evaluator group
    agents: int
    promoted: int
    demoted: int
    insufficient: int
    label: str = ""  # as shown: a team's name and code
    # Everyone decided in the period: the rates each group is compared with.
    period_agents: int = 0
    period_promoted: int = 0
    period_demoted: int = 0

    @property
    def promotion_rate(self) -> float | None:
        """Promotions per agent decided."""
        return self.promoted / self.agents if self.agents else None

    @property
    def demotion_rate(self) -> float | None:
        """Demotions per agent decided."""
        return self.demoted / self.agents if self.agents else None

    @property
    def promotion_within_noise(self) -> bool:
        """Whether the period's promotion rate lies inside this group's 95% Wilson interval:
        the group's difference is what chance gives a group of its size."""
        return _within_noise(self.promoted, self.agents, self.period_promoted, self.period_agents)

    @property
    def demotion_within_noise(self) -> bool:
        """Whether the period's demotion rate lies inside this group's 95% Wilson interval."""
        return _within_noise(self.demoted, self.agents, self.period_demoted, self.period_agents)


def _within_noise(hits: int, agents: int, period_hits: int, period_agents: int) -> bool:
    if not period_agents:
        return True
    low, high = wilson_interval(hits, agents)
    return low <= period_hits / period_agents <= high


DIMENSION_ORDER = ("team", "skill_group", "tenure", "evaluator_group")
TENURE_ORDER = tuple(label for _, _, label in TENURE_BANDS)


def _fairness_order(row: FairnessRow) -> tuple[int, int, tuple[tuple[int, int, str], ...]]:
    # Tenure bands from the newest hires up; teams by name (客服二组 before 客服十组); the rest
    # by name too.
    band = TENURE_ORDER.index(row.group) if row.dimension == "tenure" else 0
    return DIMENSION_ORDER.index(row.dimension), band, name_sort_key(row.label or row.group)


def fairness_table(*, session: Session, period: Period) -> list[FairnessRow]:
    """Promotion and demotion rates by team, skill group, tenure band and evaluator group
    (the source of the agent's QA evidence), with counts and a noise check, for one period:
    tenure bands in order, teams by name."""
    chosen = period
    views = decision_views(session=session, period=chosen)
    people = {p.agent_id: p for p in org_service.standings_on(session=session, on=chosen.last_day)}
    names = {
        "team": {t.code: t.name for t in org_service.list_teams(session=session)},
        "skill_group": org_service.skill_group_names(session=session),
    }
    groups: dict[tuple[str, str], list[DecisionView]] = defaultdict(list)
    # The evaluator group is where the agent's evaluator-scored evidence (QA) came from.
    evaluated = {d.id for d in metrics_service.metric_definitions().values() if d.evaluator_scored}
    for view in views:
        person = people.get(view.agent_id)
        tenure = months_between(person.hire_date, chosen.last_day) if person else 0
        band = next(label for low, high, label in TENURE_BANDS if low <= tenure < high)
        qa_sources = {
            m["source"]
            for c in view.detail["components"]
            for m in c["metrics"]
            if m["metric"] in evaluated and m["raw"] is not None
        }
        keys = [
            ("team", view.team_code or "-"),
            ("skill_group", (person.skill_group if person else None) or "-"),
            ("tenure", band),
            ("evaluator_group", ", ".join(sorted(qa_sources)) or "-"),
        ]
        for key in keys:
            groups[key].append(view)
    period_promoted = sum(1 for v in views if v.decision == "promote")
    period_demoted = sum(1 for v in views if v.decision == "demote")
    rows = [
        FairnessRow(
            dimension,
            group,
            len(members),
            sum(1 for v in members if v.decision == "promote"),
            sum(1 for v in members if v.decision == "demote"),
            sum(1 for v in members if v.decision == "insufficient_evidence"),
            label=f"{names[dimension][group]} ({group})"
            if group in names.get(dimension, {})
            else group,
            period_agents=len(views),
            period_promoted=period_promoted,
            period_demoted=period_demoted,
        )
        for (dimension, group), members in groups.items()
    ]
    return sorted(rows, key=_fairness_order)
