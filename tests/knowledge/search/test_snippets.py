"""Snippets under search results: Markdown made plain, the window with the most query terms,
cut where it reads well, the words matched the way search matches them, and user text that
always comes out escaped."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from agentladder.knowledge.search.analysis import analyzer_for, vocabulary_of
from agentladder.knowledge.search.snippets import (
    ELLIPSIS,
    Snippet,
    plain_text,
    snippet,
)
from tests.knowledge.library import demo_items, demo_vocabulary

CENTRE = vocabulary_of(
    ["光猫", "宽带300M"], [["宽带", "网络"], ["install", "setup"], ["光猫", "猫", "modem"]]
)


def _marked(found: Snippet) -> list[str]:
    return [found.text[start:end] for start, end in found.marks]


def test_plain_text_keeps_the_words_and_drops_the_markdown() -> None:
    markdown = (
        "# 标题 *强调*\n\n"
        "**问：** 见[安装说明](https://example.com/a)，`ping` 一下 ![示意图](a.png)\n\n"
        "| 家电 | 保修 |\n|---|---|\n| 空调 | 6年 |\n\n"
        "- 第一步\n- 第二步\n\n"
        "```\nreboot now\n```\n"
    )
    assert plain_text(markdown).splitlines() == [
        "标题 强调",
        "问： 见安装说明，ping 一下 示意图",
        "家电 保修",
        "空调 6年",
        "第一步",
        "第二步",
        "reboot now",
    ]


def test_the_query_words_are_marked_however_the_item_writes_them() -> None:
    analyzer = analyzer_for(CENTRE)
    text = "家里網絡断了，ＭＯＤＥＭ亮红灯。The engineer is installing a new modem."
    found = snippet(text, analyzer.terms("宽带 光猫 install"), analyzer)
    assert found.text == text  # short enough to show whole
    assert _marked(found) == ["網絡", "ＭＯＤＥＭ", "installing", "modem"]


def test_the_window_holds_the_most_query_terms_and_is_cut_after_punctuation() -> None:
    analyzer = analyzer_for(CENTRE)
    filler = "客户来电咨询账单明细，坐席逐项解释。" * 6
    text = f"光猫重启一次。{filler}宽带断了，光猫亮红灯，需要上门。{filler}"
    found = snippet(text, analyzer.terms("宽带 光猫"), analyzer, length=60)
    assert found.text.startswith(ELLIPSIS)
    assert found.text.endswith(ELLIPSIS)
    assert "宽带断了，光猫亮红灯" in found.text
    assert set(_marked(found)) == {"宽带", "光猫"}
    # Cut after a full stop or comma, not inside a sentence's words.
    assert found.text[1:].startswith(("客户", "坐席", "宽带"))


def test_an_english_word_is_never_cut() -> None:
    analyzer = analyzer_for(CENTRE)
    text = " ".join(["the engineer will install the router and check every cable"] * 8)
    words = set(text.split())
    for length in (20, 33, 47, 61):
        found = snippet(text, analyzer.terms("router"), analyzer, length=length)
        shown = found.text.strip(ELLIPSIS).split()
        assert set(shown) <= words, length
        assert len(found.text) <= length + 2


def test_a_query_without_matches_shows_the_start() -> None:
    analyzer = analyzer_for(CENTRE)
    found = snippet("第一句话。" * 40, analyzer.terms("发票"), analyzer, length=30)
    assert found.text.startswith("第一句话。")
    assert found.text.endswith(ELLIPSIS)
    assert found.marks == ()


def test_html_in_the_item_is_escaped_and_only_marks_are_markup() -> None:
    analyzer = analyzer_for(CENTRE)
    text = '<script>alert("宽带")</script> <img src=x onerror=alert(1)> 宽带 <mark>x</mark>'
    found = snippet(text, analyzer.terms("宽带"), analyzer)
    html = str(found.html())
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html
    assert html.count("<mark>") == 2  # the two 宽带, not the item's own <mark>
    assert "&lt;mark&gt;x&lt;/mark&gt;" in html
    assert found.plain() == found.text


def test_a_demo_case_is_shown_where_its_answer_is() -> None:
    analyzer = analyzer_for(demo_vocabulary())
    items = dict(demo_items())
    found = snippet(items["bb-case-001"].body, analyzer.terms("光猫LOS红灯"), analyzer)
    assert {"光猫", "LOS", "红灯"} <= set(_marked(found))
    assert len(found.text) <= 122
    english = snippet(items["ap-article-001"].body, analyzer.terms("microwave warranty"), analyzer)
    assert {"microwave", "warranty"} <= set(_marked(english))
    assert english.text.startswith(ELLIPSIS)


_WORDS = st.sampled_from(
    ["宽带", "網絡", "光猫", "猫", "install", "setup", "router", "<b>", "&amp;", "*", "|", "`"]
)
_TEXTS = st.lists(st.one_of(_WORDS, st.text(max_size=12)), max_size=40).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(_TEXTS, st.lists(_WORDS, max_size=4).map(" ".join), st.integers(min_value=1, max_value=80))
def test_marks_lie_apart_in_the_text_and_the_html_is_safe(
    text: str, query: str, length: int
) -> None:
    analyzer = analyzer_for(CENTRE)
    found = snippet(text, analyzer.terms(query), analyzer, length=length)
    assert len(found.text) <= length + 2
    previous_end = 0
    for start, end in found.marks:
        assert previous_end <= start < end <= len(found.text)
        previous_end = end
    html = str(found.html())
    assert "<" not in re.sub(r"</?mark>", "", html)
    assert html.count("<mark>") == len(found.marks)
