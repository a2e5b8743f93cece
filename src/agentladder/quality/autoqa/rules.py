"""The phone-etiquette rules: a rule set (YAML a centre edits, validated) and each rule's verdict
on a transcript, pass / fail / not applicable, with the evidence it rests on (the turns quoted,
or the figure a timing rule measured).

Pure functions over a transcript and what the call data says about it, so that an import, a
re-run after the rules change and the benchmark judge alike.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from agentladder.formatting import format_figure
from agentladder.i18n import N_
from agentladder.quality.autoqa.schemas import Transcript, Turn
from agentladder.quality.autoqa.text import (
    Normalised,
    PhraseHit,
    count_phrases,
    find_each,
    find_phrase,
    has_punctuation,
    normalise,
)

DEFAULT_RULES_PATH = Path(__file__).parent / "default_rules.yaml"
RULE_IDS = (
    "greeting",
    "answer_speed",
    "late_apology",
    "hold_etiquette",
    "polite_phrases",
    "forbidden_phrases",
    "closing_question",
    "thanks_goodbye",
    "customer_hangs_up_first",
    "silence",
    "talk_over",
    "speaking_rate",
)
Verdict = Literal["pass", "fail", "na"]
Language = Literal["zh", "en"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Phrases(_Strict):
    """A phrase list in each language a transcript may be in."""

    zh: list[str] = Field(default_factory=list)
    en: list[str] = Field(default_factory=list)

    def of(self, language: Language) -> list[str]:
        """The phrases of the transcript's language."""
        return self.zh if language == "zh" else self.en


# A QA form item's code (default_form.yaml: basic_courtesy, phone_etiquette ...).
FORM_ITEM_CODE = r"^[a-z][a-z0-9_]*$"


class _Rule(_Strict):
    weight: float = Field(default=1, ge=0)
    # The QA form items whose evaluators see this rule's verdict as a suggestion.
    form_items: list[Annotated[str, StringConstraints(pattern=FORM_ITEM_CODE)]] = Field(
        default_factory=list
    )


class _PhraseRule(_Rule):
    threshold: float = Field(default=80, ge=50, le=100)
    phrases: Phrases = Phrases()


class GreetingRule(_PhraseRule):
    """The first agent turn, early enough, greets, names the company and the agent (their
    name or number from the call data, or a self-introduction)."""

    within_s: float = Field(default=10, gt=0)
    introduction: Phrases = Phrases()


class AnswerSpeedRule(_Rule):
    """Answered within so many rings (from the call data)."""

    seconds_per_ring: float = Field(default=3, gt=0)
    max_rings: int = Field(default=2, ge=1)


class LateApologyRule(_PhraseRule):
    """A caller who waited long hears an apology in the agent's first `first_turns` turns."""

    queue_wait_s: float = Field(default=30, ge=0)
    first_turns: int = Field(default=2, ge=1)
    customer_waited: Phrases = Phrases()


class HoldRule(_Rule):
    """Before a hold the agent asks permission and gives a reason, after it they thank."""

    gap_s: float = Field(default=20, gt=0)
    threshold: float = Field(default=80, ge=50, le=100)
    ask: Phrases = Phrases()
    reason: Phrases = Phrases()
    thank: Phrases = Phrases()


class PoliteRule(_Rule):
    """At least so many polite phrases in the agent's turns (exact, counted; the exceptions'
    characters are not counted: 申请 is no 请)."""

    minimum: int = Field(default=3, ge=1)
    phrases: Phrases = Phrases()
    exceptions: Phrases = Phrases()


class ForbiddenRule(_PhraseRule):
    """None of the forbidden phrases in the agent's turns, unless in an excepted sense."""

    exceptions: Phrases = Phrases()


class ClosingRule(_PhraseRule):
    """One of the phrases among the agent's last turns."""

    last_turns: int = Field(default=3, ge=1)


class ThanksGoodbyeRule(_Rule):
    """The agent's last turns both thank the caller and say goodbye."""

    last_turns: int = Field(default=2, ge=1)
    threshold: float = Field(default=80, ge=50, le=100)
    thanks: Phrases = Phrases()
    goodbye: Phrases = Phrases()

    @model_validator(mode="after")
    def _both_halves(self) -> ThanksGoodbyeRule:
        for language in ("zh", "en"):
            if bool(self.thanks.of(language)) != bool(self.goodbye.of(language)):
                raise ValueError(N_("thanks and goodbye need phrases in the same languages"))
        return self


class ShareRule(_Rule):
    """A share of the call at most `max_share`."""

    max_share: float = Field(gt=0, lt=1)


class RateRule(_Rule):
    """Agent characters (zh) or words (en) a minute within a band."""

    zh: tuple[float, float] = (150, 330)
    en: tuple[float, float] = (110, 190)
    min_speech_s: float = Field(default=10, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> RateRule:
        if self.zh[0] >= self.zh[1] or self.en[0] >= self.en[1]:
            raise ValueError(N_("the band's low end must be below its high end"))
        return self


class RuleSpecs(_Strict):
    """Every rule's settings (all twelve are required: a centre turns one off with weight 0)."""

    greeting: GreetingRule
    answer_speed: AnswerSpeedRule
    late_apology: LateApologyRule
    hold_etiquette: HoldRule
    polite_phrases: PoliteRule
    forbidden_phrases: ForbiddenRule
    closing_question: ClosingRule
    thanks_goodbye: ThanksGoodbyeRule
    customer_hangs_up_first: _Rule
    silence: ShareRule
    talk_over: ShareRule
    speaking_rate: RateRule


class RuleSet(_Strict):
    """A whole rule set, validated."""

    name: str = Field(min_length=1)
    company: Phrases = Phrases()
    rules: RuleSpecs

    @cached_property
    def content_hash(self) -> str:
        """The hash of the canonical content: comments and layout do not change it."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def spec(self, rule_id: str) -> _Rule:
        """A rule's settings."""
        spec: _Rule = getattr(self.rules, rule_id)
        return spec

    def weight(self, rule_id: str) -> float:
        """A rule's weight in the score."""
        return float(self.spec(rule_id).weight)

    def form_item_rules(self) -> dict[str, list[str]]:
        """For each QA form item a rule maps to, the rules (in rule order) that suggest it."""
        mapped: dict[str, list[str]] = {}
        for rule_id in RULE_IDS:
            for item in self.spec(rule_id).form_items:
                mapped.setdefault(item, []).append(rule_id)
        return mapped


@lru_cache(maxsize=32)
def parse_rule_set(text: str) -> RuleSet:
    """A rule set from its YAML (pydantic errors name the key); the same text is parsed once
    (a rule set is frozen), as pages and runs read the one in force again and again."""
    return RuleSet.model_validate(yaml.safe_load(text))


def default_rule_set() -> RuleSet:
    """The shipped rule set."""
    return parse_rule_set(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))


# --- judging a call ------------------------------------------------------------------------


@dataclass(frozen=True)
class CallFacts:
    """What the call data says about the transcript's call (None: not in the ACD data), and
    how the agent may name themself (employee number, name, ACD number)."""

    ring_s: float | None = None
    queue_wait_s: float | None = None
    hangup_by: str | None = None
    agent_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Evidence:
    """What a verdict rests on: a turn quoted, or a figure measured (turn None)."""

    turn: int | None
    start_s: float | None
    text: str  # the quote, or the figure in English
    # A figure's msgid and numbers, so that pages say it in the reader's language.
    figure: tuple[str, dict[str, float]] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of `quality autoqa show`."""
        return {"turn": self.turn, "start_s": self.start_s, "text": self.text}

    def as_stored(self) -> dict[str, Any]:
        """What a result stores: the JSON shape and, for a figure, its msgid and numbers."""
        if self.figure is None:
            return self.as_dict()
        message, params = self.figure
        return {**self.as_dict(), "figure": {"message": message, "params": params}}


@dataclass(frozen=True)
class RuleVerdict:
    """One rule's verdict on one call."""

    rule: str
    verdict: Verdict
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class _Call:
    """A transcript prepared once for all the rules: each turn's normal form, and which turns
    are the agent's."""

    transcript: Transcript
    facts: CallFacts
    normal: list[Normalised]
    agent: list[int]

    @classmethod
    def prepare(cls, transcript: Transcript, facts: CallFacts) -> _Call:
        turns = transcript.turns
        return cls(
            transcript,
            facts,
            [normalise(turn.text) for turn in turns],
            [i for i, turn in enumerate(turns) if turn.speaker == "agent"],
        )

    @property
    def language(self) -> Language:
        return self.transcript.language

    def quote(self, index: int, start: int = 0, end: int | None = None) -> Evidence:
        turn = self.transcript.turns[index]
        return Evidence(index, turn.start_s, turn.text if end is None else turn.text[start:end])

    def quote_hit(self, index: int, hit: PhraseHit) -> Evidence:
        return self.quote(index, hit.start, hit.end)

    def find(self, index: int, phrases: Sequence[str], threshold: float) -> Evidence | None:
        hit = find_phrase(self.normal[index], phrases, threshold)
        return None if hit is None else self.quote_hit(index, hit)


def _figure(message: str, **params: float) -> list[Evidence]:
    return [Evidence(None, None, format_figure(message, params, "en"), (message, params))]


# A work number said as digits before 号 (3021号, 三零二一号 once normalised) or after "agent".
_WORK_NUMBER = re.compile(r"[0-9]{3,}号|agent[0-9]{3,}")


def _greeting(call: _Call, rules: RuleSet) -> RuleVerdict:
    spec = rules.rules.greeting
    if not call.agent:
        return RuleVerdict("greeting", "fail", _figure(N_("The agent never speaks")))
    first = call.agent[0]
    turn = call.transcript.turns[first]
    greeted = call.find(first, spec.phrases.of(call.language), spec.threshold)
    # The company name is long enough for a homophone (安心电器) to stay above the threshold;
    # an agent's number must be said right (3021 is not 3012), so names need 85.
    company = call.find(first, rules.company.of(call.language), spec.threshold)
    introduced = (
        call.find(first, call.facts.agent_names, max(spec.threshold, 85)) is not None
        or call.find(first, spec.introduction.of(call.language), 90) is not None
        or _WORK_NUMBER.search(call.normal[first].text) is not None
    )
    passed = turn.start_s <= spec.within_s and greeted is not None and company is not None
    verdict: Verdict = "pass" if passed and introduced else "fail"
    return RuleVerdict("greeting", verdict, [call.quote(first)])


def _answer_speed(call: _Call, rules: RuleSet) -> RuleVerdict:
    spec = rules.rules.answer_speed
    ring = call.facts.ring_s
    if ring is None:
        return RuleVerdict("answer_speed", "na")
    limit = spec.seconds_per_ring * spec.max_rings
    verdict: Verdict = "pass" if ring <= limit else "fail"
    return RuleVerdict(
        "answer_speed",
        verdict,
        _figure(N_("Rang {ring_s} (limit {limit_s})"), ring_s=ring, limit_s=limit),
    )


def _late_apology(call: _Call, rules: RuleSet) -> RuleVerdict:
    spec = rules.rules.late_apology
    answer = rules.rules.answer_speed
    facts = call.facts
    late = (
        facts.ring_s is not None and facts.ring_s > answer.seconds_per_ring * answer.max_rings
    ) or (facts.queue_wait_s is not None and facts.queue_wait_s > spec.queue_wait_s)
    evidence: list[Evidence] = []
    customer = [i for i, t in enumerate(call.transcript.turns) if t.speaker == "customer"]
    if customer:
        said = call.find(customer[0], spec.customer_waited.of(call.language), spec.threshold)
        if said is not None:
            late, evidence = True, [said]
    if not late:
        return RuleVerdict("late_apology", "na")
    first = call.agent[: spec.first_turns]
    for index in first:
        apology = call.find(index, spec.phrases.of(call.language), spec.threshold)
        if apology is not None:
            return RuleVerdict("late_apology", "pass", [*evidence, apology])
    return RuleVerdict("late_apology", "fail", [*evidence, *(call.quote(i) for i in first)])


@dataclass(frozen=True)
class _Hold:
    """A hold: the agent's turns just before and just after it, and when it began."""

    before: int | None
    after: int | None
    start_s: float


def _holds(call: _Call, gap_s: float) -> list[_Hold]:
    """Each hold: a system turn (hold music, a prompt) or nobody speaking for more than
    `gap_s`, after the agent's first turn (a recording notice before it is no hold)."""
    turns = call.transcript.turns
    if not call.agent:
        return []
    holds: list[_Hold] = []
    opened = call.agent[0]
    covered_until = turns[opened].end_s
    for index in range(opened + 1, len(turns)):
        turn = turns[index]
        silent = turn.start_s - covered_until > gap_s
        if turn.speaker == "system" or silent:
            before = bisect.bisect_left(call.agent, index) - 1
            after = bisect.bisect_left(call.agent, index if silent else index + 1)
            hold = _Hold(
                call.agent[before] if before >= 0 else None,
                call.agent[after] if after < len(call.agent) else None,
                turn.start_s if turn.speaker == "system" else covered_until,
            )
            # Hold music split over several system turns is one hold between the same turns.
            if not holds or (holds[-1].before, holds[-1].after) != (hold.before, hold.after):
                holds.append(hold)
        covered_until = max(covered_until, turn.end_s)
    return holds


def _hold_etiquette(call: _Call, rules: RuleSet) -> RuleVerdict:
    spec = rules.rules.hold_etiquette
    holds = _holds(call, spec.gap_s)
    if not holds:
        return RuleVerdict("hold_etiquette", "na")
    evidence: list[Evidence] = []
    passed = True
    for hold in holds:
        asked = reason = thanked = None
        if hold.before is not None:
            asked = call.find(hold.before, spec.ask.of(call.language), spec.threshold)
            reason = call.find(hold.before, spec.reason.of(call.language), spec.threshold)
        if hold.after is not None:
            thanked = call.find(hold.after, spec.thank.of(call.language), spec.threshold)
        if asked is None or reason is None or thanked is None:
            passed = False
            evidence += [call.quote(i) for i in (hold.before, hold.after) if i is not None]
        else:
            evidence += [asked, reason, thanked]
    return RuleVerdict("hold_etiquette", "pass" if passed else "fail", evidence)


def _polite_phrases(call: _Call, rules: RuleSet) -> RuleVerdict:
    spec = rules.rules.polite_phrases
    phrases = spec.phrases.of(call.language)
    skip = spec.exceptions.of(call.language)
    counts = {i: count_phrases(call.normal[i], phrases, skip) for i in call.agent}
    total = sum(counts.values())
    quoted = [call.quote(i) for i, n in counts.items() if n][:5]
    verdict: Verdict = "pass" if total >= spec.minimum else "fail"
    return RuleVerdict(
        "polite_phrases", verdict, [*_figure(N_("Polite phrases: {count}"), count=total), *quoted]
    )


def _forbidden_phrases(call: _Call, rules: RuleSet) -> RuleVerdict:
    spec = rules.rules.forbidden_phrases
    phrases = spec.phrases.of(call.language)
    exceptions = spec.exceptions.of(call.language)
    hits: list[Evidence] = []
    for index in call.agent:
        normal = call.normal[index]
        # Exceptions match exactly and within one clause: a near miss of a benign phrase, or
        # one made up across a comma (不知道，您自己看吧), must not excuse a brush-off.
        text = call.transcript.turns[index].text
        excused = [
            hit
            for phrase in exceptions
            for hit in find_each(normal, phrase, 100)
            if not has_punctuation(text[hit.start : hit.end])
        ]
        for phrase in phrases:
            for hit in find_each(normal, phrase, spec.threshold):
                if not any(e.start <= hit.start and hit.end <= e.end for e in excused):
                    hits.append(call.quote_hit(index, hit))
    return RuleVerdict("forbidden_phrases", "fail" if hits else "pass", hits)


def _closing_question(call: _Call, rules: RuleSet) -> RuleVerdict:
    spec = rules.rules.closing_question
    last = call.agent[-spec.last_turns :]
    for index in reversed(last):
        found = call.find(index, spec.phrases.of(call.language), spec.threshold)
        if found is not None:
            return RuleVerdict("closing_question", "pass", [found])
    return RuleVerdict("closing_question", "fail", [call.quote(i) for i in last[-1:]])


def _thanks_goodbye(call: _Call, rules: RuleSet) -> RuleVerdict:
    spec = rules.rules.thanks_goodbye
    last = list(reversed(call.agent[-spec.last_turns :]))
    thanks = next(
        (e for i in last if (e := call.find(i, spec.thanks.of(call.language), spec.threshold))),
        None,
    )
    goodbye = next(
        (e for i in last if (e := call.find(i, spec.goodbye.of(call.language), spec.threshold))),
        None,
    )
    if thanks is not None and goodbye is not None:
        return RuleVerdict("thanks_goodbye", "pass", [thanks, goodbye])
    found = [e for e in (thanks, goodbye) if e is not None]
    return RuleVerdict("thanks_goodbye", "fail", found or [call.quote(i) for i in last[:1]])


def _customer_hangs_up_first(call: _Call, rules: RuleSet) -> RuleVerdict:
    by = call.facts.hangup_by or call.transcript.hangup_by
    if by is None:
        return RuleVerdict("customer_hangs_up_first", "na")
    verdict: Verdict = "pass" if by == "customer" else "fail"
    return RuleVerdict(
        "customer_hangs_up_first",
        verdict,
        _figure(N_("The customer hung up") if by == "customer" else N_("The agent hung up")),
    )


def _union_s(intervals: Sequence[tuple[float, float]]) -> float:
    """The time covered by the intervals, overlaps counted once."""
    total, reach = 0.0, 0.0
    for start, end in sorted(intervals):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def _speech(turns: Sequence[Turn], speaker: str) -> list[tuple[float, float]]:
    return [(t.start_s, t.end_s) for t in turns if t.speaker == speaker]


def _silence(call: _Call, rules: RuleSet) -> RuleVerdict:
    turns = call.transcript.turns
    duration = call.transcript.duration_s
    if duration <= 0:
        return RuleVerdict("silence", "na")
    spoken = _union_s([(t.start_s, t.end_s) for t in turns if t.speaker != "system"])
    held = _union_s([(t.start_s, t.end_s) for t in turns if t.speaker == "system"])
    share = max(0.0, duration - spoken - held) / duration
    verdict: Verdict = "pass" if share <= rules.rules.silence.max_share else "fail"
    return RuleVerdict(
        "silence",
        verdict,
        _figure(
            N_("Silent for {silent_share} of the call ({duration_s})"),
            silent_share=share,
            duration_s=duration,
        ),
    )


def _talk_over(call: _Call, rules: RuleSet) -> RuleVerdict:
    turns = call.transcript.turns
    agent, customer = _speech(turns, "agent"), _speech(turns, "customer")
    agent_s = _union_s(agent)
    if agent_s <= 0:
        return RuleVerdict("talk_over", "na")
    both = _union_s(agent) + _union_s(customer) - _union_s(agent + customer)
    share = both / agent_s
    verdict: Verdict = "pass" if share <= rules.rules.talk_over.max_share else "fail"
    return RuleVerdict(
        "talk_over",
        verdict,
        _figure(
            N_("Talking over the customer in {overlap_share} of the agent's speech"),
            overlap_share=share,
        ),
    )


def _speaking_rate(call: _Call, rules: RuleSet) -> RuleVerdict:
    spec = rules.rules.speaking_rate
    agent = call.agent
    seconds = _union_s(
        [(call.transcript.turns[i].start_s, call.transcript.turns[i].end_s) for i in agent]
    )
    if seconds < spec.min_speech_s:
        return RuleVerdict("speaking_rate", "na")
    if call.language == "zh":
        units = sum(len(call.normal[i].text) for i in agent)
        low, high = spec.zh
    else:
        units = sum(len(call.transcript.turns[i].text.split()) for i in agent)
        low, high = spec.en
    rate = units / (seconds / 60)
    verdict: Verdict = "pass" if low <= rate <= high else "fail"
    return RuleVerdict(
        "speaking_rate",
        verdict,
        _figure(
            N_("{rate} characters a minute (expected {low}–{high})")
            if call.language == "zh"
            else N_("{rate} words a minute (expected {low}–{high})"),
            rate=round(rate),
            low=low,
            high=high,
        ),
    )


JUDGES: dict[str, Callable[[_Call, RuleSet], RuleVerdict]] = {
    "greeting": _greeting,
    "answer_speed": _answer_speed,
    "late_apology": _late_apology,
    "hold_etiquette": _hold_etiquette,
    "polite_phrases": _polite_phrases,
    "forbidden_phrases": _forbidden_phrases,
    "closing_question": _closing_question,
    "thanks_goodbye": _thanks_goodbye,
    "customer_hangs_up_first": _customer_hangs_up_first,
    "silence": _silence,
    "talk_over": _talk_over,
    "speaking_rate": _speaking_rate,
}


@dataclass(frozen=True)
class CallJudgement:
    """Every rule's verdict on a call and the call's score (None: no rule applied)."""

    verdicts: list[RuleVerdict]
    score: float | None


def judge_call(transcript: Transcript, facts: CallFacts, rules: RuleSet) -> CallJudgement:
    """Every rule's verdict, and autoqa_score: the weighted share of applicable rules passed
    (0-100)."""
    call = _Call.prepare(transcript, facts)
    verdicts = [JUDGES[rule_id](call, rules) for rule_id in RULE_IDS]
    applicable = [(v, rules.weight(v.rule)) for v in verdicts if v.verdict != "na"]
    total = sum(weight for _, weight in applicable)
    passed = sum(weight for v, weight in applicable if v.verdict == "pass")
    return CallJudgement(verdicts, 100.0 * passed / total if total > 0 else None)
