"""The knowledge provider: what agents contribute to the library as evidence for the ladder.

Per agent and period (the period's days in the centre's time zone):

* `kb_contribution_points`: the points the ledger credits the agent with in the period (awards
  minus corrections, under the rules in force when each was earned). Sample: ledger entries.
* `kb_adopted`: the agent's cases adopted as best practice in the period; a policy reads it
  over a window (12 months by default: `min_kb_adopted`). Sample: the agent's items published
  by the period's end.
* `kb_contribution_rate`: items the agent first published in the period (not imported ones)
  per 1,000 calls they handled in it (the source design's 问题库贡献率); only when the period's
  service metrics are computed and the agent handled calls. Sample: the handled calls.
* `kb_helpful_votes`: helpful votes cast in the period on the agent's items (a vote taken back
  is gone). Sample: the agent's items published by the period's end.

Once the library has published items, every agent employed in a period has a value
(0 when they contributed nothing): a percentile over contributors only would rank the least of
them below everyone. Before that (a centre whose knowledge base is another tool) the provider
says nothing, and results imported under the same names (`ladder evidence import`) stand; where
both exist the library's win.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from agentladder.config import get_settings
from agentladder.freshness import StaleInput, utc_text
from agentladder.i18n import N_, N_plural
from agentladder.knowledge.models import KbItem, KbPoint, KbVote
from agentladder.metrics import service as metrics_service
from agentladder.metrics.schemas import Fact, MetricDefinition, PolicyKey, ProviderBase
from agentladder.org import service as org_service

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agentladder.config import Settings
    from agentladder.periods import Period

SOURCE = "knowledge"
ADOPTED_GAP = N_plural(
    "{count} more adopted knowledge contribution", "{count} more adopted knowledge contributions"
)
# Gap sentences decisions stored before the plural forms hold: kept translated.
STORED_ONLY_SENTENCES = (N_("{count} more adopted knowledge contributions"),)

KB_CONTRIBUTION_POINTS = MetricDefinition(
    "kb_contribution_points",
    "知识贡献积分",
    "Knowledge contribution points",
    "points",
    "up",
    SOURCE,
    sample="contributions",
    bounds=None,  # corrections may take a period below 0
)
KB_ADOPTED = MetricDefinition(
    "kb_adopted",
    "被采纳的知识贡献",
    "Adopted knowledge contributions",
    "count",
    "up",
    SOURCE,
    sample="contributions",
    bounds=(0, None),
    window_months=12,
    policy_keys=(
        PolicyKey(
            "entry",
            "min_kb_adopted",
            "min_window",
            gate="kb_adopted",
            label=N_("Adopted knowledge contributions"),
            gap=ADOPTED_GAP[0],
            gap_plural=ADOPTED_GAP[1],
        ),
    ),
)
KB_CONTRIBUTION_RATE = MetricDefinition(
    "kb_contribution_rate",
    "问题库贡献率",
    "Knowledge contribution rate",
    "per_1000_calls",
    "up",
    SOURCE,
    sample="calls",
    bounds=(0, None),
)
KB_HELPFUL_VOTES = MetricDefinition(
    "kb_helpful_votes",
    "知识有用票数",
    "Helpful votes on knowledge items",
    "count",
    "up",
    SOURCE,
    sample="contributions",
    bounds=(0, None),
)
HANDLED_CALLS = "handled_calls"


class KnowledgeProvider(ProviderBase):
    """Contribution points, adoptions, the contribution rate and helpful votes."""

    name = SOURCE

    def metrics(self) -> Sequence[MetricDefinition]:
        """The four knowledge metrics."""
        return [KB_CONTRIBUTION_POINTS, KB_ADOPTED, KB_CONTRIBUTION_RATE, KB_HELPFUL_VOTES]

    def facts(
        self, *, session: Session, periods: Sequence[Period], metrics: Collection[str] | None
    ) -> Iterable[tuple[str, Fact]]:
        """Per agent and period: the metrics above (see the module's docstring)."""
        wanted = {d.id for d in self.metrics() if metrics is None or d.id in metrics}
        if not wanted:
            return
        zone = get_settings().tz
        for period in periods:
            start, end = period.bounds_utc(zone)
            published = _count_by_author(session, KbItem.first_published_at < end)
            if not published:
                continue  # no library in use yet: imported results (if any) stand alone
            # An agent employed in the period who contributed nothing has 0, not no value: a
            # percentile over contributors only would rank the least of them below everyone.
            employed = _employed(session, period)
            if KB_CONTRIBUTION_POINTS.id in wanted:
                from agentladder.knowledge.points import service as points_service

                earned = points_service.points_earned(session=session, start=start, end=end)
                for agent_id in sorted(set(earned) | employed):
                    points, entries = earned.get(agent_id, (0.0, 0))
                    fact = Fact(agent_id, KB_CONTRIBUTION_POINTS.id, points, entries, SOURCE)
                    yield period.label, fact
            if KB_ADOPTED.id in wanted:
                adopted = _count_by_author(
                    session, KbItem.adopted_at >= start, KbItem.adopted_at < end
                )
                for agent_id in sorted(set(adopted) | employed):
                    count = adopted.get(agent_id, 0)
                    sample = published.get(agent_id, count)
                    yield period.label, Fact(agent_id, KB_ADOPTED.id, count, sample, SOURCE)
            if KB_HELPFUL_VOTES.id in wanted:
                votes = _votes_by_author(session, start, end)
                for agent_id in sorted(set(votes) | employed):
                    count, sample = votes.get(agent_id, 0), published.get(agent_id, 0)
                    yield period.label, Fact(agent_id, KB_HELPFUL_VOTES.id, count, sample, SOURCE)
            handled = _handled_calls(session, period) if KB_CONTRIBUTION_RATE.id in wanted else {}
            if handled:
                # Items imported from another knowledge base are history, not contributions.
                first = _count_by_author(
                    session,
                    KbItem.first_published_at >= start,
                    KbItem.first_published_at < end,
                    KbItem.file_import_id.is_(None),
                )
                for agent_id, calls in sorted(handled.items()):
                    rate = first.get(agent_id, 0) * 1000.0 / calls
                    fact = Fact(agent_id, KB_CONTRIBUTION_RATE.id, rate, int(calls), SOURCE)
                    yield period.label, fact

    def stale_inputs(
        self, *, session: Session, settings: Settings, period: Period
    ) -> list[StaleInput]:
        """Points of the period written after its evidence was gathered: closing it again
        reads them. Nothing when the period was never computed."""
        computed = metrics_service.computed_at(session=session, period=period)
        if computed is None:
            return []
        start, end = period.bounds_utc(settings.tz)
        count, changed = session.execute(
            select(func.count(), func.max(KbPoint.created_at)).where(
                KbPoint.earned_at >= start, KbPoint.earned_at < end, KbPoint.created_at > computed
            )
        ).one()
        if not count or changed is None:
            return []
        return [
            StaleInput(
                what=N_(
                    "knowledge contribution points of {period} earned after its evidence was "
                    "gathered: {count} (the last at {changed})"
                ),
                params={"period": period.label, "count": count, "changed": utc_text(changed)},
                changed_at=changed,
                computed_at=computed,
                refresh_command=f"agentladder cycle close --period {period.label}",
                source=SOURCE,
            )
        ]


def _count_by_author(session: Session, *conditions: object) -> dict[int, int]:
    rows = session.execute(
        select(KbItem.author_agent_id, func.count())
        .where(KbItem.author_agent_id.is_not(None), *conditions)  # type: ignore[arg-type]
        .group_by(KbItem.author_agent_id)
    )
    return {agent_id: count for agent_id, count in rows if agent_id is not None}


def _handled_calls(session: Session, period: Period) -> dict[int, float]:
    """The calls each agent handled in the period, from its stored service metrics."""
    return {
        fact.agent_id: fact.value
        for fact in metrics_service.agent_facts(
            session=session, periods=[period.label], metrics=[HANDLED_CALLS]
        )
        if fact.value is not None and fact.value > 0
    }


def _employed(session: Session, period: Period) -> set[int]:
    """The agents employed during some of the period."""
    return {
        agent.id
        for agent in org_service.all_agents(session=session)
        if agent.hire_date <= period.last_day
        and (agent.left_on is None or agent.left_on >= period.first_day)
    }


def _votes_by_author(session: Session, start: datetime, end: datetime) -> dict[int, int]:
    rows = session.execute(
        select(KbItem.author_agent_id, func.count())
        .join(KbVote, KbVote.item_id == KbItem.id)
        .where(
            KbItem.author_agent_id.is_not(None),
            KbVote.created_at >= start,
            KbVote.created_at < end,
        )
        .group_by(KbItem.author_agent_id)
    )
    return {agent_id: count for agent_id, count in rows if agent_id is not None}


PROVIDER = KnowledgeProvider()
