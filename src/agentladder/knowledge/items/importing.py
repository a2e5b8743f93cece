"""Library items in from files: a table (CSV/TSV/XLSX, one item a row) through the one import
pipeline (`ITEMS_IMPORTER`, `import_items`), or a folder of Markdown item files, the library's
own format (`knowledge.markdown`, one item a file: `knowledge.items.folders`).

The rules, the same for both:

* Which stored item a row or file is: the item with its slug (编号 / `slug`); else, the one item
  of the same type whose current title is the same (archived items aside). A slug given for an
  item found by its title names it from then on. Nothing found: a new item.
* A changed text, type, category or author is a new revision; the same text is "unchanged" and
  writes nothing. What the source does not say stays as stored: skill groups (no format has
  them), a table's missing columns (an empty cell of a column it has clears the field), an
  author left empty. A Markdown file says the whole item (no `tags` key: no tags).
* Imported items are published at once (`first_published_at` = the import's moment) and earn NO
  contribution points: they come from the centre's earlier knowledge base, whose history is not
  rewarded twice (`items_service.publish_imported`). The author (作者工号 / `author`: an
  employee number or ACD identity) becomes the item's author; an unknown one rejects the row.
* An archived item is not brought back by an import: its row is rejected.
* All or nothing: a table with any rejected row stores nothing (the pipeline's rule), and so
  does a folder with any rejected file; every problem of every row or file is listed (a file's
  by its path, line and field). A dry run stores nothing and adds no ledger row; otherwise the
  file (or the folder, as one entry) goes into the file-import ledger, and the items created or
  changed point at that entry (`file_import_id`).

A case's text is its three sections (情境 / 解决方案 / 结果); anything else in its body (text
before the sections, another `##` section) is kept as its body. A table's case row may give the
sections as columns, or its body with the three headings.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agentladder.db import in_chunks, utcnow
from agentladder.i18n import N_
from agentladder.imports import pipeline
from agentladder.imports.schemas import (
    ImportResult,
    RowAction,
    RowPlan,
)
from agentladder.imports.spec import (
    CellError,
    Column,
    Importer,
    ImportRun,
    ParsedRow,
    Planned,
    Problems,
    list_cell,
)
from agentladder.knowledge.items import rows
from agentladder.knowledge.items import service as items_service
from agentladder.knowledge.markdown import CASE_SECTIONS
from agentladder.knowledge.models import KbItem, KbRevision
from agentladder.knowledge.schemas import ItemDraft, ItemText, ItemType
from agentladder.org import service as org_service
from agentladder.validation import validation_problems

if TYPE_CHECKING:
    from collections.abc import Callable


KIND = "knowledge_items"
TEXT_FIELDS = ("title", "title_en", "situation", "solution", "result", "body")
LABEL_FIELDS = ("tags", "products", "queues")
MAX_SLUG = 120
# What a table without the column leaves as stored when it updates an item.
CARRIED = frozenset(
    (
        "title_en",
        "category",
        "tags",
        "products",
        "queues",
        "situation",
        "solution",
        "result",
        "body",
    )
)

# --- reading cells: type, labels, category, slug -----------------------------------------------

TYPE_NAMES: dict[str, ItemType] = {
    **dict.fromkeys(("问答", "文章", "faq", "article"), "article"),
    **dict.fromkeys(("案例", "case"), "case"),
    **dict.fromkeys(("sop",), "sop"),
    **dict.fromkeys(("话术", "脚本", "script"), "script"),
}
# The name a file is written with: the first Chinese name above.
SHEET_TYPE: dict[str, str] = {"article": "问答", "case": "案例", "sop": "SOP", "script": "话术"}
_SLUG = re.compile(r"^\w[\w.\-]*$")
_CATEGORY_SEPARATORS = re.compile(r"\s*[/\\>＞]\s*")


def parse_item_type(text: str) -> ItemType:
    """An item type as people write it: 问答/文章/FAQ/article, 案例/case, SOP, 话术/脚本/script
    (any case and spacing); anything else is a CellError."""
    kind = TYPE_NAMES.get(" ".join(text.split()).casefold())
    if kind is None:
        raise CellError(N_("unknown item type: write 问答 (FAQ), 案例, SOP or 话术"))
    return kind


def split_labels(text: str) -> list[str]:
    """Tags, products or queues in one cell, separated by , ， ; ； 、 | or new lines: each
    with its spaces collapsed, each once, in the order given."""
    return list(dict.fromkeys(" ".join(part.split()) for part in list_cell(text)))


def join_labels(labels: Iterable[str]) -> str:
    """Labels as one cell that `split_labels` reads back."""
    return ", ".join(labels)


def parse_category(text: str) -> str:
    """A category path written "a/b" or "a>b" as the library stores it: "a/b"."""
    parts = [" ".join(part.split()) for part in _CATEGORY_SEPARATORS.split(text)]
    if any(len(part) > 120 for part in parts):
        raise CellError(N_("a category name is at most 120 characters"))
    return "/".join(part for part in parts if part)


def parse_slug(text: str) -> str:
    """An item's stable name: letters, digits, -, _ and ., at most 120 characters."""
    slug = text.strip()
    if len(slug) > MAX_SLUG or not _SLUG.match(slug):
        raise CellError(
            N_("a slug is letters, digits, - _ and . (at most {limit} characters)"),
            limit=MAX_SLUG,
        )
    return slug


# --- the columns -------------------------------------------------------------------------------

ITEM_COLUMNS: tuple[Column, ...] = (
    Column(
        "title",
        N_("Title"),
        zh=("标题", "知识标题"),
        en=("title",),
        example="光猫红灯闪烁，客户无法上网",
        help=N_("The item's title (with its type, it finds the item again when there is no slug)."),
        required=True,
        if_empty=N_("the title is empty"),
    ),
    Column(
        "title_en",
        N_("English title"),
        zh=("英文标题",),
        en=("title_en", "english title"),
        example="Modem LOS light blinking, no internet",
    ),
    Column(
        "type",
        N_("Type"),
        zh=("类型", "知识类型"),
        en=("type", "item type"),
        example="案例",
        help=N_("问答 (FAQ article), 案例 (case), SOP or 话术 (call script); empty: article."),
        parse=parse_item_type,
    ),
    Column(
        "category",
        N_("Category"),
        zh=("分类", "目录"),
        en=("category",),
        example="宽带/故障处理",
        help=N_("The category path, names separated by / or >."),
        parse=parse_category,
    ),
    Column(
        "tags",
        N_("Tags"),
        zh=("标签", "关键词"),
        en=("tags", "tag", "keywords"),
        example="光猫, 断网",
        help=N_("Separated by , ; 、 or |."),
        parse=split_labels,
    ),
    Column(
        "products",
        N_("Products"),
        zh=("产品", "适用产品"),
        en=("products", "product"),
        example="安心宽带",
        help=N_("Separated by , ; 、 or |."),
        parse=split_labels,
    ),
    Column(
        "queues",
        N_("Queues"),
        zh=("队列", "适用队列"),
        en=("queues", "queue"),
        example="普通话热线",
        help=N_("Separated by , ; 、 or |."),
        parse=split_labels,
    ),
    Column(
        "situation",
        N_("Situation"),
        zh=("情境", "情景"),
        en=("situation",),
        example="客户来电称光猫 LOS 灯红色闪烁，无法上网。",
        help=N_("A case's situation (a case needs it)."),
    ),
    Column(
        "solution",
        N_("Solution"),
        zh=("解决方案", "处理方法"),
        en=("solution",),
        example="确认光纤接头未松动后，建立故障报修工单，约定上门时间。",
        help=N_("A case's solution (a case needs it)."),
    ),
    Column(
        "result",
        N_("Result"),
        zh=("结果", "处理结果"),
        en=("result", "outcome"),
        example="师傅次日上门更换光纤跳线，恢复上网。",
        help=N_("A case's result."),
    ),
    Column(
        "body",
        N_("Body"),
        zh=("正文", "内容"),
        en=("body", "text", "content"),
        example="",
        help=N_("The Markdown text of an article, SOP or script (they need it)."),
    ),
    Column(
        "author",
        N_("Author"),
        zh=("作者工号", "作者"),
        en=("author", "author employee no", "author employee number"),
        example="",
        help=N_("The author's employee number or ACD identity (empty: no author)."),
    ),
    Column(
        "slug",
        N_("Slug"),
        zh=("编号", "知识编号"),
        en=("slug", "id"),
        example="bb-case-example",
        help=N_("A stable name: the same slug again updates the item (optional)."),
        parse=parse_slug,
    ),
)


# --- what an import plans ----------------------------------------------------------------------


class ItemRowPlan(RowPlan):
    """What importing one row (or file) does to the library."""

    slug: str | None
    type: str
    title: str
    category: str
    item_id: int | None  # the stored item it updates


@dataclass(frozen=True)
class ItemInput:
    """An item as one row or file says it, read and checked."""

    draft: ItemDraft
    slug: str | None
    author_agent_id: int | None
    # Fields the source does not have (a table without the column): an update keeps them.
    unsaid: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _Stored:
    item: KbItem
    text: ItemText  # the current revision's
    category: str
    author_no: str


@dataclass(frozen=True)
class _Work:
    """What `store_planned` does for one planned row."""

    draft: ItemDraft
    slug: str | None
    author_agent_id: int | None
    item: KbItem | None  # None: a new item
    revise: bool  # a new revision (the text, type, category or author changed)


@dataclass(frozen=True)
class ItemFields:
    """The values a row or file gives, parsed; `type` None when it could not be read."""

    type: ItemType | None
    title: str
    title_en: str
    category: str
    tags: list[str]
    products: list[str]
    queues: list[str]
    situation: str
    solution: str
    result: str
    body: str
    author: str
    slug: str | None


class _Reports(Protocol):
    """Where a row's or file's problems go; `position` is the row number or the file's."""

    def report(
        self, position: int, name: str, message: str, value: str | None = None, **params: Any
    ) -> None:
        """A problem with a field (`name`) of the row or file."""

    def duplicate(self, position: int, first: int, name: str, value: str) -> None:
        """The row or file names the same item as an earlier one."""

    def failed(self, position: int) -> bool:
        """Whether the row or file has an error already."""


def short_text(text: str, limit: int = 40) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


# --- the stored items a file names -------------------------------------------------------------


def stored_texts(
    *, session: Session, item_ids: Sequence[int], published: bool = False
) -> dict[int, ItemText]:
    """The items' current (or published) revisions' texts, by item id."""
    number = KbItem.published_revision if published else KbItem.current_revision
    texts: dict[int, ItemText] = {}
    for chunk in in_chunks(list(item_ids)):
        for revision in session.scalars(
            select(KbRevision)
            .join(KbItem, KbItem.id == KbRevision.item_id)
            .where(KbItem.id.in_(chunk), KbRevision.number == number)
        ):
            texts[revision.item_id] = rows.revision_text(revision)
    return texts


def employee_numbers(*, session: Session, agent_ids: Iterable[int | None]) -> dict[int, str]:
    """The agents' employee numbers by id (how files name an author)."""
    wanted = {agent_id for agent_id in agent_ids if agent_id is not None}
    return {
        agent.id: agent.employee_no
        for agent in org_service.agents_by_ids(session=session, agent_ids=wanted)
    }


@dataclass(frozen=True)
class _Match:
    """The stored item an input names (None: a new item), or why it cannot be imported."""

    stored: _Stored | None
    column: str = ""
    problem: str = ""  # an English msgid; "" when there is none
    params: dict[str, object] = field(default_factory=dict)


@dataclass
class _Library:
    """The stored items the inputs may name: by slug, and by (type, current title)."""

    by_slug: dict[str, _Stored]
    by_title: dict[tuple[str, str], list[_Stored]]

    @classmethod
    def load(cls, session: Session, inputs: Sequence[ItemInput]) -> _Library:
        slugs = sorted({entry.slug for entry in inputs if entry.slug})
        titles = sorted({entry.draft.title for entry in inputs})
        items: dict[int, KbItem] = {}
        for chunk in in_chunks(slugs):
            items.update(
                (item.id, item)
                for item in session.scalars(select(KbItem).where(KbItem.slug.in_(chunk)))
            )
        titled: list[tuple[int, str]] = []
        for chunk in in_chunks(titles):
            for item, title in session.execute(
                select(KbItem, KbRevision.title)
                .join(
                    KbRevision,
                    (KbRevision.item_id == KbItem.id)
                    & (KbRevision.number == KbItem.current_revision),
                )
                .where(KbRevision.title.in_(chunk), KbItem.status != "archived")
            ):
                items[item.id] = item
                titled.append((item.id, title))
        texts = stored_texts(session=session, item_ids=sorted(items))
        paths = rows.category_paths(session)
        numbers = employee_numbers(
            session=session, agent_ids=(item.author_agent_id for item in items.values())
        )
        stored = {
            item.id: _Stored(
                item=item,
                text=texts[item.id],
                category=paths.get(item.category_id or 0, ""),
                author_no=numbers.get(item.author_agent_id or 0, ""),
            )
            for item in items.values()
        }
        by_title: dict[tuple[str, str], list[_Stored]] = {}
        for item_id, title in sorted(titled):
            by_title.setdefault((stored[item_id].item.type, title), []).append(stored[item_id])
        return cls(
            by_slug={item.slug: stored[item.id] for item in items.values() if item.slug},
            by_title=by_title,
        )

    def match(self, entry: ItemInput) -> _Match:
        """The stored item the input names (None: a new one), or the problem that stops it."""
        if entry.slug and entry.slug in self.by_slug:
            found = self.by_slug[entry.slug]
            if found.item.status == "archived":
                return _Match(None, "slug", N_("the item with this slug is archived"))
            return _Match(found)
        same = self.by_title.get((entry.draft.type, entry.draft.title), [])
        if entry.slug:
            # A slug nobody has: it may name an item known so far only by its title.
            same = [stored for stored in same if not stored.item.slug]
        if len(same) > 1:
            message = N_("{count} items have this title and type: give the slug of the one meant")
            return _Match(None, "title", message, {"count": len(same)})
        return _Match(same[0] if same else None)


# --- from read values to a plan ----------------------------------------------------------------


SECTION_HEADING = re.compile(r"^##[ \t]+(.+?)[ \t]*$", re.M)


def section_name(heading: str) -> str | None:
    words = heading.lower()
    for name, starts in CASE_SECTIONS.items():
        if any(words.startswith(start) for start in starts):
            return name
    return None


def split_case(body: str) -> tuple[dict[str, str], str]:
    """A case's sections in a Markdown body (as `markdown.case_sections` reads them: each the
    text up to the next `##` heading) and the rest of the body (text before them, other `##`
    sections), trimmed."""
    headings = list(SECTION_HEADING.finditer(body))
    sections: dict[str, str] = {}
    rest: list[str] = []
    start = 0
    for number, heading in enumerate(headings):
        name = section_name(heading.group(1))
        if name is None or name in sections:
            continue
        end = headings[number + 1].start() if number + 1 < len(headings) else len(body)
        rest.append(body[start : heading.start()])
        sections[name] = body[heading.end() : end].strip()
        start = end
    rest.append(body[start:])
    return sections, "\n\n".join(part.strip() for part in rest if part.strip())


def item_input(
    position: int,
    fields: ItemFields,
    reports: _Reports,
    resolve: Callable[[str], int | None],
    note: str,
    unsaid: frozenset[str] = frozenset(),
) -> ItemInput | None:
    """The checked input of one row or file, or None (its problems reported)."""
    author_agent_id = resolve(fields.author) if fields.author else None
    if fields.author and author_agent_id is None:
        reports.report(
            position,
            "author",
            N_("no agent has this employee number or ACD identity"),
            fields.author,
        )
    kind = fields.type
    situation, solution, result = fields.situation, fields.solution, fields.result
    body = fields.body
    if kind == "case" and not (situation or solution or result) and body:
        sections, body = split_case(body)
        situation, solution = sections.get("situation", ""), sections.get("solution", "")
        result = sections.get("result", "")
    if kind == "case":
        for name, text in (("situation", situation), ("solution", solution)):
            if not text.strip():
                reports.report(position, name, N_("a case needs its situation and its solution"))
    elif kind is not None and not body.strip():
        reports.report(position, "body", N_("the text is empty"))
    if kind is None or reports.failed(position):
        return None
    values = {
        "title": fields.title,
        "title_en": fields.title_en,
        "category": fields.category,
        "tags": fields.tags,
        "products": fields.products,
        "queues": fields.queues,
        "situation": situation,
        "solution": solution,
        "result": result,
        "body": body,
    }
    try:
        draft = ItemDraft.model_validate({**values, "type": kind, "note": note[:500]})
    except ValidationError as exc:
        for problem in validation_problems(exc):
            name = str(problem.loc[0]) if problem.loc else "body"
            name = name if name in values else "body"
            shown = values[name]
            value = join_labels(shown) if isinstance(shown, list) else short_text(str(shown))
            reports.report(position, name, problem.message, value or None, **problem.params)
        return None
    return ItemInput(draft=draft, slug=fields.slug, author_agent_id=author_agent_id, unsaid=unsaid)


def _changes(
    stored: _Stored, entry: ItemInput, draft: ItemDraft, author_no: str
) -> tuple[dict[str, tuple[str, str]], bool]:
    """What the input changes in the stored item (field -> old, new) and whether it takes a
    new revision (only the slug or the status changing does not)."""
    changes: dict[str, tuple[str, str]] = {}
    old, item = stored.text, stored.item
    for name in TEXT_FIELDS:
        if getattr(old, name) != getattr(draft, name):
            changes[name] = (short_text(getattr(old, name)), short_text(getattr(draft, name)))
    for name in LABEL_FIELDS:
        if getattr(old, name) != getattr(draft, name):
            changes[name] = (join_labels(getattr(old, name)), join_labels(getattr(draft, name)))
    if item.type != draft.type:
        changes["type"] = (item.type, draft.type)
    if stored.category != draft.category:
        changes["category"] = (stored.category, draft.category)
    if entry.author_agent_id is not None and entry.author_agent_id != item.author_agent_id:
        changes["author"] = (stored.author_no, author_no)
    revise = bool(changes)
    if entry.slug and item.slug != entry.slug:
        changes["slug"] = (item.slug or "", entry.slug)
    if item.status != "published" or item.published_revision != item.current_revision:
        changes["status"] = (item.status, "published")
    return changes, revise


def plan_inputs(
    session: Session, inputs: Sequence[tuple[int, ItemInput]], reports: _Reports
) -> list[Planned[ItemRowPlan]]:
    """Find each input's stored item and plan what importing it does; an input that names the
    same item as an earlier one is a problem."""
    first: dict[Hashable, int] = {}
    unique: list[tuple[int, ItemInput]] = []
    for position, entry in inputs:
        key = ("slug", entry.slug) if entry.slug else ("title", entry.draft.type, entry.draft.title)
        seen = first.setdefault(key, position)
        if seen != position:
            name = "slug" if entry.slug else "title"
            reports.duplicate(position, seen, name, entry.slug or entry.draft.title)
            continue
        unique.append((position, entry))
    library = _Library.load(session, [entry for _, entry in unique])
    numbers = employee_numbers(
        session=session, agent_ids=(entry.author_agent_id for _, entry in unique)
    )
    claimed: dict[int, int] = {}
    planned: list[Planned[ItemRowPlan]] = []
    for position, entry in unique:
        match = library.match(entry)
        if match.problem:
            value = entry.slug or entry.draft.title
            reports.report(position, match.column, match.problem, value, **match.params)
            continue
        stored = match.stored
        draft = entry.draft
        action: RowAction = "create"
        changes: dict[str, tuple[str, str]] = {}
        revise = True
        if stored is not None:
            seen = claimed.setdefault(stored.item.id, position)
            if seen != position:
                reports.duplicate(position, seen, "title", draft.title)
                continue
            if stored.item.status == "published" and stored.item.type != draft.type:
                reports.report(position, "type", N_("a published item keeps its type"), draft.type)
                continue
            # What the source does not say (skill groups, a table's missing columns) stays.
            kept: dict[str, object] = {"skill_groups": stored.text.skill_groups}
            kept.update({name: getattr(stored.text, name) for name in entry.unsaid - {"category"}})
            if "category" in entry.unsaid:
                kept["category"] = stored.category
            draft = draft.model_copy(update=kept)
            author_no = numbers.get(entry.author_agent_id or 0, "")
            changes, revise = _changes(stored, entry, draft, author_no)
            action = "update" if changes else "unchanged"
        plan = ItemRowPlan(
            row=position,
            action=action,
            changes=changes,
            slug=entry.slug or (stored.item.slug if stored else None),
            type=draft.type,
            title=draft.title,
            category=draft.category,
            item_id=stored.item.id if stored else None,
        )
        work = _Work(
            draft=draft,
            slug=entry.slug,
            author_agent_id=entry.author_agent_id,
            item=stored.item if stored else None,
            revise=revise,
        )
        planned.append(Planned(plan, work))
    return planned


def store_planned(
    session: Session, planned: Sequence[Planned[ItemRowPlan]], at: datetime
) -> list[int]:
    """Create or change the planned items, published without points; their ids."""
    stored: list[int] = []
    for entry in planned:
        if entry.plan.action == "unchanged":
            continue
        work: _Work = entry.record
        if work.item is None:
            item = items_service.create_item(
                session=session,
                draft=work.draft,
                by=None,
                author_agent_id=work.author_agent_id,
                slug=work.slug,
                at=at,
            )
            items_service.publish_imported(session=session, item=item, at=at)
        else:
            item = work.item
            if work.slug:
                item.slug = work.slug
            items_service.publish_imported(
                session=session,
                item=item,
                at=at,
                draft=work.draft if work.revise else None,
                author_agent_id=work.author_agent_id,
            )
        stored.append(item.id)
    session.flush()
    return stored


def link_to_import(session: Session, item_ids: Sequence[int], import_id: int) -> None:
    # The ledger entry is added after the items are stored: point them at it.
    for chunk in in_chunks(list(item_ids)):
        session.execute(update(KbItem).where(KbItem.id.in_(chunk)).values(file_import_id=import_id))


# --- a table -----------------------------------------------------------------------------------


@dataclass
class ItemImportOptions:
    """The ids of the items an import stored (pointed at its ledger entry afterwards)."""

    stored_ids: list[int] = field(default_factory=list)


class _RowReports:
    """A table's problems, by row and column, in the pipeline's Problems."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems

    def report(
        self, position: int, name: str, message: str, value: str | None = None, **params: Any
    ) -> None:
        self.problems.add(position, name, message, value, **params)

    def duplicate(self, position: int, first: int, name: str, value: str) -> None:
        message = N_("the same item is also in row {row}")
        self.problems.add(position, name, message, value, row=first)

    def failed(self, position: int) -> bool:
        return self.problems.failed(position)


def _row_fields(row: ParsedRow) -> ItemFields:
    failed_type = row.value("type") is None and bool(row.text("type"))
    return ItemFields(
        type=None if failed_type else (row.value("type") or "article"),
        title=row.text("title"),
        title_en=row.text("title_en"),
        category=row.value("category") or "",
        tags=row.value("tags") or [],
        products=row.value("products") or [],
        queues=row.value("queues") or [],
        situation=row.text("situation"),
        solution=row.text("solution"),
        result=row.text("result"),
        body=row.text("body"),
        author=row.text("author"),
        slug=row.value("slug"),
    )


def _check_rows(
    session: Session, rows: list[ParsedRow], problems: Problems, run: ImportRun[ItemImportOptions]
) -> list[Planned[ItemRowPlan]]:
    resolve = org_service.identity_resolver(session=session)
    reports = _RowReports(problems)
    unsaid = CARRIED - set(problems.headers)
    note = f"import: {run.file_name}"
    inputs = []
    for row in rows:
        entry = item_input(row.number, _row_fields(row), reports, resolve, note, unsaid)
        if entry is not None:
            inputs.append((row.number, entry))
    return plan_inputs(session, inputs, reports)


def _apply_rows(
    session: Session, planned: list[Planned[ItemRowPlan]], run: ImportRun[ItemImportOptions]
) -> None:
    run.options.stored_ids.extend(store_planned(session, planned, utcnow()))


ITEMS_IMPORTER: Importer[ItemImportOptions, ItemRowPlan] = Importer(
    kind=KIND,
    title=N_("Knowledge items"),
    columns=ITEM_COLUMNS,
    check=_check_rows,
    apply=_apply_rows,
)


def import_items(
    *,
    session: Session,
    data: bytes,
    file_name: str,
    encoding: str | None = None,
    dry_run: bool = False,
    user_id: int | None = None,
) -> ImportResult[ItemRowPlan]:
    """Import library items from a CSV/TSV/XLSX file: all rows, or none when any row has an
    error (`dry_run`: only report); published at once, without contribution points."""
    options = ItemImportOptions()
    result = pipeline.run_import(
        ITEMS_IMPORTER,
        session=session,
        data=data,
        file_name=file_name,
        encoding=encoding,
        dry_run=dry_run,
        options=options,
        user_id=user_id,
    )
    if result.applied and result.import_id is not None:
        link_to_import(session, options.stored_ids, result.import_id)
    return result
