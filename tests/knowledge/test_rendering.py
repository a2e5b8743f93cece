"""An item's Markdown as HTML: every payload of the XSS list, alone and inside ordinary Markdown,
leaves no element, handler or link that could run anything; ordinary Markdown renders as
written, headings moved down, links marked, pictures only from the item's attachments."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from agentladder.knowledge.rendering import ALLOWLIST, item_html, item_sanitizer
from tests.knowledge.xss import xss_payloads

ATTACHMENTS = {
    "report.png": "/knowledge/items/7/attachments/report.png",
    "计划 表.png": "/knowledge/items/7/attachments/%E8%AE%A1%E5%88%92%20%E8%A1%A8.png",
}
FORBIDDEN_TAGS = {
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "form",
    "input", "button", "textarea", "select", "base", "meta", "link", "svg", "math", "template",
    "noscript", "video", "audio", "source",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcset"}
BAD_URL_STARTS = ("javascript:", "vbscript:", "data:", "file:", "//", "/\\", "\\")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f]+")
REL = "noopener noreferrer nofollow"


@dataclass
class Element:
    tag: str
    attributes: dict[str, str | None] = field(default_factory=dict)


class _Elements(HTMLParser):
    """Every element of a page with its attributes (values unescaped, as a browser reads them)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append(Element(tag, dict(attrs)))


def elements(html: str) -> list[Element]:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.found


def dangers(html: str) -> list[str]:
    """What in the HTML could run a script or leave the page unasked; [] when nothing."""
    found = []
    for element in elements(html):
        if element.tag in FORBIDDEN_TAGS:
            found.append(f"<{element.tag}>")
        for name, value in element.attributes.items():
            if name.startswith("on") or name == "style":
                found.append(f"<{element.tag} {name}>")
            if name in URL_ATTRIBUTES:
                bare = _INVISIBLE.sub("", value or "").lower()
                if bare.startswith(BAD_URL_STARTS):
                    found.append(f"<{element.tag} {name}={value!r}>")
            if element.tag == "a" and name == "target":
                found.append("<a target>")
    return found


def embedded(payload: str) -> str:
    """The payload inside ordinary Markdown: a heading, a paragraph, a list item, a table cell,
    a quote and a link's text (after a picture no payload can swallow)."""
    return (
        "![附件](attachment:report.png)\n\n"
        f"# 标题 {payload}\n\n"
        f"开头 **粗体** {payload} 结尾。\n\n"
        f"- 一项 {payload}\n- 二项\n\n"
        f"| 列 | 值 |\n|---|---|\n| {payload} | 1 |\n\n"
        f"> {payload}\n\n"
        f"[说明 {payload}](https://example.com/a)\n\n"
        f"{payload}"
    )


PAYLOADS = xss_payloads()


def test_the_payload_list_covers_what_it_should() -> None:
    assert len(PAYLOADS) >= 80
    assert len(set(PAYLOADS)) == len(PAYLOADS)
    text = "\n".join(PAYLOADS).lower()
    for needle in (
        "<script", "onerror", "onload", "onmouseover", "autofocus", "javascript:", "vbscript:",
        "data:", "&#x09;", "&#106;", "\0", "<svg", "<math", "<iframe", "<object", "<embed",
        "<base", "http-equiv", "<form", "expression(", "url(javascript:", "](javascript:",
        "](<javascript:", "![x](javascript:", "[r]: javascript:", "<javascript:", "{{7*7}}",
        "{% raw %}",
    ):  # fmt: skip
        assert needle in text, needle


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_payload_alone_runs_nothing(payload: str) -> None:
    html = str(item_html(payload, attachment_url=ATTACHMENTS.get))
    assert dangers(html) == []
    assert "<script" not in html.lower()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_payload_inside_markdown_runs_nothing(payload: str) -> None:
    html = str(item_html(embedded(payload), attachment_url=ATTACHMENTS.get))
    assert dangers(html) == []
    assert "<script" not in html.lower()
    # The surrounding Markdown still renders, and the real attachment still shows.
    assert "<h3>" in html
    assert '<img src="/knowledge/items/7/attachments/report.png" alt="附件">' in html


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_payload_without_attachments_runs_nothing(payload: str) -> None:
    assert dangers(str(item_html(embedded(payload)))) == []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_sanitizer_alone_holds_against_raw_html(payload: str) -> None:
    # The second wall, as if the Markdown renderer let raw HTML through one day.
    sanitizer = item_sanitizer(ATTACHMENTS.values())
    assert dangers(sanitizer.clean(payload)) == []
    assert dangers(sanitizer.clean(embedded(payload))) == []


def test_the_sanitizer_keeps_what_the_rules_allow() -> None:
    sanitizer = item_sanitizer([ATTACHMENTS["report.png"]])
    html = sanitizer.clean(
        '<h2 style="color:red" onclick="x()">标题</h2>'
        '<a href="/knowledge/items/1" target="_blank">条目</a><a href="/admin">后台</a>'
        f'<img src="{ATTACHMENTS["report.png"]}" alt="a"><img src="https://example.com/x.png">'
    )
    assert html == (
        "<h2>标题</h2>"
        f'<a href="/knowledge/items/1" rel="{REL}">条目</a><a rel="{REL}">后台</a>'
        f'<img src="{ATTACHMENTS["report.png"]}" alt="a"><img>'
    )


def test_the_checker_finds_what_it_should() -> None:
    # The test's own checker, on HTML that no renderer should ever give.
    assert dangers('<a href="jav&#x09;ascript:alert(1)">x</a>') == [
        "<a href='jav\\tascript:alert(1)'>"
    ]
    assert dangers("<img src=x onerror=alert(1)><svg></svg>") == ["<img onerror>", "<svg>"]
    assert dangers('<a href=" //evil" target=_blank>x</a>') == [
        "<a href=' //evil'>",
        "<a target>",
    ]
    assert dangers('<a href="/knowledge/items/1">x</a><p>javascript:alert(1)</p>') == []


def test_headings_move_down_two_levels_up_to_h6() -> None:
    html = str(
        item_html("# 一\n\n## 二\n\n### 三\n\n#### 四\n\n##### 五\n\n###### 六\n\n标题\n====")
    )
    tags = [element.tag for element in elements(html)]
    assert tags == ["h3", "h4", "h5", "h6", "h6", "h6", "h3"]
    assert "<h3>一</h3>" in html
    assert "<h6>六</h6>" in html


def test_lists_tables_and_code_render_as_written() -> None:
    text = (
        "- 一\n- 二\n\n"
        "3. 三\n4. 四\n\n"
        "| 套餐 | 月费 |\n|:---|---:|\n| 5G 畅享 | 129 |\n\n"
        "`光猫` 与代码块：\n\n```\nif a < b:\n    print('<b>')\n```\n\n"
        "*斜体* **粗体** ~~不支持~~\n\n---\n\n> 引用"
    )
    html = str(item_html(text))
    assert "<ul>\n<li>一</li>\n<li>二</li>\n</ul>" in html
    assert '<ol start="3">\n<li>三</li>\n<li>四</li>\n</ol>' in html
    assert "<table>" in html
    assert "<th>套餐</th>" in html
    assert "<td>129</td>" in html  # alignment is a style attribute: dropped
    assert "<code>光猫</code>" in html
    assert "<pre><code>if a &lt; b:\n    print('&lt;b&gt;')\n</code></pre>" in html
    assert "<em>斜体</em> <strong>粗体</strong>" in html
    assert "<hr>" in html
    assert "<blockquote>\n<p>引用</p>\n</blockquote>" in html


def test_links_keep_their_target_and_get_rel() -> None:
    html = str(
        item_html(
            '[官网](https://example.com/a?b=1&c=2 "标题") [邮件](mailto:kb@example.com) '
            "[条目](/knowledge/items/12) <https://example.com/auto> [明文](http://example.com)"
        )
    )
    links = [element.attributes for element in elements(html) if element.tag == "a"]
    assert [link["href"] for link in links] == [
        "https://example.com/a?b=1&c=2",
        "mailto:kb@example.com",
        "/knowledge/items/12",
        "https://example.com/auto",
        "http://example.com",
    ]
    assert all(link["rel"] == REL for link in links)
    assert all("target" not in link for link in links)
    assert links[0]["title"] == "标题"


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "//evil.example/x",
        "relative/page",
        "/training/questions",
        "#section",
        "ftp://example.com/x",
        "file:///etc/passwd",
        "attachment:missing.pdf",
    ],
)
def test_other_links_lose_their_link_but_keep_their_words(href: str) -> None:
    html = str(item_html(f"前 [链接文字](<{href}>) 后", attachment_url=ATTACHMENTS.get))
    assert [element.tag for element in elements(html)] == ["p"]
    assert "链接文字" in html
    assert "后" in html


def test_attachments_are_rewritten_and_other_pictures_dropped() -> None:
    text = (
        "![报表](attachment:report.png) ![计划](<attachment:计划 表.png>) "
        "![没有](attachment:missing.png) ![外链](https://example.com/x.png) "
        "![内联](data:image/png;base64,iVBORw0KGgo=) "
        "![站内](/knowledge/items/7/attachments/report.png) "
        "[下载](attachment:report.png) <attachment:report.png>"
    )
    html = str(item_html(text, attachment_url=ATTACHMENTS.get))
    images = [element.attributes for element in elements(html) if element.tag == "img"]
    assert images == [
        {"src": ATTACHMENTS["report.png"], "alt": "报表"},
        {"src": ATTACHMENTS["计划 表.png"], "alt": "计划"},
    ]
    for alt in ("没有", "外链", "内联", "站内"):
        assert alt in html  # a dropped picture leaves its alt text
    links = [element.attributes for element in elements(html) if element.tag == "a"]
    assert [link["href"] for link in links] == [ATTACHMENTS["report.png"]] * 2
    assert all(link["rel"] == REL for link in links)


def test_without_attachment_urls_no_picture_shows() -> None:
    html = str(item_html("![报表](attachment:report.png) [下载](attachment:report.png)"))
    assert html == "<p>报表 下载</p>\n"


def test_the_attachment_callback_gets_the_decoded_name() -> None:
    asked: list[str] = []

    def attachment_url(name: str) -> str | None:
        asked.append(name)
        return None

    item_html(
        "![a](<attachment:计划 表.png>) ![b](attachment:a%20b.png)", attachment_url=attachment_url
    )
    assert asked == ["计划 表.png", "a b.png"]


def test_raw_html_and_templates_are_shown_as_text() -> None:
    html = item_html("<b>粗</b> {{7*7}} {% raw %}x{% endraw %}")
    assert isinstance(html, Markup)
    assert str(html) == "<p>&lt;b&gt;粗&lt;/b&gt; {{7*7}} {% raw %}x{% endraw %}</p>\n"
    assert item_html("") == Markup("")


# Pieces of Markdown, HTML and URLs that arbitrary text is built from.
PIECES = [
    "# ", "## ", "###### ", "\n", "\n\n", "- ", "1. ", "> ", "    ", "```", "`", "*", "**",
    "_", "~~", "|", "|---|", "---", "[", "]", "(", ")", "<", ">", "!", "![", "](", "\"", "'",
    "&", "&#", "&#x", ";", ":", "javascript:", "JaVaScRiPt:", "data:", "vbscript:",
    "attachment:", "attachment:report.png", "report.png", "//", "/knowledge/", "http://",
    "mailto:", "<script>", "</script>", "<img src=x onerror=alert(1)>", "<svg onload=x>",
    "onerror=", "style=", "\t", "\0", "\\", "[r]: ", "[r]", "{{", "}}",
]  # fmt: skip
PIECE = st.one_of(st.text(max_size=12), st.sampled_from(PIECES))
MARKDOWNISH = st.lists(PIECE, max_size=30).map("".join)


@given(text=MARKDOWNISH)
def test_any_text_gives_only_allowed_elements_and_attributes(text: str) -> None:
    html = str(item_html(text, attachment_url=ATTACHMENTS.get))
    for element in elements(html):
        assert element.tag in ALLOWLIST.tags, element
        assert element.tag not in {"h1", "h2"}, element
        for name in element.attributes:
            assert ALLOWLIST.allows(element.tag, name), element
        if element.tag == "a":
            assert element.attributes.get("rel") == REL
        if element.tag == "img":
            assert element.attributes.get("src") in ATTACHMENTS.values()
    assert dangers(html) == []
