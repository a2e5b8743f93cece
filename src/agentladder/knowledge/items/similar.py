"""Likely duplicates of an item being written: what the editor shows its author while they type
and the reviewer before approving, among the items the user may read (never archived ones).
Candidates come from the search index; `knowledge.search.duplicates` scores them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from agentladder.knowledge.items import rows
from agentladder.knowledge.items import service as items_service
from agentladder.knowledge.search import service as search_service
from agentladder.knowledge.search.duplicates import Duplicate, near_duplicates
from agentladder.knowledge.search.index import IndexedItem

if TYPE_CHECKING:
    from agentladder.org.models import User


@dataclass(frozen=True)
class LikelyDuplicate:
    """An item much like the one being written, and how alike (0-1)."""

    id: int
    title: str
    status: str
    similarity: float


def duplicates_of_text(
    *,
    session: Session,
    title: str,
    text: str,
    by: User | None,
    exclude_id: int | None = None,
    limit: int = 5,
) -> list[LikelyDuplicate]:
    """Items the user may read (not archived ones) that say much the same as this title and
    text, most alike first: the editor's hints and the reviewer's."""
    index = search_service.open_index(session)
    readable: dict[int, IndexedItem] = {}

    def texts_of(item_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        stored = rows.items_by_ids(session=session, item_ids=item_ids)
        for item in search_service.indexed_items(session, item_ids):
            row = stored.get(item.id)
            if (
                row is not None
                and row.status != "archived"
                and (by is None or items_service.may_read(row, by))
            ):
                readable[item.id] = item
        return {
            item.id: (item.title, "\n\n".join((item.situation, item.body)))
            for item in readable.values()
        }

    found: list[Duplicate] = near_duplicates(
        index,
        index.analyzer,
        title=title,
        text=text,
        texts_of=texts_of,
        exclude_id=exclude_id,
        limit=limit,
    )
    return [
        LikelyDuplicate(hit.id, readable[hit.id].title, readable[hit.id].status, hit.similarity)
        for hit in found
    ]


def likely_duplicates(
    *, session: Session, item_id: int | None, by: User | None
) -> list[LikelyDuplicate]:
    """Items much like a stored item's latest text (none without an item)."""
    if item_id is None:
        return []
    row = items_service.get_item_row(session=session, item_id=item_id, by=by)
    item = items_service.get_item(
        session=session, item_id=item_id, by=by, revision=row.current_revision
    )
    return duplicates_of_text(
        session=session,
        title=item.text.title,
        text=item.text.searchable_text(),
        by=by,
        exclude_id=item_id,
    )
