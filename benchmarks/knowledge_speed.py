"""Speed of the knowledge library's search over a large generated library, on SQLite and on
PostgreSQL, against the databases' own full-text search over the same items in the same run.

The issue's target: p95 under 100 ms for a search over 50,000 items on both databases.

The library (`--items`, 50,000) is made from the demo company's 348 items
(src/agentladder/demo/knowledge/items) the way a centre's library grows: each item is a variant
of a demo item of the same type and category. A case takes its situation from one case and,
half the time, its solution and result from another case of the same category; an article, SOP
or script gets paragraphs of another item of its area added, or loses one. Product names are
swapped within their family (宽带300M -> 宽带500M, and plans the dictionary does not know, such as
5G畅享79), a quarter of the numbers change, cities, regions and appliance model numbers
(KFR-35GW/B3) appear, titles get prefixes and editions, and half of the items sit in a regional
sub-category. 70 % are published (some with an edit waiting for review), the rest archived
(some as duplicates), drafts or waiting for review; items have one to four revisions, a
reviewer's update added in each later one. Rows are written with SQLAlchemy Core in bulk (the
item service writes one item at a time), with the columns the service sets: the
`current_revision`, `published_revision`, `first_published_at`, `submitted_at`,
`archived_at`/`archive_reason`/`duplicate_of_id`, `changed_chars` and the current revision's
tags in kb_item_tags. The set-up checks them: every invariant the service keeps, and the
non-empty columns of an item written through `items_service.create_item` and
`publish_imported` against a generated one.

Phases, each in a fresh Python process per database:

* `setup`: schema (`upgrade_schema`), the demo vocabulary (`search_service.set_vocabulary`),
  the items, `rebuild_index` (timed: items/s), the baselines' tables;
* `measure`: the first search after the process starts and the first search that makes a
  "did you mean" (the suggester is built over every published item) as cold starts; then,
  after a warm-up, the 227 labelled queries (tests/data/knowledge/queries.yaml) `--repeats`
  times in a seeded order, every configuration of a query in turn. Each search is what a
  request does: a `session_scope()`, `search_service.search(...)`, the commit. Configurations:
  limit 10 with the default filters, logged (the API's path) and not logged; limit 10 with the
  type filter of the query's best labelled item; limit 50, logged (the library page's path);
  and the baselines. Then the parts of a search timed one by one (the same calls `search()`
  makes, checked to give the same results), a cProfile of the queries, `duplicates_of_text`
  for new cases being written, the proposals for the slow parts measured against the code as
  it is (`whatif`), and one item edited: its commit, the next suggestion, and the searches
  while the suggester is rebuilt in the background.

Baselines, the same queries over the same items (the shown revision of each, status and type
filters, 10 best with their title and a highlighted piece of text): SQLite FTS5 (`unicode61`,
bm25 with the product's field weights, `snippet()`), PostgreSQL `to_tsvector('simple', ...)`
with a GIN index (`ts_rank_cd`, `ts_headline`); the query's words OR-ed, as
benchmarks/knowledge_search.py does for quality.

Usage:
    python benchmarks/knowledge_speed.py [--items 50000] [--repeats 3] [--no-pg]

Writes benchmarks/results/knowledge_speed-<date>.json. The SQLite file and the indexes live in
temporary directories, the PostgreSQL database (`agentladder_bench_kb_speed`) is created for
the run; all are removed afterwards.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import math
import os
import pstats
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from bench_db import pg_database

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "tests" / "data" / "knowledge" / "queries.yaml"
RESULTS = Path(__file__).resolve().parent / "results"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "agentladder_bench_kb_speed"
TARGET_P95_MS = 100.0
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # the generated library's "today"
CHUNK = 5_000
# A query that finds nothing (two mistyped English words): it takes the "did you mean" path.
NO_RESULT_QUERY = "pasword resett"

# --- the generated library --------------------------------------------------------------------

# Products swapped within a family; the names not in the demo dictionary are new plans and
# campaigns a centre adds faster than its dictionary.
PRODUCT_FAMILIES = (
    ("宽带100M", "宽带300M", "宽带500M", "宽带1000M", "宽带2000M"),
    (
        "5G畅享59",
        "5G畅享79",
        "5G畅享99",
        "5G畅享129",
        "5G尊享159",
        "5G尊享199",
        "5G至尊239",
        "5G至尊299",
    ),
    ("新春融合套餐", "开学季融合套餐", "暑期亲情套餐", "家庭融合套餐", "校园融合套餐"),
    ("开年流量包", "五一出游流量包", "暑期流量包", "国庆出游流量包", "周末流量包", "夜间流量包"),
    ("春季宽带提速", "618宽带特惠", "双11宽带续约", "年末合约续约", "老用户宽带续约"),
)
REGIONS = ("华北", "华东", "华南", "华中", "西南", "西北", "东北")
CITIES = (
    "北京",
    "上海",
    "广州",
    "深圳",
    "成都",
    "杭州",
    "武汉",
    "西安",
    "南京",
    "重庆",
    "天津",
    "苏州",
    "长沙",
    "郑州",
    "沈阳",
    "青岛",
    "宁波",
    "东莞",
    "无锡",
    "厦门",
    "福州",
    "合肥",
    "济南",
    "大连",
    "哈尔滨",
    "昆明",
    "南昌",
    "贵阳",
    "南宁",
    "石家庄",
)
MODEL_CODES: dict[str, Callable[[random.Random], str]] = {
    "空调": lambda r: (
        f"KFR-{r.choice((26, 32, 35, 50, 72))}GW/{r.choice('ABCDE')}{r.randint(1, 9)}"
    ),
    "冰箱": lambda r: f"BCD-{r.randint(180, 650)}W{r.choice('ABDEP')}",
    "洗衣机": lambda r: f"XQG{r.choice((80, 90, 100, 120))}-{r.choice('BDHM')}{r.randint(10, 99)}",
    "热水器": lambda r: f"JSQ{r.randint(20, 32)}-{r.randint(12, 16)}{r.choice('ABC')}",
    "油烟机": lambda r: f"CXW-{r.randint(200, 300)}-{r.choice('EJK')}{r.randint(1, 9)}",
    "洗碗机": lambda r: f"WQP{r.choice((8, 12, 13, 15))}-{r.choice('ST')}{r.randint(10, 99)}",
    "电视": lambda r: f"{r.choice((43, 55, 65, 75, 85))}E{r.randint(3, 9)}{r.choice('KQS')}",
    "微波炉": lambda r: f"M{r.randint(1, 3)}-L{r.randint(200, 260)}{r.choice('BCE')}",
}
TITLE_EDITIONS = ("（{year}版）", "（{year}年更新）", "【{region}】", "{city}：", "客户来电：", "")
STATUS_SHARES = (("published", 0.70), ("archived", 0.13), ("draft", 0.12), ("in_review", 0.05))
PENDING_EDIT_SHARE = 0.05  # of the published: an edit waits for review
ADOPTED_SHARE = 0.2  # of the published cases
DUPLICATE_SHARE = 0.3  # of the archived: archived as a duplicate of a published item
_NUMBER = r"(?<![A-Za-z0-9.])\d+(?:\.\d+)?(?![A-Za-z0-9.%‰])"


@dataclass(frozen=True)
class Text:
    """What a revision says (the columns of kb_revisions the search reads)."""

    title: str
    title_en: str = ""
    body: str = ""
    situation: str = ""
    solution: str = ""
    result: str = ""
    tags: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()

    def size(self) -> int:
        """Characters the item service counts for a first revision's `changed_chars`."""
        parts = (self.situation, self.solution, self.result, self.body)
        searchable = "\n\n".join(part for part in parts if part)
        return len("\n".join((self.title, self.title_en, searchable)))


@dataclass(frozen=True)
class Source:
    """A demo item the generated ones are made from."""

    area: str
    type: str
    category: str
    text: Text


@dataclass
class Generated:
    """A generated item: its rows' values before ids are known."""

    type: str
    category: str
    revisions: list[Text]
    status: str = "draft"
    published_revision: int | None = None
    times: dict[str, datetime] = field(default_factory=dict)
    moments: list[datetime] = field(default_factory=list)  # each revision's
    archive_reason: str = ""
    duplicate: bool = False
    view_count: int = 0


def demo_sources() -> list[Source]:
    """The demo company's items."""
    from agentladder.demo.library import library_files

    return [
        Source(
            area=file.area,
            type=file.draft.type,
            category=file.draft.category,
            text=Text(
                title=file.draft.title,
                title_en=file.draft.title_en,
                body=file.draft.body,
                situation=file.draft.situation,
                solution=file.draft.solution,
                result=file.draft.result,
                tags=tuple(file.draft.tags),
                products=tuple(file.draft.products),
                queues=tuple(file.draft.queues),
            ),
        )
        for file in library_files()
    ]


class Generator:
    """Variants of the demo items (see the module docstring); item `number` is the same for a
    given seed however many items are made."""

    def __init__(self, sources: Sequence[Source], seed: int) -> None:
        from agentladder.demo.library import UPDATES, library_vocabulary

        self.sources = list(sources)
        self.seed = seed
        self.updates = UPDATES
        self.by_category: dict[tuple[str, str], list[Source]] = {}
        self.by_area: dict[str, list[Source]] = {}
        for source in self.sources:
            self.by_category.setdefault((source.type, source.category), []).append(source)
            if source.type != "case":
                self.by_area.setdefault(source.area, []).append(source)
        products = sorted({p for family in PRODUCT_FAMILIES for p in family}, key=len, reverse=True)
        terms, _ = library_vocabulary()
        kept = sorted(
            (t for t in terms if re.search(r"\d", t) and t not in products), key=len, reverse=True
        )
        self._pattern = re.compile(
            f"(?P<product>{'|'.join(map(re.escape, products))})"
            f"|(?P<kept>{'|'.join(map(re.escape, kept))})|(?P<number>{_NUMBER})"
        )

    def categories(self) -> list[str]:
        """Every category an item may be filed under, parents first."""
        paths = set()
        for source in self.sources:
            for leaf in (source.category, *(f"{source.category}/{r}" for r in REGIONS)):
                names = leaf.split("/")
                paths.update("/".join(names[: depth + 1]) for depth in range(len(names)))
        return sorted(paths, key=lambda path: (path.count("/"), path))

    def _varied(self, rng: random.Random) -> Callable[[str], str]:
        """This item's product swaps and changed numbers, the same in all its text."""
        swap: dict[str, str] = {}
        for family in PRODUCT_FAMILIES:
            if rng.random() < 0.35:
                swap.update((member, rng.choice(family)) for member in family)
        share = rng.choice((0.0, 0.15, 0.25, 0.4))

        def number(word: str) -> str:
            if "." in word:
                return f"{float(word) * rng.uniform(0.5, 2.0):.{len(word.split('.')[1])}f}"
            value = int(word)
            if value < 10:
                return str(rng.randint(1, 9))
            return str(max(10, round(value * rng.uniform(0.5, 2.0))))

        def one(match: re.Match[str]) -> str:
            word = match.group()
            if match.lastgroup == "product":
                return swap.get(word, word)
            if match.lastgroup == "number" and rng.random() < share:
                return number(word)
            return word

        return lambda text: self._pattern.sub(one, text)

    def text(self, number: int) -> tuple[Source, Text, str, random.Random]:
        """Item `number`'s first text, its source, its category and its random stream."""
        rng = random.Random(self.seed * 1_000_003 + number)
        base = rng.choice(self.sources)
        vary = self._varied(rng)
        city, region = rng.choice(CITIES), rng.choice(REGIONS)
        tags = list(base.text.tags)
        if base.type == "case":
            same = self.by_category[(base.type, base.category)]
            donor = rng.choice(same) if rng.random() < 0.5 else base
            situation = base.text.situation
            if rng.random() < 0.4:
                situation = situation.replace("客户", f"{city}客户", 1)
            text = replace(base.text, situation=situation)
            text = replace(text, solution=donor.text.solution, result=donor.text.result)
            if donor is not base and rng.random() < 0.5:
                tags.extend(t for t in donor.text.tags if t not in tags)
        else:
            chinese, line, english = base.text.body.partition("\n---\n")
            paragraphs = chinese.strip().split("\n\n")
            if rng.random() < 0.4:
                donor = rng.choice(self.by_area[base.area])
                extra = donor.text.body.partition("\n---\n")[0].strip().split("\n\n")[1:]
                if extra:
                    at = rng.randrange(len(extra))
                    paragraphs.extend(extra[at : at + rng.randint(1, 2)])
            if len(paragraphs) >= 3 and rng.random() < 0.25:
                del paragraphs[rng.randrange(1, len(paragraphs))]
            if rng.random() < 0.15:
                paragraphs.append(f"适用地区：{region}（{city}等地）。")
            body = "\n\n".join(paragraphs)
            text = replace(base.text, body=f"{body}\n\n---\n\n{english.strip()}" if line else body)
        if base.area == "appliances" and rng.random() < 0.6:
            for noun, code in MODEL_CODES.items():
                field_name = "situation" if base.type == "case" else "body"
                written = getattr(text, field_name)
                if noun in written:
                    model = f"{noun}（型号{code(rng)}）"
                    text = replace(text, **{field_name: written.replace(noun, model, 1)})
                    break
        edition = rng.choice(TITLE_EDITIONS) if rng.random() < 0.45 else ""
        title = text.title
        if edition:
            filled = edition.format(year=rng.randint(2021, 2026), region=region, city=city)
            title = f"{filled}{title}" if edition.endswith(("】", "：")) else f"{title}{filled}"
        if rng.random() < 0.2:
            tags.append(region)
        text = Text(
            title=vary(title)[:300],
            title_en=vary(text.title_en)[:300],
            body=vary(text.body),
            situation=vary(text.situation),
            solution=vary(text.solution),
            result=vary(text.result),
            tags=tuple(dict.fromkeys(t[:60] for t in tags)),
            products=tuple(dict.fromkeys(vary(p) for p in text.products)),
            queues=text.queues,
        )
        category = base.category if rng.random() < 0.5 else f"{base.category}/{region}"
        return base, text, category, rng

    def updated(self, text: Text, rng: random.Random) -> Text:
        """The text with a reviewer's update added (a later revision)."""
        chinese, english = rng.choice(self.updates)
        if text.solution or text.result:
            return replace(text, result=f"{text.result}\n\n{chinese}\n\n{english}".strip())
        parts = text.body.partition("\n\n---\n\n")
        if parts[1]:
            return replace(text, body=f"{parts[0]}\n\n{chinese}{parts[1]}{parts[2]}\n\n{english}")
        return replace(text, body=f"{text.body}\n\n{chinese}\n\n{english}")

    def item(self, number: int) -> Generated:
        """Item `number`: its texts, status and moments (see STATUS_SHARES)."""
        base, text, category, rng = self.text(number)
        draw, status = rng.random(), "published"
        for name, share in STATUS_SHARES:
            if draw < share:
                status = name
                break
            draw -= share
        created = NOW - timedelta(days=rng.uniform(10, 3 * 365))
        item = Generated(type=base.type, category=category, revisions=[text], status=status)
        step = timedelta(days=rng.uniform(3, 60))
        times: dict[str, datetime | None] = {"created": created}
        published_count = 0
        if status in ("published", "archived"):
            published_count = rng.choices((1, 2, 3), weights=(75, 18, 7))[0]
            if status == "archived" and rng.random() < 0.15:
                published_count = 0  # a draft its author gave up
        extra = published_count - 1 if published_count else (1 if rng.random() < 0.2 else 0)
        for _ in range(max(extra, 0)):
            item.revisions.append(self.updated(item.revisions[-1], rng))
        moments = [created + step * k for k in range(len(item.revisions))]
        if published_count:
            item.published_revision = len(item.revisions)
            times["first_published"] = created + timedelta(days=rng.uniform(1, 3))
            moments[1:] = [max(m, times["first_published"]) for m in moments[1:]]
            times["updated"] = max(times["first_published"], moments[-1])
            if status == "published" and rng.random() < PENDING_EDIT_SHARE:
                item.revisions.append(self.updated(item.revisions[-1], rng))
                moments.append(times["updated"] + step)
                times["submitted"] = moments[-1]
                times["updated"] = moments[-1]
        else:
            times["updated"] = moments[-1]
            if status == "in_review":
                times["submitted"] = moments[-1] + timedelta(hours=rng.uniform(0.1, 5))
        if status == "archived":
            times["archived"] = times["updated"] + timedelta(days=rng.uniform(1, 200))
            times["updated"] = times["archived"]
            item.duplicate = published_count > 0 and rng.random() < DUPLICATE_SHARE
            item.archive_reason = "duplicate" if item.duplicate else "obsolete"
        if published_count and base.type == "case" and rng.random() < ADOPTED_SHARE:
            times["adopted"] = times["first_published"] + timedelta(days=rng.uniform(2, 25))
        if published_count:
            item.view_count = int(rng.paretovariate(1.4) * 4)
        item.times = {key: min(value, NOW) for key, value in times.items() if value is not None}
        item.moments = [min(moment, NOW) for moment in moments]
        return item


# --- writing the rows ---------------------------------------------------------------------------


def _item_row(item_id: int, item: Generated, category_id: int, duplicate_of: int | None) -> dict:
    times = item.times
    return {
        "id": item_id,
        "slug": None,
        "type": item.type,
        "status": item.status,
        "category_id": category_id,
        "author_agent_id": None,
        "author_user_id": None,
        "current_revision": len(item.revisions),
        "published_revision": item.published_revision,
        "created_at": times["created"],
        "updated_at": times["updated"],
        "submitted_at": times.get("submitted"),
        "first_published_at": times.get("first_published"),
        "archived_at": times.get("archived"),
        "archive_reason": item.archive_reason,
        "duplicate_of_id": duplicate_of,
        "adopted_at": times.get("adopted"),
        "adopted_by_user_id": None,
        "derived_from_id": None,
        "view_count": item.view_count,
        "file_import_id": None,
    }


def _revision_rows(first_id: int, item_id: int, item: Generated) -> list[dict]:
    rows = []
    previous: Text | None = None
    for number, text in enumerate(item.revisions, start=1):
        rows.append(
            {
                "id": first_id + number - 1,
                "item_id": item_id,
                "number": number,
                "title": text.title,
                "title_en": text.title_en,
                "body": text.body,
                "situation": text.situation,
                "solution": text.solution,
                "result": text.result,
                "tags_json": json.dumps(list(text.tags), ensure_ascii=False),
                "products_json": json.dumps(list(text.products), ensure_ascii=False),
                "queues_json": json.dumps(list(text.queues), ensure_ascii=False),
                "skill_groups_json": "[]",
                "author_user_id": None,
                "author_agent_id": None,
                "created_at": item.moments[number - 1],
                "note": "" if number == 1 else "更新 update",
                # What items_service.changed_chars gives: the whole text at first, then the
                # characters an appended update adds.
                "changed_chars": text.size() if previous is None else text.size() - previous.size(),
                "reverted_from": None,
            }
        )
        previous = text
    return rows


def write_library(url: str, items: int, seed: int) -> dict[str, Any]:
    """Generate and insert the library; counts and timings."""
    from sqlalchemy import insert, text

    from agentladder.db import get_engine
    from agentladder.knowledge.models import KbCategory, KbItem, KbItemTag, KbRevision

    generator = Generator(demo_sources(), seed)
    engine = get_engine(url)
    paths = generator.categories()
    category_ids = {path: number for number, path in enumerate(paths, start=1)}
    generate_s = insert_s = 0.0
    counts: Counter[str] = Counter()
    text_chars = 0
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(
            insert(KbCategory.__table__),
            [
                {
                    "id": number,
                    "parent_id": category_ids.get(path.rpartition("/")[0]),
                    "name": path.rpartition("/")[2],
                    "path": path,
                    "created_at": NOW - timedelta(days=3 * 365),
                }
                for path, number in category_ids.items()
            ],
        )
    insert_s += time.perf_counter() - started
    dup_rng = random.Random(seed)
    published_ids: list[int] = []
    revision_id = 1
    for start in range(1, items + 1, CHUNK):
        started = time.perf_counter()
        item_rows, revision_rows, tag_rows = [], [], []
        for item_id in range(start, min(start + CHUNK, items + 1)):
            item = generator.item(item_id)
            duplicate_of = None
            if item.duplicate and published_ids:
                duplicate_of = dup_rng.choice(published_ids)
            elif item.duplicate:
                item.archive_reason = "obsolete"
            if item.status == "published":
                published_ids.append(item_id)
            item_rows.append(_item_row(item_id, item, category_ids[item.category], duplicate_of))
            rows = _revision_rows(revision_id, item_id, item)
            revision_rows.extend(rows)
            revision_id += len(rows)
            tag_rows.extend({"item_id": item_id, "tag": t} for t in item.revisions[-1].tags)
            counts[item.status] += 1
            counts[f"type:{item.type}"] += 1
            counts[f"revisions:{len(item.revisions)}"] += 1
            counts["pending_edit"] += item.status == "published" and "submitted" in item.times
            counts["adopted"] += "adopted" in item.times
            counts["duplicate_of"] += duplicate_of is not None
            shown = item.revisions[(item.published_revision or len(item.revisions)) - 1]
            text_chars += shown.size()
        generate_s += time.perf_counter() - started
        started = time.perf_counter()
        with engine.begin() as connection:
            connection.execute(insert(KbItem.__table__), item_rows)
            connection.execute(insert(KbRevision.__table__), revision_rows)
            connection.execute(insert(KbItemTag.__table__), tag_rows)
        insert_s += time.perf_counter() - started
        print(f"  {min(start + CHUNK - 1, items):,} items", file=sys.stderr, flush=True)
    started = time.perf_counter()
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            for table in ("kb_categories", "kb_items", "kb_revisions"):
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
            connection.execute(text("ANALYZE"))  # as autovacuum would, soon after
    insert_s += time.perf_counter() - started
    return {
        "items": items,
        "categories": len(paths),
        "revisions": revision_id - 1,
        "counts": dict(sorted(counts.items())),
        "mean_shown_text_chars": round(text_chars / max(items, 1)),
        "generate_s": round(generate_s, 2),
        "insert_s": round(insert_s, 2),
        "insert_items_per_s": round(items / insert_s),
    }


def check_rows(settings: Any) -> dict[str, Any]:
    """The generated rows keep what the item service keeps; AssertionError otherwise."""
    from sqlalchemy import func, inspect, select

    from agentladder.db import session_scope
    from agentladder.knowledge.items import service as items_service
    from agentladder.knowledge.models import KbItem, KbItemTag, KbRevision
    from agentladder.knowledge.schemas import ItemDraft

    problems: list[str] = []
    with session_scope(settings) as session:
        numbers = select(
            KbRevision.item_id, func.max(KbRevision.number).label("top"), func.count().label("n")
        ).group_by(KbRevision.item_id)
        top = numbers.subquery()
        wrong = session.scalar(
            select(func.count())
            .select_from(KbItem)
            .join(top, top.c.item_id == KbItem.id, isouter=True)
            .where((top.c.top != KbItem.current_revision) | (top.c.n != KbItem.current_revision))
        )
        if wrong:
            problems.append(f"{wrong} items whose current_revision is not their last revision")
        rules = {
            "published without published_revision or first_published_at": (
                (KbItem.status == "published")
                & (KbItem.published_revision.is_(None) | KbItem.first_published_at.is_(None))
            ),
            "published_revision without first_published_at or the other way": (
                KbItem.published_revision.is_(None) != KbItem.first_published_at.is_(None)
            ),
            "submitted_at outside review": (
                KbItem.submitted_at.is_not(None)
                & (KbItem.status != "in_review")
                & ~(
                    (KbItem.status == "published")
                    & (KbItem.current_revision > KbItem.published_revision)
                )
            ),
            "in review without submitted_at": (
                (KbItem.status == "in_review") & KbItem.submitted_at.is_(None)
            ),
            "archived without archived_at or reason": (
                (KbItem.status == "archived")
                & (KbItem.archived_at.is_(None) | (KbItem.archive_reason == ""))
            ),
            "a duplicate without the item it duplicates": (
                (KbItem.archive_reason == "duplicate") & KbItem.duplicate_of_id.is_(None)
            ),
            "adopted but not a published case": (
                KbItem.adopted_at.is_not(None)
                & ((KbItem.type != "case") | KbItem.published_revision.is_(None))
            ),
            "updated before created": KbItem.updated_at < KbItem.created_at,
        }
        for name, condition in rules.items():
            count = session.scalar(select(func.count()).select_from(KbItem).where(condition))
            if count:
                problems.append(f"{count} items: {name}")
        # The tags table holds the current revision's tags (a sample of 500 items).
        sample = list(session.scalars(select(KbItem).order_by(KbItem.id).limit(500)))
        for item in sample:
            stored = set(session.scalars(select(KbItemTag.tag).where(KbItemTag.item_id == item.id)))
            current = session.scalar(
                select(KbRevision.tags_json).where(
                    KbRevision.item_id == item.id, KbRevision.number == item.current_revision
                )
            )
            if stored != set(json.loads(current or "[]")):
                problems.append(f"item {item.id}: kb_item_tags is not its current tags")
                break
            read = items_service.get_item(session=session, item_id=item.id, by=None)
            if read.revision != (item.published_revision or item.current_revision):
                problems.append(f"item {item.id}: shown revision {read.revision}")
                break
        # An item written by the service, next to a generated one of the same kind.
        reference = session.scalar(
            select(KbItem)
            .where(
                KbItem.status == "published",
                KbItem.current_revision == 1,
                KbItem.adopted_at.is_(None),
            )
            .limit(1)
        )
        assert reference is not None
        shown = items_service.get_item(session=session, item_id=reference.id, by=None)
        draft = ItemDraft(
            type=reference.type,
            category=shown.category,
            **shown.text.model_dump(exclude={"skill_groups"}),
        )
        made = items_service.create_item(session=session, draft=draft, by=None, at=NOW)
        items_service.publish_imported(session=session, item=made, at=NOW)
        session.flush()

        def filled(row: Any) -> set[str]:
            return {
                attr.key
                for attr in inspect(row).mapper.column_attrs
                if getattr(row, attr.key) not in (None, "", 0)
            }

        made_revision = session.scalar(select(KbRevision).where(KbRevision.item_id == made.id))
        ours_revision = session.scalar(select(KbRevision).where(KbRevision.item_id == reference.id))
        assert made_revision is not None
        assert ours_revision is not None
        differences = {
            "kb_items": sorted(filled(made) ^ filled(reference)),
            "kb_revisions": sorted(filled(made_revision) ^ filled(ours_revision)),
        }
        if made_revision.changed_chars != ours_revision.changed_chars:
            problems.append(
                f"changed_chars {ours_revision.changed_chars}, "
                f"the service's {made_revision.changed_chars}"
            )
        session.rollback()
    # view_count may be 0 on either; nothing else may differ.
    differences["kb_items"] = [c for c in differences["kb_items"] if c != "view_count"]
    if any(differences.values()):
        problems.append(f"columns set differently from the service's: {differences}")
    assert not problems, problems
    return {"checked": "ok", "sampled_items": len(sample)}


# --- the baselines ----------------------------------------------------------------------------

FIELD_WEIGHTS = {"title": 4.0, "tags": 2.5, "situation": 1.5, "body": 1.0}  # as index.BOOSTS
_WORDS = re.compile(r"\w+", re.UNICODE)
_SHOWN = (
    "FROM kb_items i JOIN kb_revisions r ON r.item_id = i.id "
    "AND r.number = COALESCE(i.published_revision, i.current_revision) "
    "LEFT JOIN kb_categories c ON c.id = i.category_id"
)


def build_baseline(url: str) -> dict[str, Any]:
    """The databases' own full-text index over the items' shown revisions."""
    from sqlalchemy import text

    from agentladder.db import get_engine

    engine = get_engine(url)
    started = time.perf_counter()
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(
                text(
                    "CREATE VIRTUAL TABLE bench_fts USING fts5(item_id UNINDEXED, "
                    "status UNINDEXED, type UNINDEXED, title, tags, situation, body)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO bench_fts SELECT i.id, i.status, i.type, "
                    "r.title || ' ' || r.title_en, r.tags_json || ' ' || COALESCE(c.path, ''), "
                    "r.situation, r.solution || ' ' || r.result || ' ' || r.body " + _SHOWN
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE TABLE bench_fts (item_id integer PRIMARY KEY, status text, "
                    "type text, title text, body text, document tsvector)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO bench_fts SELECT i.id, i.status, i.type, r.title, "
                    "concat_ws(' ', r.situation, r.solution, r.result, r.body), "
                    "setweight(to_tsvector('simple', r.title || ' ' || r.title_en), 'A') || "
                    "setweight(to_tsvector('simple', r.tags_json || ' ' || COALESCE(c.path, '')),"
                    " 'B') || setweight(to_tsvector('simple', r.situation), 'C') || "
                    "setweight(to_tsvector('simple', "
                    "concat_ws(' ', r.solution, r.result, r.body)), 'D') " + _SHOWN
                )
            )
            connection.execute(
                text("CREATE INDEX bench_fts_document ON bench_fts USING gin (document)")
            )
            connection.execute(text("ANALYZE bench_fts"))
    return {"build_s": round(time.perf_counter() - started, 2)}


def baseline_search(session: Any, query: str, kind: str | None) -> list[int]:
    """The 10 best published items (of the type) by the database's full text, with their
    title and a highlighted piece, as our search returns them."""
    from sqlalchemy import text

    words = [w.lower().replace("'", "") for w in _WORDS.findall(query)]
    if not words:
        return []
    type_clause = " AND type = :type" if kind else ""
    if session.get_bind().dialect.name == "sqlite":
        weights = ", ".join(str(FIELD_WEIGHTS[f]) for f in ("title", "tags", "situation", "body"))
        match = " OR ".join('"' + w.replace('"', '""') + '"' for w in words)
        rows = session.execute(
            text(
                "SELECT item_id, title, snippet(bench_fts, 6, '<mark>', '</mark>', '…', 24) "
                f"FROM bench_fts WHERE bench_fts MATCH :q AND status = 'published'{type_clause} "
                f"ORDER BY bm25(bench_fts, 0, 0, 0, {weights}) LIMIT 10"
            ),
            {"q": match, "type": kind},
        ).all()
    else:
        # ts_rank_cd's weights are D, C, B, A: body, situation, tags, title.
        weights = (
            "{"
            + ", ".join(str(FIELD_WEIGHTS[f] / 4) for f in ("body", "situation", "tags", "title"))
            + "}"
        )
        rows = session.execute(
            text(
                "SELECT item_id, title, ts_headline('simple', body, q) FROM ("
                f"SELECT item_id, title, body, q, ts_rank_cd('{weights}', document, q) AS rank "
                "FROM bench_fts, to_tsquery('simple', :q) q WHERE document @@ q "
                f"AND status = 'published'{type_clause} ORDER BY rank DESC LIMIT 10) top "
                "ORDER BY rank DESC"
            ),
            {"q": " | ".join(f"'{w}'" for w in words if w), "type": kind},
        ).all()
    return [row[0] for row in rows]


# --- measuring --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """A labelled query and the type of its best item (the type filter an agent would pick)."""

    id: str
    text: str
    kind: str


def load_queries() -> list[Query]:
    """The labelled queries of tests/data/knowledge/queries.yaml."""
    found = []
    for row in yaml.safe_load(QUERIES.read_text(encoding="utf-8")):
        best = max(row["relevant"].items(), key=lambda pair: pair[1])[0]
        found.append(Query(row["id"], str(row["query"]), best.split("-")[1]))
    return found


def percentiles(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99 (nearest rank), max and mean of timings, in ms."""
    ordered = sorted(seconds)
    if not ordered:
        return {}

    def rank(share: float) -> float:
        return ordered[max(0, math.ceil(share * len(ordered)) - 1)] * 1000

    return {
        "n": len(ordered),
        "p50_ms": round(rank(0.50), 2),
        "p95_ms": round(rank(0.95), 2),
        "p99_ms": round(rank(0.99), 2),
        "max_ms": round(ordered[-1] * 1000, 2),
        "mean_ms": round(sum(ordered) / len(ordered) * 1000, 2),
    }


def settings_for(url: str, data_dir: Path) -> Any:
    """Settings of the benchmark's database and data directory."""
    from agentladder.config import Settings

    return Settings(data_dir=data_dir, database_url=url, secret_key="bench")


def configurations() -> dict[str, Callable[[Any, Query], Any]]:
    """What one timed search does, by name: a request's session, its work, its commit."""
    from agentladder.knowledge.search import service as search_service
    from agentladder.knowledge.search.index import Filters

    def ours(limit: int, log: bool, typed: bool) -> Callable[[Any, Query], Any]:
        def run(session: Any, query: Query) -> Any:
            return search_service.search(
                session=session,
                query=query.text,
                filters=Filters(type=query.kind) if typed else None,
                limit=limit,
                log=log,
            )

        return run

    return {
        "search_limit10_logged": ours(10, True, False),
        "search_limit10_unlogged": ours(10, False, False),
        "search_limit10_type_logged": ours(10, True, True),
        "search_limit50_logged": ours(50, True, False),
        "baseline_fts": lambda session, query: baseline_search(session, query.text, None),
        "baseline_fts_type": lambda session, query: baseline_search(
            session, query.text, query.kind
        ),
    }


CONFIG_LABELS = {
    "search_limit10_logged": "search, limit 10, logged (API)",
    "search_limit10_unlogged": "search, limit 10, not logged",
    "search_limit10_type_logged": "search, limit 10, type filter, logged",
    "search_limit50_logged": "search, limit 50, logged (library page)",
    "baseline_fts": "baseline {fts}",
    "baseline_fts_type": "baseline {fts}, type filter",
}


def timed_parts(session: Any, text: str, limit: int) -> tuple[list[int], str | None, dict]:
    """`search_service.search(..., log=False)` step by step, each step timed (seconds): the
    same calls in the same order."""
    from sqlalchemy import select

    from agentladder.knowledge.items import rows
    from agentladder.knowledge.models import KbItem
    from agentladder.knowledge.search import service as search_service
    from agentladder.knowledge.search.analysis import sounds
    from agentladder.knowledge.search.index import Filters
    from agentladder.knowledge.search.snippets import snippet

    clock = time.perf_counter
    parts: dict[str, float] = {}
    at = clock()
    index = search_service.open_index(session)
    parts["index_handle"] = clock() - at
    at = clock()
    sounds(index.analyzer.terms(text))  # what index.search analyses first
    parts["query_analysis"] = clock() - at
    at = clock()
    hits = index.search(text, filters=None, limit=limit)
    parts["tantivy"] = clock() - at - parts["query_analysis"]
    at = clock()
    items = {
        item.id: item
        for item in session.scalars(select(KbItem).where(KbItem.id.in_([h.id for h in hits])))
    }
    parts["db_items"] = clock() - at
    at = clock()
    revisions = rows.shown_revisions(session, list(items.values()))
    parts["db_revisions"] = clock() - at
    at = clock()
    rows.category_paths(session)
    parts["db_categories"] = clock() - at
    at = clock()
    terms = index.analyzer.terms(text)
    found = []
    for hit in hits:
        item, revision = items.get(hit.id), revisions.get(hit.id)
        if item is None or revision is None or item.status != Filters().status:
            continue
        cut = snippet(
            "\n\n".join(
                p
                for p in (revision.situation, revision.solution, revision.result, revision.body)
                if p
            ),
            terms,
            index.analyzer,
        )
        cut.plain()
        cut.html()
        found.append(hit.id)
    parts["snippets"] = clock() - at
    at = clock()
    suggestion = None
    if len(found) < 3:
        suggestion = search_service._suggester(session, index).suggest(text)
    parts["suggestion"] = clock() - at
    return found, suggestion, parts


def _profile(run: Callable[[], None], top: int = 30) -> dict[str, str]:
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    tables = {}
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(top)
        tables[order] = out.getvalue()
    return tables


class PrefilteredAnalyzer:
    """The proposal for `snippets._matches`, without editing it: the analyzer it is given
    analyses a piece of the text only when the piece can hold a wanted term (one of the words
    a term stands for occurs in it, or one of its English words stems to a term); any other
    piece has no terms, as the real analysis would have found none of the wanted ones. A single
    English word is looked up in the snippets' cache of word terms (`_word_terms`) instead of
    analysed again. The wrapper hashes as the analyzer it wraps, so that cache holds only the
    real answers."""

    def __init__(self, analyzer: Any, wanted: Sequence[str]) -> None:
        self._analyzer = analyzer
        self._wanted = frozenset(wanted)
        self._needles = {word for term in self._wanted for word in analyzer.variants(term)}

    def __hash__(self) -> int:
        return hash(self._analyzer)

    def __eq__(self, other: object) -> bool:
        return other is self._analyzer or (
            isinstance(other, PrefilteredAnalyzer) and other._analyzer is self._analyzer
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._analyzer, name)

    def terms(self, text: str) -> list[str]:
        """The analyzer's terms of the text, or none when it cannot hold a wanted term."""
        from agentladder.knowledge.search.snippets import _word_terms

        if _ENGLISH_WORD.fullmatch(text):
            return list(_word_terms(self._analyzer, text))
        if any(needle in text for needle in self._needles) or any(
            self._wanted.intersection(_word_terms(self._analyzer, word))
            for word in _LATIN_WORDS.findall(text)
        ):
            return list(self._analyzer.terms(text))
        return []


_ENGLISH_WORD = re.compile(r"[A-Za-z0-9]+")
_LATIN_WORDS = re.compile(r"[a-z0-9]+")


_PLAIN_AT_HAND: dict[str, str] = {}  # Markdown -> its plain text, for `snippet_proposals`


@contextmanager
def snippet_proposals(prefilter: bool, plain_at_hand: bool) -> Iterator[None]:
    """The search's snippets made with the proposals, for the length of the block: pieces
    prefiltered (`PrefilteredAnalyzer`), and the plain text of a revision at hand instead of
    parsed from Markdown each time (revisions never change, so it may be kept per revision; a
    cache by text stands in for that here and is warm)."""
    from agentladder.knowledge.search import service as search_service
    from agentladder.knowledge.search import snippets

    snippet, plain_text = search_service.snippet, snippets.plain_text
    if prefilter:
        search_service.snippet = lambda text, terms, analyzer, **options: snippet(
            text, terms, PrefilteredAnalyzer(analyzer, list(terms)), **options
        )
    if plain_at_hand:

        def at_hand(markdown: str) -> str:
            held = _PLAIN_AT_HAND.get(markdown)
            if held is None:
                held = _PLAIN_AT_HAND[markdown] = plain_text(markdown)
            return held

        snippets.plain_text = at_hand
    try:
        yield
    finally:
        search_service.snippet, snippets.plain_text = snippet, plain_text


PROPOSALS = {
    "as_is": (False, False),
    "prefiltered": (True, False),
    "plain_text_at_hand": (False, True),
    "both": (True, True),
}


def whatif(settings: Any, queries: Sequence[Query], repeats: int) -> dict[str, Any]:
    """The proposals measured in this process: snippets (each query's 10 best items' texts)
    with and without each, checked to be the same snippets; reading only the hits'
    categories instead of all; and the library page's search (limit 50) with both snippet
    proposals against it as it is, alternately, with the same results."""
    from sqlalchemy import select

    from agentladder.db import session_scope
    from agentladder.knowledge.items import rows
    from agentladder.knowledge.models import KbCategory
    from agentladder.knowledge.search import service as search_service

    cases: list[tuple[str, list[str]]] = []
    category_s = {"all_categories": 0.0, "hits_categories": 0.0}
    with session_scope(settings) as session:
        index = search_service.open_index(session)
        for query in queries:
            hits = index.search(query.text, limit=10)
            stored = rows.items_by_ids(session=session, item_ids=[h.id for h in hits])
            revisions = rows.shown_revisions(session, list(stored.values()))
            terms = index.analyzer.terms(query.text)
            for revision in revisions.values():
                parts = (revision.situation, revision.solution, revision.result, revision.body)
                cases.append(("\n\n".join(p for p in parts if p), terms))
            at = time.perf_counter()
            rows.category_paths(session)
            category_s["all_categories"] += time.perf_counter() - at
            at = time.perf_counter()
            wanted = {item.category_id for item in stored.values() if item.category_id}
            dict(
                session.execute(
                    select(KbCategory.id, KbCategory.path).where(KbCategory.id.in_(wanted))
                ).all()
            )
            category_s["hits_categories"] += time.perf_counter() - at
    analyzer = index.analyzer

    def made() -> tuple[float, list[Any]]:
        at = time.perf_counter()
        got = [search_service.snippet(text, terms, analyzer) for text, terms in cases]
        return time.perf_counter() - at, got

    expected = made()[1]
    seconds: dict[str, list[float]] = {name: [] for name in PROPOSALS}
    same = True
    for _ in range(3):
        for name, (prefilter, plain) in PROPOSALS.items():
            with snippet_proposals(prefilter, plain):
                if plain:
                    made()  # the plain texts at hand
                took, got = made()
            seconds[name].append(took)
            same = same and got == expected

    # The library page's search, as it is and with both proposals, alternately.
    def page(query: Query) -> tuple[float, list[tuple[int, str]]]:
        at = time.perf_counter()
        with session_scope(settings) as session:
            found = search_service.search(session=session, query=query.text, limit=50)
        return time.perf_counter() - at, [(item.id, item.snippet_text) for item in found.items]

    page_s: dict[str, list[float]] = {"as_is": [], "both": []}
    page_same = True
    with snippet_proposals(True, True):
        for query in queries:
            page(query)  # warm, and the plain texts at hand
    for repeat in range(repeats):
        for number, query in enumerate(queries):
            order = ("as_is", "both") if (number + repeat) % 2 else ("both", "as_is")
            answers = {}
            for name in order:
                with snippet_proposals(*PROPOSALS[name]):
                    took, answers[name] = page(query)
                page_s[name].append(took)
            page_same = page_same and answers["as_is"] == answers["both"]
    return {
        "snippets": len(cases),
        "ms_per_snippet": {
            name: round(min(values) / len(cases) * 1000, 3) for name, values in seconds.items()
        },
        "same_snippets": same,
        "categories_ms_per_search": {
            name: round(value / len(queries) * 1000, 3) for name, value in category_s.items()
        },
        "page_limit50": {name: percentiles(values) for name, values in page_s.items()},
        "page_same_results": page_same,
    }


def new_cases(seed: int, count: int) -> list[Text]:
    """Cases an agent might be writing now: the generator's next cases, not in the library."""
    generator = Generator(demo_sources(), seed + 1)
    found: list[Text] = []
    number = 0
    while len(found) < count:
        number += 1
        base, text, _, _ = generator.text(number)
        if base.type == "case":
            found.append(text)
    return found


def demo_terms(analyzer: Any) -> int:
    """Distinct terms of the 348 demo items, counted as the suggester counts a library's."""
    from agentladder.knowledge.search.suggest import Suggester

    texts = (
        " ".join(
            (
                f"{s.text.title} {s.text.title_en}",
                *s.text.tags,
                *s.category.split("/"),
                s.text.situation,
                "\n\n".join(p for p in (s.text.solution, s.text.result, s.text.body) if p),
            )
        )
        for s in demo_sources()
    )
    return len(Suggester.from_texts(analyzer, texts)._term_counts)


def phase_measure(url: str, data_dir: Path, repeats: int, seed: int) -> dict[str, Any]:
    """Cold start, latencies, parts, profile and duplicates, in this fresh process."""
    clock = time.perf_counter
    started = clock()
    # A process of the product (web app, CLI) has every domain's tables mapped: kb_searches
    # refers to users, which the knowledge package alone does not import.
    import agentladder.tables  # noqa: F401
    from agentladder.db import session_scope
    from agentladder.knowledge.items import similar
    from agentladder.knowledge.search import service as search_service

    import_s = clock() - started
    settings = settings_for(url, data_dir)
    queries = load_queries()
    result: dict[str, Any] = {"load_average_at_start": [round(x, 2) for x in os.getloadavg()]}

    # Cold: the first search after the start (the analyzer's dictionary, the index opened),
    # then the first one that asks for a suggestion (the suggester built over the library).
    at = clock()
    with session_scope(settings) as session:
        first = search_service.search(session=session, query=queries[0].text, log=True)
    first_s = clock() - at
    at = clock()
    with session_scope(settings) as session:
        no_result = search_service.search(session=session, query=NO_RESULT_QUERY, log=True)
    suggester_s = clock() - at
    at = clock()
    with session_scope(settings) as session:
        search_service.search(session=session, query=NO_RESULT_QUERY, log=True)
    warm_no_result_s = clock() - at
    held = next(iter(search_service._suggesters.values())).suggester
    result["cold"] = {
        "import_s": round(import_s, 3),
        "first_search_ms": round(first_s * 1000, 1),
        "first_search_results": len(first.items),
        "first_suggestion_s": round(suggester_s, 2),
        "no_result_query": NO_RESULT_QUERY,
        "its_results": len(no_result.items),
        "its_suggestion": no_result.suggestion,
        "same_query_warm_ms": round(warm_no_result_s * 1000, 1),
        "suggester_terms": len(held._term_counts),
        "demo_library_terms": demo_terms(held.analyzer),
    }
    print(f"  cold: {result['cold']}", file=sys.stderr, flush=True)

    runs = configurations()
    order = list(runs)

    def timed(name: str, query: Query) -> tuple[float, float, Any]:
        """Wall seconds, this process's CPU seconds, the answer."""
        at, cpu = clock(), time.process_time()
        with session_scope(settings) as session:
            found = runs[name](session, query)
        return clock() - at, time.process_time() - cpu, found

    # Warm-up: every query in every configuration once.
    suggested = 0
    fewer_than_3 = 0
    results_count: list[int] = []
    for query in queries:
        for name in order:
            _, _, found = timed(name, query)
            if name == "search_limit10_unlogged":
                results_count.append(len(found.items))
                fewer_than_3 += len(found.items) < 3
                suggested += found.suggestion is not None
    times: dict[str, list[float]] = {name: [] for name in order}
    cpu_times: dict[str, list[float]] = {name: [] for name in order}
    rng = random.Random(seed)
    load_before = os.getloadavg()[0]
    measure_started = clock()
    for _ in range(repeats):
        shuffled = list(queries)
        rng.shuffle(shuffled)
        for number, query in enumerate(shuffled):
            shift = number % len(order)
            for name in order[shift:] + order[:shift]:
                wall, cpu, _ = timed(name, query)
                times[name].append(wall)
                cpu_times[name].append(cpu)
    result["latency"] = {name: percentiles(values) for name, values in times.items()}
    # CPU time of this process alone (PostgreSQL's own work is not in it): what a search costs
    # however busy the machine is.
    result["cpu"] = {name: percentiles(values) for name, values in cpu_times.items()}
    result["latency_wall_s"] = round(clock() - measure_started, 1)
    result["load_average_during"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    result["queries"] = {
        "count": len(queries),
        "repeats": repeats,
        "mean_results_limit10": round(sum(results_count) / len(results_count), 2),
        "fewer_than_3_results": fewer_than_3,
        "with_suggestion": suggested,
    }
    print(f"  latency: {result['latency']}", file=sys.stderr, flush=True)

    # The parts of a search (limit 10, default filters), each query twice, checked against
    # the service's own answer.
    parts: dict[str, list[float]] = {}
    mismatches = 0
    for _ in range(2):
        for query in queries:
            with session_scope(settings) as session:
                ids, suggestion, measured = timed_parts(session, query.text, 10)
                expected = search_service.search(session=session, query=query.text, log=False)
            mismatches += ids != [i.id for i in expected.items] or suggestion != expected.suggestion
            for key, value in measured.items():
                parts.setdefault(key, []).append(value)
    result["parts"] = {
        key: {
            "mean_ms": round(sum(values) / len(values) * 1000, 3),
            "p95_ms": percentiles(values)["p95_ms"],
        }
        for key, values in parts.items()
    }
    result["parts_mismatches"] = mismatches

    # A profile of the API's path over every query.
    def api_pass() -> None:
        for query in queries:
            with session_scope(settings) as session:
                search_service.search(session=session, query=query.text, log=True)

    result["profile"] = _profile(api_pass)

    # The editor's duplicate hints while a new case is written: its title and situation
    # (half written), then the whole case.
    cases = new_cases(seed, 40)
    duplicate_times: dict[str, list[float]] = {"half_written": [], "whole_case": []}
    found_counts = []
    for repeat in range(3):
        for case in cases:
            for name, body in (
                ("half_written", case.situation),
                ("whole_case", "\n\n".join((case.situation, case.solution, case.result))),
            ):
                at = clock()
                with session_scope(settings) as session:
                    hints = similar.duplicates_of_text(
                        session=session, title=case.title, text=body, by=None
                    )
                if repeat:  # the first round warms up
                    duplicate_times[name].append(clock() - at)
                if name == "whole_case" and repeat == 1:
                    found_counts.append(len(hints))
    result["duplicates"] = {
        **{name: percentiles(values) for name, values in duplicate_times.items()},
        "cases": len(cases),
        "mean_hints": round(sum(found_counts) / len(found_counts), 2),
    }

    result["whatif"] = whatif(settings, queries, repeats)
    print(f"  what-if: {result['whatif']}", file=sys.stderr, flush=True)

    # One item edited and committed (what saving an item does to the index). The next search
    # that wants a suggestion keeps the suggester it has and, the index having changed, starts
    # rebuilding it in the background once it is older than SUGGESTER_REFRESH_S (aged here
    # instead of waited for); searches go on meanwhile, sharing the interpreter with it.
    with session_scope(settings) as session:
        hit = search_service.search(session=session, query=queries[0].text, log=False).items[0]
    at = clock()
    with session_scope(settings) as session:
        search_service.mark_changed(session, hit.id)
    index_put_s = clock() - at
    held = next(iter(search_service._suggesters.values()))
    held.built_at -= search_service.SUGGESTER_REFRESH_S
    at = clock()
    with session_scope(settings) as session:
        search_service.search(session=session, query=NO_RESULT_QUERY, log=True)
    next_s = clock() - at
    rebuild_started = clock()
    during: list[float] = []
    while held.rebuilding and clock() - rebuild_started < 900:
        for query in queries:
            during.append(timed("search_limit10_logged", query)[0])
            if not held.rebuilding:
                break
    result["after_edit"] = {
        "commit_with_index_put_ms": round(index_put_s * 1000, 1),
        "next_suggestion_ms": round(next_s * 1000, 1),
        "background_rebuild_s": round(clock() - rebuild_started, 1),
        "searches_during_rebuild": percentiles(during),
    }
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return result


def phase_setup(url: str, data_dir: Path, items: int, seed: int) -> dict[str, Any]:
    """Schema, vocabulary, items, index and baselines."""
    import agentladder.tables  # noqa: F401  (every table mapped, as in the product)
    from agentladder.db import session_scope, upgrade_schema
    from agentladder.demo.library import library_vocabulary
    from agentladder.knowledge.search import service as search_service

    settings = settings_for(url, data_dir)
    result: dict[str, Any] = {"load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    upgrade_schema(settings)
    terms, synonyms = library_vocabulary()
    with session_scope(settings) as session:
        search_service.set_vocabulary(session=session, terms=terms, synonyms=synonyms)
    result["library"] = write_library(url, items, seed)
    print(f"  library: {result['library']}", file=sys.stderr, flush=True)
    result["row_checks"] = check_rows(settings)
    started = time.perf_counter()
    with session_scope(settings) as session:
        indexed = search_service.rebuild_index(session=session)
    seconds = time.perf_counter() - started
    index_dir = search_service.INDEX_DIRECTORY
    result["index"] = {
        "items": indexed,
        "rebuild_s": round(seconds, 1),
        "items_per_s": round(indexed / seconds),
        "size_mib": round(
            sum(f.stat().st_size for f in (data_dir / index_dir).rglob("*") if f.is_file()) / 2**20,
            1,
        ),
    }
    assert indexed == items, f"{indexed} indexed of {items}"
    print(f"  index: {result['index']}", file=sys.stderr, flush=True)
    result["baseline"] = build_baseline(url)
    if url.startswith("sqlite"):
        result["database_mib"] = round((data_dir / "bench.db").stat().st_size / 2**20, 1)
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return result


# --- orchestration ----------------------------------------------------------------------------


def code_fingerprint() -> dict[str, str]:
    """Which product code ran (others edit src/ while benchmarks run): sha256 of the search
    package and the item service."""
    root = ROOT / "src" / "agentladder" / "knowledge"
    digest = hashlib.sha256()
    for path in sorted([*root.glob("search/*.py"), root / "items" / "service.py"]):
        digest.update(path.read_bytes())
    return {"knowledge_search_and_items_sha256": digest.hexdigest()[:12]}


def child(args: argparse.Namespace) -> None:
    """Run one phase in this process; its result is the last line of stdout (JSON)."""
    data_dir = Path(args.data_dir)
    if args.phase == "setup":
        result = phase_setup(args.url, data_dir, args.items, args.seed)
    else:
        result = phase_measure(args.url, data_dir, args.repeats, args.seed)
    result["code"] = code_fingerprint()  # what this process ran (others edit src/ meanwhile)
    print(json.dumps(result, ensure_ascii=False))


def spawn(phase: str, url: str, data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One phase in a fresh interpreter."""
    command = [
        sys.executable,
        __file__,
        "--child",
        phase,
        "--url",
        url,
        "--data-dir",
        str(data_dir),
        "--items",
        str(args.items),
        "--repeats",
        str(args.repeats),
        "--seed",
        str(args.seed),
    ]
    started = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"phase {phase} failed (exit {done.returncode})")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = round(time.perf_counter() - started, 1)
    return result


def bench_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    """Set up one database and measure on it; the database and directory are removed."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"kb-speed-{backend}-"))
    url = (
        f"sqlite:///{data_dir / 'bench.db'}"
        if backend == "sqlite"
        else pg_database(args.pg_admin_url, PG_DATABASE, create=True)
    )
    try:
        print(f"[{backend}] setup ...", flush=True)
        setup = spawn("setup", url, data_dir, args)
        print(f"[{backend}] measure ...", flush=True)
        measure = spawn("measure", url, data_dir, args)
    finally:
        if backend == "postgresql":
            pg_database(args.pg_admin_url, PG_DATABASE, create=False)
        shutil.rmtree(data_dir, ignore_errors=True)
    return {"setup": setup, "measure": measure}


def verdict(p95: float) -> str:
    return "met" if p95 < TARGET_P95_MS else "NOT MET"


def report(results: dict[str, Any]) -> None:
    """Every figure against its target."""
    for backend, got in results["backends"].items():
        setup, measure = got["setup"], got["measure"]
        library, index = setup["library"], setup["index"]
        fts = "SQLite FTS5" if backend == "sqlite" else "PostgreSQL 'simple'"
        print(
            f"\n== {backend}: {library['items']:,} items ({library['counts'].get('published', 0):,}"
            f" published), {library['categories']} categories, {library['revisions']:,} revisions"
        )
        print(
            f"insert {library['insert_s']} s ({library['insert_items_per_s']:,} items/s); "
            f"rebuild_index {index['rebuild_s']} s ({index['items_per_s']} items/s, "
            f"{index['size_mib']} MiB); baseline index {setup['baseline']['build_s']} s"
        )
        queries = measure["queries"]
        print(
            f"{queries['count']} queries x {queries['repeats']}; load average "
            f"{measure['load_average_during'][0]} -> {measure['load_average_during'][1]}; "
            f"{queries['fewer_than_3_results']} queries find < 3 (suggestion asked)"
        )
        print(
            f"{'':42} {'p50':>6} {'p95':>6} {'p99':>6} {'max':>6}  {'cpu p50':>7} {'p95':>6}"
            f"  p95 < {TARGET_P95_MS:.0f} ms"
        )
        for name, figures in measure["latency"].items():
            label = CONFIG_LABELS[name].format(fts=fts)
            cpu = measure["cpu"][name]
            mark = verdict(figures["p95_ms"]) if name.startswith("search") else "(reference)"
            print(
                f"{label:<42} {figures['p50_ms']:>6.1f} {figures['p95_ms']:>6.1f} "
                f"{figures['p99_ms']:>6.1f} {figures['max_ms']:>6.1f}  {cpu['p50_ms']:>7.1f} "
                f"{cpu['p95_ms']:>6.1f}  {mark}"
            )
        for name in ("half_written", "whole_case"):
            figures = measure["duplicates"][name]
            print(
                f"{'duplicates_of_text, ' + name.replace('_', ' '):<42} {figures['p50_ms']:>6.1f}"
                f" {figures['p95_ms']:>6.1f} {figures['p99_ms']:>6.1f} {figures['max_ms']:>6.1f}"
                f"  {'':>14}  (no target; {verdict(figures['p95_ms'])} against the search's)"
            )
        cold = measure["cold"]
        print(
            f"cold start: first search {cold['first_search_ms']} ms; first suggestion "
            f"(suggester over the published items, {cold['suggester_terms']:,} terms; the demo's "
            f"348 items have {cold['demo_library_terms']:,}) "
            f"{cold['first_suggestion_s']} s; the same query warm {cold['same_query_warm_ms']} ms"
        )
        after = measure["after_edit"]
        during = after["searches_during_rebuild"]
        print(
            f"after one edit: commit with the index write {after['commit_with_index_put_ms']} ms;"
            f" next suggestion {after['next_suggestion_ms']} ms (the held suggester), rebuilt in "
            f"the background in {after['background_rebuild_s']} s, limit-10 searches meanwhile "
            f"p50 {during.get('p50_ms')} / p95 {during.get('p95_ms')} ms ({during.get('n', 0)})"
        )
        parts = "; ".join(
            f"{key} {value['mean_ms']:.2f}/{value['p95_ms']:.2f}"
            for key, value in measure["parts"].items()
        )
        print(f"parts, limit 10, mean/p95 ms: {parts}")
        whatif = measure["whatif"]
        each = whatif["ms_per_snippet"]
        print(
            f"what-if, snippets (ms each over {whatif['snippets']:,}): as is {each['as_is']}, "
            f"pieces prefiltered {each['prefiltered']}, plain text at hand "
            f"{each['plain_text_at_hand']}, both {each['both']} (same: {whatif['same_snippets']})"
        )
        categories = whatif["categories_ms_per_search"]
        page, page_new = whatif["page_limit50"]["as_is"], whatif["page_limit50"]["both"]
        print(
            f"what-if, categories per search: all {categories['all_categories']} ms, the hits' "
            f"{categories['hits_categories']} ms; library page (limit 50) p50/p95/p99 as is "
            f"{page['p50_ms']}/{page['p95_ms']}/{page['p99_ms']} ms, with both snippet proposals "
            f"{page_new['p50_ms']}/{page_new['p95_ms']}/{page_new['p99_ms']} ms "
            f"(same results: {whatif['page_same_results']})"
        )
        if measure["parts_mismatches"]:
            print(f"!! {measure['parts_mismatches']} step-by-step runs differ from search()")


def main() -> None:
    """Parse arguments; run the orchestration or, with --child, one phase."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3, help="timed passes over the queries")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    parser.add_argument("--child", dest="phase", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    if args.phase:
        child(args)
        return
    results: dict[str, Any] = {
        "items": args.items,
        "repeats": args.repeats,
        "seed": args.seed,
        "target_p95_ms": TARGET_P95_MS,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "code": code_fingerprint(),
        "started": datetime.now().isoformat(timespec="seconds"),
        "backends": {},
    }
    for backend in ("sqlite",) if args.no_pg else ("sqlite", "postgresql"):
        results["backends"][backend] = bench_backend(backend, args)
    report(results)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"knowledge_speed-{datetime.now():%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
