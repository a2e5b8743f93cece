"""Recognised speech as the rules read it: one normal form for full- and half-width characters,
punctuation, spaces, traditional characters and digits spoken in Chinese, and approximate
phrase matching that survives recognition errors.

Matching works on the normal form and maps every hit back to the original text, so that the
evidence quotes what was recognised, not what the matcher saw.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import opencc
from rapidfuzz import fuzz

# Digits as an ASR writes them when the speaker reads a number digit by digit (三零二一 = 3021;
# 幺 is how 1 is read out in numbers, 两 only counts, so it is left alone).
CHINESE_DIGITS = {
    "零": "0",
    "〇": "0",
    "一": "1",
    "幺": "1",
    "二": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
}
# A run of at least this many Chinese digits is a number read out (一下, 十一 are words).
MIN_DIGIT_RUN = 3


@lru_cache(maxsize=1)
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _keeps(char: str) -> bool:
    """Whether a character carries words: letters and digits of any script, not punctuation,
    symbols or spaces."""
    return unicodedata.category(char)[0] in ("L", "N")


def _digit_runs(chars: list[str]) -> list[str]:
    """Chinese digits in runs of MIN_DIGIT_RUN or more become Arabic digits."""
    out = list(chars)
    start = 0
    while start < len(chars):
        if chars[start] not in CHINESE_DIGITS:
            start += 1
            continue
        end = start
        while end < len(chars) and chars[end] in CHINESE_DIGITS:
            end += 1
        if end - start >= MIN_DIGIT_RUN:
            for index in range(start, end):
                out[index] = CHINESE_DIGITS[chars[index]]
        start = end
    return out


def has_punctuation(text: str) -> bool:
    """Whether the text holds a punctuation mark (a clause or sentence boundary)."""
    return any(unicodedata.category(char)[0] == "P" for char in text)


@dataclass(frozen=True)
class Normalised:
    """A text in normal form, and for each of its characters the index of the original
    character it came from (to quote hits from the original)."""

    text: str
    origin: tuple[int, ...]

    @cached_property
    def chars(self) -> frozenset[str]:
        """The characters the text holds."""
        return frozenset(self.text)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original text's span of the normal form's [start, end)."""
        if not self.origin or start >= end:
            return 0, 0
        return self.origin[start], self.origin[end - 1] + 1


def normalise(text: str) -> Normalised:
    """The normal form the rules match on: NFKC (full width to half width), simplified
    characters, lower case, no punctuation, symbols or spaces, Chinese digit runs as digits."""
    simplified = _to_simplified().convert(text)
    # Conversion maps character for character; a length change would break the origin map.
    source = simplified if len(simplified) == len(text) else text
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(source):
        for part in unicodedata.normalize("NFKC", char).lower():
            if _keeps(part):
                chars.append(part)
                origin.append(index)
    return Normalised("".join(_digit_runs(chars)), tuple(origin))


@dataclass(frozen=True)
class PhraseHit:
    """A phrase found in a text: which phrase, how alike (0-100), and where in the original."""

    phrase: str
    score: float
    start: int
    end: int


@lru_cache(maxsize=4096)
def _normal_phrase(phrase: str) -> str:
    return normalise(phrase).text


def _fuzzy(normal: Normalised, phrase: str, wanted: str, threshold: float) -> PhraseHit | None:
    """The phrase's most alike stretch of the text, if it reaches `threshold`."""
    if len(normal.text) < len(wanted) // 2:
        return None
    # A stretch scoring s (0-1, coverage counted) shares at least s x len(phrase) characters
    # with the phrase in order, so that many of the phrase's characters must occur in the text
    # at all: most turns are ruled out here without aligning anything.
    present = sum(char in normal.chars for char in wanted)
    if present * 100 < threshold * len(wanted):
        return None
    aligned = fuzz.partial_ratio_alignment(wanted, normal.text, score_cutoff=threshold)
    if aligned is None:
        return None
    # At the text's ends the partial ratio also tries stretches shorter than the phrase
    # ("谢谢您的" for "谢谢您的来电" scores 80): a match counts only what it covers.
    covered = min(1.0, (aligned.dest_end - aligned.dest_start) / len(wanted))
    score = aligned.score * covered
    if score < threshold:
        return None
    start, end = normal.span(aligned.dest_start, aligned.dest_end)
    return PhraseHit(phrase, score, start, end)


# What a sound-alike match scores: below an exact hit, above the default thresholds (75-80),
# and below the forbidden phrases' 90, so that a homophone never makes a brush-off.
SOUND_ALIKE_SCORE = 85.0


@lru_cache(maxsize=1)
def _readings_table() -> dict[int, str]:
    # Imported here: the table takes half a second to load and most commands never match.
    from pypinyin.constants import PINYIN_DICT

    return dict(PINYIN_DICT)


@lru_cache(maxsize=16384)
def _sounds(char: str) -> frozenset[str]:
    """A character's readings without tones (号: hao, xiao); itself for a non-Chinese one."""
    readings = _readings_table().get(ord(char))
    if not readings:
        return frozenset((char,))
    return frozenset(
        "".join(c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c))
        for reading in readings.split(",")
    )


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


@lru_cache(maxsize=4096)
def _text_sounds(text: str) -> tuple[frozenset[str], ...]:
    return tuple(_sounds(char) for char in text)


def _sound_alike(normal: Normalised, phrase: str, wanted: str) -> PhraseHit | None:
    """The first stretch of the text that sounds like the phrase character for character,
    tones aside: the homophones speech recognition writes (您号 for 您好, 安心 for 安信)."""
    if len(wanted) > len(normal.text) or not _is_chinese(wanted):
        return None
    sounds = _text_sounds(wanted)
    text = _text_sounds(normal.text)
    first = sounds[0]
    for at in range(len(text) - len(sounds) + 1):
        if first & text[at] and all(sounds[k] & text[at + k] for k in range(1, len(sounds))):
            start, end = normal.span(at, at + len(sounds))
            return PhraseHit(phrase, SOUND_ALIKE_SCORE, start, end)
    return None


def _as_normal(text: str | Normalised) -> Normalised:
    return text if isinstance(text, Normalised) else normalise(text)


def find_phrase(
    text: str | Normalised, phrases: Iterable[str], threshold: float
) -> PhraseHit | None:
    """The best match of any of the phrases in the text at or above `threshold` (a partial
    ratio: the phrase against the text's most alike stretch), or None. Exact containment
    scores 100; a wrong or dropped character costs a few points per character; failing both,
    a stretch that sounds the same (homophones, tones aside) scores SOUND_ALIKE_SCORE."""
    normal = _as_normal(text)
    if not normal.text:
        return None
    wanted_phrases = [(phrase, _normal_phrase(phrase)) for phrase in phrases]
    # Exact containment first, for every phrase: it is cheap, scores 100, and most hits are
    # exact; the approximate pass runs only when no phrase is contained.
    for phrase, wanted in wanted_phrases:
        if wanted and wanted in normal.text:
            at = normal.text.index(wanted)
            start, end = normal.span(at, at + len(wanted))
            return PhraseHit(phrase, 100.0, start, end)
    if threshold >= 100:
        return None
    best: PhraseHit | None = None
    for phrase, wanted in wanted_phrases:
        if not wanted:
            continue
        hit = _fuzzy(normal, phrase, wanted, threshold)
        if hit is not None and (best is None or hit.score > best.score):
            best = hit
    if best is not None or threshold > SOUND_ALIKE_SCORE:
        return best
    for phrase, wanted in wanted_phrases:
        if wanted and (hit := _sound_alike(normal, phrase, wanted)) is not None:
            return hit
    return None


def find_each(text: str | Normalised, phrase: str, threshold: float) -> list[PhraseHit]:
    """Every exact occurrence of the phrase in the text; when there is none, its best
    approximate match at or above `threshold` (at most one)."""
    normal = _as_normal(text)
    wanted = _normal_phrase(phrase)
    if not wanted or not normal.text:
        return []
    hits = []
    at = normal.text.find(wanted)
    while at >= 0:
        start, end = normal.span(at, at + len(wanted))
        hits.append(PhraseHit(phrase, 100.0, start, end))
        at = normal.text.find(wanted, at + len(wanted))
    if hits or threshold >= 100:
        return hits
    fuzzy = _fuzzy(normal, phrase, wanted, threshold)
    return [] if fuzzy is None else [fuzzy]


@lru_cache(maxsize=256)
def _phrase_scanner(
    phrases: tuple[str, ...], skip: tuple[str, ...]
) -> tuple[re.Pattern[str], frozenset[str]]:
    """One pattern of every phrase and skipped phrase, longest first (an alternation takes the
    first that matches where it stands), and the set of those that count."""
    counted = frozenset(p for p in (_normal_phrase(x) for x in phrases) if p)
    skipped = {p for p in (_normal_phrase(x) for x in skip) if p} - counted
    wanted = sorted(counted | skipped, key=lambda phrase: (-len(phrase), phrase))
    return re.compile("|".join(map(re.escape, wanted)) or "(?!)"), counted


def count_phrases(text: str | Normalised, phrases: Sequence[str], skip: Sequence[str] = ()) -> int:
    """How many times any of the phrases occurs in the normal form (non-overlapping, the
    longest phrase first where two start at the same place). Characters inside one of the
    `skip` phrases (the same characters in another sense: 申请 holds 请) are not counted."""
    scanner, counted = _phrase_scanner(tuple(phrases), tuple(skip))
    return sum(found.group() in counted for found in scanner.finditer(_as_normal(text).text))
