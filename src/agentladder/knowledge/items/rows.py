"""Reading stored items in bulk, as the item service and the search index both need it."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.db import in_chunks
from agentladder.knowledge.models import KbCategory, KbItem, KbRevision
from agentladder.knowledge.schemas import ItemText


def category_paths(session: Session, category_ids: Sequence[int] | None = None) -> dict[int, str]:
    """Every category's path by id (or those of some categories)."""
    query = select(KbCategory.id, KbCategory.path)
    if category_ids is not None:
        query = query.where(KbCategory.id.in_(sorted(set(category_ids))))
    return dict(session.execute(query).all())


def shown_revisions(session: Session, items: Sequence[KbItem]) -> dict[int, KbRevision]:
    """The revision most readers see of each item: the published one, else the latest."""
    wanted = {item.id: item.published_revision or item.current_revision for item in items}
    found: dict[int, KbRevision] = {}
    for chunk in in_chunks(list(wanted)):
        for revision in session.scalars(select(KbRevision).where(KbRevision.item_id.in_(chunk))):
            if wanted[revision.item_id] == revision.number:
                found[revision.item_id] = revision
    return found


def items_by_ids(*, session: Session, item_ids: Sequence[int]) -> dict[int, KbItem]:
    """Stored items by id (search hits are turned into rows with it)."""
    found: dict[int, KbItem] = {}
    for chunk in in_chunks(list(item_ids)):
        found.update(
            (item.id, item) for item in session.scalars(select(KbItem).where(KbItem.id.in_(chunk)))
        )
    return found


def revision_text(revision: KbRevision) -> ItemText:
    """What a stored revision says."""
    return ItemText(
        title=revision.title,
        title_en=revision.title_en,
        body=revision.body,
        situation=revision.situation,
        solution=revision.solution,
        result=revision.result,
        tags=json.loads(revision.tags_json),
        products=json.loads(revision.products_json),
        queues=json.loads(revision.queues_json),
        skill_groups=json.loads(revision.skill_groups_json),
    )
