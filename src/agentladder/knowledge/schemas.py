"""The knowledge library in and out: an item as written (a draft) and as read, its revisions,
reviews and the search contract (`knowledge search --format json`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agentladder.i18n import N_

ItemType = Literal["article", "case", "sop", "script"]
ItemStatus = Literal["draft", "in_review", "published", "archived"]
ReviewDecision = Literal["approve", "return"]
UsageSource = Literal["agent", "qa", "import"]
ITEM_TYPE_NAMES: dict[str, tuple[str, str]] = {
    "article": ("问答", "Article"),
    "case": ("案例", "Case"),
    "sop": ("SOP", "SOP"),
    "script": ("话术", "Script"),
}
STATUS_NAMES: dict[str, tuple[str, str]] = {
    "draft": ("草稿", "Draft"),
    "in_review": ("待审核", "In review"),
    "published": ("已发布", "Published"),
    "archived": ("已归档", "Archived"),
}
MAX_TITLE = 300
MAX_TEXT = 100_000
MAX_LABEL = 60
MAX_LABELS = 30


def without_nul(text: str) -> str:
    """The text without NUL characters: PostgreSQL cannot store them, and no reader meant one
    (a pasted `java\0script` is one trick)."""
    return text.replace("\x00", "")


def _labels(values: list[str]) -> list[str]:
    """Tags and the like: trimmed, empty ones dropped, each once in the order given."""
    seen: dict[str, None] = {}
    for value in values:
        label = " ".join(without_nul(str(value)).split())
        if not label:
            continue
        if len(label) > MAX_LABEL:
            raise ValueError(
                N_("a label is at most {maximum} characters").format(maximum=MAX_LABEL)
            )
        seen.setdefault(label, None)
    if len(seen) > MAX_LABELS:
        raise ValueError(N_("at most {maximum} labels").format(maximum=MAX_LABELS))
    return list(seen)


class ItemText(BaseModel):
    """What a revision says: the title, the Markdown text (a case's three sections, another
    type's body) and the labels that file it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=MAX_TITLE)
    title_en: str = Field(default="", max_length=MAX_TITLE)
    body: str = Field(default="", max_length=MAX_TEXT)
    situation: str = Field(default="", max_length=MAX_TEXT)
    solution: str = Field(default="", max_length=MAX_TEXT)
    result: str = Field(default="", max_length=MAX_TEXT)
    tags: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)
    queues: list[str] = Field(default_factory=list)
    skill_groups: list[str] = Field(default_factory=list)

    _clean_labels = field_validator("tags", "products", "queues", "skill_groups")(_labels)

    @field_validator("title", "title_en", "body", "situation", "solution", "result", mode="before")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        return without_nul(value) if isinstance(value, str) else value

    def searchable_text(self) -> str:
        """Every part a reader reads, in reading order (for search, snippets and duplicates)."""
        return "\n\n".join(
            part for part in (self.situation, self.solution, self.result, self.body) if part
        )


class ItemDraft(ItemText):
    """An item as its author writes it: the text plus its type and category."""

    type: ItemType = "article"
    category: str = Field(default="", max_length=1000)
    note: str = Field(default="", max_length=500)

    @field_validator("category")
    @classmethod
    def _category_path(cls, value: str) -> str:
        parts = [" ".join(part.split()) for part in value.replace("\\", "/").split("/")]
        if any(len(part) > 120 for part in parts):
            raise ValueError(N_("a category name is at most 120 characters"))
        return "/".join(part for part in parts if part)

    @model_validator(mode="after")
    def _says_something(self) -> ItemDraft:
        if self.type == "case":
            if not self.situation or not self.solution:
                raise ValueError(N_("a case needs its situation and its solution"))
        elif not self.body:
            raise ValueError(N_("the text is empty"))
        return self


class RevisionRead(BaseModel):
    """One revision of an item, who wrote it and when."""

    number: int
    text: ItemText
    author_name: str
    created_at: datetime
    note: str
    changed_chars: int
    reverted_from: int | None


class ReviewRead(BaseModel):
    """A reviewer's decision on a revision."""

    revision: int
    reviewer_name: str
    decision: ReviewDecision
    comment: str
    grade: int | None
    created_at: datetime


class ItemRead(BaseModel):
    """An item as a page shows it: the revision the reader is shown and what is known of it."""

    id: int
    slug: str | None
    type: ItemType
    status: ItemStatus
    category: str
    text: ItemText
    revision: int
    current_revision: int
    published_revision: int | None
    author_agent_id: int | None
    author_user_id: int | None
    author_name: str
    created_at: datetime
    updated_at: datetime
    first_published_at: datetime | None
    submitted_at: datetime | None
    archive_reason: str
    duplicate_of_id: int | None
    adopted_at: datetime | None
    derived_from_id: int | None
    view_count: int
    helpful_votes: int
    usages: int

    @property
    def pending_review(self) -> bool:
        """Whether a revision waits for a reviewer (a new item, or an edit of a published one)."""
        return self.submitted_at is not None


class ItemSummary(BaseModel):
    """An item in a list: enough to find and open it."""

    id: int
    type: ItemType
    status: ItemStatus
    category: str
    title: str
    title_en: str
    author_name: str
    updated_at: datetime
    adopted: bool
    helpful_votes: int
    usages: int
    view_count: int
    pending_review: bool


class SearchHit(BaseModel):
    """One found item in the search contract."""

    id: int
    title: str
    type: ItemType
    score: float
    snippet: str


class SearchResponse(BaseModel):
    """`{"query": q, "results": [...]}`: what `knowledge search --format json` prints."""

    query: str
    results: list[SearchHit]
    suggestion: str | None = None
