"""The library's search index: tantivy (BM25) over the terms `analysis` makes, kept in the data
directory and rebuilt from the database by one command, so that the ranking is the same on
SQLite and PostgreSQL.

An item is indexed as its fields' terms (title, tags and category, a case's situation, the
body) and the sounds of its title and tags; a query's terms are looked up in every field with
the field's boost, so a title match outweighs a body match (BM25 already favours short fields
and rare terms). Filters (type, status, category and the categories above it, tag, product)
are exact terms that must match.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import tantivy

from agentladder.knowledge.search.analysis import Analyzer, sounds

# Field -> boost. The order of the issue: title > tags > case situation > body.
BOOSTS: dict[str, float] = {
    "title": 4.0,
    "tags": 2.5,
    "situation": 1.5,
    "body": 1.0,
    "sounds": 0.6,  # homophone typos: below any real word
}
_FILTER_FIELDS = ("type", "status", "category", "tag", "product")
_TERMS_TOKENIZER = "terms"  # the analyzer's terms, joined by spaces
_WRITER_HEAP_BYTES = 50_000_000


@dataclass(frozen=True)
class IndexedItem:
    """What the index keeps of an item (its current published or draft text)."""

    id: int
    type: str
    status: str
    category: tuple[str, ...]
    title: str
    body: str
    tags: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    situation: str = ""


@dataclass(frozen=True)
class Hit:
    """An item a search found, with its BM25 score."""

    id: int
    score: float


@dataclass(frozen=True)
class Filters:
    """Exact conditions on the items searched (None: any)."""

    type: str | None = None
    status: str | None = "published"
    category: tuple[str, ...] = ()
    tag: str | None = None
    product: str | None = None


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", stored=True, indexed=True, fast=True)
    for name in _FILTER_FIELDS:
        builder.add_text_field(name, stored=False, tokenizer_name="raw")
    for name in BOOSTS:
        builder.add_text_field(name, stored=False, tokenizer_name=_TERMS_TOKENIZER)
    return builder.build()


def category_paths(category: Sequence[str]) -> list[str]:
    """The category and every category above it, as `a/b` paths (a filter on `a` finds
    `a/b`)."""
    return ["/".join(category[: depth + 1]) for depth in range(len(category))]


class KnowledgeIndex:
    """A tantivy index of the library at `path` (None: in memory, for tests and benchmarks)."""

    def __init__(self, analyzer: Analyzer, path: Path | None = None) -> None:
        self.analyzer = analyzer
        self.schema = _schema()
        if path is None:
            self._index = tantivy.Index(self.schema)
        else:
            path.mkdir(parents=True, exist_ok=True)
            self._index = tantivy.Index(self.schema, path=str(path), reuse=True)
        self._index.register_tokenizer(
            _TERMS_TOKENIZER, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()
        )

    def _document(self, item: IndexedItem) -> tantivy.Document:
        terms = self.analyzer.terms
        labels = (*item.tags, *item.category)
        return tantivy.Document(
            id=item.id,
            type=item.type,
            status=item.status,
            category=category_paths(item.category),
            tag=list(item.tags),
            product=list(item.products),
            title=" ".join(terms(item.title)),
            tags=" ".join(terms(" ".join(labels))),
            situation=" ".join(terms(item.situation)),
            body=" ".join(terms(item.body)),
            sounds=" ".join(sounds(terms(" ".join((item.title, *labels))))),
        )

    @contextmanager
    def _writing(self) -> Iterator[tantivy.IndexWriter]:
        """A writer whose changes are committed, merged and visible to searches on exit."""
        writer = self._index.writer(_WRITER_HEAP_BYTES, 1)
        yield writer
        writer.commit()
        writer.wait_merging_threads()
        self._index.reload()

    def rebuild(self, items: Iterable[IndexedItem]) -> int:
        """Replace the whole index with these items; how many."""
        count = 0
        with self._writing() as writer:
            writer.delete_all_documents()
            for item in items:
                writer.add_document(self._document(item))
                count += 1
        return count

    def put(self, items: Iterable[IndexedItem]) -> None:
        """Add the items, replacing what the index held under their ids."""
        with self._writing() as writer:
            for item in items:
                writer.delete_documents_by_term("id", item.id)
                writer.add_document(self._document(item))

    def remove(self, ids: Iterable[int]) -> None:
        """Take the items out of the index."""
        with self._writing() as writer:
            for item_id in ids:
                writer.delete_documents_by_term("id", item_id)

    def search(self, query: str, *, filters: Filters | None = None, limit: int = 10) -> list[Hit]:
        """The best `limit` items for the query's terms under the filters, best first."""
        chosen = filters or Filters()
        terms = self.analyzer.terms(query)
        wanted: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for field, boost in BOOSTS.items():
            for term in sorted(set(sounds(terms) if field == "sounds" else terms)):
                term_query = tantivy.Query.term_query(self.schema, field, term)
                wanted.append((tantivy.Occur.Should, tantivy.Query.boost_query(term_query, boost)))
        if not wanted:
            return []
        clauses = [(tantivy.Occur.Must, tantivy.Query.boolean_query(wanted))]
        for field, value in (
            ("type", chosen.type),
            ("status", chosen.status),
            ("category", "/".join(chosen.category) or None),
            ("tag", chosen.tag),
            ("product", chosen.product),
        ):
            if value:
                clauses.append(
                    (tantivy.Occur.Must, tantivy.Query.term_query(self.schema, field, value))
                )
        searcher = self._index.searcher()
        found = searcher.search(tantivy.Query.boolean_query(clauses), limit)
        return [
            Hit(int(searcher.doc(address)["id"][0]), float(score)) for score, address in found.hits
        ]
