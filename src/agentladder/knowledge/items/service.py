"""The library's items: written as drafts, submitted for review, published, edited (every change
a revision), adopted as best practice, made into SOPs, archived; and what readers add to them
(comments, helpful votes, views, the calls they were used on).

Who may do what:

* everyone signed in reads published items; archived ones stay readable (a link still works)
  but leave search;
* anyone may write a draft; an author sees and edits their own drafts, nobody else sees them
  (404, the same as an item that does not exist);
* reviewers (team leads, QA, trainers, managers, administrators) see what waits for review and
  approve or return it with a comment and a quality grade, never their own writing;
* a published item may be edited by its author or a reviewer: a reviewer's edit is published
  at once, anyone else's waits for review while readers keep the published revision;
* trainers, QA, managers and administrators adopt a published case as best practice (采纳) and
  make a best practice into an SOP.

Points follow the facts (`knowledge.points.service`): publishing, a substantial edit, adoption,
an SOP made from one's case, helpful votes, use on calls, a reviewer's grade.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from agentladder.db import in_chunks, utcnow
from agentladder.errors import Conflict, Forbidden, InvalidInput, NotFound
from agentladder.i18n import N_
from agentladder.knowledge.items.rows import (
    category_paths,
    items_by_ids,
    revision_text,
    shown_revisions,
)
from agentladder.knowledge.markdown import read_item_file
from agentladder.knowledge.models import (
    KbCategory,
    KbComment,
    KbItem,
    KbItemLink,
    KbItemTag,
    KbReview,
    KbRevision,
    KbUsage,
    KbVote,
)
from agentladder.knowledge.points import service as points_service
from agentladder.knowledge.schemas import (
    ItemDraft,
    ItemRead,
    ItemSummary,
    ItemText,
    ReviewDecision,
    ReviewRead,
    RevisionRead,
    UsageSource,
    without_nul,
)
from agentladder.knowledge.search import service as search_service
from agentladder.org import service as org_service
from agentladder.org.accounts import service as accounts_service
from agentladder.org.schemas import Permission, allows

if TYPE_CHECKING:
    from agentladder.org.models import User

MAX_COMMENT = 4000


class ItemNotFound(NotFound):
    """The item does not exist or is not the user's to see."""

    def __init__(self) -> None:
        super().__init__(N_("knowledge item not found"))


def is_reviewer(user: User) -> bool:
    """Whether the user reviews submitted items."""
    return allows(user.roles, Permission.KNOWLEDGE_REVIEW)


def may_adopt(user: User) -> bool:
    """Whether the user adopts best practices and makes SOPs of them."""
    return allows(user.roles, Permission.KNOWLEDGE_ADOPT)


def _is_author(item: KbItem, user: User) -> bool:
    return item.author_user_id == user.id or (
        user.agent_id is not None and item.author_agent_id == user.agent_id
    )


def may_read(item: KbItem, user: User) -> bool:
    """Published and archived items: everyone; a draft: its author; an item waiting for review:
    its author and the reviewers."""
    if item.status in ("published", "archived") or _is_author(item, user):
        return True
    return item.status == "in_review" and is_reviewer(user)


def may_edit(item: KbItem, user: User) -> bool:
    """The author edits their item until it is archived; a reviewer edits published ones."""
    if item.status == "archived":
        return False
    return _is_author(item, user) or (item.status == "published" and is_reviewer(user))


def _get(session: Session, item_id: int, user: User | None, *, lock: bool = False) -> KbItem:
    query = select(KbItem).where(KbItem.id == item_id)
    item = session.scalar(query.with_for_update() if lock else query)
    if item is None or (user is not None and not may_read(item, user)):
        raise ItemNotFound
    return item


def _revision(session: Session, item_id: int, number: int) -> KbRevision:
    revision = session.scalar(
        select(KbRevision).where(KbRevision.item_id == item_id, KbRevision.number == number)
    )
    if revision is None:
        raise NotFound(N_("revision {number} not found"), number=number)
    return revision


def _size(text: ItemText) -> str:
    return "\n".join((text.title, text.title_en, text.searchable_text()))


def changed_chars(before: ItemText | None, after: ItemText) -> int:
    """Characters added plus characters removed between two texts (0 for the same text)."""
    from difflib import SequenceMatcher

    old, new = (_size(before) if before else ""), _size(after)
    if old == new:
        return 0
    matched = sum(block.size for block in SequenceMatcher(None, old, new).get_matching_blocks())
    return (len(old) - matched) + (len(new) - matched)


# --- categories --------------------------------------------------------------------------------


def category_id(session: Session, path: str) -> int | None:
    """The category with this `a/b` path, made (with the ones above it) when missing."""
    if not path:
        return None
    parent: int | None = None
    names = path.split("/")
    for depth in range(len(names)):
        sub_path = "/".join(names[: depth + 1])
        found = session.scalar(select(KbCategory.id).where(KbCategory.path == sub_path))
        if found is None:
            category = KbCategory(parent_id=parent, name=names[depth], path=sub_path)
            session.add(category)
            session.flush()
            found = category.id
        parent = found
    return parent


# --- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Counts:
    votes: dict[int, int]
    usages: dict[int, int]


def _counts(session: Session, item_ids: Sequence[int]) -> _Counts:
    votes: dict[int, int] = {}
    usages: dict[int, int] = {}
    for chunk in in_chunks(list(item_ids)):
        votes.update(
            (item_id, count)
            for item_id, count in session.execute(
                select(KbVote.item_id, func.count())
                .where(KbVote.item_id.in_(chunk))
                .group_by(KbVote.item_id)
            )
        )
        usages.update(
            (item_id, count)
            for item_id, count in session.execute(
                select(KbUsage.item_id, func.count())
                .where(KbUsage.item_id.in_(chunk))
                .group_by(KbUsage.item_id)
            )
        )
    return _Counts(votes, usages)


def author_names(session: Session, items: Iterable[KbItem]) -> dict[int, str]:
    """Each item's author as pages name them: the agent's name, else the user's."""
    listed = list(items)
    agents = {
        agent.id: agent.name
        for agent in org_service.agents_by_ids(
            session=session,
            agent_ids={item.author_agent_id for item in listed if item.author_agent_id},
        )
    }
    users = (
        accounts_service.user_names(session=session)
        if any(item.author_agent_id is None for item in listed)
        else {}
    )
    return {
        item.id: (
            agents.get(item.author_agent_id, "")
            if item.author_agent_id
            else users.get(item.author_user_id or 0, "")
        )
        for item in listed
    }


def shown_revision(item: KbItem, user: User | None) -> int:
    """The revision a reader sees: the published one, unless the reader is the author or a
    reviewer looking at a change that waits (they see the latest)."""
    if item.published_revision is None:
        return item.current_revision
    if user is not None and (_is_author(item, user) or is_reviewer(user)):
        return item.current_revision
    return item.published_revision


def _item_read(session: Session, item: KbItem, number: int) -> ItemRead:
    counts = _counts(session, [item.id])
    category = session.get(KbCategory, item.category_id) if item.category_id else None
    return ItemRead(
        id=item.id,
        slug=item.slug,
        type=item.type,
        status=item.status,
        category=category.path if category else "",
        text=revision_text(_revision(session, item.id, number)),
        revision=number,
        current_revision=item.current_revision,
        published_revision=item.published_revision,
        author_agent_id=item.author_agent_id,
        author_user_id=item.author_user_id,
        author_name=author_names(session, [item])[item.id],
        created_at=item.created_at,
        updated_at=item.updated_at,
        first_published_at=item.first_published_at,
        submitted_at=item.submitted_at,
        archive_reason=item.archive_reason,
        duplicate_of_id=item.duplicate_of_id,
        adopted_at=item.adopted_at,
        derived_from_id=item.derived_from_id,
        view_count=item.view_count,
        helpful_votes=counts.votes.get(item.id, 0),
        usages=counts.usages.get(item.id, 0),
    )


def get_item(
    *, session: Session, item_id: int, by: User | None, revision: int | None = None
) -> ItemRead:
    """The item as this user may read it (None: the system), at its shown or a given revision."""
    item = _get(session, item_id, by)
    number = revision if revision is not None else shown_revision(item, by)
    if by is not None and number != shown_revision(item, by) and not may_see_history(item, by):
        raise ItemNotFound
    return _item_read(session, item, number)


def may_see_history(item: KbItem, user: User) -> bool:
    """Revisions and their diffs: the author and the reviewers."""
    return _is_author(item, user) or is_reviewer(user)


def get_item_row(*, session: Session, item_id: int, by: User | None) -> KbItem:
    """The stored item, when the user may read it (pages ask it what the user may do)."""
    return _get(session, item_id, by)


def record_view(*, session: Session, item_id: int, by: User) -> None:
    """Count a reader's view of a published item (its author's own views are not counted)."""
    item = _get(session, item_id, by)
    if item.status == "published" and not _is_author(item, by):
        session.execute(
            update(KbItem).where(KbItem.id == item_id).values(view_count=KbItem.view_count + 1)
        )


def set_view_counts(*, session: Session, counts: Mapping[int, int]) -> None:
    """Set items' view counts at once, as counted elsewhere (the demo's readers; another tool's
    figures); `record_view` counts one reader's view."""
    for item in items_by_ids(session=session, item_ids=list(counts)).values():
        item.view_count = max(0, counts[item.id])
    session.flush()


def summaries(session: Session, items: Sequence[KbItem]) -> list[ItemSummary]:
    """List rows for stored items, at the revision most readers see."""
    if not items:
        return []
    titles = {
        item_id: (revision.title, revision.title_en)
        for item_id, revision in shown_revisions(session, items).items()
    }
    counts = _counts(session, [item.id for item in items])
    names = author_names(session, items)
    paths = category_paths(session)
    return [
        ItemSummary(
            id=item.id,
            type=item.type,
            status=item.status,
            category=paths.get(item.category_id or 0, ""),
            title=titles.get(item.id, ("", ""))[0],
            title_en=titles.get(item.id, ("", ""))[1],
            author_name=names[item.id],
            updated_at=item.updated_at,
            adopted=item.adopted_at is not None,
            helpful_votes=counts.votes.get(item.id, 0),
            usages=counts.usages.get(item.id, 0),
            view_count=item.view_count,
            pending_review=item.submitted_at is not None,
        )
        for item in items
    ]


def own_items(*, session: Session, by: User) -> list[ItemSummary]:
    """The user's own items, every status, the latest changed first."""
    conditions = [KbItem.author_user_id == by.id]
    if by.agent_id is not None:
        conditions.append(KbItem.author_agent_id == by.agent_id)
    items = session.scalars(
        select(KbItem).where(or_(*conditions)).order_by(KbItem.updated_at.desc())
    )
    return summaries(session, list(items))


def review_queue(*, session: Session, by: User) -> list[ItemSummary]:
    """What waits for review, oldest first, without the reviewer's own items."""
    if not is_reviewer(by):
        raise Forbidden(N_("only reviewers see the review queue"))
    items = [
        item
        for item in session.scalars(
            select(KbItem).where(KbItem.submitted_at.is_not(None)).order_by(KbItem.submitted_at)
        )
        if not _is_author(item, by)
    ]
    return summaries(session, items)


def list_items(
    *,
    session: Session,
    status: str = "published",
    type_: str | None = None,
    category: str | None = None,
    tag: str | None = None,
    adopted: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[ItemSummary], int]:
    """Published (or archived) items under the filters, the latest changed first; and how many."""
    if status not in ("published", "archived"):
        raise InvalidInput(N_("only published or archived items are listed"))
    query = select(KbItem).where(KbItem.status == status)
    if type_:
        query = query.where(KbItem.type == type_)
    if category:
        query = query.join(KbCategory, KbCategory.id == KbItem.category_id).where(
            or_(KbCategory.path == category, KbCategory.path.startswith(category + "/"))
        )
    if tag:
        query = query.where(KbItem.id.in_(select(KbItemTag.item_id).where(KbItemTag.tag == tag)))
    if adopted is not None:
        query = query.where(
            KbItem.adopted_at.is_not(None) if adopted else KbItem.adopted_at.is_(None)
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(KbItem.updated_at.desc(), KbItem.id.desc()).limit(limit).offset(offset)
    )
    return summaries(session, list(rows)), total


def revisions(*, session: Session, item_id: int, by: User) -> list[RevisionRead]:
    """Every revision of the item, the latest first (its author and reviewers only)."""
    item = _get(session, item_id, by)
    if not may_see_history(item, by):
        raise ItemNotFound
    rows = list(
        session.scalars(
            select(KbRevision)
            .where(KbRevision.item_id == item_id)
            .order_by(KbRevision.number.desc())
        )
    )
    agents = {
        agent.id: agent.name
        for agent in org_service.agents_by_ids(
            session=session, agent_ids={row.author_agent_id for row in rows if row.author_agent_id}
        )
    }
    users = accounts_service.user_names(session=session)
    return [
        RevisionRead(
            number=row.number,
            text=revision_text(row),
            author_name=(
                agents.get(row.author_agent_id, "")
                if row.author_agent_id
                else users.get(row.author_user_id or 0, "")
            ),
            created_at=row.created_at,
            note=row.note,
            changed_chars=row.changed_chars,
            reverted_from=row.reverted_from,
        )
        for row in rows
    ]


def reviews(*, session: Session, item_id: int, by: User) -> list[ReviewRead]:
    """The reviewers' decisions on the item, the latest first (its author and reviewers)."""
    item = _get(session, item_id, by)
    if not may_see_history(item, by):
        raise ItemNotFound
    users = accounts_service.user_names(session=session)
    return [
        ReviewRead(
            revision=row.revision,
            reviewer_name=users.get(row.reviewer_user_id or 0, ""),
            decision=row.decision,
            comment=row.comment,
            grade=row.grade,
            created_at=row.created_at,
        )
        for row in session.scalars(
            select(KbReview).where(KbReview.item_id == item_id).order_by(KbReview.id.desc())
        )
    ]


# --- writing -----------------------------------------------------------------------------------


def draft_from_file(text: str) -> tuple[str | None, ItemDraft]:
    """An item file (front matter and Markdown, see `knowledge.markdown`) as its slug and the
    draft it describes: a case's three sections, another type's body. ItemFileError (a
    ValueError naming the line) when it has no front matter; pydantic's ValidationError when
    its fields are not an item."""
    read = read_item_file(text)
    meta = read.meta
    case = meta.get("type") == "case"

    def labels(key: str) -> list[str]:
        value = meta.get(key) or []
        return [str(label) for label in (value if isinstance(value, list) else [value])]

    draft = ItemDraft.model_validate(
        {
            "type": meta.get("type", "article"),
            "category": str(meta.get("category") or ""),
            "title": str(meta.get("title") or ""),
            "title_en": str(meta.get("title_en") or ""),
            "body": "" if case else read.body,
            **(
                {part: read.sections.get(part, "") for part in ("situation", "solution", "result")}
                if case
                else {}
            ),
            **{key: labels(key) for key in ("tags", "products", "queues", "skill_groups")},
        }
    )
    slug = meta.get("slug")
    return (str(slug) if slug else None), draft


def _add_revision(
    session: Session,
    item: KbItem,
    text: ItemText,
    *,
    by: User | None,
    author_agent_id: int | None,
    note: str = "",
    reverted_from: int | None = None,
    at: datetime,
) -> KbRevision:
    before = (
        revision_text(_revision(session, item.id, item.current_revision))
        if item.id is not None and item.current_revision
        else None
    )
    number = (item.current_revision or 0) + 1 if before is not None else 1
    revision = KbRevision(
        item_id=item.id,
        number=number,
        title=text.title,
        title_en=text.title_en,
        body=text.body,
        situation=text.situation,
        solution=text.solution,
        result=text.result,
        tags_json=json.dumps(text.tags, ensure_ascii=False),
        products_json=json.dumps(text.products, ensure_ascii=False),
        queues_json=json.dumps(text.queues, ensure_ascii=False),
        skill_groups_json=json.dumps(text.skill_groups, ensure_ascii=False),
        author_user_id=by.id if by else None,
        author_agent_id=author_agent_id,
        created_at=at,
        note=note,
        changed_chars=changed_chars(before, text),
        reverted_from=reverted_from,
    )
    session.add(revision)
    item.current_revision = number
    item.updated_at = at
    session.execute(delete(KbItemTag).where(KbItemTag.item_id == item.id))
    session.add_all(KbItemTag(item_id=item.id, tag=tag) for tag in text.tags)
    session.flush()
    _changed(session, item)
    return revision


def _changed(session: Session, item: KbItem) -> None:
    search_service.mark_changed(session, item.id)


def _text_of(draft: ItemDraft) -> ItemText:
    return ItemText.model_validate(draft.model_dump(include=set(ItemText.model_fields)))


def create_item(
    *,
    session: Session,
    draft: ItemDraft,
    by: User | None,
    author_agent_id: int | None = None,
    slug: str | None = None,
    at: datetime | None = None,
    file_import_id: int | None = None,
) -> KbItem:
    """A new draft by the user (its agent, when the user is one, is the author)."""
    moment = at or utcnow()
    if slug and session.scalar(select(KbItem.id).where(KbItem.slug == slug)) is not None:
        raise Conflict(N_("an item named {slug} exists"), slug=slug)
    item = KbItem(
        slug=slug or None,
        type=draft.type,
        status="draft",
        category_id=category_id(session, draft.category),
        author_agent_id=author_agent_id
        if author_agent_id is not None
        else (by.agent_id if by else None),
        author_user_id=by.id if by else None,
        current_revision=0,
        created_at=moment,
        updated_at=moment,
        file_import_id=file_import_id,
    )
    session.add(item)
    session.flush()
    _add_revision(
        session,
        item,
        _text_of(draft),
        by=by,
        author_agent_id=item.author_agent_id,
        note=draft.note,
        at=moment,
    )
    return item


def edit_item(
    *, session: Session, item_id: int, draft: ItemDraft, by: User, at: datetime | None = None
) -> KbItem:
    """A new revision of the item. A reviewer's edit of a published item is published at once;
    anyone else's waits for review while readers keep the published revision."""
    item = _get(session, item_id, by, lock=True)
    if not may_edit(item, by):
        raise Forbidden(N_("you may not edit this item"))
    if draft.type != item.type and item.status == "published":
        raise InvalidInput(N_("a published item keeps its type"))
    moment = at or utcnow()
    text = _text_of(draft)
    if text == revision_text(_revision(session, item.id, item.current_revision)) and (
        category_id(session, draft.category) == item.category_id
    ):
        return item  # nothing changed: no revision
    item.type = draft.type
    item.category_id = category_id(session, draft.category)
    revision = _add_revision(
        session, item, text, by=by, author_agent_id=by.agent_id, note=draft.note, at=moment
    )
    _after_change(session, item, revision, by=by, at=moment)
    return item


def _after_change(
    session: Session, item: KbItem, revision: KbRevision, *, by: User, at: datetime
) -> None:
    """A new revision of a published item: a reviewer's (not the author's own) is published at
    once, anyone else's waits for review while readers keep the published revision."""
    if item.status != "published":
        return
    if is_reviewer(by) and not _is_author(item, by):
        _publish(session, item, at=at)
        points_service.award_edit(session=session, item=item, revision=revision, at=at)
    else:
        item.submitted_at = at


def revert(
    *, session: Session, item_id: int, to_revision: int, by: User, at: datetime | None = None
) -> KbItem:
    """A new revision with an earlier revision's text (the history keeps both)."""
    item = _get(session, item_id, by, lock=True)
    if not may_edit(item, by):
        raise Forbidden(N_("you may not edit this item"))
    old = _revision(session, item.id, to_revision)
    moment = at or utcnow()
    revision = _add_revision(
        session,
        item,
        revision_text(old),
        by=by,
        author_agent_id=by.agent_id,
        note=f"revert to {to_revision}",
        reverted_from=to_revision,
        at=moment,
    )
    _after_change(session, item, revision, by=by, at=moment)
    return item


def submit(*, session: Session, item_id: int, by: User, at: datetime | None = None) -> KbItem:
    """The author sends a draft (or a returned item) to the reviewers."""
    item = _get(session, item_id, by, lock=True)
    if not _is_author(item, by):
        raise Forbidden(N_("only the author submits an item"))
    if item.status not in ("draft",):
        raise Conflict(N_("only a draft is submitted"))
    item.status = "in_review"
    item.submitted_at = at or utcnow()
    _changed(session, item)
    return item


def _publish(session: Session, item: KbItem, *, at: datetime) -> None:
    first = item.first_published_at is None
    item.status = "published"
    item.published_revision = item.current_revision
    item.submitted_at = None
    item.updated_at = at
    if first:
        item.first_published_at = at
        points_service.award_publish(session=session, item=item, at=at)
        if item.derived_from_id is not None:
            source = session.get(KbItem, item.derived_from_id)
            if source is not None:
                points_service.award_sop(session=session, case=source, sop=item, at=at)
    _changed(session, item)


def publish_imported(
    *,
    session: Session,
    item: KbItem,
    at: datetime,
    draft: ItemDraft | None = None,
    author_agent_id: int | None = None,
) -> KbItem:
    """Publish an item a file import brought, at once and WITHOUT contribution points (its
    history was the centre's earlier library: it is not rewarded twice). With `draft`, its text
    first becomes the item's new revision (an import that changed the item)."""
    if draft is not None:
        item.type = draft.type
        item.category_id = category_id(session, draft.category)
        if author_agent_id is not None:
            item.author_agent_id = author_agent_id
        _add_revision(
            session,
            item,
            _text_of(draft),
            by=None,
            author_agent_id=item.author_agent_id,
            note=draft.note,
            at=at,
        )
    item.status = "published"
    item.published_revision = item.current_revision
    item.submitted_at = None
    item.updated_at = at
    if item.first_published_at is None:
        item.first_published_at = at
    _changed(session, item)
    return item


def review(
    *,
    session: Session,
    item_id: int,
    by: User,
    decision: ReviewDecision,
    comment: str = "",
    grade: int | None = None,
    at: datetime | None = None,
) -> KbReview:
    """A reviewer approves the waiting revision (it is published) or returns it with a comment
    (a new item goes back to draft; an edit of a published item stays unpublished)."""
    if not is_reviewer(by):
        raise Forbidden(N_("only reviewers review items"))
    item = _get(session, item_id, by, lock=True)
    if item.submitted_at is None:
        raise Conflict(N_("the item does not wait for review"))
    if _is_author(item, by):
        raise Forbidden(N_("nobody reviews their own item"))
    text = without_nul(" ".join(comment.split()) if decision == "approve" else comment.strip())
    if decision == "return" and not text:
        raise InvalidInput(N_("say what to change when returning an item"))
    if len(text) > MAX_COMMENT:
        raise InvalidInput(N_("a comment is at most {maximum} characters"), maximum=MAX_COMMENT)
    if grade is not None and not 1 <= grade <= 5:
        raise InvalidInput(N_("a grade is 1 to 5"))
    moment = at or utcnow()
    row = KbReview(
        item_id=item.id,
        revision=item.current_revision,
        reviewer_user_id=by.id,
        decision=decision,
        comment=text,
        grade=grade,
        created_at=moment,
    )
    session.add(row)
    session.flush()
    if decision == "approve":
        was_published = item.published_revision is not None
        _publish(session, item, at=moment)
        if was_published:
            points_service.award_edit(
                session=session,
                item=item,
                revision=_revision(session, item.id, item.current_revision),
                at=moment,
            )
        if grade is not None:
            points_service.award_grade(session=session, item=item, review=row, at=moment)
    else:
        item.submitted_at = None
        if item.status == "in_review":
            item.status = "draft"
        _changed(session, item)
    return row


def archive(
    *,
    session: Session,
    item_id: int,
    by: User,
    duplicate_of: int | None = None,
    at: datetime | None = None,
) -> KbItem:
    """Take an item out of the library: obsolete, or a duplicate of another item (its points
    for publishing are taken back)."""
    item = _get(session, item_id, by, lock=True)
    if not (is_reviewer(by) or (_is_author(item, by) and item.status != "published")):
        raise Forbidden(N_("you may not archive this item"))
    if item.status == "archived":
        raise Conflict(N_("the item is archived already"))
    moment = at or utcnow()
    if duplicate_of is not None:
        if duplicate_of == item.id:
            raise InvalidInput(N_("an item is not a duplicate of itself"))
        target = _get(session, duplicate_of, by)
        if target.status != "published":
            raise InvalidInput(N_("an item is archived as a duplicate of a published item"))
        item.archive_reason = "duplicate"
        item.duplicate_of_id = target.id
        points_service.take_back(session=session, item=item, reason="duplicate", at=moment)
    else:
        item.archive_reason = "obsolete"
    item.status = "archived"
    item.submitted_at = None
    item.archived_at = moment
    item.updated_at = moment
    _changed(session, item)
    return item


def link(*, session: Session, item_id: int, other_id: int, by: User) -> None:
    """Mark two items as related (a likely duplicate kept apart)."""
    item, other = _get(session, item_id, by), _get(session, other_id, by)
    if item.id == other.id:
        raise InvalidInput(N_("an item is not linked to itself"))
    if not (may_edit(item, by) or is_reviewer(by)):
        raise Forbidden(N_("you may not edit this item"))
    for left, right in ((item.id, other.id), (other.id, item.id)):
        if session.get(KbItemLink, (left, right)) is None:
            session.add(KbItemLink(item_id=left, other_id=right, created_by_user_id=by.id))
    session.flush()


def linked_items(*, session: Session, item_id: int, by: User) -> list[ItemSummary]:
    """The items linked to this one that the user may read."""
    _get(session, item_id, by)
    ids = list(session.scalars(select(KbItemLink.other_id).where(KbItemLink.item_id == item_id)))
    readable = [
        item for item in items_by_ids(session=session, item_ids=ids).values() if may_read(item, by)
    ]
    return summaries(session, readable)


def adopt(*, session: Session, item_id: int, by: User, at: datetime | None = None) -> KbItem:
    """Adopt a published case as best practice (采纳); its author earns the adoption points."""
    if not may_adopt(by):
        raise Forbidden(N_("only trainers, QA and managers adopt best practices"))
    item = _get(session, item_id, by, lock=True)
    if item.type != "case" or item.status != "published":
        raise Conflict(N_("only a published case is adopted as best practice"))
    if item.adopted_at is not None:
        raise Conflict(N_("the case is adopted already"))
    if _is_author(item, by):
        raise Forbidden(N_("nobody adopts their own case"))
    moment = at or utcnow()
    item.adopted_at = moment
    item.adopted_by_user_id = by.id
    points_service.award_adoption(session=session, item=item, at=moment)
    _changed(session, item)
    return item


def make_sop(*, session: Session, item_id: int, by: User, at: datetime | None = None) -> KbItem:
    """A draft SOP written from a best practice: the case's situation, solution and result as its
    body; when it is published the case's author earns the SOP points."""
    if not may_adopt(by):
        raise Forbidden(N_("only trainers, QA and managers adopt best practices"))
    case = _get(session, item_id, by)
    if case.adopted_at is None:
        raise Conflict(N_("only a best practice becomes an SOP"))
    existing = session.scalar(select(KbItem.id).where(KbItem.derived_from_id == case.id))
    if existing is not None:
        raise Conflict(N_("this best practice has an SOP already: item {id}"), id=existing)
    text = revision_text(
        _revision(session, case.id, case.published_revision or case.current_revision)
    )
    paths = category_paths(session)
    body = "\n\n".join(
        f"## {heading}\n\n{part}"
        for heading, part in (
            ("适用情境 When", text.situation),
            ("操作步骤 Steps", text.solution),
            ("预期结果 Expected result", text.result),
        )
        if part
    )
    draft = ItemDraft(
        type="sop",
        category=paths.get(case.category_id or 0, ""),
        title=text.title,
        title_en=text.title_en,
        body=body,
        tags=text.tags,
        products=text.products,
        queues=text.queues,
        skill_groups=text.skill_groups,
        note=f"SOP from best practice {case.id}",
    )
    sop = create_item(session=session, draft=draft, by=by, author_agent_id=by.agent_id, at=at)
    sop.derived_from_id = case.id
    return sop


# --- readers' contributions --------------------------------------------------------------------


def _published(session: Session, item_id: int, by: User) -> KbItem:
    item = _get(session, item_id, by)
    if item.status != "published":
        raise Conflict(N_("only a published item takes votes, comments and calls"))
    return item


def vote(
    *, session: Session, item_id: int, by: User, helpful: bool = True, at: datetime | None = None
) -> int:
    """Say the item helped (or take that back); one vote per user, none on one's own item.
    The item's helpful votes after it."""
    item = _published(session, item_id, by)
    if _is_author(item, by):
        raise Forbidden(N_("nobody votes for their own item"))
    moment = at or utcnow()
    existing = session.get(KbVote, (item.id, by.id))
    if helpful and existing is None:
        session.add(KbVote(item_id=item.id, user_id=by.id, created_at=moment))
        session.flush()
        points_service.award_vote(session=session, item=item, voter=by, at=moment)
    elif not helpful and existing is not None:
        session.delete(existing)
        session.flush()
        points_service.take_back_vote(session=session, item=item, voter=by, at=moment)
    return session.scalar(select(func.count()).where(KbVote.item_id == item.id)) or 0


def has_voted(*, session: Session, item_id: int, by: User) -> bool:
    """Whether the user said the item helped."""
    return session.get(KbVote, (item_id, by.id)) is not None


def add_comment(
    *, session: Session, item_id: int, by: User, body: str, at: datetime | None = None
) -> KbComment:
    """A reader's comment on a published item."""
    item = _published(session, item_id, by)
    text = without_nul(body).strip()
    if not text:
        raise InvalidInput(N_("the comment is empty"))
    if len(text) > MAX_COMMENT:
        raise InvalidInput(N_("a comment is at most {maximum} characters"), maximum=MAX_COMMENT)
    comment = KbComment(item_id=item.id, user_id=by.id, body=text, created_at=at or utcnow())
    session.add(comment)
    session.flush()
    return comment


def comments(*, session: Session, item_id: int, by: User) -> list[tuple[str, datetime, str]]:
    """(who, when, what) of the item's comments, oldest first."""
    _get(session, item_id, by)
    users = accounts_service.user_names(session=session)
    return [
        (users.get(row.user_id or 0, ""), row.created_at, row.body)
        for row in session.scalars(
            select(KbComment).where(KbComment.item_id == item_id).order_by(KbComment.id)
        )
    ]


def record_usage(
    *,
    session: Session,
    item_id: int,
    call_id: str,
    by: User | None,
    source: UsageSource,
    agent_id: int | None = None,
    at: datetime | None = None,
) -> bool:
    """Link a published item to a call it helped on; False when that link exists already. An
    agent links their own calls; QA links any call it evaluates."""
    call = without_nul(call_id).strip()
    if not call or len(call) > 100:
        raise InvalidInput(N_("a call id is 1 to 100 characters"))
    item = _published(session, item_id, by) if by is not None else _get(session, item_id, None)
    if (
        session.scalar(
            select(KbUsage.id).where(KbUsage.item_id == item.id, KbUsage.call_id == call)
        )
        is not None
    ):
        return False
    moment = at or utcnow()
    usage = KbUsage(
        item_id=item.id,
        call_id=call,
        agent_id=agent_id if agent_id is not None else (by.agent_id if by else None),
        user_id=by.id if by else None,
        source=source,
        created_at=moment,
    )
    session.add(usage)
    session.flush()
    points_service.award_usage(session=session, item=item, usage=usage, at=moment)
    return True


def usages(*, session: Session, item_id: int, by: User) -> list[tuple[str, str, datetime]]:
    """(call id, source, when) of the calls the item was used on, the latest first."""
    _get(session, item_id, by)
    return [
        (row.call_id, row.source, row.created_at)
        for row in session.scalars(
            select(KbUsage).where(KbUsage.item_id == item_id).order_by(KbUsage.id.desc())
        )
    ]
