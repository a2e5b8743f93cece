"""Library items out to files that import again as they are (`importing`): every published item
at its published revision, as a CSV/XLSX table (the importer's columns, Chinese headers) or as
a folder of Markdown item files (`<category path>/<slug or item-<id>>.md`, front matter and
a case's three sections).

Paths are made from names people typed (categories, slugs), so each part is cleaned before it
becomes a path: no separators, no `..`, no leading dot, no characters Windows refuses, at most
200 bytes; and every file is checked to be inside the folder before it is written. Two items
whose cleaned names meet get their id added. What a file says comes from its front matter, not
from its path: a cleaned name changes nothing on import.

What a table cannot carry: a label holding a separator (, ; 、 |) comes back as two labels (the
Markdown files keep it). The CSV keeps every text as it is, so that it imports back unchanged:
Excel would compute a cell starting with =, where the XLSX marks every cell as text.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.errors import InvalidInput
from agentladder.i18n import N_
from agentladder.imports.template import rows_workbook
from agentladder.knowledge.items import rows
from agentladder.knowledge.items.importing import (
    ITEM_COLUMNS,
    ITEMS_IMPORTER,
    SHEET_TYPE,
    employee_numbers,
    join_labels,
    stored_texts,
)
from agentladder.knowledge.markdown import CASE_SECTIONS
from agentladder.knowledge.models import KbItem
from agentladder.knowledge.schemas import ItemText

TABLE_SUFFIXES = (".csv", ".xlsx")
MAX_PART_BYTES = 200
# A case's section headings, Chinese and English, as the demo library writes them.
SECTION_HEADINGS = {
    name: f"{starts[0]} {starts[1].capitalize()}" for name, starts in CASE_SECTIONS.items()
}
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')
_WINDOWS_NAMES = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10))}
)


@dataclass(frozen=True)
class ExportedItem:
    """A published item as the files write it."""

    id: int
    slug: str | None
    type: str
    category: str
    author_no: str
    text: ItemText


def published_items(*, session: Session) -> list[ExportedItem]:
    """Every published item at its published revision, in id order."""
    items = list(
        session.scalars(select(KbItem).where(KbItem.status == "published").order_by(KbItem.id))
    )
    texts = stored_texts(session=session, item_ids=[item.id for item in items], published=True)
    paths = rows.category_paths(session)
    numbers = employee_numbers(session=session, agent_ids=(item.author_agent_id for item in items))
    return [
        ExportedItem(
            id=item.id,
            slug=item.slug,
            type=item.type,
            category=paths.get(item.category_id or 0, ""),
            author_no=numbers.get(item.author_agent_id or 0, ""),
            text=texts[item.id],
        )
        for item in items
    ]


# --- a table -----------------------------------------------------------------------------------


def item_row(item: ExportedItem) -> list[str]:
    """The item as a table row, a cell per importer column, in the importer's order."""
    text = item.text
    cells = {
        "title": text.title,
        "title_en": text.title_en,
        "type": SHEET_TYPE[item.type],
        "category": item.category,
        "tags": join_labels(text.tags),
        "products": join_labels(text.products),
        "queues": join_labels(text.queues),
        "situation": text.situation,
        "solution": text.solution,
        "result": text.result,
        "body": text.body,
        "author": item.author_no,
        "slug": item.slug or "",
    }
    return [cells[column.name] for column in ITEM_COLUMNS]


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column.zh[0] for column in ITEM_COLUMNS])
    writer.writerows(rows)
    # With a BOM, Excel opens the Chinese text as UTF-8.
    return buffer.getvalue().encode("utf-8-sig")


# --- Markdown files ------------------------------------------------------------------------------


def item_markdown(item: ExportedItem) -> str:
    """The item as a Markdown item file: front matter, then its body (a case: the rest of its
    body, then its sections)."""
    text = item.text
    meta: dict[str, object] = {}
    if item.slug:
        meta["slug"] = item.slug
    meta["type"] = item.type
    meta["title"] = text.title
    if text.title_en:
        meta["title_en"] = text.title_en
    if item.category:
        meta["category"] = item.category
    for name in ("tags", "products", "queues"):
        if getattr(text, name):
            meta[name] = list(getattr(text, name))
    if item.author_no:
        meta["author"] = item.author_no
    front = yaml.safe_dump(
        meta, allow_unicode=True, sort_keys=False, default_flow_style=None, width=1_000_000
    )
    parts = [text.body] if text.body else []
    if item.type == "case":
        parts += [
            f"## {SECTION_HEADINGS[name]}\n\n{getattr(text, name)}"
            for name in ("situation", "solution", "result")
            if getattr(text, name)
        ]
    return f"---\n{front}---\n\n" + "\n\n".join(parts) + "\n"


def _truncate(name: str, limit: int) -> str:
    encoded = name.encode("utf-8")[:limit]
    return encoded.decode("utf-8", errors="ignore")


def safe_part(name: str, fallback: str) -> str:
    """A name as one safe path part: no separators or control characters, no leading dots
    (never `..` or hidden), no trailing dots or spaces, no Windows device name, at most 200
    bytes; `fallback` when nothing is left."""
    cleaned = _UNSAFE.sub("_", name).strip().lstrip(".").rstrip(". ")
    cleaned = _truncate(cleaned, MAX_PART_BYTES).rstrip(". ")
    if not cleaned:
        return fallback
    if cleaned.split(".")[0].casefold() in _WINDOWS_NAMES:
        return f"_{cleaned}"
    return cleaned


def _item_paths(items: list[ExportedItem]) -> dict[int, Path]:
    """Each item's file, relative to the folder; names that meet get the item's id added."""
    taken: set[str] = set()
    paths: dict[int, Path] = {}
    for item in items:
        folder = Path(*(safe_part(part, "_") for part in item.category.split("/") if part))
        stem = safe_part(item.slug, f"item-{item.id}") if item.slug else f"item-{item.id}"
        path = folder / f"{stem}.md"
        # Case-insensitive file systems (Windows, macOS) see A.md and a.md as one file.
        if path.as_posix().casefold() in taken:
            path = folder / f"{_truncate(stem, MAX_PART_BYTES - 20)}-{item.id}.md"
        taken.add(path.as_posix().casefold())
        paths[item.id] = path
    return paths


def _write_folder(out: Path, items: list[ExportedItem]) -> None:
    if out.exists() and not out.is_dir():
        raise InvalidInput(N_("{path} is a file, not a folder"), path=str(out))
    out.mkdir(parents=True, exist_ok=True)
    root = out.resolve()
    paths = _item_paths(items)
    for item in items:
        target = root / paths[item.id]
        target.parent.mkdir(parents=True, exist_ok=True)
        # A folder inside that is a link elsewhere would carry the file out: refuse it.
        if not target.resolve().is_relative_to(root):
            raise InvalidInput(N_("{path} would be written outside the folder"), path=str(target))
        target.write_text(item_markdown(item), encoding="utf-8", newline="\n")


def export_items(*, session: Session, out: Path) -> int:
    """Write every published item to `out`: a .csv or .xlsx table (one row per item), or else
    a folder of Markdown item files; how many items."""
    items = published_items(session=session)
    suffix = out.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        rows = [item_row(item) for item in items]
        data = _csv_bytes(rows) if suffix == ".csv" else rows_workbook(ITEMS_IMPORTER, rows)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    else:
        _write_folder(out, items)
    return len(items)


__all__ = [
    "ExportedItem",
    "export_items",
    "item_markdown",
    "item_row",
    "published_items",
    "safe_part",
]
