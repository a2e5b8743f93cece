"""Contribution points: the rules in force (versioned by content hash, the shipped default until
a centre applies its own) and the ledger every point is written to.

Each award is one ledger entry: the agent, the item, the event, the points, why that amount (a
cap reached pays 0 and says so), the rules version, and a `source_key` naming the fact, so a
fact never pays twice (publishing the same item again, a vote cast twice). Nothing is deleted:
a vote taken back or an item archived as a duplicate writes corrections that cancel what the
fact earned. Points go to agents only; an item written by a user who is not an agent earns
none.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from agentladder.db import utcnow
from agentladder.i18n import N_
from agentladder.knowledge.models import KbItem, KbPoint, KbPointRules, KbRevision, KbUsage
from agentladder.knowledge.points.schemas import PointRules, parse_rules, rules_hash
from agentladder.org import service as org_service

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agentladder.knowledge.models import KbReview
    from agentladder.org.models import User

_DAYS_PER_MONTH = 30.4375


# The note of the shipped rules' stored version (a msgid: pages show it translated).
SHIPPED_NOTE = N_("shipped default")


def default_rules_text() -> str:
    """The shipped rules (YAML with comments)."""
    return (resources.files("agentladder.knowledge.points") / "default_rules.yaml").read_text(
        encoding="utf-8"
    )


@dataclass(frozen=True)
class RulesInForce:
    """The rules in force and their stored version."""

    id: int
    rules: PointRules
    content_hash: str
    yaml_text: str


def _stored(session: Session, text: str, by: User | None, *, note: str = "") -> KbPointRules:
    rules = parse_rules(text)
    content_hash = rules_hash(rules)
    version = session.scalar(select(KbPointRules).where(KbPointRules.content_hash == content_hash))
    if version is None:
        version = KbPointRules(
            content_hash=content_hash,
            yaml_text=text,
            created_by_user_id=by.id if by else None,
            note=note,
        )
        session.add(version)
        session.flush()
    return version


@lru_cache(maxsize=16)
def _parsed(text: str) -> PointRules:
    """Stored rules text parsed once per process: every award reads the rules in force, and
    parsing the YAML each time cost ~9 ms an award (PointRules is frozen, so sharing is safe)."""
    return parse_rules(text)


def rules_in_force(*, session: Session) -> RulesInForce:
    """The latest applied rules; the shipped default (stored on first use) before any."""
    version = session.scalar(
        select(KbPointRules)
        .where(KbPointRules.applied_at.is_not(None))
        .order_by(KbPointRules.applied_at.desc(), KbPointRules.id.desc())
        .limit(1)
    )
    if version is None:
        version = _stored(session, default_rules_text(), None, note=SHIPPED_NOTE)
        version.applied_at = utcnow()
        session.flush()
    return RulesInForce(
        version.id, _parsed(version.yaml_text), version.content_hash, version.yaml_text
    )


def apply_rules(*, session: Session, text: str, by: User | None, note: str = "") -> KbPointRules:
    """Make rules the ones in force from now on (points already earned keep their version)."""
    version = _stored(session, text, by, note=note)
    version.applied_at = utcnow()
    session.flush()
    return version


def rules_history(*, session: Session) -> list[KbPointRules]:
    """Every stored rules version, the latest first."""
    return list(session.scalars(select(KbPointRules).order_by(KbPointRules.id.desc())))


# --- writing the ledger ------------------------------------------------------------------------


def _award(
    session: Session,
    *,
    agent_id: int | None,
    item_id: int | None,
    event: str,
    points: float,
    key: str,
    at: datetime,
    rules_id: int | None = None,
    **detail: Any,
) -> KbPoint | None:
    if agent_id is None:
        return None
    if session.scalar(select(KbPoint.id).where(KbPoint.source_key == key)) is not None:
        return None
    entry = KbPoint(
        agent_id=agent_id,
        item_id=item_id,
        event=event,
        points=points,
        detail_json=json.dumps(detail, ensure_ascii=False, sort_keys=True),
        rules_id=rules_id if rules_id is not None else rules_in_force(session=session).id,
        source_key=key,
        earned_at=at,
    )
    session.add(entry)
    session.flush()
    return entry


def _active(session: Session, *conditions: Any) -> list[KbPoint]:
    """Ledger entries under the conditions that no correction cancelled."""
    entries = list(session.scalars(select(KbPoint).where(*conditions).order_by(KbPoint.id)))
    if not entries:
        return []
    cancelled = set(
        session.scalars(
            select(KbPoint.source_key).where(
                KbPoint.source_key.in_([f"undo:{entry.source_key}" for entry in entries])
            )
        )
    )
    return [entry for entry in entries if f"undo:{entry.source_key}" not in cancelled]


def _cancel(session: Session, entry: KbPoint, *, reason: str, at: datetime) -> None:
    _award(
        session,
        agent_id=entry.agent_id,
        item_id=entry.item_id,
        event="correction",
        points=-entry.points,
        key=f"undo:{entry.source_key}",
        at=at,
        rules_id=entry.rules_id,
        reason=reason,
        cancels=entry.event,
    )


def award_publish(*, session: Session, item: KbItem, at: datetime) -> None:
    """The author's points for an item's first publication."""
    rules = rules_in_force(session=session)
    _award(
        session,
        agent_id=item.author_agent_id,
        item_id=item.id,
        event="publish",
        points=float(getattr(rules.rules.publish, item.type)),
        key=f"publish:{item.id}",
        at=at,
        rules_id=rules.id,
        type=item.type,
    )


def award_edit(*, session: Session, item: KbItem, revision: KbRevision, at: datetime) -> None:
    """The writer's points for a published revision that changes enough (a revert changes
    nothing new and earns nothing)."""
    rules = rules_in_force(session=session)
    rule = rules.rules.edit
    if revision.number == 1 or revision.reverted_from is not None:
        return
    enough = revision.changed_chars >= rule.min_changed_chars
    _award(
        session,
        agent_id=revision.author_agent_id,
        item_id=item.id,
        event="edit",
        points=rule.points if enough else 0.0,
        key=f"edit:{item.id}:{revision.number}",
        at=at,
        rules_id=rules.id,
        revision=revision.number,
        changed_chars=revision.changed_chars,
        **(
            {}
            if enough
            else {"capped": "trivial_edit", "min_changed_chars": rule.min_changed_chars}
        ),
    )


def award_adoption(*, session: Session, item: KbItem, at: datetime) -> None:
    """The author's points for a case adopted as best practice."""
    rules = rules_in_force(session=session)
    _award(
        session,
        agent_id=item.author_agent_id,
        item_id=item.id,
        event="adopted",
        points=rules.rules.adopted,
        key=f"adopted:{item.id}",
        at=at,
        rules_id=rules.id,
    )


def award_sop(*, session: Session, case: KbItem, sop: KbItem, at: datetime) -> None:
    """The case author's points when an SOP made from their best practice is published."""
    rules = rules_in_force(session=session)
    _award(
        session,
        agent_id=case.author_agent_id,
        item_id=case.id,
        event="sop",
        points=rules.rules.sop,
        key=f"sop:{sop.id}",
        at=at,
        rules_id=rules.id,
        sop_item=sop.id,
    )


def award_grade(*, session: Session, item: KbItem, review: KbReview, at: datetime) -> None:
    """The author's points for the reviewer's quality grade of a published revision."""
    if review.grade is None:
        return
    rules = rules_in_force(session=session)
    _award(
        session,
        agent_id=item.author_agent_id,
        item_id=item.id,
        event="review_grade",
        points=rules.rules.review_grade.points(review.grade),
        key=f"grade:{review.id}",
        at=at,
        rules_id=rules.id,
        grade=review.grade,
        revision=review.revision,
    )


def _month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def award_vote(*, session: Session, item: KbItem, voter: User, at: datetime) -> None:
    """The author's points for a helpful vote, under the rules' caps (a capped vote is written
    with 0 points and the cap it met)."""
    author = item.author_agent_id
    if author is None:
        return
    rules = rules_in_force(session=session)
    rule = rules.rules.helpful_vote
    votes = _active(
        session, KbPoint.item_id == item.id, KbPoint.event == "helpful_vote", KbPoint.points > 0
    )
    same_team = _same_team(session, author, voter)
    month_votes = _active(
        session,
        KbPoint.agent_id == author,
        KbPoint.event == "helpful_vote",
        KbPoint.points > 0,
        KbPoint.earned_at >= _month_start(at),
    )
    capped = None
    if len(votes) >= rule.max_per_item:
        capped = "max_per_item"
    elif (
        sum(1 for entry in month_votes if json.loads(entry.detail_json).get("voter") == voter.id)
        >= rule.max_per_voter_per_author
    ):
        capped = "max_per_voter_per_author"
    elif same_team and (
        sum(1 for entry in votes if json.loads(entry.detail_json).get("same_team"))
        >= rule.max_same_team_per_item
    ):
        capped = "max_same_team_per_item"
    _award(
        session,
        agent_id=author,
        item_id=item.id,
        event="helpful_vote",
        points=0.0 if capped else rule.points,
        key=f"vote:{item.id}:{voter.id}:{at.isoformat()}",
        at=at,
        rules_id=rules.id,
        voter=voter.id,
        same_team=same_team,
        **({"capped": capped} if capped else {}),
    )


def _same_team(session: Session, author_agent_id: int, voter: User) -> bool:
    if voter.agent_id is None:
        return False
    agents = {
        agent.id: agent.team_code
        for agent in org_service.agents_by_ids(
            session=session, agent_ids=[author_agent_id, voter.agent_id]
        )
    }
    team = agents.get(author_agent_id)
    return team is not None and agents.get(voter.agent_id) == team


def take_back_vote(*, session: Session, item: KbItem, voter: User, at: datetime) -> None:
    """Cancel what the voter's latest vote for the item earned."""
    for entry in reversed(
        _active(session, KbPoint.item_id == item.id, KbPoint.event == "helpful_vote")
    ):
        if json.loads(entry.detail_json).get("voter") == voter.id:
            _cancel(session, entry, reason="vote_withdrawn", at=at)
            return


def award_usage(*, session: Session, item: KbItem, usage: KbUsage, at: datetime) -> None:
    """The author's points for a call the item was used on; nothing for linking one's own item
    to one's own call, and at most the rules' calls of an item a month."""
    author = item.author_agent_id
    if author is None:
        return
    rules = rules_in_force(session=session)
    rule = rules.rules.used_on_call
    capped = None
    if usage.agent_id == author:
        capped = "own_call"
    elif (
        len(
            _active(
                session,
                KbPoint.item_id == item.id,
                KbPoint.event == "used_on_call",
                KbPoint.points > 0,
                KbPoint.earned_at >= _month_start(at),
            )
        )
        >= rule.max_per_item_month
    ):
        capped = "max_per_item_month"
    _award(
        session,
        agent_id=author,
        item_id=item.id,
        event="used_on_call",
        points=0.0 if capped else rule.points,
        key=f"usage:{usage.id}",
        at=at,
        rules_id=rules.id,
        call=usage.call_id,
        **({"capped": capped} if capped else {}),
    )


def take_back(*, session: Session, item: KbItem, reason: str, at: datetime) -> int:
    """Cancel every point the item earned (an item archived as a duplicate keeps none); how
    many entries were cancelled."""
    entries = [
        entry
        for entry in _active(session, KbPoint.item_id == item.id, KbPoint.event != "correction")
        if entry.points != 0
    ]
    for entry in entries:
        _cancel(session, entry, reason=reason, at=at)
    return len(entries)


# --- reading the ledger ------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerEntry:
    """A ledger entry as the agent and the auditor read it."""

    id: int
    agent_id: int
    item_id: int | None
    event: str
    points: float
    detail: dict[str, Any]
    rules_hash: str
    earned_at: datetime


def ledger(
    *,
    session: Session,
    agent_ids: list[int] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[LedgerEntry]:
    """Ledger entries, the latest first: of some agents (None: all), earned in [start, end);
    `offset` entries skipped (a page of a long ledger)."""
    query = select(KbPoint, KbPointRules.content_hash).join(
        KbPointRules, KbPointRules.id == KbPoint.rules_id
    )
    if agent_ids is not None:
        query = query.where(KbPoint.agent_id.in_(agent_ids))
    if start is not None:
        query = query.where(KbPoint.earned_at >= start)
    if end is not None:
        query = query.where(KbPoint.earned_at < end)
    rows = session.execute(
        query.order_by(KbPoint.earned_at.desc(), KbPoint.id.desc()).limit(limit).offset(offset)
    )
    return [
        LedgerEntry(
            id=entry.id,
            agent_id=entry.agent_id,
            item_id=entry.item_id,
            event=entry.event,
            points=entry.points,
            detail=json.loads(entry.detail_json),
            rules_hash=content_hash,
            earned_at=entry.earned_at,
        )
        for entry, content_hash in rows
    ]


def points_earned(
    *, session: Session, start: datetime, end: datetime
) -> dict[int, tuple[float, int]]:
    """Per agent: the points earned in [start, end) and the ledger entries behind them."""
    rows = session.execute(
        select(KbPoint.agent_id, func.sum(KbPoint.points), func.count())
        .where(KbPoint.earned_at >= start, KbPoint.earned_at < end)
        .group_by(KbPoint.agent_id)
    )
    return {agent_id: (float(total or 0), count) for agent_id, total, count in rows}


@dataclass(frozen=True)
class AgentPoints:
    """An agent's points at a moment: the standing balance (decayed), everything earned, and
    how many ledger entries there are."""

    balance: float
    earned: float
    entries: int


def agent_points(*, session: Session, agent_id: int, at: datetime) -> AgentPoints:
    """An agent's balance, total earned and ledger size (My contributions, the ledger audit)."""
    earned, entries = session.execute(
        select(func.coalesce(func.sum(KbPoint.points), 0.0), func.count()).where(
            KbPoint.agent_id == agent_id
        )
    ).one()
    balance = balances(session=session, at=at, agent_ids=[agent_id]).get(agent_id, 0.0)
    return AgentPoints(balance=balance, earned=float(earned), entries=entries)


def balances(
    *, session: Session, at: datetime, agent_ids: list[int] | None = None
) -> dict[int, float]:
    """Per agent: the standing balance at a moment, each point weighted by its age when the
    rules in force decay them."""
    decay = rules_in_force(session=session).rules.decay
    query = select(KbPoint.agent_id, KbPoint.points, KbPoint.earned_at).where(
        KbPoint.earned_at <= at
    )
    if agent_ids is not None:
        query = query.where(KbPoint.agent_id.in_(agent_ids))
    totals: dict[int, float] = defaultdict(float)
    for agent_id, points, earned_at in session.execute(query):
        weight = 1.0
        if decay is not None:
            months = (at - earned_at).total_seconds() / 86_400 / _DAYS_PER_MONTH
            weight = math.pow(0.5, months / decay.half_life_months)
        totals[agent_id] += points * weight
    return dict(totals)
