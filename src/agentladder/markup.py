"""Texts people write (Markdown, or HTML from an editor or an imported file) as HTML a page may
show: one Markdown renderer and one sanitizer, for every domain that shows such texts.

Markdown goes through markdown-it's CommonMark with raw HTML off (a `<script>` in a text is shown
as text, not run) and tables on. Linkify stays off: it needs linkify-it-py, which we do not ship,
and a bare address left as text is safe. markdown-it already refuses `javascript:`, `vbscript:`,
`file:` and non-picture `data:` links; a caller may rewrite the parsed tokens before they are
written out (pictures of its own, headings moved down a level ...).

Whatever the source, the HTML then goes through an allowlist (nh3, the binding of Rust's ammonia,
which parses like a browser): tags, the attributes each tag may carry, the URL schemes links may
use, and an optional filter that sees every attribute's decoded value and keeps, rewrites or
drops it. Comments are dropped, `<script>` and `<style>` lose their content too, and every link
gets a `rel` so that a page it opens cannot reach back to ours.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import nh3
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

# (tag, attribute, value) -> the value to keep, or None to drop the attribute.
AttributeFilter = Callable[[str, str, str], "str | None"]
# Rewrites a parsed text's tokens in place before they are written out as HTML.
TokenRewriter = Callable[["list[Token]"], None]

DEFAULT_TAGS = frozenset({
    "p", "br", "div", "span", "b", "strong", "i", "em", "u", "s", "strike", "del", "ins",
    "sub", "sup", "small", "mark", "code", "kbd", "pre", "blockquote", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd",
    "table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "th", "td",
    "img", "a", "figure", "figcaption", "ruby", "rt", "rp",
})  # fmt: skip
DEFAULT_ATTRIBUTES: Mapping[str, frozenset[str]] = MappingProxyType({
    "a": frozenset({"href", "title"}),
    "img": frozenset({"src", "alt", "title", "width", "height"}),
    "td": frozenset({"colspan", "rowspan"}),
    "th": frozenset({"colspan", "rowspan", "scope"}),
    "col": frozenset({"span"}),
    "colgroup": frozenset({"span"}),
    "ol": frozenset({"start"}),
})  # fmt: skip
DEFAULT_URL_SCHEMES = frozenset({"http", "https", "mailto"})


@dataclass(frozen=True)
class Allowlist:
    """What sanitized HTML may hold: these tags, each with these attributes (no `style`, no
    event handlers unless listed, and nothing lists them), links and pictures with these URL
    schemes (relative URLs pass: an attribute filter narrows them), and this `rel` on links."""

    tags: frozenset[str] = DEFAULT_TAGS
    attributes: Mapping[str, frozenset[str]] = field(default_factory=lambda: DEFAULT_ATTRIBUTES)
    url_schemes: frozenset[str] = DEFAULT_URL_SCHEMES
    link_rel: str = "noopener noreferrer"

    def allows(self, tag: str, attribute: str) -> bool:
        """Whether `tag` may carry `attribute` (the added `rel` on a link included)."""
        if tag == "a" and attribute == "rel":
            return True
        return attribute in self.attributes.get(tag, frozenset())


DEFAULT_ALLOWLIST = Allowlist()


class Sanitizer:
    """HTML with everything outside an allowlist removed; the filter, when given, decides on
    each remaining attribute's decoded value."""

    def __init__(
        self,
        allowlist: Allowlist = DEFAULT_ALLOWLIST,
        attribute_filter: AttributeFilter | None = None,
    ) -> None:
        self.allowlist = allowlist
        self.attribute_filter = attribute_filter
        self._cleaner: nh3.Cleaner | None = None  # built on first use: nh3 loads a Rust library

    def clean(self, html: str) -> str:
        """The HTML with everything outside the allowlist removed."""
        if self._cleaner is None:
            import nh3

            allowlist = self.allowlist
            self._cleaner = nh3.Cleaner(
                tags=set(allowlist.tags),
                attributes={tag: set(names) for tag, names in allowlist.attributes.items()},
                attribute_filter=self.attribute_filter,
                url_schemes=set(allowlist.url_schemes),
                strip_comments=True,
                link_rel=allowlist.link_rel,
            )
        return self._cleaner.clean(html)


@lru_cache(maxsize=1)
def markdown_parser() -> MarkdownIt:
    """The one Markdown parser: CommonMark, raw HTML off, tables on, linkify off."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def markdown_html(text: str, rewrite: TokenRewriter | None = None) -> str:
    """Markdown as HTML (not yet sanitized), its tokens rewritten first when `rewrite` is given."""
    parser = markdown_parser()
    if rewrite is None:
        html: str = parser.render(text)
        return html
    env: dict[str, object] = {}
    tokens = parser.parse(text, env)
    rewrite(tokens)
    rendered: str = parser.renderer.render(tokens, parser.options, env)
    return rendered
