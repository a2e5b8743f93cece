"""Grading one response to one question, the way Moodle's question types do, without a database.

A response is the JSON value the attempt page posts and the attempt stores, one shape per type
(in brackets: what counts as blank, i.e. unanswered):
- single_choice: `int`, an index into `question.choices` [`None`].
- multiple_choice: `list[int]`, indices into `question.choices`, any order, each once [`[]`].
- true_false: `bool` [`None`].
- short_answer, numerical (see `parse_number`), essay: `str` as typed [`None`, blank text].
- matching: `{"<pair index>": <answer index>}`. The key is the index in `question.pairs` of a
  pair that has a prompt, as a string (JSON keys are strings); the value indexes
  `match_answers(question)`. A prompt left out, or mapped to `null`, is not answered [`{}`].
- ordering: `list[int]`, every index into `question.order` once, in the order the agent put
  the items [`None`, `[]`].
- description: `None` only.

Rules, each as Moodle applies it:
- single choice: the chosen option's fraction, negative ones included (qtype_multichoice single).
- multiple choice: the sum of the chosen options' fractions, clamped to [0, 1]
  (qtype_multichoice_multi_question).
- true/false: 1 for the right answer, else 0.
- short answer: whitespace at either end is ignored and inner runs of whitespace count as one
  space; case is ignored unless `case_sensitive`; full-width and half-width forms are the same
  (NFKC of each full-/half-width character) unless `width_sensitive`. In an accepted answer `*`
  matches any text (empty too) and `\\*` is a literal asterisk (qtype_shortanswer's wildcard).
  The response earns the best fraction among the answers it matches. Moodle takes the first
  match in the author's order instead; the two differ only when a lower-scored pattern comes
  before a higher-scored one, where the best match is what the author meant.
- numerical: the first answer, in order, with |x - value| <= tolerance gives its fraction; a
  number no answer accepts gets the catch-all's fraction (`value` None), else 0.
- matching: the share of prompts matched to their answer (qtype_match). Answers with the same
  text are one answer, shown once, so choosing that text is right for every prompt it belongs to.
- ordering: qtype_ordering's "absolute position" grading: the share of items in their right
  position.
- essay: waits for a trainer (`needs_grading`, no fraction yet); description: `no_mark`.

The state follows Moodle's `graded_state_for_fraction`: fraction > 0.999999 is right, below
0.000001 wrong, partial between. A blank response is `unanswered` and scores 0, so an attempt's
sum needs no special case. The feedback is what the chosen options, answers or true/false value
carry; general feedback and the explanation belong to the question and show whatever the
response.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from agentladder.i18n import N_
from agentladder.training.questions.schemas import ANY_RESPONSE, Question, QuestionType

GradeState = Literal["right", "partial", "wrong", "unanswered", "needs_grading", "no_mark"]

# Moodle's question_state::graded_state_for_fraction thresholds.
_RIGHT_ABOVE = 0.999999
_WRONG_BELOW = 0.000001


@dataclass(frozen=True)
class Grade:
    """The share of the question's mark a response earned (None: no mark yet, or none at all),
    its state, and the feedback texts the response earns."""

    fraction: float | None
    state: GradeState
    feedback: tuple[str, ...] = ()


UNANSWERED = Grade(fraction=0.0, state="unanswered")


def grade_response(question: Question, response: object) -> Grade:
    """Grade a response; raises ValueError (with a msgid) for a malformed one."""
    problem = check_response(question, response)
    if problem is not None:
        raise ValueError(problem)
    if question.type == "description":
        return Grade(fraction=None, state="no_mark")
    if is_blank(response):
        return UNANSWERED
    if question.type == "essay":
        return Grade(fraction=None, state="needs_grading")
    return _GRADERS[question.type](question, response)


def check_response(question: Question, response: object) -> str | None:
    """Why a response cannot be a response to this question (a msgid), or None; never raises."""
    if question.type == "description":
        return None if response is None else N_("a description takes no response")
    if response is None:
        return None
    return _CHECKS[question.type](question, response)


def is_blank(response: object) -> bool:
    """Whether a well-formed response says nothing: null, blank text, an empty list or map, or
    a map of nulls."""
    if response is None:
        return True
    if isinstance(response, str):
        return not response.strip()
    if isinstance(response, list | tuple):
        return not response
    if isinstance(response, dict):
        return all(value is None for value in response.values())
    return False


def random_guess_score(question: Question) -> float | None:
    """The fraction a random guess earns on average (Moodle's `get_random_guess_score`)."""
    kind = question.type
    if kind == "single_choice":
        return sum(choice.fraction for choice in question.choices) / len(question.choices)
    if kind in ("multiple_choice", "description"):
        return None
    if kind == "true_false":
        return 0.5
    if kind == "matching":
        return 1 / len(match_answers(question))
    if kind == "short_answer":
        # qtype_shortanswer: an answer that is just `*` is what any guess earns.
        return next(
            (c.fraction for c in question.choices if c.text.strip() == ANY_RESPONSE),
            0.0,
        )
    if kind == "numerical":
        # qtype_numerical: the catch-all's fraction (no units here, so no unit penalty).
        return next((a.fraction for a in question.numeric_answers if a.value is None), 0.0)
    return 0.0  # ordering, essay: Moodle's base class


def right_response(question: Question) -> object:
    """A response that earns the question's `max_fraction` (None for essay and description)."""
    kind = question.type
    if kind == "single_choice":
        return max(range(len(question.choices)), key=lambda i: question.choices[i].fraction)
    if kind == "multiple_choice":
        return [i for i, choice in enumerate(question.choices) if choice.fraction > 0]
    if kind == "true_false":
        return question.correct_answer
    if kind == "short_answer":
        best = max(question.choices, key=lambda choice: choice.fraction)
        return best.text.replace("\\*", "*")
    if kind == "numerical":
        best_number = max(question.numeric_answers, key=lambda answer: answer.fraction)
        if best_number.value is not None:
            return repr(best_number.value)
        # The catch-all pays best: a number above every accepted interval.
        ends = [a.value + a.tolerance for a in question.numeric_answers if a.value is not None]
        return repr(max(ends) + 1)
    if kind == "matching":
        answers = match_answers(question)
        return {
            str(i): answers.index(pair.answer)
            for i, pair in enumerate(question.pairs)
            if pair.prompt
        }
    if kind == "ordering":
        return list(range(len(question.order)))
    return None


def match_answers(question: Question) -> tuple[str, ...]:
    """The answers a matching question offers: each text once, in the order of the pairs,
    distractors included. A matching response's values index this tuple; the page may show it
    shuffled as long as it posts these indices."""
    return tuple(dict.fromkeys(pair.answer for pair in question.pairs))


# Numbers -----------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DIGITS_AFTER_COMMA = re.compile(r",([0-9]*)")
_NOT_A_NUMBER = N_("write a number, such as 12 or 1.5")
_THOUSANDS = N_("write the number without thousands separators")
_AMBIGUOUS_COMMA = N_("a comma followed by three digits is ambiguous: write 1500 or 1.5")


def parse_number(text: str) -> float:
    """The number an agent typed; raises ValueError with a msgid when it is not one.

    Full-width digits, signs and points count as their ASCII forms ("１．５" is 1.5), as does
    the minus sign U+2212. A comma is read as the decimal separator only when it cannot be a
    thousands separator: one comma, no point, and not followed by exactly three digits ("1,5"
    and "1,25" are 1.5 and 1.25; "1,500" is refused as ambiguous; "1,234.5" and "1,234,567" are
    refused as thousands separators). No thousands separators are accepted, so a number has one
    reading only. Infinity and NaN are not numbers here."""
    folded = fold_width(text).strip().replace("\u2212", "-")
    if "," in folded:
        if "." in folded or folded.count(",") > 1:
            raise ValueError(_THOUSANDS)
        after = _DIGITS_AFTER_COMMA.search(folded)
        if after is not None and len(after.group(1)) == 3:
            raise ValueError(_AMBIGUOUS_COMMA)
        folded = folded.replace(",", ".")
    if not _NUMBER.fullmatch(folded):
        raise ValueError(_NOT_A_NUMBER)
    value = float(folded)
    if not math.isfinite(value):
        raise ValueError(_NOT_A_NUMBER)
    return value


# Text comparison ----------------------------------------------------------------------------

_WILDCARD = re.compile(r"(?<!\\)\*+")  # a run of unescaped asterisks is one wildcard


def fold_width(text: str) -> str:
    """Full-width and half-width characters in their ordinary form (ＡＢＣ１２３ → ABC123,
    "，" → ","), everything else unchanged."""
    return "".join(
        unicodedata.normalize("NFKC", ch) if unicodedata.east_asian_width(ch) in "FH" else ch
        for ch in text
    )


def _fold(text: str, question: Question) -> str:
    """Width and case folded, unless the question says they matter."""
    if not question.width_sensitive:
        text = fold_width(text)
    if not question.case_sensitive:
        text = text.casefold()
    return text


def _normalise(text: str, question: Question) -> str:
    """A text as short answers compare it: NFC, trimmed, inner whitespace one space, folded."""
    return _fold(" ".join(unicodedata.normalize("NFC", text).split()), question)


def _answer_pattern(answer: str, question: Question) -> re.Pattern[str]:
    """An accepted answer as a regular expression over `_padded` responses: each run of
    unescaped `*` matches anything. A wildcard with a space on both sides may also match nothing
    ("a * b" accepts "a b"; "a *" accepts "a"), since a response's spaces were collapsed."""
    spaced = _padded(" ".join(unicodedata.normalize("NFC", answer).split()))
    bits = [_fold(bit.replace("\\*", "*"), question) for bit in _WILDCARD.split(spaced)]
    regex = re.escape(bits[0])
    for before, bit in itertools.pairwise(bits):
        if before.endswith(" ") and bit.startswith(" "):
            regex += "(?:.* )?" + re.escape(bit[1:])
        else:
            regex += ".*" + re.escape(bit)
    return re.compile(regex, re.DOTALL)


def _padded(text: str) -> str:
    """One space at either end, so a wildcard at the start or end is one between spaces."""
    return f" {text} "


# Checks, one per type ----------------------------------------------------------------------


def _is_index(value: object, size: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < size


def _check_single(question: Question, response: object) -> str | None:
    if not isinstance(response, int) or isinstance(response, bool):
        return N_("a single-choice response is the index of one option")
    if not _is_index(response, len(question.choices)):
        return N_("the chosen option does not exist")
    return None


def _check_multiple(question: Question, response: object) -> str | None:
    if not isinstance(response, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in response
    ):
        return N_("a multiple-choice response is a list of option indices")
    if not all(_is_index(i, len(question.choices)) for i in response):
        return N_("the chosen option does not exist")
    if len(set(response)) != len(response):
        return N_("an option is chosen twice")
    return None


def _check_true_false(question: Question, response: object) -> str | None:
    return None if isinstance(response, bool) else N_("a true/false response is true or false")


def _check_text(question: Question, response: object) -> str | None:
    return None if isinstance(response, str) else N_("the response must be text")


def _check_numerical(question: Question, response: object) -> str | None:
    if not isinstance(response, str):
        return N_("the response must be text")
    if not response.strip():
        return None
    try:
        parse_number(response)
    except ValueError as error:
        return str(error)
    return None


def _check_matching(question: Question, response: object) -> str | None:
    if not isinstance(response, dict):
        return N_("a matching response maps prompts to answers")
    prompts = {str(i) for i, pair in enumerate(question.pairs) if pair.prompt}
    answers = len(match_answers(question))
    for key, value in response.items():
        if key not in prompts:
            return N_("the prompt does not exist")
        if value is not None and not _is_index(value, answers):
            return N_("the chosen answer does not exist")
    return None


def _check_ordering(question: Question, response: object) -> str | None:
    if response == []:
        return None
    if not isinstance(response, list) or sorted(
        i if isinstance(i, int) and not isinstance(i, bool) else -1 for i in response
    ) != list(range(len(question.order))):
        return N_("an ordering response lists every item once")
    return None


_CHECKS: dict[QuestionType, Callable[[Question, object], str | None]] = {
    "single_choice": _check_single,
    "multiple_choice": _check_multiple,
    "true_false": _check_true_false,
    "short_answer": _check_text,
    "numerical": _check_numerical,
    "matching": _check_matching,
    "ordering": _check_ordering,
    "essay": _check_text,
}


# Graders, one per type (the response is checked and not blank) ----------------------------


def _graded(fraction: float, feedback: tuple[str, ...] = ()) -> Grade:
    if fraction > _RIGHT_ABOVE:
        state: GradeState = "right"
    elif fraction < _WRONG_BELOW:
        state = "wrong"
    else:
        state = "partial"
    return Grade(fraction=fraction, state=state, feedback=tuple(text for text in feedback if text))


def _grade_single(question: Question, response: object) -> Grade:
    assert isinstance(response, int)
    choice = question.choices[response]
    return _graded(choice.fraction, (choice.feedback,))


def _grade_multiple(question: Question, response: object) -> Grade:
    assert isinstance(response, list)
    # Summed in the options' order, so the order the agent clicked in cannot change the float.
    chosen = [question.choices[i] for i in sorted(response)]
    total = sum(choice.fraction for choice in chosen)
    return _graded(max(0.0, min(1.0, total)), tuple(choice.feedback for choice in chosen))


def _grade_true_false(question: Question, response: object) -> Grade:
    feedback = question.true_feedback if response else question.false_feedback
    return _graded(1.0 if response == question.correct_answer else 0.0, (feedback,))


def _grade_short_answer(question: Question, response: object) -> Grade:
    assert isinstance(response, str)
    typed = _padded(_normalise(response, question))
    matches = [c for c in question.choices if _answer_pattern(c.text, question).fullmatch(typed)]
    if not matches:
        return _graded(0.0)
    best = max(matches, key=lambda choice: choice.fraction)
    return _graded(best.fraction, (best.feedback,))


def _grade_numerical(question: Question, response: object) -> Grade:
    assert isinstance(response, str)
    number = parse_number(response)
    for answer in question.numeric_answers:
        if answer.value is not None and _within(number, answer.value, answer.tolerance):
            return _graded(answer.fraction, (answer.feedback,))
    for answer in question.numeric_answers:
        if answer.value is None:
            return _graded(answer.fraction, (answer.feedback,))
    return _graded(0.0)


def _within(number: float, value: float, tolerance: float) -> bool:
    """|number - value| <= tolerance, with room for the float error of writing them in binary:
    1.6 is within 0.1 of 1.5 though 1.6 - 1.5 > 0.1 in floats. (Moodle adds 10^-precision to
    the tolerance for the same reason, MDL-3225.)"""
    slack = 1e-12 * max(1.0, abs(value), tolerance)
    return abs(number - value) <= tolerance + slack


def _grade_matching(question: Question, response: object) -> Grade:
    assert isinstance(response, dict)
    answers = match_answers(question)
    prompts = [(str(i), pair) for i, pair in enumerate(question.pairs) if pair.prompt]
    right = sum(
        1
        for key, pair in prompts
        if response.get(key) is not None and answers[response[key]] == pair.answer
    )
    return _graded(right / len(prompts))


def _grade_ordering(question: Question, response: object) -> Grade:
    assert isinstance(response, list)
    # Items with the same text are interchangeable: compare texts, not indices.
    in_place = sum(
        1 for i, item in enumerate(response) if question.order[item] == question.order[i]
    )
    return _graded(in_place / len(question.order))


_GRADERS: dict[QuestionType, Callable[[Question, object], Grade]] = {
    "single_choice": _grade_single,
    "multiple_choice": _grade_multiple,
    "true_false": _grade_true_false,
    "short_answer": _grade_short_answer,
    "numerical": _grade_numerical,
    "matching": _grade_matching,
    "ordering": _grade_ordering,
}
