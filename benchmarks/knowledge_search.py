"""Search quality of the knowledge library on the labelled set, against the databases' plain
full-text search as the baseline.

The library is the demo company's (src/agentladder/demo/knowledge/items, 348 items); the
queries are tests/data/knowledge/queries.yaml (227, typed as agents type them on a call, with
graded relevance; every third held out of tuning). An item counts as relevant from grade 2
("helps directly") up; the issue's targets are MRR@10 >= 0.75 and recall@10 >= 0.9 on the
held-out queries.

Systems compared, each returning its 10 best items per query:
- agentladder: `knowledge.search` (jieba segmentation with the centre's terms, synonyms folded,
  English stems, sounds for homophones, tantivy BM25 with field boosts);
- SQLite FTS5 with its default `unicode61` tokenizer, the query's words OR-ed, ranked by
  bm25() with the same field weights (a run of Chinese characters is one token there);
- PostgreSQL `to_tsvector('simple', ...)`, the query's words OR-ed, ranked by ts_rank_cd with
  the same weights (skipped when no server answers at --pg-admin-url).

Usage:
    python benchmarks/knowledge_search.py
    python benchmarks/knowledge_search.py --no-pg

Writes benchmarks/results/knowledge_search-<date>.json.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from bench_db import pg_database

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "src" / "agentladder" / "demo" / "knowledge"
QUERIES = ROOT / "tests" / "data" / "knowledge" / "queries.yaml"
RESULTS = Path(__file__).resolve().parent / "results"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "agentladder_bench_knowledge"
K = 10
FIELDS = ("title", "tags", "situation", "body")
WEIGHTS = {"title": 4.0, "tags": 2.5, "situation": 1.5, "body": 1.0}  # as the product's boosts
_WORDS = re.compile(r"\w+", re.UNICODE)


def load_items() -> list[dict[str, Any]]:
    """The demo items as rows of the four searched fields."""
    from agentladder.knowledge.markdown import read_item_file

    items = []
    for path in sorted(LIBRARY.glob("items/*/*.md")):
        read = read_item_file(path.read_text(encoding="utf-8"))
        meta = read.meta
        items.append(
            {
                "slug": meta["slug"],
                "type": meta["type"],
                "category": tuple(str(meta["category"]).split("/")),
                "title": f"{meta['title']} {meta.get('title_en', '')}",
                "tag_list": tuple(meta.get("tags") or ()),
                # The baselines' tags field holds what ours does: the tags and the category.
                "tags": " ".join([*(meta.get("tags") or []), *str(meta["category"]).split("/")]),
                "products": tuple(meta.get("products") or ()),
                "situation": read.sections.get("situation", ""),
                "body": read.body,
            }
        )
    return items


def ours(items: list[dict[str, Any]]) -> Callable[[str], list[str]]:
    """agentladder's search over the items."""
    from agentladder.knowledge.search.analysis import analyzer_for, vocabulary_of
    from agentladder.knowledge.search.index import IndexedItem, KnowledgeIndex

    terms = [
        line.split()[0]
        for line in (LIBRARY / "userdict.txt").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    groups = yaml.safe_load((LIBRARY / "synonyms.yaml").read_text(encoding="utf-8"))
    index = KnowledgeIndex(
        analyzer_for(vocabulary_of(terms, [[str(w) for w in g] for g in groups]))
    )
    index.rebuild(
        IndexedItem(
            id=number,
            type=item["type"],
            status="published",
            category=item["category"],
            title=item["title"],
            body=item["body"],
            tags=item["tag_list"],
            products=item["products"],
            situation=item["situation"],
        )
        for number, item in enumerate(items)
    )
    return lambda query: [items[hit.id]["slug"] for hit in index.search(query, limit=K)]


def sqlite_fts(items: list[dict[str, Any]]) -> Callable[[str], list[str]]:
    """SQLite FTS5, default tokenizer, OR of the query's words, bm25 with the field weights."""
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE library USING fts5(slug UNINDEXED, {', '.join(FIELDS)})")
    db.executemany(
        f"INSERT INTO library VALUES (?, {', '.join('?' for _ in FIELDS)})",
        [(item["slug"], *(item[field] for field in FIELDS)) for item in items],
    )
    weights = ", ".join(str(WEIGHTS[field]) for field in FIELDS)

    def search(query: str) -> list[str]:
        words = _WORDS.findall(query)
        if not words:
            return []
        match = " OR ".join('"' + word.replace('"', '""') + '"' for word in words)
        rows = db.execute(
            f"SELECT slug FROM library WHERE library MATCH ? "
            f"ORDER BY bm25(library, 0, {weights}) LIMIT {K}",
            (match,),
        ).fetchall()
        return [slug for (slug,) in rows]

    return search


def postgres_fts(items: list[dict[str, Any]], url: str) -> Callable[[str], list[str]]:
    """PostgreSQL full text with the 'simple' configuration, OR of the query's words."""
    import psycopg

    plain_url = url.replace("postgresql+psycopg://", "postgresql://")
    connection = psycopg.connect(plain_url, autocommit=True)
    connection.execute(
        "CREATE TABLE library (slug text, document tsvector)",
    )
    labels = dict(zip(FIELDS, "ABCD", strict=True))
    vector = " || ".join(
        f"setweight(to_tsvector('simple', %({field})s), '{labels[field]}')" for field in FIELDS
    )
    with connection.cursor() as cursor:
        for item in items:
            cursor.execute(
                f"INSERT INTO library VALUES (%(slug)s, {vector})",
                {"slug": item["slug"], **{field: item[field] for field in FIELDS}},
            )
    # ts_rank_cd's weights are D, C, B, A: body, situation, tags, title.
    weights = "{" + ", ".join(str(WEIGHTS[f] / 4) for f in reversed(FIELDS)) + "}"

    def search(query: str) -> list[str]:
        words = [w.lower() for w in _WORDS.findall(query)]
        if not words:
            return []
        ts_query = " | ".join(f"'{w}'" for w in (word.replace("'", "") for word in words) if w)
        rows = connection.execute(
            "SELECT slug FROM library, to_tsquery('simple', %s) q WHERE document @@ q "
            f"ORDER BY ts_rank_cd('{weights}', document, q) DESC LIMIT {K}",
            (ts_query,),
        ).fetchall()
        return [slug for (slug,) in rows]

    return search


def evaluate(search: Callable[[str], list[str]], queries: Sequence[dict[str, Any]]) -> dict:
    """Quality per split and query kind, and the time per query."""
    from agentladder.knowledge.search.evaluation import quality

    found: dict[str, list[tuple[list[str], dict[str, int]]]] = {}
    times: list[float] = []
    for query in queries:
        started = time.perf_counter()
        slugs = search(str(query["query"]))
        times.append(time.perf_counter() - started)
        pair = (slugs, dict(query["relevant"]))
        found.setdefault(query["split"], []).append(pair)
        found.setdefault(f"{query['split']}:{query['kind']}", []).append(pair)
    figures = {}
    for key, pairs in sorted(found.items()):
        measured = quality(pairs, k=K, min_grade=2)
        figures[key] = {
            "queries": measured.queries,
            "mrr_at_10": round(measured.mrr, 3),
            "recall_at_10": round(measured.recall, 3),
        }
    times.sort()
    figures["ms_per_query_p50"] = round(times[len(times) // 2] * 1000, 2)
    figures["ms_per_query_p95"] = round(times[int(len(times) * 0.95)] * 1000, 2)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    items = load_items()
    queries = yaml.safe_load(QUERIES.read_text(encoding="utf-8"))
    systems: dict[str, Callable[[str], list[str]]] = {
        "agentladder": ours(items),
        "sqlite_fts5_unicode61": sqlite_fts(items),
    }
    url = None
    if not args.no_pg:
        try:
            url = pg_database(args.pg_admin_url, PG_DATABASE, create=True)
            systems["postgresql_simple"] = postgres_fts(items, url)
        except Exception as exc:  # a benchmark without a server still reports the rest
            print(f"PostgreSQL skipped: {exc}")
    results: dict[str, Any] = {"items": len(items), "queries": len(queries), "k": K}
    try:
        for name, search in systems.items():
            results[name] = evaluate(search, queries)
    finally:
        if url is not None:
            pg_database(args.pg_admin_url, PG_DATABASE, create=False)
    print(f"{len(items)} items, {len(queries)} queries; relevant = grade 2 or 3; k = {K}")
    print(f"{'system':<24} {'split':<8} {'queries':>7} {'MRR@10':>7} {'recall@10':>9}")
    for name in systems:
        for split in ("tune", "holdout"):
            row = results[name][split]
            print(
                f"{name:<24} {split:<8} {row['queries']:>7} "
                f"{row['mrr_at_10']:>7.3f} {row['recall_at_10']:>9.3f}"
            )
    held_out = results["agentladder"]["holdout"]
    met = held_out["mrr_at_10"] >= 0.75 and held_out["recall_at_10"] >= 0.9
    print(
        f"targets on the held-out queries (MRR@10 >= 0.75, recall@10 >= 0.9): "
        f"{'met' if met else 'NOT MET'}"
    )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"knowledge_search-{datetime.now():%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
