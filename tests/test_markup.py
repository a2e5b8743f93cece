"""The shared Markdown renderer and sanitizer: raw HTML shown as text, tables on, linkify off,
tokens rewritable; the allowlist, its URL schemes, its filter and the `rel` on links."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentladder.markup import (
    DEFAULT_ALLOWLIST,
    Allowlist,
    Sanitizer,
    markdown_html,
    markdown_parser,
)

if TYPE_CHECKING:
    from markdown_it.token import Token


def test_markdown_shows_raw_html_as_text_and_renders_tables() -> None:
    assert markdown_html("<b>x</b> https://example.com") == (
        "<p>&lt;b&gt;x&lt;/b&gt; https://example.com</p>\n"  # no linkify: a bare URL stays text
    )
    assert "<table>" in markdown_html("|a|b|\n|-|-|\n|1|2|")
    assert markdown_html("[x](javascript:alert(1))") == "<p>[x](javascript:alert(1))</p>\n"
    assert markdown_parser() is markdown_parser()


def test_a_rewrite_sees_the_tokens_before_they_are_written() -> None:
    def shout(tokens: list[Token]) -> None:
        for token in tokens:
            if token.type == "heading_open" or token.type == "heading_close":
                token.tag = "h4"

    assert markdown_html("# 标题", rewrite=shout) == "<h4>标题</h4>\n"
    assert markdown_html("# 标题") == "<h1>标题</h1>\n"


def test_the_default_sanitizer_keeps_the_allowlist_only() -> None:
    html = Sanitizer().clean(
        '<p style="x" onclick="y()">a<script>alert(1)</script><!-- c --></p>'
        '<a href="javascript:alert(1)">j</a><a href="https://example.com" rel="opener">h</a>'
        '<img src="data:image/png;base64,AAAA" alt="d"><iframe src="https://example.com"></iframe>'
    )
    assert html == (
        '<p>a</p><a rel="noopener noreferrer">j</a>'
        '<a href="https://example.com" rel="noopener noreferrer">h</a><img alt="d">'
    )


def test_an_allowlist_and_a_filter_narrow_or_widen_it() -> None:
    def no_protocol_relative(tag: str, attribute: str, value: str) -> str | None:
        return None if value.startswith("//") else value

    allowlist = Allowlist(url_schemes=frozenset({"https", "data"}), link_rel="nofollow")
    sanitizer = Sanitizer(allowlist, attribute_filter=no_protocol_relative)
    html = sanitizer.clean(
        '<a href="//evil.example">p</a><a href="http://example.com">h</a>'
        '<img src="data:image/png;base64,AAAA">'
    )
    assert html == (
        '<a rel="nofollow">p</a><a rel="nofollow">h</a><img src="data:image/png;base64,AAAA">'
    )
    assert DEFAULT_ALLOWLIST.allows("a", "rel")
    assert DEFAULT_ALLOWLIST.allows("img", "src")
    assert not DEFAULT_ALLOWLIST.allows("p", "style")
