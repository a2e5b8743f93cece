""" "Did you mean" on the demo library: the labelled typo queries get a correction that finds
what they were after, correct queries get none, and the user's other words are kept."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

from hypothesis import given, settings
from hypothesis import strategies as st

from agentladder.knowledge.search.analysis import analyzer_for, vocabulary_of
from agentladder.knowledge.search.suggest import Correction, Suggester, count_texts
from tests.knowledge.library import demo_items, demo_vocabulary, labelled_queries
from tests.knowledge.search.test_index import demo_index

SMALL = vocabulary_of(["光猫"], [["宽带", "网络"], ["install", "setup"]])


@lru_cache(maxsize=1)
def demo_suggester() -> Suggester:
    return Suggester.from_texts(
        analyzer_for(demo_vocabulary()),
        (" ".join((item.title, *item.tags, *item.category, item.body)) for _, item in demo_items()),
    )


def test_most_typo_queries_get_a_suggestion_that_finds_a_relevant_item() -> None:
    slug_of = {item.id: slug for slug, item in demo_items()}
    typos = [query for query in labelled_queries() if query.kind == "typo"]
    helped = []
    for query in typos:
        suggestion = demo_suggester().suggest(query.query)
        if suggestion is None:
            continue
        found = [slug_of[hit.id] for hit in demo_index().search(suggestion, limit=10)]
        if any(query.relevant.get(slug, 0) >= 2 for slug in found):
            helped.append(query.id)
    # Measured: 30 of the 33 (光猫pon等一直闪, 空调铜管加常费 and 洗衣机电机怀了 get none).
    assert len(typos) == 33
    assert len(helped) >= 28


def test_correct_queries_get_no_suggestion() -> None:
    correct = [query.query for query in labelled_queries() if query.kind != "typo"]
    suggested = [text for text in correct if demo_suggester().suggest(text) is not None]
    # Measured: none of the 194 (晚上九点 became 晚上酒店 before targets needed three uses).
    assert len(correct) >= 190
    assert len(suggested) <= len(correct) // 50


def test_a_homophone_is_corrected_and_the_other_words_are_kept() -> None:
    suggester = Suggester.from_texts(
        analyzer_for(SMALL), ["光猫红灯亮了，宽带断了，请重启光猫。网络恢复后测速。"] * 3
    )
    assert suggester.suggest("光毛 红灯 ＷｉＦｉ") == "光猫 红灯 ＷｉＦｉ"
    assert suggester.suggest("寬代斷了") == "宽带断了"  # a corrected run comes back simplified
    assert suggester.suggest("网洛恢复") == "网络恢复"  # a synonym in its own form
    assert suggester.corrections("光毛") == [Correction(0, 2, "光毛", "光猫")]
    assert suggester.suggest("光猫红灯") is None
    assert suggester.suggest("") is None


def test_a_latin_word_one_edit_away_is_corrected_but_short_and_known_ones_are_not() -> None:
    texts = ["Reset the password, then reboot the router. Routers need a password."] * 3
    suggester = Suggester.from_texts(analyzer_for(SMALL), texts)
    assert suggester.suggest("forgot pasword") == "forgot password"
    assert suggester.suggest("reboto router") == "reboot router"  # a transposition
    assert suggester.suggest("routers") is None  # stems to a known term
    assert suggester.suggest("rooter") == "router"
    assert suggester.suggest("teh") is None  # too short to guess
    assert suggester.suggest("reboot the router") is None


def test_a_word_used_once_or_twice_is_not_proposed() -> None:
    suggester = Suggester.from_texts(analyzer_for(SMALL), ["光猫坏了"] * 2)
    assert suggester.suggest("光毛") is None


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.lists(
            st.one_of(
                st.sampled_from(["光猫", "宽带", "网络", "setup", "Installing", "，", "。", " "]),
                st.text(max_size=8),
            ),
            max_size=12,
        ).map("".join),
        max_size=6,
    )
)
def test_counting_by_chunks_gives_the_analyzers_counts(texts: list[str]) -> None:
    analyzer = analyzer_for(SMALL)
    expected: Counter[str] = Counter()
    for text in texts:
        expected.update(analyzer.terms(text))
    terms, _ = count_texts(analyzer, texts)
    assert terms == expected
