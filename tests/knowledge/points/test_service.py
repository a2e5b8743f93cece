"""Contribution points: what each fact pays under the rules, the caps, corrections that take
points back, versioned rules, the decayed balance; the ledger says why for every entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.knowledge.items import service as items
from agentladder.knowledge.points import service as points
from agentladder.knowledge.points.schemas import (
    PointRulesError,
    parse_rules,
    point_reason,
    rules_hash,
)
from tests.factories import make_agent, make_user
from tests.knowledge.kb_world import CASE, build, case, published

AT = datetime(2026, 10, 12, 3, 0, tzinfo=UTC)


def _ledger(session: Session, agent_id: int) -> list[tuple[str, float]]:
    return [
        (entry.event, entry.points)
        for entry in reversed(points.ledger(session=session, agent_ids=[agent_id]))
    ]


def _rules(**changes: str) -> str:
    text = points.default_rules_text()
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new)
    return text


def test_publishing_adoption_grade_and_sop_pay_the_cases_author(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    item = published(session, world, grade=5, at=AT)
    items.adopt(session=session, item_id=item.id, by=world.users["trainer"], at=AT)
    sop = items.make_sop(session=session, item_id=item.id, by=world.users["trainer"], at=AT)
    items.submit(session=session, item_id=sop.id, by=world.users["trainer"], at=AT)
    items.review(session=session, item_id=sop.id, by=world.users["qa"], decision="approve", at=AT)
    assert _ledger(session, world.agents["a1"].id) == [
        ("publish", 10),
        ("review_grade", 5),
        ("adopted", 20),
        ("sop", 10),
    ]
    # The trainer is not an agent: writing the SOP earns nobody else anything.
    assert len(points.ledger(session=session)) == 4
    [entry] = [e for e in points.ledger(session=session) if e.event == "publish"]
    assert entry.rules_hash == points.rules_in_force(session=session).content_hash
    assert entry.detail == {"type": "case"}


def test_a_trivial_edit_earns_nothing_and_says_why(session: Session, settings: Settings) -> None:
    world = build(session, settings)
    item = published(session, world, author="b1")
    # The team lead (an agent too) edits as a reviewer: published at once.
    items.edit_item(
        session=session,
        item_id=item.id,
        draft=case(result=CASE.result + "。"),
        by=world.users["lead"],
    )
    longer = CASE.solution + "\n4. 如客户要求，记录下次回访的时间，并在工单中注明检查结果。" * 3
    items.edit_item(
        session=session, item_id=item.id, draft=case(solution=longer), by=world.users["lead"]
    )
    entries = list(reversed(points.ledger(session=session, agent_ids=[world.agents["lead"].id])))
    assert [(e.event, e.points) for e in entries] == [("edit", 0), ("edit", 2)]
    assert entries[0].detail["capped"] == "trivial_edit"
    assert point_reason(entries[0].detail) is not None
    # The author's own substantial edit pays once a reviewer approves it.
    items.edit_item(
        session=session, item_id=item.id, draft=case(solution=longer * 2), by=world.users["b1"]
    )
    assert _ledger(session, world.agents["b1"].id)[-1] == ("publish", 10)
    items.review(session=session, item_id=item.id, by=world.users["qa"], decision="approve")
    assert _ledger(session, world.agents["b1"].id)[-1] == ("edit", 2)


def test_votes_are_capped_per_item_per_voter_and_for_the_authors_team(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    points.apply_rules(
        session=session,
        text=_rules(
            **{
                "max_per_item: 20": "max_per_item: 3",
                "max_same_team_per_item: 5": "max_same_team_per_item: 1",
            }
        ),
        by=None,
    )
    item = published(session, world, author="a1")
    # a2 and lead are a1's team: only one of their votes pays.
    for voter in ("a2", "lead", "b1", "qa", "trainer"):
        items.vote(session=session, item_id=item.id, by=world.users[voter], at=AT)
    votes = [
        e
        for e in reversed(points.ledger(session=session, agent_ids=[world.agents["a1"].id]))
        if e.event == "helpful_vote"
    ]
    assert [(e.points, e.detail.get("capped")) for e in votes] == [
        (1, None),
        (0, "max_same_team_per_item"),
        (1, None),
        (1, None),
        (0, "max_per_item"),
    ]


def test_a_voter_pays_an_author_at_most_three_times_a_month(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    drafts = [
        published(session, world, author="a1", draft=case(title=f"案例{n}")) for n in range(5)
    ]
    for number, item in enumerate(drafts):
        items.vote(
            session=session, item_id=item.id, by=world.users["b1"], at=AT + timedelta(hours=number)
        )
    paid = [e.points for e in points.ledger(session=session) if e.event == "helpful_vote"]
    assert sorted(paid) == [0, 0, 1, 1, 1]
    # A new month starts a new count.
    sixth = published(session, world, author="a1", draft=case(title="案例6"), at=AT)
    items.vote(session=session, item_id=sixth.id, by=world.users["b1"], at=AT + timedelta(days=31))
    latest = next(e for e in points.ledger(session=session) if e.event == "helpful_vote")
    assert (latest.item_id, latest.points) == (sixth.id, 1)


def test_a_withdrawn_vote_is_cancelled_by_a_correction(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    item = published(session, world, at=AT)
    items.vote(session=session, item_id=item.id, by=world.users["b1"], at=AT)
    items.vote(session=session, item_id=item.id, by=world.users["b1"], helpful=False, at=AT)
    assert _ledger(session, world.agents["a1"].id)[-2:] == [("helpful_vote", 1), ("correction", -1)]
    # Voting again is a new fact that pays again (and the cap counts only the live vote).
    items.vote(session=session, item_id=item.id, by=world.users["b1"], at=AT + timedelta(seconds=1))
    assert sum(points for _, points in _ledger(session, world.agents["a1"].id)) == 11


def test_an_agents_points_add_up_the_whole_ledger_read_a_page_at_a_time(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    item = published(session, world, at=AT)
    items.vote(session=session, item_id=item.id, by=world.users["b1"], at=AT)
    items.vote(session=session, item_id=item.id, by=world.users["b1"], helpful=False, at=AT)
    agent_id = world.agents["a1"].id
    whole = points.ledger(session=session, agent_ids=[agent_id])
    summary = points.agent_points(session=session, agent_id=agent_id, at=AT)
    assert summary.entries == len(whole) == 3
    assert summary.earned == sum(entry.points for entry in whole) == 10
    assert summary.balance == points.balances(session=session, at=AT)[agent_id]
    pages = [
        points.ledger(session=session, agent_ids=[agent_id], limit=2, offset=offset)
        for offset in (0, 2)
    ]
    assert [entry.id for page in pages for entry in page] == [entry.id for entry in whole]


def test_use_on_calls_is_capped_a_month_and_ones_own_call_pays_nothing(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    points.apply_rules(
        session=session, text=_rules(**{"max_per_item_month: 10": "max_per_item_month: 2"}), by=None
    )
    item = published(session, world)
    for number, user in enumerate(("a1", "a2", "b1", "qa")):
        items.record_usage(
            session=session,
            item_id=item.id,
            call_id=f"call-{number}",
            by=world.users[user],
            source="agent",
            at=AT,
        )
    usages = [e for e in reversed(points.ledger(session=session)) if e.event == "used_on_call"]
    assert [(e.points, e.detail.get("capped")) for e in usages] == [
        (0, "own_call"),
        (1, None),
        (1, None),
        (0, "max_per_item_month"),
    ]


def test_archiving_as_a_duplicate_takes_every_point_back(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    kept = published(session, world, author="b1")
    copy = published(session, world, author="a1", draft=case(title="光猫亮红灯"), grade=4)
    items.vote(session=session, item_id=copy.id, by=world.users["b1"])
    assert sum(p for _, p in _ledger(session, world.agents["a1"].id)) == 14
    items.archive(session=session, item_id=copy.id, by=world.users["qa"], duplicate_of=kept.id)
    assert sum(p for _, p in _ledger(session, world.agents["a1"].id)) == 0
    assert [
        e.detail["reason"] for e in points.ledger(session=session) if e.event == "correction"
    ] == ["duplicate"] * 3


def test_rules_are_versioned_and_earlier_points_keep_their_version(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    first = published(session, world)
    old = points.rules_in_force(session=session)
    points.apply_rules(
        session=session,
        text=_rules(**{"  case: 10": "  case: 25"}),
        by=world.users["manager"],
        note="more for cases",
    )
    published(session, world, draft=case(title="另一个案例"))
    entries = [e for e in reversed(points.ledger(session=session)) if e.event == "publish"]
    assert [(e.points, e.rules_hash) for e in entries] == [
        (10, old.content_hash),
        (25, points.rules_in_force(session=session).content_hash),
    ]
    assert first.id
    assert len(points.rules_history(session=session)) == 2
    # Applying the same rules again stores no new version.
    points.apply_rules(session=session, text=_rules(**{"  case: 10": "  case: 25"}), by=None)
    assert len(points.rules_history(session=session)) == 2


def test_the_balance_halves_with_the_half_life(session: Session, settings: Settings) -> None:
    world = build(session, settings)
    published(session, world, at=AT)
    agent_id = world.agents["a1"].id
    year_later = AT + timedelta(days=365.25)
    assert points.balances(session=session, at=year_later)[agent_id] == pytest.approx(5, rel=1e-3)
    points.apply_rules(
        session=session, text=_rules(**{"decay:\n  half_life_months: 12\n": ""}), by=None
    )
    assert points.balances(session=session, at=year_later)[agent_id] == 10


def test_invalid_rules_name_every_problem() -> None:
    with pytest.raises(PointRulesError) as raised:
        parse_rules(
            _rules(
                **{
                    "  case: 10": "  case: -1",
                    "points: 1\n  max_per_item: 20": "points: many\n  max_per_item: 20",
                }
            )
        )
    keys = [key for key, _ in raised.value.problems]
    assert keys == ["publish.case", "helpful_vote.points"]
    with pytest.raises(PointRulesError, match="not valid YAML on line"):
        parse_rules("publish:\n  - [unclosed\n")
    with pytest.raises(PointRulesError):
        parse_rules(_rules(**{"adopted: 20": "adopted: 20\nbonus: 3"}))


@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_the_hash_follows_the_values_not_the_layout(adopted: int, sop: int) -> None:
    text = _rules(**{"adopted: 20": f"adopted: {adopted}", "sop: 10": f"sop: {sop}"})
    rules = parse_rules(text)
    assert rules_hash(parse_rules("# a comment\n" + text)) == rules_hash(rules)
    assert (rules_hash(rules) == rules_hash(parse_rules(points.default_rules_text()))) == (
        (adopted, sop) == (20, 10)
    )


def test_an_author_who_is_not_an_agent_earns_nothing(session: Session, settings: Settings) -> None:
    world = build(session, settings)
    published(session, world, author="trainer", reviewer="qa")
    assert points.ledger(session=session) == []
    agent = make_agent(session, name="新人")
    user = make_user(session, settings, "newbie", ["agent"], agent)
    published(session, world, author="trainer", reviewer="lead", draft=case(title="培训师的案例"))
    assert user.agent_id == agent.id
    assert points.ledger(session=session) == []
