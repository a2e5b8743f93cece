"""Knowledge library tables: categories, items and their revisions, reviews, comments, votes,
call usages, attachments, the centre's search vocabulary, the point rules and the points
ledger, and the searches people ran (the gaps report reads those that found nothing)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from agentladder.db import Base, UtcDateTime, utcnow
from agentladder.imports.models import FileImport

ITEM_TYPES = ("article", "case", "sop", "script")
ITEM_STATUSES = ("draft", "in_review", "published", "archived")
# Why an item left the library: out of date, or the same as another item (it points there).
ARCHIVE_REASONS = ("", "obsolete", "duplicate")
REVIEW_DECISIONS = ("approve", "return")
USAGE_SOURCES = ("agent", "qa", "import")
POINT_EVENTS = (
    "publish",
    "edit",
    "adopted",
    "sop",
    "helpful_vote",
    "used_on_call",
    "review_grade",
    "correction",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class KbCategory(Base):
    """A folder of the library; `path` (the names from the top joined by '/') is unique."""

    __tablename__ = "kb_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    # CASCADE: emptying the table (a demo reset) deletes a tree in any row order; the library
    # itself never deletes a category that files items (they RESTRICT it).
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("kb_categories.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    path: Mapped[str] = mapped_column(String(1000), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class KbItem(Base):
    """An article, case, SOP or call script. What it says lives in its revisions: the current
    one (the latest) and the published one (what readers see; behind the current one while an
    edit of a published item waits for review)."""

    __tablename__ = "kb_items"
    __table_args__ = (
        CheckConstraint(_in("type", ITEM_TYPES), name="type"),
        CheckConstraint(_in("status", ITEM_STATUSES), name="status"),
        CheckConstraint(_in("archive_reason", ARCHIVE_REASONS), name="archive_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # A stable name for files and links (an imported file's slug); unique when given.
    slug: Mapped[str | None] = mapped_column(String(120), unique=True)
    type: Mapped[str] = mapped_column(String(10), index=True)
    status: Mapped[str] = mapped_column(String(10), default="draft", index=True)
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("kb_categories.id", ondelete="RESTRICT"), index=True
    )
    # The author: an agent (points go to agents), the user who wrote it, or both.
    author_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), index=True
    )
    author_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    current_revision: Mapped[int] = mapped_column(Integer, default=1)
    published_revision: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    archive_reason: Mapped[str] = mapped_column(String(10), default="", server_default="")
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("kb_items.id", ondelete="SET NULL")
    )
    # Adopted as best practice (采纳) by a trainer, QA evaluator or manager.
    adopted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    adopted_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # An SOP made from a best practice names the case it came from.
    derived_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("kb_items.id", ondelete="SET NULL"), index=True
    )
    view_count: Mapped[int] = mapped_column(Integer, default=0)
    file_import_id: Mapped[int | None] = mapped_column(
        ForeignKey(FileImport.id, ondelete="SET NULL")
    )


class KbRevision(Base):
    """One version of an item's text; never changed once written (a revert is a new one)."""

    __tablename__ = "kb_revisions"
    __table_args__ = (UniqueConstraint("item_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("kb_items.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300), default="")
    # Markdown; a case's text is its three sections, an article's, SOP's or script's the body.
    body: Mapped[str] = mapped_column(Text, default="")
    situation: Mapped[str] = mapped_column(Text, default="")
    solution: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(Text, default="")
    tags_json: Mapped[str] = mapped_column(Text, default="[]")
    products_json: Mapped[str] = mapped_column(Text, default="[]")
    queues_json: Mapped[str] = mapped_column(Text, default="[]")
    skill_groups_json: Mapped[str] = mapped_column(Text, default="[]")
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(String(500), default="")
    # Characters added or removed against the revision before (a trivial edit earns nothing).
    changed_chars: Mapped[int] = mapped_column(Integer, default=0)
    reverted_from: Mapped[int | None] = mapped_column(Integer)


class KbItemTag(Base):
    """A tag of an item's current revision, kept for listing and reports by tag."""

    __tablename__ = "kb_item_tags"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("kb_items.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(60), primary_key=True, index=True)


class KbItemLink(Base):
    """Two items a reviewer or author linked as related (a near-duplicate kept apart)."""

    __tablename__ = "kb_item_links"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("kb_items.id", ondelete="CASCADE"), primary_key=True
    )
    other_id: Mapped[int] = mapped_column(
        ForeignKey("kb_items.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class KbReview(Base):
    """A reviewer's decision on a submitted revision: approve (it is published) or return."""

    __tablename__ = "kb_reviews"
    __table_args__ = (
        CheckConstraint(_in("decision", REVIEW_DECISIONS), name="decision"),
        CheckConstraint("grade IS NULL OR (grade >= 1 AND grade <= 5)", name="grade"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("kb_items.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    reviewer_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    decision: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text, default="")
    # The reviewer's quality grade, 1 (poor) to 5 (excellent); the point rules may reward it.
    grade: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class KbComment(Base):
    """A reader's comment on an item."""

    __tablename__ = "kb_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("kb_items.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class KbVote(Base):
    """A "helpful" vote: one per user and item, never on one's own item."""

    __tablename__ = "kb_votes"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("kb_items.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class KbUsage(Base):
    """An item used on a call: which call, who said so, from where (the agent, the QA
    workspace, an import)."""

    __tablename__ = "kb_usages"
    __table_args__ = (
        UniqueConstraint("item_id", "call_id"),
        CheckConstraint(_in("source", USAGE_SOURCES), name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("kb_items.id", ondelete="CASCADE"))
    call_id: Mapped[str] = mapped_column(String(100), index=True)
    # The agent on the call, when known.
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class KbAttachment(Base):
    """A file attached to an item, stored in the data directory under a name of the product's
    choosing (the uploaded name is only shown, never used as a path)."""

    __tablename__ = "kb_attachments"
    __table_args__ = (UniqueConstraint("item_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("kb_items.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    media_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class KbTerm(Base):
    """A product or business term the segmenter keeps whole (the centre's user dictionary)."""

    __tablename__ = "kb_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(String(60), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class KbSynonymGroup(Base):
    """Words that mean the same to a caller (宽带 = 网络); the first stands for the group."""

    __tablename__ = "kb_synonym_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    words_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class KbPointRules(Base):
    """One version of the contribution point rules, identified by its content hash."""

    __tablename__ = "kb_point_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    yaml_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # When it became the rules in force (the latest applied version is).
    applied_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    note: Mapped[str] = mapped_column(Text, default="")


class KbPoint(Base):
    """A ledger entry: points an agent earned (or lost), for what, under which rules.
    `source_key` names the fact that earned them, so a fact never pays twice."""

    __tablename__ = "kb_points"
    __table_args__ = (CheckConstraint(_in("event", POINT_EVENTS), name="event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("kb_items.id", ondelete="SET NULL"), index=True
    )
    event: Mapped[str] = mapped_column(String(20))
    points: Mapped[float] = mapped_column(Float)
    # What the rule said and why this amount (e.g. capped), for the agent and the auditor.
    detail_json: Mapped[str] = mapped_column(Text, default="{}")
    rules_id: Mapped[int] = mapped_column(ForeignKey("kb_point_rules.id", ondelete="RESTRICT"))
    source_key: Mapped[str] = mapped_column(String(200), unique=True)
    earned_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class KbSearch(Base):
    """A search someone ran: what, how many results, by whom (the gaps report)."""

    __tablename__ = "kb_searches"

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(500))
    results: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    searched_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
