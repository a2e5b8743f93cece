"""The demo's knowledge library: the company's items written through the library's services
over the months of calls by agents (better ones more) and staff, reviewed, adopted, voted for,
used on calls and searched, with work left waiting for the pages; and its contribution points
reaching the ladder through the knowledge provider."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select

from agentladder.config import Settings
from agentladder.db import session_scope, upgrade_schema, utcnow
from agentladder.demo import service as demo_service
from agentladder.demo.models import DemoAgentTruth
from agentladder.knowledge.items import service as items_service
from agentladder.knowledge.models import (
    KbComment,
    KbItem,
    KbPoint,
    KbReview,
    KbRevision,
    KbSearch,
    KbUsage,
    KbVote,
)
from agentladder.knowledge.search import service as search_service
from agentladder.ladder.decisions import facts as ladder_facts
from agentladder.ladder.decisions import service as decisions_service
from agentladder.org import service as org_service
from agentladder.org.accounts import service as accounts_service
from agentladder.periods import parse_period
from tests.conftest import fresh_database_url, make_settings

TODAY = date(2026, 11, 23)
FIRST_DAY, LAST_DAY = date(2026, 9, 1), date(2026, 10, 31)
LAST_MONTH = "2026-10"


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory, worker_name: str
) -> tuple[Settings, demo_service.DemoSummary]:
    """One demo of 15 agents and two months of calls in its own database, read (never
    changed) by the tests of this module."""
    url = fresh_database_url(tmp_path_factory.mktemp("library_db"), f"{worker_name}_library")
    settings = make_settings(tmp_path_factory.mktemp("library") / "data", url)
    upgrade_schema(settings)
    with session_scope(settings) as session:
        summary = demo_service.build_demo(
            session=session,
            settings=settings,
            agents=15,
            seed=5,
            today=TODAY,
            call_months=2,
            period_kinds=("month",),
        )
    return settings, summary


def test_the_demo_builds_a_library_written_read_and_searched(
    built: tuple[Settings, demo_service.DemoSummary],
) -> None:
    settings, summary = built
    facts = summary.facts["knowledge"]
    assert isinstance(facts, dict)
    with session_scope(settings) as session:
        items = session.scalars(select(KbItem)).all()
        by_status = Counter(item.status for item in items)
        assert by_status == facts["items_by_status"]
        assert by_status["published"] >= 300
        assert by_status["draft"] >= 5
        assert by_status["archived"] == 1
        assert {item.type for item in items} == {"article", "case", "sop", "script"}
        published = [item for item in items if item.status == "published"]
        # Agents and staff both write: cases mostly agents, the rest mostly staff.
        cases = [item for item in published if item.type == "case"]
        by_agents = [item for item in cases if item.author_agent_id is not None]
        assert len(by_agents) > 0.7 * len(cases)
        others = [item for item in published if item.type != "case"]
        assert sum(1 for item in others if item.author_agent_id is None) > 0.6 * len(others)
        # Adopted cases: about a quarter, a few made SOPs.
        adopted = [item for item in cases if item.adopted_at is not None]
        assert 0.12 * len(cases) <= len(adopted) <= 0.45 * len(cases)
        assert any(item.derived_from_id is not None for item in published)
        # The duplicate archived points at its original and earned nothing in the end.
        (duplicate,) = [item for item in items if item.status == "archived"]
        assert duplicate.archive_reason == "duplicate"
        assert duplicate.duplicate_of_id is not None
        kept = session.scalar(
            select(func.sum(KbPoint.points)).where(KbPoint.item_id == duplicate.id)
        )
        assert kept == 0
        # Reviews: by someone else, some returned with a comment first, grades 1-5.
        reviews = session.scalars(select(KbReview)).all()
        returned = [review for review in reviews if review.decision == "return"]
        assert 0.05 * len(reviews) < len(returned) < 0.3 * len(reviews)
        assert all(review.comment for review in returned)
        assert {review.grade for review in reviews if review.decision == "approve"} <= {
            1,
            2,
            3,
            4,
            5,
        }
        users = {user.id: user for user in accounts_service.list_users(session=session)}
        by_id = {item.id: item for item in items}
        for review in reviews:
            item = by_id[review.item_id]
            assert review.reviewer_user_id != item.author_user_id
        # History to show: reviewers' edits and reverts.
        revisions = session.scalars(select(KbRevision)).all()
        assert sum(1 for revision in revisions if revision.reverted_from is not None) == 2
        assert max(item.current_revision for item in items) >= 4
        # Readers: votes (never on one's own item), comments, uses on calls, views.
        votes = session.scalars(select(KbVote)).all()
        assert len(votes) == facts["votes"] > 200
        for vote in votes:
            assert users[vote.user_id].agent_id != by_id[vote.item_id].author_agent_id
        assert session.scalar(select(func.count()).select_from(KbComment)) > 10
        usages = session.scalars(select(KbUsage)).all()
        assert len(usages) == facts["usages"] > 50
        assert {usage.source for usage in usages} == {"agent", "qa"}
        assert sum(item.view_count for item in published) > 1000
        # The points ledger.
        assert session.scalar(select(func.count()).select_from(KbPoint)) == facts["ledger_entries"]
        assert {entry for (entry,) in session.execute(select(KbPoint.event).distinct())} >= {
            "publish",
            "adopted",
            "sop",
            "helpful_vote",
            "used_on_call",
            "review_grade",
            "correction",
        }
        # Waiting for a reviewer: new items and edits of published ones.
        qa = accounts_service.get_user_by_username(session=session, username="qa")
        assert qa is not None
        queue = items_service.review_queue(session=session, by=qa)
        assert len(queue) >= 4
        assert {row.status for row in queue} == {"in_review", "published"}
        # Searches: logged over the months, most finding something, some not (the gaps).
        searches = session.scalars(select(KbSearch)).all()
        assert len(searches) == facts["searches"] >= 50
        empty = [search for search in searches if search.results == 0]
        assert 3 <= len(empty) < len(searches) / 3
        assert search_service.searches_without_results(session=session)
        # Every moment in the months of calls, none in the future.
        zone = settings.tz
        start = datetime.combine(FIRST_DAY, time(), zone).astimezone(UTC)
        end = datetime.combine(LAST_DAY, time(23, 59, 59), zone).astimezone(UTC)
        moments = [
            *(item.created_at for item in items),
            *(item.first_published_at for item in items if item.first_published_at),
            *(item.adopted_at for item in items if item.adopted_at),
            *(revision.created_at for revision in revisions),
            *(review.created_at for review in reviews),
            *(vote.created_at for vote in votes),
            *(usage.created_at for usage in usages),
            *session.scalars(select(KbComment.created_at)),
            *session.scalars(select(KbPoint.earned_at)),
            *(search.searched_at for search in searches),
        ]
        assert all(start <= moment <= min(end, utcnow()) for moment in moments)


def test_better_agents_earn_more_points(built: tuple[Settings, demo_service.DemoSummary]) -> None:
    settings, _summary = built
    with session_scope(settings) as session:
        truths = {t.agent_id: t for t in session.scalars(select(DemoAgentTruth))}
        agents = [a for a in org_service.all_agents(session=session) if a.id in truths]
        skill = {
            agent.id: demo_service.true_skill(truths[agent.id], agent.hire_date, LAST_DAY)
            for agent in agents
        }
        points: dict[int, float] = defaultdict(float)
        for agent_id, earned in session.execute(select(KbPoint.agent_id, KbPoint.points)):
            points[agent_id] += earned
    ranked = sorted(skill, key=skill.__getitem__)
    third = len(ranked) // 3
    bottom = statistics.mean(points[agent_id] for agent_id in ranked[:third])
    top = statistics.mean(points[agent_id] for agent_id in ranked[-third:])
    assert top > 1.5 * bottom


def test_the_librarys_points_and_adoptions_reach_the_ladder(
    built: tuple[Settings, demo_service.DemoSummary],
) -> None:
    settings, _summary = built
    zone = settings.tz
    period = parse_period(LAST_MONTH)
    start, end = period.bounds_utc(zone)
    with session_scope(settings) as session:
        earned: dict[int, float] = defaultdict(float)
        for agent_id, points in session.execute(
            select(KbPoint.agent_id, KbPoint.points).where(
                KbPoint.earned_at >= start, KbPoint.earned_at < end
            )
        ):
            earned[agent_id] += points
        adopted = Counter(
            session.scalars(
                select(KbItem.author_agent_id).where(
                    KbItem.author_agent_id.is_not(None),
                    KbItem.adopted_at.is_not(None),
                    KbItem.adopted_at < end,
                )
            )
        )
        views = decisions_service.decision_views(session=session, period=period)
    assert views
    contributions = {
        view.agent_id: metric
        for view in views
        for component in view.detail["components"]
        for metric in component["metrics"]
        if metric["metric"] == "kb_contribution_points"
    }
    # Every agent who worked the month has the library's points (0 for those who earned none),
    # from the knowledge provider, never from an imported file.
    measured = {agent_id: m for agent_id, m in contributions.items() if m["raw"] is not None}
    assert len(measured) >= len(views) - 2
    assert {m["source"] for m in measured.values()} == {"knowledge"}
    for agent_id, metric in measured.items():
        assert metric["raw"] == pytest.approx(earned.get(agent_id, 0.0))
    assert any(metric["raw"] > 0 for metric in measured.values())
    # What the ladder gathers of the 12-month adopted-contributions window: the library's
    # adopted cases, month by month; and the gate, where a level asks for it, counts them all.
    with session_scope(settings) as session:
        gathered = ladder_facts.gather_facts(
            session=session,
            periods=[parse_period("2026-09"), period],
            metrics=["kb_adopted"],
        )
    window: Counter[int] = Counter()
    for by_agent in gathered.values():
        for agent_id, facts in by_agent.items():
            assert facts["kb_adopted"].source == "knowledge"
            window[agent_id] += int(facts["kb_adopted"].value or 0)
    assert +window == +adopted
    gates = [
        (view.agent_id, gate)
        for view in views
        for gate in view.detail["gates"]
        if gate["gate"] == "kb_adopted"
    ]
    for agent_id, gate in gates:
        assert gate["actual"] == adopted.get(agent_id, 0)
