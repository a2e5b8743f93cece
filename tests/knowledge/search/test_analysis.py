"""Text analysis for the library's search: Chinese segmented with the centre's terms kept
whole, synonyms folded both ways, English stemmed, width and script folded, meaningless words
dropped; terms are never blank, and analysing is a pure function of the text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agentladder.knowledge.search.analysis import (
    Analyzer,
    Vocabulary,
    analyzer_for,
    fold,
    sounds,
    vocabulary_of,
)

CENTRE = vocabulary_of(
    ["携号转网", "光猫", "副卡", "宽带300M"],
    [["宽带", "网络", "网"], ["退款", "退钱", "返款"], ["install", "setup"], [" ", "孤词"]],
)


def test_the_centres_terms_stay_whole_and_synonyms_fold_to_the_groups_first_term() -> None:
    analyzer = analyzer_for(CENTRE)
    assert "携号转网" in analyzer.terms("我想携号转网")
    assert analyzer.terms("退钱") == analyzer.terms("退款") == ["退款"]
    assert "宽带" in analyzer.terms("家里网络断了")
    assert "网络" not in analyzer.terms("家里网络断了")
    assert set(analyzer.variants("退款")) == {"退款", "退钱", "返款"}
    assert analyzer.variants("光猫") == ["光猫"]


def test_width_script_case_and_english_stems_are_folded() -> None:
    analyzer = analyzer_for(CENTRE)
    assert fold("ＷｉＦｉ寬帶") == "wifi宽带"
    assert analyzer.terms("寬帶 ＷＩＦＩ") == analyzer.terms("宽带 wifi")
    assert analyzer.terms("Installing the router") == analyzer.terms("install routers")
    assert analyzer.terms("setup") == analyzer.terms("install")


def test_words_without_meaning_are_dropped() -> None:
    analyzer = analyzer_for(CENTRE)
    assert analyzer.terms("怎么 的 了 吗？ how do I") == []
    assert analyzer.terms("！！，。") == []


def test_a_homophone_typed_in_a_hurry_sounds_the_same() -> None:
    analyzer = analyzer_for(CENTRE)
    assert sounds(analyzer.terms("光毛")) == sounds(analyzer.terms("光猫")) == ["guangmao"]
    assert sounds(["wifi", "300"]) == []


def test_a_vocabulary_drops_blanks_and_groups_of_one() -> None:
    assert CENTRE.synonyms == (
        ("宽带", "网络", "网"),
        ("退款", "退钱", "返款"),
        ("install", "setup"),
    )
    assert Vocabulary() == vocabulary_of([" "], [["x"]])


# A second analyzer of the same vocabulary: terms must not depend on the instance.
ANOTHER = Analyzer(CENTRE)


@given(st.text(max_size=80))
def test_terms_are_never_blank_and_the_same_text_gives_the_same_terms(text: str) -> None:
    analyzer = analyzer_for(CENTRE)
    terms = analyzer.terms(text)
    assert all(term and term == term.strip() and " " not in term for term in terms)
    assert analyzer.terms(text) == terms
    assert ANOTHER.terms(text) == terms


@given(st.text(max_size=40))
def test_folding_twice_changes_nothing(text: str) -> None:
    assert fold(fold(text)) == fold(text)
