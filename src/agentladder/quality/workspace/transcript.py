"""The transcript an evaluation's page shows, with the automatic QA beside it: each turn split
into spans, the spans a rule quoted as evidence marked with the rule and its verdict, and every
rule's verdict with its evidence.

A rule quotes a turn whole or a slice of it, and the verdicts keep only the quoted text: it is
found again in the turn (the same quote twice by one rule: the next occurrence). A quote not
found, as in a transcript changed since it was judged, marks nothing. Text is only ever split,
never turned into markup: the template escapes every span.

For the evaluator of a blind sample the agent's name, employee number and ACD identity are
starred out of the turns and the quotes alike (an agent introduces themself in the greeting).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

HIDDEN = "*"
# Shorter names (one character) would star out ordinary words.
MIN_HIDDEN_LENGTH = 2


@dataclass(frozen=True)
class Hit:
    """A rule whose evidence covers a span, and its verdict on the call."""

    rule: str
    verdict: str


@dataclass(frozen=True)
class Span:
    """A stretch of a turn's text and the rules that quoted it."""

    text: str
    hits: tuple[Hit, ...] = ()

    @property
    def failed(self) -> bool:
        """Whether a rule that failed quoted it (shown in the failure colour)."""
        return any(hit.verdict == "fail" for hit in self.hits)

    @property
    def rules(self) -> list[str]:
        """The rules that quoted it, once each."""
        return list(dict.fromkeys(hit.rule for hit in self.hits))


@dataclass(frozen=True)
class TurnView:
    """One turn as the page shows it."""

    index: int
    speaker: str
    start_s: float
    spans: list[Span]


@dataclass(frozen=True)
class EvidenceLine:
    """One piece of a verdict's evidence: a quote of a turn, or a measured figure (turn None)
    as a msgid and its parameters."""

    turn: int | None
    start_s: float | None
    text: str
    message: str | None = None
    params: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleLine:
    """One rule's verdict on the call with its evidence."""

    rule: str
    verdict: str
    evidence: list[EvidenceLine]


@dataclass(frozen=True)
class TranscriptView:
    """The transcript and, when it was judged, the rules' verdicts."""

    turns: list[TurnView]
    hangup_by: str | None
    stored: bool = False  # stored in the database (judged there), not a file beside the audio
    rules: list[RuleLine] = field(default_factory=list)
    score: float | None = None
    judged: bool = False
    current: bool = True  # judged on this content under the rule set in force

    def rule(self, rule_id: str) -> RuleLine | None:
        """A rule's line, if the call was judged by it."""
        return next((line for line in self.rules if line.rule == rule_id), None)


@dataclass(frozen=True)
class TurnText:
    """What a turn is, wherever the transcript came from."""

    speaker: str
    start_s: float
    text: str


def hide_names(text: str, names: Iterable[str]) -> str:
    """The text with each name starred out character for character (the longest first, so a
    name inside another goes with it)."""
    for name in sorted({n for n in names if len(n) >= MIN_HIDDEN_LENGTH}, key=len, reverse=True):
        text = text.replace(name, HIDDEN * len(name))
    return text


def _split(text: str, marks: Sequence[tuple[int, int, Hit]]) -> list[Span]:
    """The text cut at every mark's ends, each piece with the marks covering it."""
    cuts = sorted({0, len(text), *(start for start, _, _ in marks), *(end for _, end, _ in marks)})
    spans = []
    for start, end in itertools.pairwise(cuts):
        hits = tuple(dict.fromkeys(hit for s, e, hit in marks if s <= start and end <= e))
        spans.append(Span(text[start:end], hits))
    return spans or [Span(text)]


def transcript_view(
    turns: Sequence[TurnText],
    *,
    hangup_by: str | None,
    stored: bool = False,
    verdicts: Sequence[Mapping[str, Any]] = (),
    score: float | None = None,
    judged: bool = False,
    current: bool = True,
    hidden_names: Sequence[str] = (),
) -> TranscriptView:
    """The turns split by the rules' quotes, and the verdicts with their evidence."""
    texts = [hide_names(turn.text, hidden_names) for turn in turns]
    marks: dict[int, list[tuple[int, int, Hit]]] = {}
    searched_from: dict[tuple[str, int, str], int] = {}
    lines = []
    for verdict in verdicts:
        rule, outcome = str(verdict["rule"]), str(verdict["verdict"])
        evidence = []
        for item in verdict.get("evidence", []):
            turn = item.get("turn")
            if turn is None:
                # Results stored before figures kept their msgid show the English text.
                figure = item.get("figure") or {}
                evidence.append(
                    EvidenceLine(
                        None,
                        None,
                        str(item.get("text", "")),
                        figure.get("message"),
                        dict(figure.get("params", {})),
                    )
                )
                continue
            quote = hide_names(str(item.get("text", "")), hidden_names)
            evidence.append(EvidenceLine(int(turn), item.get("start_s"), quote))
            if not quote or not 0 <= turn < len(texts):
                continue
            key = (rule, turn, quote)
            at = texts[turn].find(quote, searched_from.get(key, 0))
            if at < 0:
                continue
            searched_from[key] = at + len(quote)
            marks.setdefault(turn, []).append((at, at + len(quote), Hit(rule, outcome)))
        lines.append(RuleLine(rule, outcome, evidence))
    return TranscriptView(
        turns=[
            TurnView(index, turn.speaker, turn.start_s, _split(texts[index], marks.get(index, [])))
            for index, turn in enumerate(turns)
        ],
        hangup_by=hangup_by,
        stored=stored,
        rules=lines,
        score=score,
        judged=judged,
        current=current,
    )
