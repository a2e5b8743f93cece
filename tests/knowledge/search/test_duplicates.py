"""Likely duplicates on the demo library: an item typed again with small edits is found with a
high similarity, other items of its category stay below the threshold, and the similarity is
symmetric, between 0 and 1, and 1 for the same text."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import opencc
from hypothesis import given, settings
from hypothesis import strategies as st

from agentladder.knowledge.search.analysis import analyzer_for, vocabulary_of
from agentladder.knowledge.search.duplicates import (
    THRESHOLD,
    near_duplicates,
    shingles,
    similarity,
)
from agentladder.knowledge.search.index import IndexedItem
from tests.knowledge.library import demo_items, demo_vocabulary
from tests.knowledge.search.test_index import demo_index

_SENTENCE_END = re.compile(r"(?<=[。！？.!?])")


@lru_cache(maxsize=1)
def _to_traditional() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def retyped(title: str, text: str) -> tuple[str, str]:
    """The item as someone might type it again: the longest paragraph after the first dropped,
    each paragraph's sentences in reverse order, a synonym for each group's first word, and
    all of it in traditional script."""
    paragraphs = text.split("\n\n")
    if len(paragraphs) > 2:
        del paragraphs[max(range(1, len(paragraphs)), key=lambda at: len(paragraphs[at]))]
    text = "\n\n".join(
        "".join(reversed([part for part in _SENTENCE_END.split(paragraph) if part]))
        for paragraph in paragraphs
    )
    for group in demo_vocabulary().synonyms:
        if len(group[0]) > 1 and len(group[1]) > 1:
            text = text.replace(group[0], group[1])
    convert = _to_traditional().convert
    return str(convert(title)), str(convert(text))


def _items() -> dict[int, IndexedItem]:
    return {item.id: item for _, item in demo_items()}


def texts_of(ids: Sequence[int]) -> Mapping[int, tuple[str, str]]:
    items = _items()
    return {item_id: (items[item_id].title, items[item_id].body) for item_id in ids}


def test_an_item_typed_again_with_small_edits_is_found_first() -> None:
    analyzer = analyzer_for(demo_vocabulary())
    # Every seventh item: each check costs a search and twenty comparisons.
    for item in list(_items().values())[::7]:
        title, text = retyped(item.title, item.body)
        found = near_duplicates(demo_index(), analyzer, title=title, text=text, texts_of=texts_of)
        assert found, item.title
        assert found[0].id == item.id, item.title
        # Measured over all 348 items: 0.72 to 1.00, median 0.90.
        assert found[0].similarity >= 0.7, item.title


def test_other_items_of_the_same_category_stay_below_the_threshold() -> None:
    analyzer = analyzer_for(demo_vocabulary())
    items = list(_items().values())
    sets = {item.id: shingles(analyzer, item.title, item.body) for item in items}
    closest = max(
        similarity(sets[first.id], sets[second.id])
        for first in items
        for second in items
        if first.id < second.id and first.category == second.category
    )
    # Measured: 0.44 at most.
    assert closest < THRESHOLD


def test_the_item_itself_is_left_out_and_so_are_items_the_caller_does_not_return() -> None:
    analyzer = analyzer_for(demo_vocabulary())
    item = _items()[1]

    def found(**options: Any) -> list[int]:
        return [
            duplicate.id
            for duplicate in near_duplicates(
                demo_index(), analyzer, title=item.title, text=item.body, threshold=0.0, **options
            )
        ]

    same = near_duplicates(
        demo_index(), analyzer, title=item.title, text=item.body, texts_of=texts_of
    )
    assert same[0].id == item.id
    assert same[0].similarity == 1.0
    others = found(texts_of=texts_of, exclude_id=item.id)
    assert others
    assert item.id not in others
    archived = found(texts_of=lambda ids: {key: texts_of(ids)[key] for key in ids if key != 1})
    assert archived
    assert item.id not in archived


def test_a_text_too_short_to_judge_has_no_duplicates() -> None:
    analyzer = analyzer_for(demo_vocabulary())
    assert (
        near_duplicates(demo_index(), analyzer, title="光猫红灯", text="", texts_of=texts_of) == []
    )


SMALL = vocabulary_of(["光猫"], [["宽带", "网络"]])
_TEXTS = st.lists(
    st.one_of(
        st.sampled_from(["光猫", "宽带", "网络", "红灯", "router", "。"]), st.text(max_size=6)
    ),
    max_size=30,
).map("".join)


@settings(max_examples=100, deadline=None)
@given(_TEXTS, _TEXTS)
def test_similarity_is_symmetric_between_0_and_1_and_1_for_the_same_text(
    first: str, second: str
) -> None:
    analyzer = analyzer_for(SMALL)
    mine, theirs = shingles(analyzer, "", first), shingles(analyzer, "", second)
    assert similarity(mine, theirs) == similarity(theirs, mine)
    assert 0.0 <= similarity(mine, theirs) <= 1.0
    assert similarity(mine, shingles(analyzer, "", first)) == 1.0
