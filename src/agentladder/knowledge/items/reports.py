"""The library's reports for staff: the items most used on calls and most found helpful, the
gaps (searches that found nothing), and what each team contributes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agentladder.knowledge.items import rows
from agentladder.knowledge.items import service as items_service
from agentladder.knowledge.models import KbItem, KbPoint, KbUsage, KbVote
from agentladder.knowledge.schemas import ItemSummary
from agentladder.knowledge.search import service as search_service
from agentladder.org import service as org_service


@dataclass(frozen=True)
class RankedItem:
    """An item and how often it was used (or voted for) in the window."""

    item: ItemSummary
    count: int


@dataclass(frozen=True)
class TeamContribution:
    """What a team's agents contributed in the window."""

    team: str
    agents: int
    published: int
    adopted: int
    points: float

    @property
    def published_per_agent(self) -> float:
        """Items first published per agent of the team."""
        return self.published / self.agents if self.agents else 0.0


@dataclass(frozen=True)
class LibraryReport:
    """Everything the reports page shows for one window."""

    most_used: list[RankedItem]
    most_helpful: list[RankedItem]
    gaps: list[tuple[str, int]]
    teams: list[TeamContribution]


def _ranked(
    session: Session, model: type[KbUsage | KbVote], start: datetime, end: datetime, limit: int
) -> list[RankedItem]:
    """Published items by how many rows of `model` (calls, votes) they had in the window."""
    counted = session.execute(
        select(model.item_id, func.count())
        .join(KbItem, KbItem.id == model.item_id)
        .where(KbItem.status == "published", model.created_at >= start, model.created_at < end)
        .group_by(model.item_id)
        .order_by(func.count().desc(), model.item_id)
        .limit(limit)
    ).all()
    items = rows.items_by_ids(session=session, item_ids=[item_id for item_id, _ in counted])
    summaries = {
        summary.id: summary for summary in items_service.summaries(session, list(items.values()))
    }
    return [
        RankedItem(summaries[item_id], count) for item_id, count in counted if item_id in summaries
    ]


def library_report(
    *, session: Session, start: datetime, end: datetime, limit: int = 20
) -> LibraryReport:
    """The reports over [start, end)."""
    agents = org_service.all_agents(session=session)
    team_of = {agent.id: agent.team.name if agent.team else "" for agent in agents}
    members: dict[str, int] = defaultdict(int)
    for agent in agents:
        if agent.status == "active":
            members[team_of[agent.id]] += 1
    published: dict[str, int] = defaultdict(int)
    adopted: dict[str, int] = defaultdict(int)
    points: dict[str, float] = defaultdict(float)
    for agent_id, first, adopted_at in session.execute(
        select(KbItem.author_agent_id, KbItem.first_published_at, KbItem.adopted_at).where(
            KbItem.author_agent_id.is_not(None)
        )
    ):
        team = team_of.get(agent_id or 0, "")
        if first is not None and start <= first < end:
            published[team] += 1
        if adopted_at is not None and start <= adopted_at < end:
            adopted[team] += 1
    for agent_id, total in session.execute(
        select(KbPoint.agent_id, func.sum(KbPoint.points))
        .where(KbPoint.earned_at >= start, KbPoint.earned_at < end)
        .group_by(KbPoint.agent_id)
    ):
        points[team_of.get(agent_id, "")] += float(total or 0)
    # The teams that contribute most first.
    teams = sorted(
        set(members) | set(published) | set(points), key=lambda team: (-points.get(team, 0.0), team)
    )
    return LibraryReport(
        most_used=_ranked(session, KbUsage, start, end, limit),
        most_helpful=_ranked(session, KbVote, start, end, limit),
        gaps=search_service.searches_without_results(session=session, since=start, limit=limit),
        teams=[
            TeamContribution(
                team,
                members.get(team, 0),
                published.get(team, 0),
                adopted.get(team, 0),
                points.get(team, 0.0),
            )
            for team in teams
        ],
    )
