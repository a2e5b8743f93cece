"""How the library's text becomes search terms, the same way for items and for queries.

Chinese is segmented by jieba (the Rust port, rjieba) in search mode, which also yields the
shorter words inside a long one (光猫故障 -> 光猫, 故障, 光猫故障), with the centre's own
product and business terms added to its dictionary. English words are lower-cased and
reduced to their Snowball stem (installing -> instal). Every term of a synonym group the centre
keeps (宽带 = 网络 = 网) is folded to the group's first term, on both sides, so a query finds
an item that says it another way. Width and script are folded first (ＷｉＦｉ -> wifi,
寬帶 -> 宽带), and words that carry no meaning on their own (的, 怎么, the, how) are dropped.

Each Chinese term also has a sound: its toneless pinyin, so that a homophone typed in a hurry
(光毛 for 光猫, 宽代 for 宽带) still meets the item; the index weighs sounds below words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import opencc
import rjieba
import snowballstemmer
from pypinyin import lazy_pinyin

# Words whose stems an analyzer remembers (a library's vocabulary is far smaller).
_STEM_CACHE_WORDS = 500_000
# Frequency given to the centre's terms: high enough that jieba keeps them whole.
TERM_FREQUENCY = 20_000

# Chinese function words and the question words every query carries, and English ones.
_CHINESE_STOP_WORDS = (
    "的 了 是 我 你 他 她 它 们 吗 呢 啊 吧 呀 哦 嗯 么 怎么 怎么办 怎样 如何 什么 为什么 哪 哪里 "
    "要 想 能 会 可以 不 没 没有 有 在 和 与 及 或 或者 就 都 也 还 这 那 这个 那个 个 把 被 给 让 "
    "请问 一下 一个 咋 咋办 啥 多少 几"
)
_ENGLISH_STOP_WORDS = (
    "a an the is are was were be been to of and or for in on at by with from how what why "
    "when where which who do does did can could i my me you your it its this that"
)
STOP_WORDS = frozenset(_CHINESE_STOP_WORDS.split()) | frozenset(_ENGLISH_STOP_WORDS.split())
_WORD = re.compile(r"\w", re.UNICODE)
_LATIN = re.compile(r"[a-z]+")
_CHINESE = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class Vocabulary:
    """The centre's words: terms the segmenter keeps whole, and groups of synonyms whose first
    term stands for the group."""

    terms: tuple[str, ...] = ()
    synonyms: tuple[tuple[str, ...], ...] = ()


@lru_cache(maxsize=1)
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def fold(text: str) -> str:
    """Text as the analyzer reads it: full-width folded, simplified, lower-case."""
    return str(_to_simplified().convert(unicodedata.normalize("NFKC", text))).lower()


class Analyzer:
    """Terms and sounds of a text under one vocabulary (see the module docstring)."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self._jieba = rjieba.Jieba()
        self._stemmer = snowballstemmer.stemmer("english")
        # Stemming is most of the cost of analysing a bilingual text; a library repeats words.
        self._stems: dict[str, str] = {}
        self._canonical: dict[str, str] = {}
        # The words each folded term stands for (a group's words under its first one).
        self._words: dict[str, set[str]] = {}
        for group in vocabulary.synonyms:
            words = [fold(word).strip() for word in group if fold(word).strip()]
            for word in words:
                # A word in two groups keeps its first: the groups are the centre's to tidy.
                canonical = self._canonical.setdefault(self._stem(word), self._stem(words[0]))
                self._words.setdefault(canonical, {canonical}).add(word)
        for term in (*vocabulary.terms, *(w for group in vocabulary.synonyms for w in group)):
            folded = fold(term).strip()
            if folded and not _LATIN.fullmatch(folded):
                self._jieba.add_word(folded, TERM_FREQUENCY, None)

    def _stem(self, word: str) -> str:
        stem = self._stems.get(word)
        if stem is None:
            stem = str(self._stemmer.stemWord(word)) if _LATIN.fullmatch(word) else word
            if len(self._stems) < _STEM_CACHE_WORDS:
                self._stems[word] = stem
        return stem

    def terms(self, text: str) -> list[str]:
        """The text's search terms, in order, repeats kept (they weigh in ranking)."""
        found: list[str] = []
        for piece in self._jieba.cut_for_search(fold(text), True):
            word = piece.strip()
            if not word or word in STOP_WORDS or not _WORD.search(word):
                continue
            stemmed = self._stem(word)
            found.append(self._canonical.get(stemmed, stemmed))
        return found

    def variants(self, term: str) -> list[str]:
        """The words a folded term stands for (itself and its group), to find it in a text."""
        words = self._words.get(term, {term})
        return sorted(words, key=lambda word: (-len(word), word))


def sounds(terms: Iterable[str]) -> list[str]:
    """The toneless pinyin of each Chinese term (光猫 -> guangmao); other terms have none."""
    return ["".join(lazy_pinyin(term)) for term in terms if _CHINESE.search(term)]


@lru_cache(maxsize=4)
def analyzer_for(vocabulary: Vocabulary) -> Analyzer:
    """One analyzer per vocabulary for the life of the process (building one loads jieba's
    dictionary)."""
    return Analyzer(vocabulary)


def vocabulary_of(terms: Sequence[str], synonyms: Sequence[Sequence[str]]) -> Vocabulary:
    """A vocabulary from the centre's lists, blanks dropped and groups of one ignored."""
    return Vocabulary(
        terms=tuple(sorted({term.strip() for term in terms if term.strip()})),
        synonyms=tuple(
            tuple(word.strip() for word in group if word.strip())
            for group in synonyms
            if len([word for word in group if word.strip()]) > 1
        ),
    )
