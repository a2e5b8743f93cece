"""The demo company's library and the labelled queries (tests/data/knowledge), as the search
tests read them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from agentladder.knowledge.markdown import read_item_file
from agentladder.knowledge.search.analysis import Vocabulary, vocabulary_of
from agentladder.knowledge.search.index import IndexedItem

LIBRARY = Path(__file__).resolve().parents[2] / "src" / "agentladder" / "demo" / "knowledge"
QUERIES = Path(__file__).resolve().parents[1] / "data" / "knowledge" / "queries.yaml"


@dataclass(frozen=True)
class LabelledQuery:
    id: str
    query: str
    kind: str
    split: str
    relevant: dict[str, int]  # slug -> grade 3 (answers it), 2 (helps), 1 (related)


@lru_cache(maxsize=1)
def demo_items() -> tuple[tuple[str, IndexedItem], ...]:
    """(slug, item) for every item file, ids in file order."""
    found = []
    for number, path in enumerate(sorted(LIBRARY.glob("items/*/*.md")), start=1):
        read = read_item_file(path.read_text(encoding="utf-8"))
        meta = read.meta
        item = IndexedItem(
            id=number,
            type=meta["type"],
            status="published",
            category=tuple(meta["category"].split("/")),
            title=f"{meta['title']} {meta.get('title_en', '')}",
            body=read.body,
            tags=tuple(meta.get("tags") or ()),
            products=tuple(meta.get("products") or ()),
            situation=read.sections.get("situation", ""),
        )
        found.append((meta["slug"], item))
    return tuple(found)


@lru_cache(maxsize=1)
def demo_vocabulary() -> Vocabulary:
    """The demo centre's dictionary terms and synonym groups."""
    terms = [
        line.split()[0]
        for line in (LIBRARY / "userdict.txt").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    groups = yaml.safe_load((LIBRARY / "synonyms.yaml").read_text(encoding="utf-8"))
    return vocabulary_of(terms, [[str(word) for word in group] for group in groups])


def labelled_queries() -> list[LabelledQuery]:
    """The labelled queries, tune and holdout."""
    return [
        LabelledQuery(q["id"], str(q["query"]), q["kind"], q["split"], dict(q["relevant"]))
        for q in yaml.safe_load(QUERIES.read_text(encoding="utf-8"))
    ]
