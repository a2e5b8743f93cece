"""Running the ladder for a period: gather the evidence and standings, score, decide, apply
quotas, store the decisions (or only report them), and apply level changes when the policy
approves automatically. Also the policy store, approvals, overrides, appeals and backtests.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.config import Language, Settings, get_settings
from agentladder.db import utcnow
from agentladder.errors import Conflict, Forbidden, InvalidInput, NotFound
from agentladder.freshness import StaleInput
from agentladder.i18n import translate
from agentladder.ladder import evidence as ladder_evidence
from agentladder.ladder import rules, staleness
from agentladder.ladder.levels import LEVELS
from agentladder.ladder.models import Appeal, DecisionOverride, LadderDecision, PolicyVersion
from agentladder.ladder.policy import (
    LADDER_METRICS,
    LadderPolicy,
    parse_policy,
    policy_hash,
)
from agentladder.ladder.policy import default_policy_text as shipped_policy_text
from agentladder.ladder.scoring import Fact, Member, Scorecard, score_agents
from agentladder.metrics import service as metrics_service
from agentladder.metrics.periods import Period, parse_period, periods_between
from agentladder.org import service as org_service
from agentladder.org.models import User
from agentladder.training import service as training_service

# How far back standings look (fatal-error windows, knowledge adoptions).
LOOKBACK_MONTHS = 12
# The metrics whose counts over the look-back window the gates read.
WINDOW_METRICS = ("qa_fatal_errors", "kb_adopted")
ACTED_STATUSES = ("approved", "applied", "rejected")


# --- policies --------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedPolicy:
    """A validated policy with its text and hash."""

    policy: LadderPolicy
    text: str
    content_hash: str
    version_id: int | None = None  # None: the shipped default, never applied


def known_metrics() -> set[str]:
    """Metric ids a policy may name: the KPIs and the ladder's own evidence metrics."""
    return set(metrics_service.AGENT_METRIC_IDS) | set(LADDER_METRICS)


def load_policy_text(*, session: Session, text: str) -> LoadedPolicy:
    """Validate policy YAML against the metrics and certification types this centre has."""
    policy = parse_policy(
        text,
        known_metrics=known_metrics(),
        known_certifications=training_service.known_certification_types(session=session),
    )
    return LoadedPolicy(policy, text, policy_hash(policy))


def current_policy(*, session: Session) -> LoadedPolicy:
    """The policy in force: the latest applied version, else the shipped default."""
    version = session.scalar(
        select(PolicyVersion)
        .where(PolicyVersion.applied_at.is_not(None))
        .order_by(PolicyVersion.applied_at.desc(), PolicyVersion.id.desc())
        .limit(1)
    )
    if version is None:
        return load_policy_text(session=session, text=shipped_policy_text())
    return replace(load_policy_text(session=session, text=version.yaml_text), version_id=version.id)


def apply_policy(
    *, session: Session, text: str, applied_by: User | None = None, note: str = ""
) -> PolicyVersion:
    """Make a policy the one in force (stored once per content hash; history kept)."""
    loaded = load_policy_text(session=session, text=text)
    version = session.scalar(
        select(PolicyVersion).where(PolicyVersion.content_hash == loaded.content_hash)
    )
    if version is None:
        version = PolicyVersion(
            content_hash=loaded.content_hash,
            name=loaded.policy.name,
            yaml_text=text,
            created_by_user_id=applied_by.id if applied_by else None,
        )
        session.add(version)
    version.applied_at = utcnow()
    version.applied_by_user_id = applied_by.id if applied_by else None
    version.note = note
    session.flush()
    return version


def policy_versions(*, session: Session) -> list[PolicyVersion]:
    """Every stored policy version, newest applied first."""
    return list(
        session.scalars(
            select(PolicyVersion).order_by(
                PolicyVersion.applied_at.desc().nulls_last(), PolicyVersion.id.desc()
            )
        )
    )


def policy_diff(old_text: str, new_text: str) -> list[str]:
    """A unified diff between two policy texts, line by line."""
    return list(
        difflib.unified_diff(
            old_text.splitlines(), new_text.splitlines(), "current", "proposed", lineterm=""
        )
    )


# --- gathering ------------------------------------------------------------------------


@dataclass
class PeriodInputs:
    """Everything the rules need for one period."""

    period: Period
    members: dict[int, Member]
    people: dict[int, org_service.LevelStanding]
    facts: dict[int, dict[str, Fact]]
    standings: dict[int, rules.Standing]


def _month_labels_back(period: Period, months: int) -> list[str]:
    """Month labels from the period's last month back `months` months, newest first."""
    year, month = period.last_day.year, period.last_day.month
    labels = []
    for _ in range(months):
        labels.append(f"{year}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return labels


def _quarter_of(month_label: str) -> str:
    year, month = month_label.split("-")
    return f"{year}-Q{(int(month) - 1) // 3 + 1}"


def _step_back(period: Period) -> Period:
    day_before = period.first_day.toordinal() - 1
    return periods_between(period.kind, date.fromordinal(day_before), date.fromordinal(day_before))[
        0
    ]


def _window_counts(
    window_facts: ladder_evidence.PeriodFacts, agent_id: int, metric_id: str, months: list[str]
) -> list[int]:
    # A month's count is the month's own fact, else a quarter fact on its quarter's last month.
    counts = []
    for label in months:
        fact = window_facts.get(label, {}).get(agent_id, {}).get(metric_id)
        if fact is None and int(label[5:]) % 3 == 0:
            fact = window_facts.get(_quarter_of(label), {}).get(agent_id, {}).get(metric_id)
        counts.append(int(fact.value or 0) if fact is not None else 0)
    return counts


@dataclass(frozen=True)
class PeriodEvidence:
    """What a period's decisions read besides the roster: the window counts, the period's
    facts and the certificates valid on its last day. The same for every policy, so a
    backtest reads it once for both."""

    months: list[str]  # the look-back window, newest first
    window_facts: ladder_evidence.PeriodFacts
    period_facts: dict[int, dict[str, Fact]]
    certifications: dict[int, set[str]]


def period_evidence(*, session: Session, period: Period, agent_ids: list[int]) -> PeriodEvidence:
    """The period's evidence from the database."""
    months = _month_labels_back(period, LOOKBACK_MONTHS)
    window = sorted({*months, *(_quarter_of(m) for m in months), period.label})
    return PeriodEvidence(
        months=months,
        # The year back only for the counts the window gates read; everything for the period.
        window_facts=ladder_evidence.gather_facts(
            session=session, periods=window, metrics=WINDOW_METRICS
        ),
        period_facts=ladder_evidence.gather_facts(session=session, periods=[period.label])[
            period.label
        ],
        certifications=training_service.valid_certifications(
            session=session, agent_ids=agent_ids, on=period.last_day
        ),
    )


def gather(
    *,
    session: Session,
    period: Period,
    previous: dict[int, tuple[str, int, int]] | None = None,
    people: list[org_service.LevelStanding] | None = None,
    evidence: PeriodEvidence | None = None,
) -> PeriodInputs:
    """The period's members, facts and standings from the database. `previous` gives the
    level and streaks carried in (default: the stored decisions of the period before; a
    streak counts only at the level it was earned at); `people` the agents and their levels
    (default: the level history on the period's last day); `evidence` what was read already."""
    roster = (
        people
        if people is not None
        else org_service.standings_on(session=session, on=period.last_day)
    )
    if evidence is None:
        evidence = period_evidence(
            session=session, period=period, agent_ids=[p.agent_id for p in roster]
        )
    months, all_facts, period_facts = evidence.months, evidence.window_facts, evidence.period_facts
    certifications = evidence.certifications
    if previous is None:
        previous = stored_streaks(session=session, period=_step_back(period).label)
    members, standings = {}, {}
    for person in roster:
        members[person.agent_id] = Member(person.agent_id, person.team_code, person.skill_group)
        level, qualify, floor = previous.get(person.agent_id, (person.level, 0, 0))
        if level != person.level:
            qualify, floor = 0, 0
        standings[person.agent_id] = rules.Standing(
            agent_id=person.agent_id,
            hire_date=person.hire_date,
            level=person.level,
            level_since=person.level_since,
            entered_by_promotion=person.entered_by_promotion,
            certifications=frozenset(certifications.get(person.agent_id, set())),
            qualify_streak=qualify,
            floor_streak=floor,
            fatal_by_month=tuple(
                _window_counts(all_facts, person.agent_id, "qa_fatal_errors", months)
            ),
            kb_adopted_window=sum(
                _window_counts(
                    all_facts, person.agent_id, "kb_adopted", months[: rules.KB_WINDOW_MONTHS]
                )
            ),
        )
    return PeriodInputs(
        period=period,
        members=members,
        people={p.agent_id: p for p in roster},
        facts={agent_id: period_facts.get(agent_id, {}) for agent_id in members},
        standings=standings,
    )


def stored_streaks(*, session: Session, period: str) -> dict[int, tuple[str, int, int]]:
    """The level and streaks the stored decisions of a period carry to the next one."""
    rows = session.execute(
        select(
            LadderDecision.agent_id,
            LadderDecision.from_level,
            LadderDecision.qualify_streak,
            LadderDecision.floor_streak,
            LadderDecision.status,
        ).where(LadderDecision.period == period)
    )
    # A rejected move starts the count again.
    return {
        agent_id: (level, 0, 0) if status == "rejected" else (level, qualify, floor)
        for agent_id, level, qualify, floor, status in rows
    }


# --- evaluating -----------------------------------------------------------------------


def _protected(policy: LadderPolicy, standing: rules.Standing, period: Period) -> bool:
    if not standing.entered_by_promotion or policy.promotion.protect_periods == 0:
        return False
    first = period
    for _ in range(policy.promotion.protect_periods - 1):
        first = _step_back(first)
    return standing.level_since >= first.first_day


def evaluate(
    policy: LadderPolicy, inputs: PeriodInputs
) -> tuple[dict[int, Scorecard], dict[int, rules.Outcome]]:
    """Score and decide every member for the period (quotas included)."""
    cards = score_agents(policy, inputs.members, inputs.facts)
    outcomes = {
        agent_id: rules.decide(
            policy,
            cards[agent_id],
            standing,
            inputs.period.last_day,
            _protected(policy, standing, inputs.period),
        )
        for agent_id, standing in inputs.standings.items()
    }
    seats = {
        agent_id: rules.QuotaSeat(
            agent_id, cards[agent_id].composite or 0.0, standing.level_since, standing.hire_date
        )
        for agent_id, standing in inputs.standings.items()
    }
    rules.apply_quotas(policy, outcomes, seats, len(inputs.standings))
    return cards, outcomes


def _components(card: Scorecard) -> list[dict[str, Any]]:
    return [
        {
            "component": component.name,
            "weight": component.weight,
            "score": None if component.score is None else round(component.score, 2),
            "renormalised": component.renormalised,
            "metrics": [
                {
                    "metric": metric.metric_id,
                    "weight": metric.weight,
                    "raw": metric.raw,
                    "sample_size": metric.sample_size,
                    "shrunk": None if metric.shrunk is None else round(metric.shrunk, 4),
                    "points": None if metric.points is None else round(metric.points, 2),
                    "points_se": None if metric.points_se is None else round(metric.points_se, 2),
                    "source": metric.source,
                }
                for metric in component.metrics
            ],
        }
        for component in card.components
    ]


def _detail(card: Scorecard, outcome: rules.Outcome) -> dict[str, Any]:
    return {
        "components": _components(card),
        "composite_se": round(card.composite_se, 2),
        "gates": [gate.as_dict() for gate in outcome.gates],
        "reasons": [reason.as_dict() for reason in outcome.reasons],
        "gaps": [gap.as_dict() for gap in outcome.gaps],
        "review": outcome.review,
    }


# --- decisions as everyone reads them ---------------------------------------------------


@dataclass
class DecisionView:
    """A decision with who it is about and everything that explains it."""

    agent_id: int
    employee_no: str
    name: str
    team_code: str | None
    period: str
    from_level: str
    to_level: str
    decision: str
    composite: float | None
    detail: dict[str, Any]
    policy_hash: str
    status: str
    decision_id: int | None = None
    overrides: list[dict[str, Any]] = field(default_factory=list)
    appeals: list[dict[str, Any]] = field(default_factory=list)
    qualify_streak: int = 0  # periods in a row qualifying for the next level, this one included
    floor_streak: int = 0  # periods in a row below the current level's floor

    @property
    def below_floor(self) -> bool:
        """Whether the agent was below the current level's floor this period (at risk)."""
        return self.floor_streak > 0 and self.decision != "demote"

    @property
    def effective_level(self) -> str:
        """The level the decision leaves the agent at: the latest override, else the rule's
        outcome unless a manager rejected it."""
        if self.overrides:
            return str(self.overrides[-1]["to_level"])
        return self.from_level if self.status == "rejected" else self.to_level

    def explanation(self, language: Language) -> list[str]:
        """The decision's reasons in the reader's language."""
        return [render(reason, language) for reason in self.detail.get("reasons", [])]

    def gaps(self, language: Language) -> list[str]:
        """What the agent still needs for the next level, in the reader's language."""
        return [render(gap, language) for gap in self.detail.get("gaps", [])]

    def as_json(self) -> dict[str, Any]:
        """The shape `ladder run --format json` prints."""
        return {
            "agent": self.employee_no,
            "name": self.name,
            "period": self.period,
            "from_level": self.from_level,
            "to_level": self.to_level,
            "decision": self.decision,
            "status": self.status,
            "composite": None if self.composite is None else round(self.composite, 2),
            "components": self.detail.get("components", []),
            "gates": [
                {k: gate[k] for k in ("gate", "level", "required", "actual", "passed")}
                for gate in self.detail.get("gates", [])
            ],
            "explanation": {"zh_Hans": self.explanation("zh_Hans"), "en": self.explanation("en")},
            "gaps": {"zh_Hans": self.gaps("zh_Hans"), "en": self.gaps("en")},
            "overrides": self.overrides,
            "appeals": self.appeals,
            "policy_hash": self.policy_hash,
            "stale_inputs": self.detail.get("stale_inputs", []),
        }


def _level_name(level_id: str, language: Language) -> str:
    for level in LEVELS:
        if level.id == level_id:
            return level.label(language)
    return level_id


def render(reason: dict[str, Any], language: Language) -> str:
    """One stored reason as a sentence in the reader's language (level ids become names)."""
    params = {
        key: _level_name(value, language) if key == "level" and isinstance(value, str) else value
        for key, value in reason.get("params", {}).items()
    }
    message: str = reason["message"]
    return translate(language, message, **params)


def _view(
    person: org_service.LevelStanding,
    period: str,
    outcome: rules.Outcome,
    card: Scorecard,
    content_hash: str,
    status: str,
) -> DecisionView:
    return DecisionView(
        agent_id=person.agent_id,
        employee_no=person.employee_no,
        name=person.name,
        team_code=person.team_code,
        period=period,
        from_level=outcome.from_level,
        to_level=outcome.to_level,
        decision=outcome.decision,
        composite=outcome.composite,
        detail=_detail(card, outcome),
        policy_hash=content_hash,
        status=status,
        qualify_streak=outcome.qualify_streak,
        floor_streak=outcome.floor_streak,
    )


def _stored_view(row: LadderDecision, person: org_service.AgentRead) -> DecisionView:
    return DecisionView(
        agent_id=row.agent_id,
        employee_no=person.employee_no,
        name=person.name,
        team_code=person.team_code,
        period=row.period,
        from_level=row.from_level,
        to_level=row.to_level,
        decision=row.decision,
        composite=row.composite,
        detail=json.loads(row.detail),
        policy_hash=row.policy_hash,
        status=row.status,
        decision_id=row.id,
        qualify_streak=row.qualify_streak,
        floor_streak=row.floor_streak,
        overrides=[
            {
                "decision": o.decision,
                "to_level": o.to_level,
                "reason": o.reason,
                "at": o.created_at.isoformat(),
                "by_user_id": o.created_by_user_id,
            }
            for o in row.overrides
        ],
        appeals=[
            {
                "id": a.id,
                "text": a.text,
                "status": a.status,
                "response": a.response,
                "at": a.created_at.isoformat(),
                "resolved_at": a.resolved_at.isoformat() if a.resolved_at else None,
            }
            for a in row.appeals
        ],
    )


# --- running ---------------------------------------------------------------------------


@dataclass
class RunReport:
    """What a run decided (or, dry, would decide)."""

    period: str
    policy_hash: str
    dry_run: bool
    decisions: list[DecisionView]
    stored: int = 0
    unchanged: int = 0
    kept: int = 0  # already approved, applied or rejected: left as they were
    applied: int = 0  # level changes made (automatic approval)
    stale_inputs: list[StaleInput] = field(default_factory=list)  # --allow-stale

    def counts(self) -> dict[str, int]:
        """Decisions by kind."""
        totals: dict[str, int] = {}
        for view in self.decisions:
            totals[view.decision] = totals.get(view.decision, 0) + 1
        return totals


def _status_for(policy: LadderPolicy, outcome: rules.Outcome) -> str:
    if outcome.decision in (rules.PROMOTE, rules.DEMOTE):
        return "applied" if policy.promotion.approval == "auto" else "pending"
    return "pending" if outcome.review else "final"


def run_period(
    *,
    session: Session,
    period: str,
    dry_run: bool = False,
    policy: LoadedPolicy | None = None,
    run_by: User | None = None,
    settings: Settings | None = None,
    allow_stale: bool = False,
) -> RunReport:
    """Decide every employed agent's level for a period under the policy in force (or the
    given one). Re-running with the same inputs changes nothing; decisions a manager (or the
    automatic approval) already acted on are kept. Refuses (StaleEvidence) evidence that
    changed after it was computed, dry or not, unless `allow_stale`: the decisions record it."""
    loaded = policy or current_policy(session=session)
    chosen = parse_period(period)
    if chosen.kind != loaded.policy.period:
        raise InvalidInput(
            "the policy evaluates by {kind}; give a {kind} such as {example}",
            kind=loaded.policy.period,
            example="2026-10" if loaded.policy.period == "month" else "2026-Q4",
        )
    # A dry run on stale evidence misleads as much as a stored one: both are refused.
    stale = staleness.check_evidence(
        session=session,
        settings=settings or get_settings(),
        period=chosen.label,
        allow_stale=allow_stale,
    )
    inputs = gather(session=session, period=chosen)
    cards, outcomes = evaluate(loaded.policy, inputs)
    report = RunReport(chosen.label, loaded.content_hash, dry_run, [], stale_inputs=stale)
    existing = {
        row.agent_id: row
        for row in session.scalars(
            select(LadderDecision).where(LadderDecision.period == chosen.label)
        )
    }
    written: list[tuple[DecisionView, LadderDecision]] = []
    for agent_id, outcome in outcomes.items():
        person = inputs.people[agent_id]
        status = _status_for(loaded.policy, outcome)
        view = _view(person, chosen.label, outcome, cards[agent_id], loaded.content_hash, status)
        staleness.mark_stale(view.detail, stale)
        report.decisions.append(view)
        if dry_run:
            continue
        row = existing.get(agent_id)
        detail = json.dumps(view.detail, sort_keys=True, ensure_ascii=False, default=str)
        if row is not None and row.status in ACTED_STATUSES:
            report.kept += 1
            view.status = row.status
            continue
        values = {
            "policy_hash": loaded.content_hash,
            "from_level": outcome.from_level,
            "to_level": outcome.to_level,
            "decision": outcome.decision,
            "composite": outcome.composite,
            "qualify_streak": outcome.qualify_streak,
            "floor_streak": outcome.floor_streak,
            "detail": detail,
            "status": status,
        }
        if row is not None and all(getattr(row, k) == v for k, v in values.items()):
            report.unchanged += 1
            view.decision_id = row.id
            continue
        if row is None:
            row = LadderDecision(agent_id=agent_id, period=chosen.label, **values)
            session.add(row)
        else:
            for key, value in values.items():
                setattr(row, key, value)
            row.decided_at = utcnow()
        written.append((view, row))
    # One flush for all the decisions (one per row cost a fifth of a 10,000-agent run).
    session.flush()
    for view, row in written:
        view.decision_id = row.id
        report.stored += 1
        if row.status == "applied":
            _apply_level(session, row, chosen, run_by, source_reason="automatic")
            report.applied += 1
    return report


def _apply_level(
    session: Session,
    row: LadderDecision,
    period: Period,
    by: User | None,
    *,
    source_reason: str,
    to_level: str | None = None,
) -> None:
    """Move the agent to the decision's level from the day after the period."""
    agent = org_service.get_agent_or_raise(
        session=session, agent_id=row.agent_id, scope=org_service.AgentScope.everyone_scope()
    )
    target = to_level or row.to_level
    org_service.change_level(
        session=session,
        agent=agent,
        to_level=target,
        effective_on=max(period.end_day, agent.level_since),
        source="ladder",
        reason=f"{period.label} {row.decision} ({source_reason})",
        recorded_by=by,
    )


# --- reading, approving, overriding, appealing ----------------------------------------


def _person(session: Session, agent_id: int) -> org_service.AgentRead:
    [person] = org_service.agents_by_ids(session=session, agent_ids=[agent_id])
    return person


def decision_views(
    *,
    session: Session,
    period: str | None = None,
    agent_ids: Sequence[int] | None = None,
    statuses: Sequence[str] | None = None,
) -> list[DecisionView]:
    """Stored decisions, filtered, newest period first, then by employee number."""
    query = select(LadderDecision)
    if period is not None:
        query = query.where(LadderDecision.period == parse_period(period).label)
    if agent_ids is not None:
        query = query.where(LadderDecision.agent_id.in_(list(agent_ids)))
    if statuses is not None:
        query = query.where(LadderDecision.status.in_(list(statuses)))
    rows = list(session.scalars(query))
    people = {
        p.id: p
        for p in org_service.agents_by_ids(session=session, agent_ids={r.agent_id for r in rows})
    }
    views = [_stored_view(row, people[row.agent_id]) for row in rows]
    views.sort(key=lambda v: (v.period, v.employee_no))
    views.sort(key=lambda v: v.period, reverse=True)
    return views


def decision_periods(*, session: Session) -> list[str]:
    """Periods that have decisions, newest first."""
    return sorted(session.scalars(select(LadderDecision.period).distinct()), reverse=True)


def get_decision(*, session: Session, decision_id: int) -> LadderDecision:
    """A stored decision, or NotFound."""
    row = session.get(LadderDecision, decision_id)
    if row is None:
        raise NotFound("decision not found")
    return row


def decision_for(*, session: Session, agent_id: int, period: str) -> DecisionView:
    """An agent's stored decision for a period, or NotFound."""
    row = session.scalar(
        select(LadderDecision).where(
            LadderDecision.agent_id == agent_id, LadderDecision.period == parse_period(period).label
        )
    )
    if row is None:
        raise NotFound("no ladder decision for this agent and period")
    return _stored_view(row, _person(session, agent_id))


def review_decision(
    *, session: Session, decision_id: int, approve: bool, by: User | None, reason: str = ""
) -> LadderDecision:
    """A manager approves (the level changes) or rejects (it does not, a reason is required)
    a pending decision."""
    row = get_decision(session=session, decision_id=decision_id)
    if row.status != "pending":
        raise Conflict("only a pending decision can be approved or rejected")
    if not approve and not reason.strip():
        raise InvalidInput("a rejection needs a reason")
    row.status = "approved" if approve else "rejected"
    row.reviewed_by_user_id = by.id if by else None
    row.reviewed_at = utcnow()
    row.review_reason = reason.strip()
    if approve and row.to_level != row.from_level:
        _apply_level(session, row, parse_period(row.period), by, source_reason="approved")
    session.flush()
    return row


def override_decision(
    *, session: Session, decision_id: int, decision: str, reason: str, by: User | None
) -> DecisionOverride:
    """A manager's own decision, kept beside the automatic one; the level follows it."""
    row = get_decision(session=session, decision_id=decision_id)
    if not reason.strip():
        raise InvalidInput("an override needs a reason")
    index = [level.id for level in LEVELS].index(row.from_level)
    step = {"promote": 1, "hold": 0, "demote": -1}.get(decision)
    if step is None:
        raise InvalidInput("unknown decision {decision}", decision=decision)
    if not 0 <= index + step < len(LEVELS):
        raise InvalidInput("there is no level to move to")
    to_level = LEVELS[index + step].id
    override = DecisionOverride(
        decision=decision,
        to_level=to_level,
        reason=reason.strip(),
        created_by_user_id=by.id if by else None,
    )
    row.overrides.append(override)
    if row.status == "pending":
        row.status = "approved"
        row.reviewed_by_user_id = by.id if by else None
        row.reviewed_at = utcnow()
        row.review_reason = reason.strip()
    _apply_level(
        session, row, parse_period(row.period), by, source_reason="override", to_level=to_level
    )
    session.flush()
    return override


def create_appeal(
    *, session: Session, decision_id: int, agent_id: int, text: str, by: User | None
) -> Appeal:
    """An agent appeals their own decision (one open appeal at a time)."""
    row = get_decision(session=session, decision_id=decision_id)
    if row.agent_id != agent_id:
        raise Forbidden("an agent can only appeal their own decisions")
    if not text.strip():
        raise InvalidInput("an appeal needs a text")
    if any(appeal.status == "open" for appeal in row.appeals):
        raise Conflict("this decision already has an open appeal")
    appeal = Appeal(text=text.strip(), created_by_user_id=by.id if by else None)
    row.appeals.append(appeal)
    session.flush()
    return appeal


def resolve_appeal(
    *, session: Session, appeal_id: int, upheld: bool, response: str, by: User | None
) -> Appeal:
    """A manager answers an appeal; the history keeps both. Upholding does not move the level
    by itself: the manager overrides the decision for that."""
    appeal = session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFound("appeal not found")
    if appeal.status != "open":
        raise Conflict("this appeal is already resolved")
    if not response.strip():
        raise InvalidInput("a resolution needs a response")
    appeal.status = "upheld" if upheld else "denied"
    appeal.response = response.strip()
    appeal.resolved_by_user_id = by.id if by else None
    appeal.resolved_at = utcnow()
    session.flush()
    return appeal


# --- backtests -------------------------------------------------------------------------


@dataclass
class BacktestChange:
    """An agent-period where two policies decide differently."""

    period: str
    agent_id: int
    employee_no: str
    name: str
    current: DecisionView
    proposed: DecisionView


@dataclass
class BacktestReport:
    """Two policies run side by side over past periods, nothing written."""

    periods: list[str]
    current_hash: str
    proposed_hash: str
    current_counts: dict[str, int]
    proposed_counts: dict[str, int]
    changes: list[BacktestChange]
    final_levels: dict[str, dict[str, int]]  # policy -> level -> agents at the end


@dataclass
class _Simulation:
    """One policy run over consecutive periods in memory: levels and streaks carried from one
    period to the next as if every decision had been applied; nothing is written."""

    policy: LoadedPolicy
    carried: dict[int, tuple[str, int, int]] = field(default_factory=dict)
    levels: dict[int, tuple[str, date, bool]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    final_levels: dict[str, int] = field(default_factory=dict)

    def step(
        self,
        session: Session,
        period: Period,
        people: list[org_service.LevelStanding],
        evidence: PeriodEvidence,
    ) -> tuple[PeriodInputs, dict[int, Scorecard], dict[int, rules.Outcome]]:
        """Decide one period for everyone, from the levels this simulation has reached."""
        people = [
            replace(
                p,
                level=self.levels[p.agent_id][0],
                level_since=self.levels[p.agent_id][1],
                entered_by_promotion=self.levels[p.agent_id][2],
            )
            if p.agent_id in self.levels
            else p
            for p in people
        ]
        inputs = gather(
            session=session,
            period=period,
            previous=self.carried,
            people=people,
            evidence=evidence,
        )
        cards, outcomes = evaluate(self.policy.policy, inputs)
        self.carried, self.final_levels = {}, {}
        for agent_id, outcome in outcomes.items():
            self.counts[outcome.decision] = self.counts.get(outcome.decision, 0) + 1
            self.final_levels[outcome.to_level] = self.final_levels.get(outcome.to_level, 0) + 1
            self.carried[agent_id] = (
                outcome.from_level,
                outcome.qualify_streak,
                outcome.floor_streak,
            )
            if outcome.to_level != outcome.from_level:
                self.levels[agent_id] = (
                    outcome.to_level,
                    period.end_day,
                    outcome.decision == rules.PROMOTE,
                )
            elif agent_id not in self.levels:
                person = inputs.people[agent_id]
                self.levels[agent_id] = (
                    person.level,
                    person.level_since,
                    person.entered_by_promotion,
                )
        return inputs, cards, outcomes

    def view(
        self,
        inputs: PeriodInputs,
        cards: dict[int, Scorecard],
        outcome: rules.Outcome,
        agent_id: int,
    ) -> DecisionView:
        """One decision of the step as everyone reads it."""
        return _view(
            inputs.people[agent_id],
            inputs.period.label,
            outcome,
            cards[agent_id],
            self.policy.content_hash,
            _status_for(self.policy.policy, outcome),
        )


def backtest(
    *,
    session: Session,
    proposed: LoadedPolicy,
    first: str,
    last: str,
    current: LoadedPolicy | None = None,
) -> BacktestReport:
    """Who would have moved differently, and why, had `proposed` been in force from `first`
    to `last` instead of the current policy (both simulated from the same start)."""
    in_force = current or current_policy(session=session)
    start, end = parse_period(first), parse_period(last)
    if start.kind != proposed.policy.period or end.kind != proposed.policy.period:
        raise InvalidInput(
            "the policy evaluates by {kind}; give a {kind} such as {example}",
            kind=proposed.policy.period,
            example="2026-10" if proposed.policy.period == "month" else "2026-Q4",
        )
    periods = periods_between(start.kind, start.first_day, end.last_day)
    ours, theirs = _Simulation(in_force), _Simulation(proposed)
    changes = []
    # Both policies period by period from the same reads; a decision is written out in full
    # only where the two differ (a year of a large centre is hundreds of thousands).
    for period in periods:
        people = org_service.standings_on(session=session, on=period.last_day)
        evidence = period_evidence(
            session=session, period=period, agent_ids=[p.agent_id for p in people]
        )
        our_inputs, our_cards, our_outcomes = ours.step(session, period, people, evidence)
        their_inputs, their_cards, their_outcomes = theirs.step(session, period, people, evidence)
        for agent_id, outcome in our_outcomes.items():
            other = their_outcomes.get(agent_id)
            if other is None or (other.decision, other.to_level) == (
                outcome.decision,
                outcome.to_level,
            ):
                continue
            person = our_inputs.people[agent_id]
            changes.append(
                BacktestChange(
                    period.label,
                    agent_id,
                    person.employee_no,
                    person.name,
                    ours.view(our_inputs, our_cards, outcome, agent_id),
                    theirs.view(their_inputs, their_cards, other, agent_id),
                )
            )
    return BacktestReport(
        periods=[p.label for p in periods],
        current_hash=in_force.content_hash,
        proposed_hash=proposed.content_hash,
        current_counts=ours.counts,
        proposed_counts=theirs.counts,
        changes=changes,
        final_levels={"current": ours.final_levels, "proposed": theirs.final_levels},
    )


def gap_summary(view: DecisionView, language: Language) -> str:
    """The gap to the next level in one line ("+3.5 points, 2 more QA evaluations")."""
    return ", ".join(view.gaps(language))
