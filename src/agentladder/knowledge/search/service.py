"""Search over the library as the pages, the CLI and the API use it: the centre's vocabulary
(dictionary terms and synonym groups, kept in the database), the index in the data directory
(kept in step with the database after every commit, rebuilt by `knowledge reindex`), searches
with snippets and "did you mean", the search log the gaps report reads, and likely duplicates
of an item being written.

The index follows the database, never the other way round: items changed in a transaction are
re-read just before it commits and written to the index once it has (a rolled-back change
never reaches it). One process writes at a time (a file lock beside the index; tantivy allows
one writer); searches in every process see a commit as soon as it is made. A search reads the
rows it found back from the database, so an index that lags (a crash between the commit and
the index write) shows nothing the database no longer says; `knowledge reindex` mends it.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock
from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from agentladder.config import get_settings
from agentladder.db import in_chunks, utcnow
from agentladder.errors import InvalidInput
from agentladder.i18n import N_
from agentladder.knowledge.items import rows
from agentladder.knowledge.models import (
    KbItem,
    KbSearch,
    KbSynonymGroup,
    KbTerm,
)
from agentladder.knowledge.schemas import SearchHit, SearchResponse, without_nul
from agentladder.knowledge.search.analysis import Analyzer, Vocabulary, analyzer_for, vocabulary_of
from agentladder.knowledge.search.index import Filters, IndexedItem, KnowledgeIndex
from agentladder.knowledge.search.snippets import snippet
from agentladder.knowledge.search.suggest import Suggester

if TYPE_CHECKING:
    from markupsafe import Markup


INDEX_DIRECTORY = "knowledge-index"
_VOCABULARY_FILE = "vocabulary.json"
_PENDING = "kb_index_pending"
_READY = "kb_index_ready"
MAX_QUERY = 200
_open_indexes: dict[Path, tuple[str, KnowledgeIndex]] = {}
# Per index: the suggester and the index state it was built from.
_suggesters: dict[Path, _HeldSuggester] = {}
# How old a suggester may grow while items change before it is built again.
SUGGESTER_REFRESH_S = 300.0
_open_lock = threading.Lock()


def index_directory(session: Session) -> Path:
    """Where this database's index lives: the data directory of the session's settings."""
    data_dir = session.info.get("data_dir") or get_settings().data_dir
    return Path(data_dir) / INDEX_DIRECTORY


# --- the vocabulary ----------------------------------------------------------------------------


def vocabulary(*, session: Session) -> Vocabulary:
    """The centre's dictionary terms and synonym groups."""
    terms = list(session.scalars(select(KbTerm.term).order_by(KbTerm.id)))
    groups = [
        json.loads(words)
        for words in session.scalars(select(KbSynonymGroup.words_json).order_by(KbSynonymGroup.id))
    ]
    return vocabulary_of(terms, groups)


def _vocabulary_hash(words: Vocabulary) -> str:
    return hashlib.sha256(
        json.dumps([words.terms, words.synonyms], ensure_ascii=False).encode()
    ).hexdigest()


def set_vocabulary(
    *, session: Session, terms: Sequence[str], synonyms: Sequence[Sequence[str]]
) -> Vocabulary:
    """Replace the centre's terms and synonym groups (the index is rebuilt when it commits:
    every item's terms change with them)."""
    clean_terms = list(dict.fromkeys(" ".join(term.split()) for term in terms if term.strip()))
    if any(" " in term or len(term) > 60 for term in clean_terms):
        raise InvalidInput(N_("a dictionary term is one word of at most 60 characters"))
    groups = [list(dict.fromkeys(w.strip() for w in group if w.strip())) for group in synonyms]
    groups = [group for group in groups if len(group) >= 2]
    session.execute(delete(KbTerm))
    session.execute(delete(KbSynonymGroup))
    session.add_all(KbTerm(term=term) for term in clean_terms)
    session.add_all(
        KbSynonymGroup(words_json=json.dumps(group, ensure_ascii=False)) for group in groups
    )
    session.flush()
    session.info[_PENDING] = "all"
    return vocabulary(session=session)


# --- the index ---------------------------------------------------------------------------------


@contextmanager
def _writer_lock(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with FileLock(str(directory / ".writer.lock"), timeout=120):
        yield


def open_index(session: Session) -> KnowledgeIndex:
    """This process's handle on the index, reopened when the vocabulary it was built with
    changed (another process rebuilt it)."""
    directory = index_directory(session)
    stamp_file = directory / _VOCABULARY_FILE
    stamp = stamp_file.read_text(encoding="utf-8") if stamp_file.exists() else ""
    with _open_lock:
        opened = _open_indexes.get(directory)
        if opened is not None and opened[0] == stamp and stamp:
            return opened[1]
    if not stamp:
        rebuild_index(session=session)
        stamp = stamp_file.read_text(encoding="utf-8")
    stored = json.loads(stamp)
    words = Vocabulary(
        terms=tuple(stored["terms"]),
        synonyms=tuple(tuple(str(word) for word in group) for group in stored["synonyms"]),
    )
    index = KnowledgeIndex(analyzer_for(words), directory / "segments")
    with _open_lock:
        _open_indexes[directory] = (stamp, index)
    return index


def analyzer(*, session: Session) -> Analyzer:
    """The analyzer the index was built with (queries must be analysed the same way)."""
    return open_index(session).analyzer


def indexed_items(session: Session, item_ids: Sequence[int] | None) -> Iterator[IndexedItem]:
    """Items as the index keeps them: a published item's published text, another's latest."""
    paths = rows.category_paths(session)
    query = select(KbItem)
    chunks: Iterator[Sequence[int] | None] = (
        in_chunks(list(item_ids)) if item_ids is not None else iter([None])
    )
    for chunk in chunks:
        items = list(
            session.scalars(
                query.where(KbItem.id.in_(chunk))
                if chunk is not None
                else query.order_by(KbItem.id)
            )
        )
        texts = rows.shown_revisions(session, items)
        for item in items:
            revision = texts.get(item.id)
            if revision is None:
                continue
            yield IndexedItem(
                id=item.id,
                type=item.type,
                status=item.status,
                category=tuple(paths.get(item.category_id or 0, "").split("/"))
                if item.category_id
                else (),
                title=f"{revision.title} {revision.title_en}".strip(),
                body="\n\n".join(
                    p for p in (revision.solution, revision.result, revision.body) if p
                ),
                tags=tuple(json.loads(revision.tags_json)),
                products=tuple(json.loads(revision.products_json)),
                situation=revision.situation,
            )


def rebuild_index(*, session: Session) -> int:
    """Rebuild the index from the database with the current vocabulary; how many items."""
    directory = index_directory(session)
    words = vocabulary(session=session)
    stamp = json.dumps({"terms": words.terms, "synonyms": words.synonyms}, ensure_ascii=False)
    with _writer_lock(directory):
        index = KnowledgeIndex(analyzer_for(words), directory / "segments")
        count = index.rebuild(indexed_items(session, None))
        (directory / _VOCABULARY_FILE).write_text(stamp, encoding="utf-8")
    with _open_lock:
        _open_indexes[directory] = (stamp, index)
    return count


def mark_changed(session: Session, item_id: int) -> None:
    """The item's index entry is rewritten when the session commits."""
    pending = session.info.setdefault(_PENDING, set())
    if pending != "all":
        pending.add(item_id)


@event.listens_for(Session, "before_commit")
def _read_changed(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    if pending == "all":
        session.info[_READY] = "all"
        return
    session.flush()
    items = list(indexed_items(session, sorted(pending)))
    gone = set(pending) - {item.id for item in items}
    session.info[_READY] = (items, gone, index_directory(session))


@event.listens_for(Session, "after_commit")
def _write_changed(session: Session) -> None:
    ready = session.info.pop(_READY, None)
    if ready is None:
        return
    if ready == "all":
        with Session(bind=session.get_bind(), info=dict(session.info)) as fresh:
            rebuild_index(session=fresh)
        return
    items, gone, directory = ready
    with _open_lock:
        opened = _open_indexes.get(directory)
    if opened is None and not (directory / _VOCABULARY_FILE).exists():
        return  # no index yet: the first search builds it from the database
    with Session(bind=session.get_bind(), info=dict(session.info)) as fresh:
        index = open_index(fresh)
    with _writer_lock(directory):
        if items:
            index.put(items)
        if gone:
            index.remove(gone)


@event.listens_for(Session, "after_rollback")
def _forget_changed(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_READY, None)


# --- searching ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FoundItem:
    """A search hit with what a result list shows."""

    id: int
    type: str
    status: str
    category: str
    title: str
    title_en: str
    score: float
    snippet_text: str
    snippet_html: Markup
    adopted: bool


@dataclass(frozen=True)
class SearchResults:
    """What a search found, best first, and a corrected query when it found little."""

    query: str
    items: list[FoundItem]
    suggestion: str | None

    def response(self) -> SearchResponse:
        """The `knowledge search --format json` contract."""
        return SearchResponse(
            query=self.query,
            results=[
                SearchHit(
                    id=item.id,
                    title=item.title,
                    type=item.type,
                    score=round(item.score, 4),
                    snippet=item.snippet_text,
                )
                for item in self.items
            ],
            suggestion=self.suggestion,
        )


def search(
    *,
    session: Session,
    query: str,
    filters: Filters | None = None,
    limit: int = 10,
    user_id: int | None = None,
    log: bool = True,
) -> SearchResults:
    """The best items for the query under the filters (published ones unless the filters say
    otherwise), with snippets; logged for the gaps report when `log`."""
    text = " ".join(without_nul(query).split())[:MAX_QUERY]
    if not 1 <= limit <= 100:
        raise InvalidInput(N_("a search returns 1 to 100 results"))
    index = open_index(session)
    hits = index.search(text, filters=filters, limit=limit) if text else []
    items = {
        item.id: item
        for item in session.scalars(select(KbItem).where(KbItem.id.in_([hit.id for hit in hits])))
    }
    chosen = filters or Filters()
    revisions = rows.shown_revisions(session, list(items.values()))
    # The hits' categories only: a library of 50,000 items has hundreds of them.
    paths = rows.category_paths(
        session, [item.category_id for item in items.values() if item.category_id is not None]
    )
    terms = index.analyzer.terms(text)
    found: list[FoundItem] = []
    for hit in hits:
        item = items.get(hit.id)
        revision = revisions.get(hit.id)
        # The database has the last word: an index entry the database no longer backs is left out.
        if item is None or revision is None or (chosen.status and item.status != chosen.status):
            continue
        cut = snippet(rows.revision_text(revision).searchable_text(), terms, index.analyzer)
        found.append(
            FoundItem(
                id=item.id,
                type=item.type,
                status=item.status,
                category=paths.get(item.category_id or 0, ""),
                title=revision.title,
                title_en=revision.title_en,
                score=hit.score,
                snippet_text=cut.plain(),
                snippet_html=cut.html(),
                adopted=item.adopted_at is not None,
            )
        )
    suggestion = None
    if text and len(found) < 3:
        suggestion = _suggester(session, index).suggest(text)
    if log and text:
        session.add(KbSearch(query=text, results=len(found), user_id=user_id, searched_at=utcnow()))
    return SearchResults(text, found, suggestion)


def log_search(
    *,
    session: Session,
    query: str,
    results: int,
    user_id: int | None,
    at: datetime | None = None,
) -> KbSearch:
    """Write a search run elsewhere or earlier to the log the gaps report reads (`search` logs
    its own as it runs): the demo's agents' searches over past months, another tool's log."""
    row = KbSearch(
        query=" ".join(without_nul(query).split())[:MAX_QUERY],
        results=max(0, results),
        user_id=user_id,
        searched_at=at or utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def searches_without_results(
    *, session: Session, since: Any = None, limit: int = 50
) -> list[tuple[str, int]]:
    """The queries that found nothing, most asked first: what the library lacks."""
    query = select(KbSearch.query, func.count()).where(KbSearch.results == 0)
    if since is not None:
        query = query.where(KbSearch.searched_at >= since)
    rows = session.execute(
        query.group_by(KbSearch.query).order_by(func.count().desc(), KbSearch.query).limit(limit)
    )
    return [(text, count) for text, count in rows]


@dataclass
class _HeldSuggester:
    suggester: Suggester
    vocabulary: str  # the index's vocabulary stamp it was built under
    index_mtime: float  # the index's last commit it has seen
    built_at: float  # time.monotonic()
    rebuilding: bool = False


def _index_state(directory: Path) -> tuple[str, float]:
    meta = directory / "segments" / "meta.json"
    stamp_file = directory / _VOCABULARY_FILE
    return (
        stamp_file.read_text(encoding="utf-8") if stamp_file.exists() else "",
        meta.stat().st_mtime if meta.exists() else 0.0,
    )


def _build_suggester(session: Session, index: KnowledgeIndex) -> Suggester:
    texts = (
        " ".join((item.title, *item.tags, *item.category, item.situation, item.body))
        for item in indexed_items(session, None)
        if item.status == "published"
    )
    return Suggester.from_texts(index.analyzer, texts)


def _suggester(session: Session, index: KnowledgeIndex) -> Suggester:
    """This process's "did you mean" over the published library's words. Built on first use
    and again at once when the vocabulary changes; when only items changed (any process's
    commit touches the index's meta file), rebuilt in the background at most every few minutes
    while the one held keeps answering: a new word waits a little, a search never does."""
    directory = index_directory(session)
    vocabulary, index_mtime = _index_state(directory)
    with _open_lock:
        held = _suggesters.get(directory)
        stale = held is not None and (
            held.index_mtime != index_mtime
            and time.monotonic() - held.built_at > SUGGESTER_REFRESH_S
            and not held.rebuilding
        )
        if stale and held is not None:
            held.rebuilding = True
    if held is not None and held.vocabulary == vocabulary:
        if stale:
            threading.Thread(
                target=_rebuild_suggester,
                args=(session.get_bind(), dict(session.info), index, directory, index_mtime),
                daemon=True,
            ).start()
        return held.suggester
    suggester = _build_suggester(session, index)
    with _open_lock:
        _suggesters[directory] = _HeldSuggester(
            suggester, vocabulary, index_mtime, time.monotonic()
        )
    return suggester


def _rebuild_suggester(
    bind: Any, info: dict[str, Any], index: KnowledgeIndex, directory: Path, index_mtime: float
) -> None:
    try:
        with Session(bind=bind, info=info) as fresh:
            suggester = _build_suggester(fresh, index)
        with _open_lock:
            held = _suggesters.get(directory)
            if held is not None:
                held.suggester, held.index_mtime = suggester, index_mtime
                held.built_at = time.monotonic()
    finally:
        with _open_lock:
            held = _suggesters.get(directory)
            if held is not None:
                held.rebuilding = False
