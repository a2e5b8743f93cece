"""The item workflow: drafts only their author sees, review by someone else, publishing, edits
of published items (a reviewer's at once, anyone else's after review), revisions and revert,
adoption and SOPs, archiving a duplicate, votes, comments and call usages."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.errors import Conflict, Forbidden, InvalidInput, NotFound
from agentladder.knowledge.items import service as items
from agentladder.knowledge.items.diff import side_by_side
from agentladder.knowledge.models import KbItem, KbRevision
from agentladder.knowledge.schemas import ItemDraft
from tests.knowledge.kb_world import CASE, build, case, published


def test_a_draft_is_its_authors_alone(session: Session, settings: Settings) -> None:
    world = build(session, settings)
    item = items.create_item(session=session, draft=CASE, by=world.users["a1"])
    assert item.author_agent_id == world.agents["a1"].id
    assert items.get_item(session=session, item_id=item.id, by=world.users["a1"]).status == "draft"
    # Another agent, and even a reviewer, gets 404: the same answer as no such item.
    for other in ("a2", "qa", "lead", "manager"):
        with pytest.raises(NotFound):
            items.get_item(session=session, item_id=item.id, by=world.users[other])
        with pytest.raises(NotFound):
            items.revisions(session=session, item_id=item.id, by=world.users[other])
    with pytest.raises(NotFound):
        items.edit_item(session=session, item_id=item.id, draft=CASE, by=world.users["a2"])
    assert [row.id for row in items.own_items(session=session, by=world.users["a1"])] == [item.id]
    assert items.own_items(session=session, by=world.users["a2"]) == []


def test_review_publishes_and_nobody_reviews_their_own(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    item = items.create_item(session=session, draft=CASE, by=world.users["lead"])
    items.submit(session=session, item_id=item.id, by=world.users["lead"])
    assert [row.id for row in items.review_queue(session=session, by=world.users["qa"])] == [
        item.id
    ]
    assert items.review_queue(session=session, by=world.users["lead"]) == []  # their own
    with pytest.raises(Forbidden):
        items.review(session=session, item_id=item.id, by=world.users["lead"], decision="approve")
    with pytest.raises(Forbidden):
        items.review(session=session, item_id=item.id, by=world.users["a2"], decision="approve")
    with pytest.raises(Forbidden):
        items.review_queue(session=session, by=world.users["a2"])
    # A waiting item: its author and reviewers read it, other agents do not.
    items.get_item(session=session, item_id=item.id, by=world.users["trainer"])
    with pytest.raises(NotFound):
        items.get_item(session=session, item_id=item.id, by=world.users["a2"])
    items.review(
        session=session, item_id=item.id, by=world.users["qa"], decision="approve", grade=4
    )
    read = items.get_item(session=session, item_id=item.id, by=world.users["a2"])
    assert (read.status, read.published_revision, read.pending_review) == ("published", 1, False)


def test_returning_needs_a_comment_and_sends_the_item_back(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    item = items.create_item(session=session, draft=CASE, by=world.users["a1"])
    items.submit(session=session, item_id=item.id, by=world.users["a1"])
    with pytest.raises(InvalidInput):
        items.review(session=session, item_id=item.id, by=world.users["qa"], decision="return")
    items.review(
        session=session,
        item_id=item.id,
        by=world.users["qa"],
        decision="return",
        comment="补充一下派单的流程",
    )
    assert item.status == "draft"
    assert item.submitted_at is None
    with pytest.raises(NotFound):  # a returned draft is its author's alone again
        items.review(session=session, item_id=item.id, by=world.users["qa"], decision="approve")
    [review] = items.reviews(session=session, item_id=item.id, by=world.users["a1"])
    assert (review.decision, review.comment, review.reviewer_name) == (
        "return",
        "补充一下派单的流程",
        "qa",
    )


def test_an_authors_edit_of_a_published_item_waits_a_reviewers_does_not(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    item = published(session, world)
    items.edit_item(
        session=session, item_id=item.id, draft=case(result="客户满意。"), by=world.users["a1"]
    )
    # Readers keep revision 1 until a reviewer approves revision 2.
    assert (
        items.get_item(session=session, item_id=item.id, by=world.users["a2"]).text.result
        == CASE.result
    )
    assert items.get_item(session=session, item_id=item.id, by=world.users["a1"]).revision == 2
    assert item.submitted_at is not None
    items.review(session=session, item_id=item.id, by=world.users["trainer"], decision="approve")
    assert (
        items.get_item(session=session, item_id=item.id, by=world.users["a2"]).text.result
        == "客户满意。"
    )
    # A reviewer's own edit is published at once; another agent may not edit at all.
    items.edit_item(
        session=session, item_id=item.id, draft=case(result="已解决。"), by=world.users["qa"]
    )
    assert (item.published_revision, item.submitted_at) == (3, None)
    with pytest.raises(Forbidden):
        items.edit_item(session=session, item_id=item.id, draft=case(), by=world.users["a2"])
    # Saving the same text again makes no revision.
    items.edit_item(
        session=session, item_id=item.id, draft=case(result="已解决。"), by=world.users["qa"]
    )
    assert item.current_revision == 3


def test_revert_is_a_new_revision_and_the_diff_shows_the_change(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    item = published(session, world)
    items.edit_item(
        session=session,
        item_id=item.id,
        draft=case(solution=CASE.solution + "\n4. 记录工单号。", tags=["宽带"]),
        by=world.users["qa"],
    )
    history = items.revisions(session=session, item_id=item.id, by=world.users["a1"])
    assert [revision.number for revision in history] == [2, 1]
    assert history[0].changed_chars > 0
    assert history[0].author_name == "qa"
    parts = {part.part: part for part in side_by_side(history[1].text, history[0].text)}
    assert set(parts) == {"solution", "tags"}
    assert [row.kind for row in parts["solution"].rows][-1] == "added"
    items.revert(session=session, item_id=item.id, to_revision=1, by=world.users["trainer"])
    assert item.current_revision == 3
    assert item.published_revision == 3
    third = items.revisions(session=session, item_id=item.id, by=world.users["a1"])[0]
    assert third.reverted_from == 1
    assert third.text == history[1].text
    # Other agents read only the published text, not the history.
    with pytest.raises(NotFound):
        items.revisions(session=session, item_id=item.id, by=world.users["a2"])


def test_adoption_and_an_sop_made_from_a_best_practice(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    item = published(session, world)
    with pytest.raises(Forbidden):
        items.adopt(session=session, item_id=item.id, by=world.users["lead"])  # team leads review
    with pytest.raises(Conflict):
        items.make_sop(session=session, item_id=item.id, by=world.users["trainer"])
    items.adopt(session=session, item_id=item.id, by=world.users["trainer"])
    with pytest.raises(Conflict):
        items.adopt(session=session, item_id=item.id, by=world.users["qa"])
    sop = items.make_sop(session=session, item_id=item.id, by=world.users["trainer"])
    assert (sop.type, sop.status, sop.derived_from_id) == ("sop", "draft", item.id)
    text = items.get_item(session=session, item_id=sop.id, by=world.users["trainer"]).text
    assert CASE.solution in text.body
    assert text.tags == CASE.tags
    with pytest.raises(Conflict):
        items.make_sop(session=session, item_id=item.id, by=world.users["qa"])
    article = published(
        session, world, draft=ItemDraft(type="article", title="资费说明", body="月租 59 元。")
    )
    with pytest.raises(Conflict):
        items.adopt(session=session, item_id=article.id, by=world.users["trainer"])


def test_votes_one_per_user_never_on_ones_own(session: Session, settings: Settings) -> None:
    world = build(session, settings)
    item = published(session, world)
    with pytest.raises(Forbidden):
        items.vote(session=session, item_id=item.id, by=world.users["a1"])
    assert items.vote(session=session, item_id=item.id, by=world.users["a2"]) == 1
    assert items.vote(session=session, item_id=item.id, by=world.users["a2"]) == 1
    assert items.vote(session=session, item_id=item.id, by=world.users["b1"]) == 2
    assert items.vote(session=session, item_id=item.id, by=world.users["b1"], helpful=False) == 1
    draft = items.create_item(session=session, draft=case(title="草稿"), by=world.users["a1"])
    with pytest.raises(NotFound):
        items.vote(session=session, item_id=draft.id, by=world.users["a2"])


def test_usages_link_a_call_once(session: Session, settings: Settings) -> None:
    world = build(session, settings)
    item = published(session, world)
    assert items.record_usage(
        session=session,
        item_id=item.id,
        call_id="1700000000.42",
        by=world.users["a2"],
        source="agent",
    )
    assert not items.record_usage(
        session=session, item_id=item.id, call_id="1700000000.42", by=world.users["qa"], source="qa"
    )
    with pytest.raises(InvalidInput):
        items.record_usage(
            session=session, item_id=item.id, call_id=" ", by=world.users["a2"], source="agent"
        )
    [(call, source, _)] = items.usages(session=session, item_id=item.id, by=world.users["b1"])
    assert (call, source) == ("1700000000.42", "agent")
    assert items.get_item(session=session, item_id=item.id, by=world.users["b1"]).usages == 1


def test_archiving_as_a_duplicate_points_to_the_kept_item(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    kept = published(session, world, author="b1")
    copy = published(session, world, author="a1", draft=case(title="光猫亮红灯"))
    with pytest.raises(Forbidden):
        items.archive(
            session=session, item_id=copy.id, by=world.users["a1"]
        )  # published: reviewers
    items.archive(session=session, item_id=copy.id, by=world.users["qa"], duplicate_of=kept.id)
    read = items.get_item(session=session, item_id=copy.id, by=world.users["a2"])
    assert (read.status, read.archive_reason, read.duplicate_of_id) == (
        "archived",
        "duplicate",
        kept.id,
    )
    with pytest.raises(Conflict):
        items.vote(session=session, item_id=copy.id, by=world.users["a2"])
    listed, total = items.list_items(session=session)
    assert total == 1
    assert [row.id for row in listed] == [kept.id]


def test_list_filters_by_type_category_and_tag(session: Session, settings: Settings) -> None:
    world = build(session, settings)
    first = published(session, world)
    published(
        session,
        world,
        draft=ItemDraft(
            type="article", title="资费", body="月租", category="资费/套餐", tags=["套餐"]
        ),
    )
    assert items.list_items(session=session, type_="case")[1] == 1
    assert [row.id for row in items.list_items(session=session, category="宽带")[0]] == [first.id]
    assert items.list_items(session=session, tag="套餐")[1] == 1
    assert set(items.category_paths(session).values()) == {"宽带", "宽带/故障", "资费", "资费/套餐"}
    # Categories are made once, whatever order the items come in.
    assert session.scalar(select(KbItem.category_id).where(KbItem.id == first.id)) is not None


def test_a_case_needs_its_situation_and_solution() -> None:
    with pytest.raises(ValueError, match="situation"):
        ItemDraft(type="case", title="x", situation="", solution="y")
    with pytest.raises(ValueError, match="empty"):
        ItemDraft(type="article", title="x", body="  ")
    assert ItemDraft(type="article", title=" x ", body="y", tags=["a", " a ", "", "b"]).tags == [
        "a",
        "b",
    ]


def test_changed_chars_counts_what_was_added_and_removed(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    item = published(session, world)
    items.edit_item(
        session=session,
        item_id=item.id,
        draft=case(result=CASE.result + "谢谢"),
        by=world.users["qa"],
    )
    revision = session.scalar(
        select(KbRevision).where(KbRevision.item_id == item.id, KbRevision.number == 2)
    )
    assert revision is not None
    assert revision.changed_chars == 2


def test_a_reviewers_change_of_their_own_published_item_waits_for_another(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    item = published(session, world, author="lead", reviewer="qa")
    items.edit_item(
        session=session, item_id=item.id, draft=case(result="已解决。"), by=world.users["lead"]
    )
    assert item.published_revision == 1
    assert item.submitted_at is not None
    items.review(session=session, item_id=item.id, by=world.users["qa"], decision="approve")
    items.revert(session=session, item_id=item.id, to_revision=1, by=world.users["lead"])
    assert (item.current_revision, item.published_revision) == (3, 2)
    assert item.submitted_at is not None


def test_nul_characters_are_dropped_before_they_reach_the_database(
    session: Session, settings: Settings
) -> None:
    """PostgreSQL refuses text with NUL (the XSS list's `java\\0script` made a 500 there)."""
    world = build(session, settings)
    item = published(
        session,
        world,
        draft=case(title="光猫\x00红灯", solution="java\x00script", tags=["宽\x00带"]),
    )
    items.add_comment(session=session, item_id=item.id, by=world.users["b1"], body="有\x00用")
    items.record_usage(
        session=session, item_id=item.id, call_id="c\x001", by=world.users["b1"], source="agent"
    )
    session.flush()
    read = items.get_item(session=session, item_id=item.id, by=world.users["b1"])
    assert (read.text.title, read.text.solution, read.text.tags) == (
        "光猫红灯",
        "javascript",
        ["宽带"],
    )
    assert [
        body
        for _, _, body in items.comments(session=session, item_id=item.id, by=world.users["b1"])
    ] == ["有用"]
    assert [
        call for call, _, _ in items.usages(session=session, item_id=item.id, by=world.users["b1"])
    ] == ["c1"]
