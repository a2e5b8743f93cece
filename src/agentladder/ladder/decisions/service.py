"""Running the ladder for a period: decide every agent, store the decisions (or only report
them), apply level changes when the policy approves automatically; reading, approving and
overriding decisions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from agentladder.config import Language, Settings, get_settings
from agentladder.db import utcnow
from agentladder.errors import Conflict, InvalidInput, NotFound
from agentladder.freshness import StaleInput
from agentladder.ladder import labels
from agentladder.ladder.decisions import rules, staleness
from agentladder.ladder.decisions.collector import collector_paused
from agentladder.ladder.decisions.gathering import evaluate, gather
from agentladder.ladder.decisions.schemas import DecisionView, stored_view, view_of
from agentladder.ladder.models import DecisionOverride, LadderDecision
from agentladder.ladder.policy import service as policy_service
from agentladder.ladder.policy.schemas import LadderPolicy
from agentladder.org import service as org_service
from agentladder.org.schemas import LEVELS
from agentladder.periods import Period, parse_period

if TYPE_CHECKING:
    from agentladder.org.models import User

ACTED_STATUSES = ("approved", "applied", "rejected")


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


def status_for(policy: LadderPolicy, outcome: rules.Outcome) -> str:
    if outcome.decision in (rules.PROMOTE, rules.DEMOTE):
        return "applied" if policy.promotion.approval == "auto" else "pending"
    return "pending" if outcome.review else "final"


@collector_paused()
def run_period(
    *,
    session: Session,
    period: Period,
    dry_run: bool = False,
    policy: policy_service.LoadedPolicy | None = None,
    run_by: User | None = None,
    settings: Settings | None = None,
    allow_stale: bool = False,
) -> RunReport:
    """Decide every employed agent's level for a period under the policy in force (or the
    given one). Re-running with the same inputs changes nothing; decisions a manager (or the
    automatic approval) already acted on are kept. Refuses (StaleEvidence) evidence that
    changed after it was computed, dry or not, unless `allow_stale`: the decisions record it."""
    labels.learn_certification_names(session)
    loaded = policy or policy_service.current_policy(session=session)
    chosen = period
    policy_service.check_period_kind(loaded.policy, chosen)
    # A dry run on stale evidence misleads as much as a stored one: both are refused.
    stale = staleness.check_evidence(
        session=session, settings=settings or get_settings(), period=chosen, allow_stale=allow_stale
    )
    inputs = gather(
        session=session,
        period=chosen,
        windows=policy_service.window_months(loaded.policy),
        history=loaded.policy.history_periods(),
    )
    cards, outcomes = evaluate(loaded.policy, inputs)
    report = RunReport(chosen.label, loaded.content_hash, dry_run, [], stale_inputs=stale)
    existing = {
        row.agent_id: row
        for row in session.scalars(
            select(LadderDecision).where(LadderDecision.period == chosen.label)
        )
    }
    written: list[DecisionView] = []  # stored or changed, in the order levels are applied
    created: list[tuple[DecisionView, dict[str, object]]] = []  # new rows, inserted at once
    changed: list[tuple[DecisionView, LadderDecision]] = []
    for agent_id, outcome in outcomes.items():
        person = inputs.people[agent_id]
        status = status_for(loaded.policy, outcome)
        view = view_of(person, chosen.label, outcome, cards[agent_id], loaded.content_hash, status)
        staleness.mark_stale(view.detail, stale)
        report.decisions.append(view)
        if dry_run:
            continue
        row = existing.get(agent_id)
        # A detail is a tree built just now (no cycles to look for: the check costs a tenth).
        detail = json.dumps(
            view.detail, sort_keys=True, ensure_ascii=False, default=str, check_circular=False
        )
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
        if row is None:
            created.append((view, {"agent_id": agent_id, "period": chosen.label, **values}))
        elif all(getattr(row, k) == v for k, v in values.items()):
            report.unchanged += 1
            view.decision_id = row.id
            continue
        else:
            for key, value in values.items():
                setattr(row, key, value)
            row.decided_at = utcnow()
            changed.append((view, row))
        written.append(view)
    session.flush()
    for view, row in changed:
        view.decision_id = row.id
    # New decisions in one executemany INSERT, their ids read back by agent: as ORM objects
    # (unit of work) or with RETURNING in parameter order (one statement per row on SQLite)
    # they cost a tenth of a 10,000-agent run.
    if created:
        session.execute(insert(LadderDecision), [values for _, values in created])
        ids = dict(
            session.execute(
                select(LadderDecision.agent_id, LadderDecision.id).where(
                    LadderDecision.period == chosen.label
                )
            ).all()
        )
        for view, _ in created:
            view.decision_id = ids[view.agent_id]
    report.stored = len(written)
    for view in written:
        if view.status == "applied":
            _apply_level(
                session, view.agent_id, view.decision, view.to_level, chosen, run_by, "automatic"
            )
            report.applied += 1
    return report


def _apply_level(
    session: Session,
    agent_id: int,
    decision: str,
    to_level: str,
    period: Period,
    by: User | None,
    source_reason: str,
) -> None:
    """Move the agent to the decision's level (`to_level`) from the day after the period."""
    agent = org_service.get_agent_or_raise(
        session=session, agent_id=agent_id, scope=org_service.AgentScope.everyone_scope()
    )
    org_service.change_level(
        session=session,
        agent=agent,
        to_level=to_level,
        effective_on=max(period.end_day, agent.level_since),
        source="ladder",
        reason=f"{period.label} {decision} ({source_reason})",
        recorded_by=by,
    )


# --- reading, approving, overriding, appealing ----------------------------------------


def _person(session: Session, agent_id: int) -> org_service.AgentRead:
    [person] = org_service.agents_by_ids(session=session, agent_ids=[agent_id])
    return person


def decision_views(
    *,
    session: Session,
    period: Period | None = None,
    agent_ids: Sequence[int] | None = None,
    statuses: Sequence[str] | None = None,
) -> list[DecisionView]:
    """Stored decisions, filtered, newest period first, then by employee number."""
    labels.learn_certification_names(session)
    query = select(LadderDecision)
    if period is not None:
        query = query.where(LadderDecision.period == period.label)
    if agent_ids is not None:
        query = query.where(LadderDecision.agent_id.in_(list(agent_ids)))
    if statuses is not None:
        query = query.where(LadderDecision.status.in_(list(statuses)))
    rows = list(session.scalars(query))
    people = {
        p.id: p
        for p in org_service.agents_by_ids(session=session, agent_ids={r.agent_id for r in rows})
    }
    views = [stored_view(row, people[row.agent_id]) for row in rows]
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


def decision_for(*, session: Session, agent_id: int, period: Period) -> DecisionView:
    """An agent's stored decision for a period, or NotFound."""
    labels.learn_certification_names(session)
    row = session.scalar(
        select(LadderDecision).where(
            LadderDecision.agent_id == agent_id, LadderDecision.period == period.label
        )
    )
    if row is None:
        raise NotFound("no ladder decision for this agent and period")
    return stored_view(row, _person(session, agent_id))


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
        _apply_level(
            session,
            row.agent_id,
            row.decision,
            row.to_level,
            parse_period(row.period),
            by,
            "approved",
        )
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
        session, row.agent_id, row.decision, to_level, parse_period(row.period), by, "override"
    )
    session.flush()
    return override


def gap_summary(view: DecisionView, language: Language) -> str:
    """The gap to the next level in one line ("+3.5 points, 2 more QA evaluations")."""
    return ", ".join(view.gaps(language))
