"""The piece of an item's text shown under a search result, with the query's words marked.

An item is Markdown, so its text is first made plain (`plain_text`: the words of headings,
paragraphs, lists and table cells, without the syntax). A window of about `length` characters
is then chosen: the one holding the most distinct query terms, the earliest of equals, cut
after punctuation or a space where one is near, never inside an English word, with "…" where
the text goes on.

A span is marked when the analyzer finds a query term there, the same analysis the index
searches with: the text is folded the same way (寬帶 and ＷｉＦｉ are marked for 宽带 and wifi),
an English word is marked when it stems to a query term (installing for install), and a
Chinese span when its piece of the text has the term and the span is one of the words the
term stands for (网络 for 宽带, after the synonyms are folded). The snippet is plain text and
offsets; `html()` escapes every part of it, so HTML written in an item is shown, not run.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from agentladder.knowledge.search.analysis import Analyzer, fold

ELLIPSIS = "…"
DEFAULT_LENGTH = 120  # characters: two lines of a result list

# Where a cut reads well: after a space or after punctuation of either script.
_CJK_PUNCTUATION = frozenset("，。、；：！？）】」』》〉”’…—～·")
_ASCII_PUNCTUATION = frozenset(",.;:!?)]}\"'")
# Pieces of text analysed on their own: the analyzer splits at these too.
_PIECE = re.compile(r"[^\s,，。、；;：:！!？?（）()“”《》【】\[\]|]+")
_LATIN_WORD = re.compile(r"[a-z0-9]+")
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0002ffff]")

# Blocks whose end separates words: a line break, or a space between a row's cells.
_CELL_ENDS = frozenset({"th_close", "td_close"})
_BLOCK_ENDS = frozenset(
    {
        "paragraph_close",
        "heading_close",
        "tr_close",
        "list_item_close",
        "blockquote_close",
        "hr",
    }
)
_LITERAL_BLOCKS = frozenset({"fence", "code_block", "html_block"})


@lru_cache(maxsize=65_536)
def _word_terms(analyzer: Analyzer, word: str) -> tuple[str, ...]:
    return tuple(analyzer.terms(word))


def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


_MARKDOWN = _markdown()


# A revision never changes, so its text's plain form is worth keeping: parsing the Markdown
# again was half of a snippet's cost (benchmarks/knowledge_speed.py).
@lru_cache(maxsize=4096)
def plain_text(markdown: str) -> str:
    """The words of a Markdown text without its syntax, one line per block. Raw HTML is
    kept as the text it is, to be escaped when shown."""
    parts: list[str] = []
    for token in _MARKDOWN.parse(markdown):
        if token.type == "inline":
            for child in token.children or ():
                if child.type in ("text", "code_inline", "html_inline", "image"):
                    parts.append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    parts.append(" ")
        elif token.type in _LITERAL_BLOCKS:
            parts.extend((token.content, "\n"))
        elif token.type in _CELL_ENDS:
            parts.append(" ")
        elif token.type in _BLOCK_ENDS:
            parts.append("\n")
    lines = (" ".join(line.split()) for line in "".join(parts).splitlines())
    return "\n".join(line for line in lines if line)


@dataclass(frozen=True)
class Snippet:
    """A window of an item's plain text; `marks` are the [start, end) character offsets of
    the matched words in `text`, in order and apart."""

    text: str
    marks: tuple[tuple[int, int], ...] = ()

    def plain(self) -> str:
        """The snippet without marks, for the CLI and JSON."""
        return self.text

    def html(self) -> Markup:
        """The snippet as HTML: every part escaped, matched words in `<mark>`."""
        parts: list[Markup] = []
        at = 0
        for start, end in self.marks:
            parts.append(escape(self.text[at:start]))
            parts.append(Markup("<mark>{}</mark>").format(self.text[start:end]))
            at = end
        parts.append(escape(self.text[at:]))
        return Markup("").join(parts)


@dataclass(frozen=True)
class _Match:
    """A matched span of the plain text and the query terms found in it."""

    start: int
    end: int
    terms: frozenset[str]


def snippet(
    text: str, query_terms: Iterable[str], analyzer: Analyzer, *, length: int = DEFAULT_LENGTH
) -> Snippet:
    """The best window of about `length` characters of a Markdown text for the query's terms
    (the analyzer's terms of the query), matched words marked."""
    plain = " ".join(plain_text(text).split())
    matches = _matches(plain, frozenset(query_terms), analyzer)
    start, end = _best_window(plain, matches, max(length, 1))
    while start < end and plain[start].isspace():
        start += 1
    while end > start and plain[end - 1].isspace():
        end -= 1
    before = ELLIPSIS if start > 0 else ""
    after = ELLIPSIS if end < len(plain) else ""
    shift = start - len(before)
    marks = tuple(
        (match.start - shift, match.end - shift)
        for match in matches
        if start <= match.start and match.end <= end
    )
    return Snippet(before + plain[start:end] + after, marks)


def _folded(text: str) -> tuple[str, list[int]]:
    """The text folded as the analyzer folds it, and for each folded character the offset of
    the character of `text` it comes from (NFKC may make two of one: ㎡ -> m2)."""
    parts = [unicodedata.normalize("NFKC", char) for char in text]
    joined = "".join(parts)
    whole = fold(joined)
    if len(whole) != len(joined):  # a conversion changed a length: fold character by character
        parts = [fold(part) for part in parts]
        whole = "".join(parts)
    owners = [at for at, part in enumerate(parts) for _ in part]
    return whole, owners


def _matches(text: str, wanted: frozenset[str], analyzer: Analyzer) -> list[_Match]:
    """The spans of the text where the analyzer finds a wanted term, merged where they touch."""
    if not wanted or not text:
        return []
    folded, owners = _folded(text)
    spans: list[_Match] = []
    for piece in _PIECE.finditer(folded):
        found = wanted.intersection(analyzer.terms(piece.group()))
        if not found:
            continue
        for word in _LATIN_WORD.finditer(piece.group()):
            if _in_word(piece.group(), word.start()) or _in_word(piece.group(), word.end()):
                continue  # a piece of a word in another script (caf of café)
            terms = wanted.intersection(_word_terms(analyzer, word.group()))
            if terms:
                start = piece.start() + word.start()
                spans.append(_Match(start, start + len(word.group()), frozenset(terms)))
        for term in found:
            for variant in analyzer.variants(term):
                if _LATIN_WORD.fullmatch(variant):
                    continue  # English words were matched by their stems above
                spans.extend(
                    _Match(
                        piece.start() + at, piece.start() + at + len(variant), frozenset((term,))
                    )
                    for at in _occurrences(piece.group(), variant)
                )
    # Back to offsets of the text as given, then merged where they overlap or touch.
    spans = [_Match(owners[span.start], owners[span.end - 1] + 1, span.terms) for span in spans]
    merged: list[_Match] = []
    for span in sorted(spans, key=lambda span: (span.start, -span.end)):
        if merged and span.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = _Match(last.start, max(last.end, span.end), last.terms | span.terms)
        else:
            merged.append(span)
    return merged


def _occurrences(text: str, word: str) -> list[int]:
    """Where `word` occurs in `text`; a word that starts or ends with a Latin letter or digit
    (3.5, wi-fi) only where it is not part of a longer English word."""
    found = []
    at = text.find(word)
    while at >= 0:
        if not (_in_word(text, at) or _in_word(text, at + len(word))):
            found.append(at)
        at = text.find(word, at + 1)
    return found


def _in_word(text: str, at: int) -> bool:
    """Whether offset `at` falls between two characters of one English word or number."""
    if at <= 0 or at >= len(text):
        return False
    left, right = text[at - 1], text[at]
    return left.isalnum() and right.isalnum() and not _CJK.match(left) and not _CJK.match(right)


def _reads_well(text: str, at: int) -> bool:
    """Whether a cut at offset `at` falls after a space or punctuation."""
    if at <= 0 or at >= len(text):
        return True
    left = text[at - 1]
    if left.isspace() or left in _CJK_PUNCTUATION:
        return True
    return left in _ASCII_PUNCTUATION and not text[at].isalnum()


def _cut(text: str, at: int, *, lowest: int, slack: int) -> int:
    """The offset near and not after `at` (nor at or below `lowest`, unless nothing else) to
    cut at: after punctuation or a space within `slack`, else outside an English word."""
    for offset in range(at, max(lowest, at - slack) - 1, -1):
        if offset > lowest and _reads_well(text, offset):
            return offset
    offset = at
    while offset > lowest and _in_word(text, offset):
        offset -= 1
    return offset if offset > lowest else at  # one word longer than the window: cut it


def _window(text: str, matches: list[_Match], wanted_start: int, length: int) -> tuple[int, int]:
    """The window of at most `length` characters starting near `wanted_start`."""
    slack = length // 4
    start = 0 if wanted_start <= 0 else _cut(text, wanted_start, lowest=-1, slack=slack)
    start = max(start, 0)
    for match in matches:
        if match.start < start < match.end:
            start = match.start  # never cut a marked word in two
    if start + length >= len(text):
        return start, len(text)
    end = _cut(text, start + length, lowest=start, slack=slack)
    for match in matches:
        if match.start < end < match.end and match.start > start:
            end = match.start
    return start, end


def _best_window(text: str, matches: list[_Match], length: int) -> tuple[int, int]:
    """The window holding the most distinct terms, the earliest of equals."""
    if len(text) <= length:
        return 0, len(text)
    lead = length // 5  # some words before the first match, to read it in context
    best: tuple[int, int] = _window(text, matches, 0, length)
    best_found = -1
    for wanted_start in sorted({0, *(max(0, match.start - lead) for match in matches)}):
        start, end = _window(text, matches, wanted_start, length)
        found = len(
            {
                term
                for match in matches
                if start <= match.start and match.end <= end
                for term in match.terms
            }
        )
        if found > best_found or (found == best_found and start < best[0]):
            best, best_found = (start, end), found
    return best
