"""The question editor's form: a question as the fields a trainer types (marks in percent, the
category as a path, tags separated by commas, rows of options), read back into a `Question`
with every problem named by the field it concerns, so the page shows it there and keeps what
was typed.

Rows left empty are dropped; the rest keep their place, so a problem of the third option
is shown beside the third option whatever the empty rows above it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from agentladder.i18n import N_
from agentladder.training.questions.schemas import (
    QUESTION_TYPES,
    Image,
    Question,
    QuestionType,
    parse_category_path,
)
from agentladder.validation import validation_problems

NOT_A_NUMBER = N_("must be a number")
PERCENT_RANGE = N_("must be between -100 and 100")
# Rows offered beyond those filled, so a trainer without JavaScript can still add some.
SPARE_ROWS = 2
_TAG_SEPARATORS = re.compile(r"[,，、;；]")


@dataclass
class ChoiceRow:
    """An option (or a short answer's accepted answer): text, share of the mark in percent."""

    text: str = ""
    percent: str = "0"
    feedback: str = ""
    text_format: str = ""  # as stored (an imported option may differ from its question)

    @property
    def blank(self) -> bool:
        return not self.text.strip() and not self.feedback.strip()


@dataclass
class NumberRow:
    """An accepted number; an empty value with feedback is the reply to any other number."""

    value: str = ""
    tolerance: str = "0"
    percent: str = "100"
    feedback: str = ""

    @property
    def blank(self) -> bool:
        return not self.value.strip() and not self.feedback.strip()


@dataclass
class PairRow:
    """A matching prompt and its answer; no prompt: the answer is a distractor."""

    prompt: str = ""
    answer: str = ""

    @property
    def blank(self) -> bool:
        return not self.prompt.strip() and not self.answer.strip()


@dataclass
class QuestionForm:
    """What the editor shows and reads back, as typed."""

    type: QuestionType
    name: str = ""
    text: str = ""
    text_format: str = "moodle"
    category: str = ""
    idnumber: str = ""
    tags: str = ""
    difficulty: str = ""
    default_mark: str = "1"
    general_feedback: str = ""
    explanation: str = ""
    choices: list[ChoiceRow] = field(default_factory=list)
    shuffle_choices: bool = True
    correct_answer: str = ""  # "true", "false" or ""
    true_feedback: str = ""
    false_feedback: str = ""
    case_sensitive: bool = False
    width_sensitive: bool = False
    numbers: list[NumberRow] = field(default_factory=list)
    pairs: list[PairRow] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    response_template: str = ""
    grader_info: str = ""
    images: tuple[Image, ...] = ()  # kept as stored: the editor does not change pictures

    def with_spare_rows(self) -> QuestionForm:
        """The form with empty rows to fill after the filled ones (at least a few options)."""

        def spare(rows: Sequence[Any], make: Callable[[], Any], least: int) -> list[Any]:
            # Empty rows at the end (a form sent back) give way to the spares: no growth.
            filled = list(rows)
            while filled and _is_blank(filled[-1]):
                filled.pop()
            return filled + [make() for _ in range(max(SPARE_ROWS, least - len(filled)))]

        return replace(
            self,
            choices=spare(self.choices, ChoiceRow, 4),
            numbers=spare(self.numbers, NumberRow, 2),
            pairs=spare(self.pairs, PairRow, 4),
            order=spare(self.order, str, 4),
        )


# The fields and row groups as the editor labels them (msgids), by the first part of a key.
FIELD_LABELS = {
    "name": N_("Question name"),
    "text": N_("Question text"),
    "text_format": N_("Text format"),
    "category": N_("Category"),
    "idnumber": N_("ID number"),
    "tags": N_("Tags"),
    "difficulty": N_("Difficulty"),
    "default_mark": N_("Default mark"),
    "general_feedback": N_("General feedback"),
    "explanation": N_("Explanation (解析)"),
    "correct_answer": N_("Right answer"),
    "choices": N_("Options"),
    "numbers": N_("Accepted numbers"),
    "pairs": N_("Pairs"),
    "order": N_("Items in the right order"),
    "response_template": N_("Response template"),
    "grader_info": N_("Information for graders"),
}


@dataclass(frozen=True)
class FormProblem:
    """A problem with the form: the field key (`name`, `choices.2.percent`, "" for the whole
    question) and a msgid with its params."""

    key: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str | None:
        """The msgid naming the field or row group, None for the whole question."""
        return FIELD_LABELS.get(self.key.split(".")[0]) if self.key else None

    @property
    def row(self) -> int | None:
        """The row (from 1) of a problem in a row of options, numbers, pairs or items."""
        parts = self.key.split(".")
        return int(parts[1]) + 1 if len(parts) > 1 and parts[1].isdigit() else None


def category_text(path: Sequence[str]) -> str:
    """A category path as the editor shows it (`产品知识 / 宽带`); a slash in a name doubled."""
    return " / ".join(name.replace("/", "//") for name in path)


def _number(value: float) -> str:
    # The shortest text that reads back as the same float: saving an untouched form changes
    # nothing.
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def _percent(fraction: float) -> str:
    return f"{round(fraction * 100, 5):g}"


def form_of(question: Question) -> QuestionForm:
    """The editor's fields for a stored question."""
    answer = "" if question.correct_answer is None else str(question.correct_answer).lower()
    return QuestionForm(
        type=question.type,
        name=question.name,
        text=question.text,
        text_format=question.text_format,
        category=category_text(question.category),
        idnumber=question.idnumber or "",
        tags=", ".join(question.tags),
        difficulty=question.difficulty or "",
        default_mark=_number(question.default_mark),
        general_feedback=question.general_feedback,
        explanation=question.explanation,
        choices=[
            ChoiceRow(c.text, _percent(c.fraction), c.feedback, c.text_format)
            for c in question.choices
        ],
        shuffle_choices=question.shuffle_choices,
        correct_answer=answer,
        true_feedback=question.true_feedback,
        false_feedback=question.false_feedback,
        case_sensitive=question.case_sensitive,
        width_sensitive=question.width_sensitive,
        numbers=[
            NumberRow(
                "" if a.value is None else _number(a.value),
                _number(a.tolerance),
                _percent(a.fraction),
                a.feedback,
            )
            for a in question.numeric_answers
        ],
        pairs=[PairRow(p.prompt, p.answer) for p in question.pairs],
        order=list(question.order),
        response_template=question.response_template,
        grader_info=question.grader_info,
        images=question.images,
    )


def new_form(kind: QuestionType) -> QuestionForm:
    """An empty editor for a new question of a type (a true/false question starts at true)."""
    return QuestionForm(type=kind, correct_answer="true" if kind == "true_false" else "")


FormGetter = Callable[[str], list[str]]


def read_form(
    kind: QuestionType, values: FormGetter, images: tuple[Image, ...] = ()
) -> QuestionForm:
    """The fields as posted (`values(name)`: every value sent under that name), as typed."""

    def each(name: str) -> list[str]:
        # Browsers send a text area's line breaks as CRLF.
        return [value.replace("\r\n", "\n") for value in values(name)]

    def one(name: str, default: str = "") -> str:
        found = each(name)
        return found[0] if found else default

    def column(name: str, length: int) -> list[str]:
        found = each(name)
        return [*found, *[""] * (length - len(found))][:length]

    texts = each("choice_text")
    choice_cells = zip(
        texts,
        column("choice_percent", len(texts)),
        column("choice_feedback", len(texts)),
        column("choice_format", len(texts)),
        strict=True,
    )
    numbers = each("number_value")
    number_cells = zip(
        numbers,
        column("number_tolerance", len(numbers)),
        column("number_percent", len(numbers)),
        column("number_feedback", len(numbers)),
        strict=True,
    )
    prompts = each("pair_prompt")
    return QuestionForm(
        type=kind,
        name=one("name"),
        text=one("text"),
        text_format=one("text_format", "moodle"),
        category=one("category"),
        idnumber=one("idnumber"),
        tags=one("tags"),
        difficulty=one("difficulty"),
        default_mark=one("default_mark", "1"),
        general_feedback=one("general_feedback"),
        explanation=one("explanation"),
        choices=[ChoiceRow(*cells) for cells in choice_cells],
        shuffle_choices=one("shuffle_choices") == "true",
        correct_answer=one("correct_answer"),
        true_feedback=one("true_feedback"),
        false_feedback=one("false_feedback"),
        case_sensitive=one("case_sensitive") == "true",
        width_sensitive=one("width_sensitive") == "true",
        numbers=[NumberRow(*cells) for cells in number_cells],
        pairs=[
            PairRow(p, a) for p, a in zip(prompts, column("pair_answer", len(prompts)), strict=True)
        ],
        order=each("order_item"),
        response_template=one("response_template"),
        grader_info=one("grader_info"),
        images=images,
    )


class _Reader:
    """Turns the typed numbers into values, noting each that is not one."""

    def __init__(self) -> None:
        self.problems: list[FormProblem] = []

    def number(self, key: str, text: str, default: float | None = None) -> float | None:
        cleaned = text.strip().replace("，", ".").replace("％", "").replace("%", "")
        if not cleaned and default is not None:
            return default
        try:
            value = float(cleaned)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            self.problems.append(FormProblem(key, NOT_A_NUMBER))
            return None
        return value

    def fraction(self, key: str, text: str) -> float:
        percent = self.number(key, text, default=0.0)
        if percent is None:
            return 0.0
        if not -100 <= percent <= 100:
            self.problems.append(FormProblem(key, PERCENT_RANGE))
            return 0.0
        return round(percent / 100, 7)


def _is_blank(row: Any) -> bool:
    return not row.strip() if isinstance(row, str) else bool(row.blank)


def _kept(rows: Sequence[Any]) -> list[tuple[int, Any]]:
    return [(index, row) for index, row in enumerate(rows) if not row.blank]


def to_question(form: QuestionForm) -> tuple[Question | None, list[FormProblem]]:
    """The question the form describes, or None and every problem found."""
    reader = _Reader()
    kind = form.type
    data: dict[str, Any] = {
        "type": kind,
        "name": form.name.strip(),
        "text": form.text,
        "text_format": form.text_format,
        "category": parse_category_path(form.category),
        "idnumber": form.idnumber.strip() or None,
        "tags": tuple(t.strip() for t in _TAG_SEPARATORS.split(form.tags) if t.strip()),
        "difficulty": form.difficulty or None,
        "default_mark": reader.number("default_mark", form.default_mark, default=1.0),
        "general_feedback": form.general_feedback,
        "explanation": form.explanation,
        "images": form.images,
    }
    # Where each model row came from: pydantic names rows by their place among those kept.
    rows: dict[str, list[int]] = {}
    if kind in ("single_choice", "multiple_choice", "short_answer"):
        kept = _kept(form.choices)
        rows["choices"] = [index for index, _row in kept]
        data["choices"] = [
            {
                "text": row.text,
                "fraction": reader.fraction(f"choices.{index}.percent", row.percent),
                "feedback": row.feedback,
                "text_format": row.text_format or form.text_format,
            }
            for index, row in kept
        ]
    if kind in ("single_choice", "multiple_choice"):
        data["shuffle_choices"] = form.shuffle_choices
    if kind == "true_false":
        data["correct_answer"] = {"true": True, "false": False}.get(form.correct_answer)
        data["true_feedback"] = form.true_feedback
        data["false_feedback"] = form.false_feedback
    if kind == "short_answer":
        data["case_sensitive"] = form.case_sensitive
        data["width_sensitive"] = form.width_sensitive
    if kind == "numerical":
        kept = _kept(form.numbers)
        rows["numeric_answers"] = [index for index, _row in kept]
        data["numeric_answers"] = [
            {
                "value": reader.number(f"numbers.{index}.value", row.value)
                if row.value.strip()
                else None,
                "tolerance": reader.number(f"numbers.{index}.tolerance", row.tolerance, 0.0),
                "fraction": reader.fraction(f"numbers.{index}.percent", row.percent),
                "feedback": row.feedback,
            }
            for index, row in kept
        ]
    if kind == "matching":
        kept = _kept(form.pairs)
        rows["pairs"] = [index for index, _row in kept]
        data["pairs"] = [{"prompt": row.prompt, "answer": row.answer} for _i, row in kept]
    if kind == "ordering":
        kept_items = [(index, item) for index, item in enumerate(form.order) if item.strip()]
        rows["order"] = [index for index, _item in kept_items]
        data["order"] = [item for _index, item in kept_items]
    if kind == "essay":
        data["response_template"] = form.response_template
        data["grader_info"] = form.grader_info
    if reader.problems:
        return None, reader.problems
    try:
        return Question.model_validate(data), []
    except ValidationError as exc:
        return None, [
            _form_problem(problem.loc, problem.message, problem.params, rows)
            for problem in validation_problems(exc)
        ]


_FORM_NAMES = {
    "choices": "choices",
    "numeric_answers": "numbers",
    "pairs": "pairs",
    "order": "order",
}
_FIELD_NAMES = {"fraction": "percent"}


def _form_problem(
    loc: tuple[int | str, ...],
    message: str,
    params: dict[str, Any],
    rows: Mapping[str, list[int]],
) -> FormProblem:
    if not loc:
        return FormProblem("", message, params)
    head, *rest = loc
    if head not in _FORM_NAMES:
        return FormProblem(str(head), message, params)
    parts = [_FORM_NAMES[str(head)]]
    if rest and isinstance(rest[0], int):
        kept = rows.get(str(head), [])
        parts.append(str(kept[rest[0]] if rest[0] < len(kept) else rest[0]))
        parts += [_FIELD_NAMES.get(str(part), str(part)) for part in rest[1:]]
    return FormProblem(".".join(parts), message, params)


def is_question_type(value: str) -> bool:
    """Whether `value` names a type of the bank."""
    return value in QUESTION_TYPES
