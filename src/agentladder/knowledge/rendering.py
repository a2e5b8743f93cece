"""An item's Markdown body as HTML its page may show.

Items are written by agents and imported from files, so a body may hold anything; the rules:

* Markdown through the shared renderer (`agentladder.markup`): raw HTML is shown as text, never
  run; then the shared allowlist: no scripts, styles, frames, objects, forms, event handlers or
  `style` attributes.
* Links go to `http:`, `https:` or `mailto:`, or stay inside the library (a path starting with
  `/knowledge/`); any other link (`javascript:`, `data:`, `vbscript:`, `file:`, a protocol-
  relative `//host`, a relative path elsewhere) loses its link and keeps its words. Every link
  carries `rel="noopener noreferrer nofollow"`; none gets a `target`.
* Pictures only from the item's own attachments: `![plan](attachment:plan.png)` (and a link to
  `attachment:name`) goes through the caller's `attachment_url(name)`; an unknown attachment,
  or a picture from anywhere else, leaves only its alt text (what a browser would show).
* Headings move down two levels (`#` is an `<h3>`, capped at `<h6>`): the page has its own
  `<h1>` and `<h2>`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING
from urllib.parse import unquote

from markupsafe import Markup

from agentladder.markup import Allowlist, Sanitizer, markdown_html

if TYPE_CHECKING:
    from markdown_it.token import Token

AttachmentUrl = Callable[[str], "str | None"]

ATTACHMENT_SCHEME = "attachment:"
LOCAL_LINK_PREFIX = "/knowledge/"
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
ALLOWLIST = Allowlist(url_schemes=LINK_SCHEMES, link_rel="noopener noreferrer nofollow")
HEADING_SHIFT = 2

# What a browser ignores in a URL before reading its scheme (whitespace and control characters;
# C1 controls too, for good measure): dropped before a link is judged, so `jav&#x09;ascript:`
# is judged as `javascript:`.
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f]+")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")


def _link_allowed(href: str) -> bool:
    bare = _INVISIBLE.sub("", href).lower()
    if bare.startswith(LOCAL_LINK_PREFIX):
        return True
    scheme = _SCHEME.match(bare)
    return scheme is not None and scheme.group(1) in LINK_SCHEMES


def _attachment_name(url: str) -> str | None:
    bare = url.strip()
    if not bare.lower().startswith(ATTACHMENT_SCHEME):
        return None
    return unquote(bare[len(ATTACHMENT_SCHEME) :])


class _Rewriter:
    """Moves headings down, rewrites attachments and drops what the rules refuse, on the parsed
    tokens; remembers the attachment URLs it wrote, the only ones the sanitizer then lets
    through as pictures."""

    def __init__(self, attachment_url: AttachmentUrl | None) -> None:
        self.attachment_url = attachment_url
        self.attachment_urls: set[str] = set()

    def _attachment(self, url: str) -> str | None:
        """The URL of an `attachment:` reference, None when it is none or is unknown."""
        name = _attachment_name(url)
        if name is None or self.attachment_url is None:
            return None
        found = self.attachment_url(name)
        if found is not None:
            self.attachment_urls.add(found)
        return found

    def __call__(self, tokens: list[Token]) -> None:
        for token in tokens:
            if token.type in ("heading_open", "heading_close"):
                level = min(int(token.tag[1]) + HEADING_SHIFT, 6)
                token.tag = f"h{level}"
            elif token.type == "inline" and token.children:
                token.children = self._inline(token.children)

    def _inline(self, children: list[Token]) -> list[Token]:
        kept: list[Token] = []
        unwrapping = False  # inside a link that lost its target (links never nest)
        for child in children:
            if child.type == "link_open":
                href = str(child.attrGet("href") or "")
                target = self._attachment(href) if _attachment_name(href) else href
                if target is not None and (target in self.attachment_urls or _link_allowed(target)):
                    child.attrSet("href", target)
                    kept.append(child)
                else:
                    unwrapping = True
            elif child.type == "link_close" and unwrapping:
                unwrapping = False
            elif child.type == "image":
                src = self._attachment(str(child.attrGet("src") or ""))
                if src is None:
                    kept.extend(self._inline(child.children or []))  # its alt text, as text
                else:
                    child.attrSet("src", src)
                    kept.append(child)
            else:
                kept.append(child)
        return kept


def item_sanitizer(attachment_urls: Collection[str] = ()) -> Sanitizer:
    """The allowlist with this module's rules on the decoded values (a second wall behind the
    token rewrite, and one that holds for raw HTML too): links as above, pictures only at
    `attachment_urls`."""
    attachments = frozenset(attachment_urls)

    def keep_attribute(tag: str, attribute: str, value: str) -> str | None:
        if tag == "a" and attribute == "href":
            return value if value in attachments or _link_allowed(value) else None
        if tag == "img" and attribute == "src":
            return value if value in attachments else None
        return value

    return Sanitizer(ALLOWLIST, attribute_filter=keep_attribute)


def item_html(markdown_text: str, *, attachment_url: AttachmentUrl | None = None) -> Markup:
    """An item's Markdown as safe HTML: headings moved down, links checked, pictures only from
    its attachments (`attachment_url(name)`, None for an unknown one)."""
    if not markdown_text:
        return Markup("")
    rewriter = _Rewriter(attachment_url)
    html = markdown_html(markdown_text, rewrite=rewriter)
    # A sanitizer per text (about 6 us to build): its filter knows this text's attachments.
    sanitizer = item_sanitizer(rewriter.attachment_urls)
    return Markup(sanitizer.clean(html))  # noqa: S704 - sanitized just now
