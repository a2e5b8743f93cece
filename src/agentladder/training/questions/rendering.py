"""Question texts as HTML a page may show, whatever format they were written in.

Texts come from the editor and from imported files (GIFT, Moodle XML), so any of them may hold
any HTML. Every text goes through one allowlist: paragraphs, basic formatting, lists, tables,
links (http, https, mailto) and pictures; scripts, styles, event handlers, forms, frames and
`javascript:` or `data:` links never reach a page. A picture is kept only when it is one of the
bank's own (`@@PLUGINFILE@@/name` in Moodle's files, served by the image route) or an inline
`data:image/...`: the pages' CSP would load nothing else anyway.

Formats: `html` as written; `moodle` (Moodle's auto-format, GIFT's default) the same, its line
breaks kept when the text has no paragraphs of its own; `markdown` through markdown-it with raw
HTML off; `plain` escaped, line breaks kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, unquote

from markupsafe import Markup, escape

from agentladder.markup import DEFAULT_URL_SCHEMES, Allowlist, Sanitizer, markdown_html
from agentladder.training.questions.schemas import Image, Question, TextFormat

PLUGINFILE = "@@PLUGINFILE@@/"
IMAGE_ROUTE = "/training/questions/versions/{version_id}/images/{name}"
_IMAGE_PREFIX = re.compile(r"^/training/questions/versions/\d+/images/[^\s\"'<>]+$")
# Pictures a browser shows in an <img> without running anything (no SVG: kept out for good
# measure, though an <img> never runs a picture's scripts).
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp|bmp);base64,[A-Za-z0-9+/=\s]+$")
_PLUGINFILE_URL = re.compile(re.escape(PLUGINFILE) + r"([^\"'\s<>)]+)")
_BLOCK_TAG = re.compile(r"<(p|div|br|table|ul|ol|pre|blockquote|h[1-6])\b", re.IGNORECASE)

# The shared allowlist, with `data:` for pictures only (the filter drops it from links).
_ALLOWLIST = Allowlist(url_schemes=DEFAULT_URL_SCHEMES | {"data"})


def image_url(version_id: int, name: str) -> str:
    """Where a stored version's picture is served."""
    return IMAGE_ROUTE.format(version_id=version_id, name=quote(name))


@dataclass(frozen=True)
class ImageSource:
    """The pictures a text may show: a stored version's (served by the image route) or, for a
    question not saved yet (`version_id` None), inlined as `data:` URIs."""

    version_id: int | None
    images: tuple[Image, ...] = ()

    def url(self, name: str) -> str | None:
        """The URL of the picture called `name`, None when the question has no such picture."""
        for image in self.images:
            if image.name == name:
                if self.version_id is None:
                    return f"data:{image.media_type};base64,{image.data_base64}"
                return image_url(self.version_id, name)
        return None


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if _IMAGE_PREFIX.match(value) or _DATA_IMAGE.match(value) else None
    if tag == "a" and attribute == "href" and value.strip().lower().startswith("data:"):
        return None
    return value


_SANITIZER = Sanitizer(_ALLOWLIST, attribute_filter=_keep_attribute)


def sanitize_html(html: str) -> str:
    """The HTML with everything outside the allowlist removed."""
    return _SANITIZER.clean(html)


def _with_images(text: str, images: ImageSource | None) -> str:
    def replace(match: re.Match[str]) -> str:
        found = images.url(unquote(match.group(1))) if images else None
        return found or match.group(0)

    return _PLUGINFILE_URL.sub(replace, text)


def question_html(
    text: str, text_format: TextFormat = "moodle", images: ImageSource | None = None
) -> Markup:
    """A question's text, option or feedback as safe HTML in its format."""
    if not text:
        return Markup("")
    if text_format == "plain":
        return Markup("<br>\n").join(escape(line) for line in text.split("\n"))
    linked = _with_images(text, images)
    if text_format == "markdown":
        html = markdown_html(linked)
    elif text_format == "moodle" and not _BLOCK_TAG.search(linked):
        html = linked.strip().replace("\n", "<br>\n")
    else:
        html = linked
    return Markup(sanitize_html(html))  # noqa: S704 - sanitized just now


TextRenderer = Callable[..., Markup]


def text_renderer(question: Question, version_id: int | None) -> TextRenderer:
    """`rich(text, text_format=None)` for a page: the question's texts as safe HTML, in the
    question's format unless another is given, with its pictures (of the stored version
    `version_id`, inlined when None)."""
    images = ImageSource(version_id, question.images)

    def rich(text: str, text_format: TextFormat | None = None) -> Markup:
        return question_html(text, text_format or question.text_format, images)

    return rich
