"""Did you mean ...? A corrected query, offered when a query found nothing or little.

The vocabulary is the library's own words with their frequencies, counted by the same analyzer
that builds the index, so a suggestion only ever proposes words the index can find. A query
word the library never uses is replaced by the library's most frequent word that is close:

- Chinese is typed by sound, so its typos are homophones (光毛 for 光猫, 宽代 for 宽带). In
  each run of Chinese characters, the characters that no known word of two or more characters
  covers are the suspects; a window of 2-4 characters holding a suspect is replaced by a known
  word with the same toneless pinyin, only the suspects changing. A lone suspect character
  that no known word contains (朝 in 流量朝了) is replaced by its most frequent homophone, as a
  last resort.
- A Latin word of four letters or more that is neither a known word nor stems to a known term
  is replaced by the most frequent known word one edit away (two from eight letters on),
  transpositions counting as one edit.

The synonym groups' other words are known words too, and are suggested in their own form, so
网洛 becomes 网络 rather than the group's first term. Shorter Latin words (pon, los, tv) are
left alone: one edit from them is too many other words.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import lazy_pinyin
from rapidfuzz import process
from rapidfuzz.distance import OSA

from agentladder.knowledge.search.analysis import STOP_WORDS, Analyzer, fold, sounds

# A word the library uses once or twice may be a typo itself, or too rare to be what was meant:
# at 2, 晚上九点 became 晚上酒店 on the demo library.
MIN_TARGET_COUNT = 3
# Chinese windows tried, longest first: the library's compounds are rarely longer than four.
_WINDOW_CHARS = (4, 3, 2)
_LATIN_MIN_LETTERS = 4
_LATIN_TWO_EDITS_FROM = 8
# Split texts where jieba splits too, so a chunk's terms are the same alone or in its text.
_CHUNK_BREAK = re.compile(r"[\s,，。、；;：:！!？?（）()“”《》【】\[\]|*]+")
_CHINESE_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_LATIN_RUN = re.compile(r"[A-Za-z\uff21-\uff3a\uff41-\uff5a]+")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
_QUERY_RUN = re.compile(f"{_CHINESE_RUN.pattern}|{_LATIN_RUN.pattern}")


@dataclass(frozen=True)
class Correction:
    """One replacement in a query: `original` at [start, end) of the query becomes
    `replacement`."""

    start: int
    end: int
    original: str
    replacement: str


@dataclass(frozen=True)
class _Known:
    """A known word that may replace a typo, and how often the library uses it."""

    word: str
    count: int


@lru_cache(maxsize=8192)
def _char_sound(char: str) -> str:
    return lazy_pinyin(char)[0]


def _sound_keys(word: str, *, phrase: bool) -> set[str]:
    """The word's toneless pinyin read character by character and, when `phrase`, as a phrase
    (银行 is yinhang as a phrase, yinxing character by character), prefixed by its length."""
    keys = {"".join(_char_sound(char) for char in word)}
    if phrase:
        keys.update(sounds([word]))
    # The length keeps 西安 (xi an) and 先 (xian) apart.
    return {f"{len(word)}:{key}" for key in keys}


def count_texts(analyzer: Analyzer, texts: Iterable[str]) -> tuple[Counter[str], Counter[str]]:
    """The analyzer's terms and the Latin words (lower-cased, as written) of the texts, each
    with its number of occurrences."""
    chunks: Counter[str] = Counter()
    for text in texts:
        chunks.update(_CHUNK_BREAK.split(text))
    # Most Latin chunks repeat (customer, month) and stemming is the slow part of analysis, so
    # each distinct chunk is analysed once; chunks seen once are analysed together, since one
    # call over many lines costs much less than many calls.
    terms: Counter[str] = Counter()
    latin: Counter[str] = Counter()
    once: list[str] = []
    for chunk, count in chunks.items():
        if not chunk:
            continue
        for word in _LATIN_WORD.findall(chunk):
            latin[word.lower()] += count
        if count == 1:
            once.append(chunk)
            continue
        for term in analyzer.terms(chunk):
            terms[term] += count
    for start in range(0, len(once), 5_000):
        terms.update(analyzer.terms("\n".join(once[start : start + 5_000])))
    return terms, latin


class Suggester:
    """Corrections of queries against a library's vocabulary (see the module docstring)."""

    def __init__(
        self,
        analyzer: Analyzer,
        term_counts: Mapping[str, int],
        latin_counts: Mapping[str, int],
        *,
        min_target_count: int = MIN_TARGET_COUNT,
    ) -> None:
        self.analyzer = analyzer
        self._term_counts = dict(term_counts)
        # Words a query may use as they are: the terms, the synonyms' other words and the
        # words the analyzer drops (怎么 is no typo of 枕木).
        self._known: set[str] = set(term_counts) | set(STOP_WORDS)
        self._by_sound: dict[str, _Known] = {}
        for term, count in term_counts.items():
            for word in analyzer.variants(term):
                self._known.add(word)
                if count >= min_target_count and _CHINESE_RUN.fullmatch(word):
                    self._add_sound(word, count)
        self._chars = {char for word in self._known for char in word}
        self._longest_known = max((len(word) for word in self._known), default=0)
        latin = {
            word: count
            for word, count in latin_counts.items()
            if count >= min_target_count and len(word) >= _LATIN_MIN_LETTERS
        }
        self._latin_words = sorted(latin, key=lambda word: (-latin[word], word))
        self._latin_counts = latin
        self._latin_seen = set(latin_counts)

    def _add_sound(self, word: str, count: int) -> None:
        for key in _sound_keys(word, phrase=True):
            held = self._by_sound.get(key)
            if held is None or (count, -len(word)) > (held.count, -len(held.word)):
                self._by_sound[key] = _Known(word, count)

    @classmethod
    def from_texts(
        cls, analyzer: Analyzer, texts: Iterable[str], *, min_target_count: int = MIN_TARGET_COUNT
    ) -> Suggester:
        """A suggester over the words of these texts (titles, tags and bodies of the items)."""
        terms, latin = count_texts(analyzer, texts)
        return cls(analyzer, terms, latin, min_target_count=min_target_count)

    def suggest(self, query: str) -> str | None:
        """The query with its unknown words corrected, or None when nothing would change."""
        corrections = self.corrections(query)
        if not corrections:
            return None
        parts: list[str] = []
        at = 0
        for correction in corrections:
            parts.append(query[at : correction.start])
            parts.append(correction.replacement)
            at = correction.end
        parts.append(query[at:])
        suggested = "".join(parts)
        return None if suggested == query else suggested

    def corrections(self, query: str) -> list[Correction]:
        """The replacements `suggest` makes, in query order (a run of Chinese with a correction
        is replaced whole, in folded script)."""
        found: list[Correction] = []
        for matched in _QUERY_RUN.finditer(query):
            run = matched.group()
            if _CHINESE_RUN.fullmatch(run):
                replacement = self._corrected_chinese(fold(run))
            else:
                replacement = self._corrected_latin(fold(run))
            if replacement is not None:
                found.append(Correction(matched.start(), matched.end(), run, replacement))
        return found

    def _corrected_latin(self, word: str) -> str | None:
        """The known word a folded Latin word was meant to be, if it is not known itself."""
        if len(word) < _LATIN_MIN_LETTERS or word in self._latin_seen:
            return None
        terms = self.analyzer.terms(word)
        if all(term in self._term_counts for term in terms):
            return None  # a stop word, or a form of a known word (routers for router)
        edits = 2 if len(word) >= _LATIN_TWO_EDITS_FROM else 1
        close = process.extract(
            word, self._latin_words, scorer=OSA.distance, score_cutoff=edits, limit=None
        )
        if not close:
            return None
        best = min(close, key=lambda found: (found[1], -self._latin_counts[found[0]], found[2]))
        return best[0]

    def _corrected_chinese(self, run: str) -> str | None:
        """A folded run of Chinese with its homophone typos corrected, if it has any."""
        covered = self._covered(run)
        chosen: list[tuple[int, int, str]] = []
        taken = [False] * len(run)
        for start, end, known in self._homophones(run, covered):
            if any(taken[start:end]):
                continue
            chosen.append((start, end, known.word))
            taken[start:end] = [True] * (end - start)
        for at, char in enumerate(run):
            if not (covered[at] or taken[at] or char in self._chars):
                single = self._homophone(char)
                if single is not None:
                    chosen.append((at, at + 1, single.word))
        if not chosen:
            return None
        chars = list(run)
        for start, end, word in sorted(chosen, reverse=True):
            chars[start:end] = [word]
        corrected = "".join(chars)
        return corrected if corrected != run else None

    def _covered(self, run: str) -> list[bool]:
        """Which characters of the run a known word of two or more characters covers (or a
        stop word: 了 is no typo)."""
        covered = [run[at] in STOP_WORDS for at in range(len(run))]
        for start in range(len(run)):
            for end in range(start + 2, min(len(run), start + self._longest_known) + 1):
                if run[start:end] in self._known:
                    covered[start:end] = [True] * (end - start)
        return covered

    def _homophones(self, run: str, covered: list[bool]) -> list[tuple[int, int, _Known]]:
        """Windows holding a suspect character and the known word that sounds like each, the
        longest windows first, then the most frequent words."""
        found: list[tuple[int, int, _Known]] = []
        for size in _WINDOW_CHARS:
            for start in range(len(run) - size + 1):
                end = start + size
                window = run[start:end]
                if all(covered[start:end]) or window in self._known:
                    continue
                known = self._homophone(window)
                # Only a suspect may change: 小时内 is not 小室内 because 小时 is a word.
                if known is not None and all(
                    new == old or not covered[start + at]
                    for at, (new, old) in enumerate(zip(known.word, window, strict=True))
                ):
                    found.append((start, end, known))
        found.sort(key=lambda hit: (-(hit[1] - hit[0]), -hit[2].count, hit[0]))
        return found

    def _homophone(self, word: str) -> _Known | None:
        """The most frequent known word that sounds like `word`, if any is not `word` itself."""
        matches = [
            self._by_sound[key]
            for key in _sound_keys(word, phrase=False)
            if key in self._by_sound and self._by_sound[key].word != word
        ]
        return max(matches, key=lambda known: known.count) if matches else None
