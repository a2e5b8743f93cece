"""A question as the bank keeps it, whatever format it came in: one shape for GIFT, Moodle
XML and the XLSX template, for the editor, for grading and for export.

Marks are shares of the question's mark (`fraction`, -1..1), as Moodle stores them; a
question's `default_mark` is its mark in an exam unless the exam's slot says otherwise.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agentladder.i18n import N_

QuestionType = Literal[
    "single_choice",
    "multiple_choice",
    "true_false",
    "short_answer",
    "numerical",
    "matching",
    "ordering",
    "essay",
    "description",
]
QUESTION_TYPES: tuple[QuestionType, ...] = (
    "single_choice",
    "multiple_choice",
    "true_false",
    "short_answer",
    "numerical",
    "matching",
    "ordering",
    "essay",
    "description",
)
# The types an attempt cannot score by itself: an essay waits for a trainer, a description
# carries no mark.
MANUALLY_GRADED: frozenset[QuestionType] = frozenset({"essay"})
UNGRADED: frozenset[QuestionType] = frozenset({"description"})

TextFormat = Literal["moodle", "html", "plain", "markdown"]
Difficulty = Literal["easy", "medium", "hard"]
DIFFICULTIES: tuple[Difficulty, ...] = ("easy", "medium", "hard")

# A short answer or choice whose text is exactly this matches any response (GIFT's `*`).
ANY_RESPONSE = "*"


def clean_path(path: Iterable[str]) -> tuple[str, ...]:
    """A category path without empty segments or surrounding spaces."""
    return tuple(part.strip() for part in path if part and part.strip())


def parse_category_path(text: str) -> tuple[str, ...]:
    """`产品知识/宽带/资费` (or `>` between names, as some banks write) as a path; `//` keeps
    a slash inside a name, as GIFT does."""
    placeholder = "\x00"
    parts = text.replace("//", placeholder).replace(">", "/").split("/")
    return clean_path(part.replace(placeholder, "/") for part in parts)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(_Frozen):
    """An option of a choice question, or an accepted answer of a short-answer question."""

    text: str
    fraction: float = Field(ge=-1, le=1)  # share of the question's mark; negative: a penalty
    feedback: str = ""
    text_format: TextFormat = "moodle"


class NumericAnswer(_Frozen):
    """An accepted number: `value` ± `tolerance` (absolute); `value` None is the catch-all
    that any other number gets (GIFT's `~#feedback`)."""

    value: float | None
    tolerance: float = Field(default=0, ge=0)
    fraction: float = Field(default=1, ge=-1, le=1)
    feedback: str = ""


class MatchPair(_Frozen):
    """A prompt and its answer; an empty prompt adds the answer as a distractor."""

    prompt: str
    answer: str


class Image(_Frozen):
    """A picture the question's text shows, embedded (Moodle's `@@PLUGINFILE@@/name`)."""

    name: str = Field(min_length=1, max_length=200)
    media_type: str = Field(min_length=1, max_length=80)
    data_base64: str


class Question(_Frozen):
    """One question: its text, type, answers and feedback, where it files, and how it is
    marked. Only the fields of its type are filled; `check_shape` says what each type needs."""

    type: QuestionType
    name: str = Field(min_length=1, max_length=255)
    text: str
    text_format: TextFormat = "moodle"
    category: tuple[str, ...] = ()  # the category path under the bank's top, outermost first
    idnumber: str | None = Field(default=None, max_length=100)
    tags: tuple[str, ...] = ()
    difficulty: Difficulty | None = None
    default_mark: float = Field(default=1, ge=0)
    general_feedback: str = ""
    explanation: str = ""  # 解析: why the answer is right, shown in the review
    # single_choice, multiple_choice; short_answer's accepted answers
    choices: tuple[Choice, ...] = ()
    shuffle_choices: bool = True
    # true_false: the right answer and what an agent who chose True / False reads
    correct_answer: bool | None = None
    true_feedback: str = ""
    false_feedback: str = ""
    # short_answer
    case_sensitive: bool = False
    width_sensitive: bool = False  # full-width and half-width letters and digits differ
    numeric_answers: tuple[NumericAnswer, ...] = ()
    pairs: tuple[MatchPair, ...] = ()
    order: tuple[str, ...] = ()  # ordering: the items in the right order
    # essay: the box's starting text and the trainer's marking guide
    response_template: str = ""
    grader_info: str = ""
    images: tuple[Image, ...] = ()

    @model_validator(mode="after")
    def check_shape(self) -> Question:
        """What every type needs (msgids name the problem; the importers report them)."""
        problem = shape_problem(self)
        if problem is not None:
            raise ValueError(problem)
        return self

    def content_hash(self) -> str:
        """The sha256 of the question's content (its category left out: moving a question
        does not change it)."""
        content = self.model_dump(mode="json", exclude={"category"})
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def max_fraction(self) -> float:
        """The best share of the mark a response can earn (1 for a well-made question)."""
        if self.type == "multiple_choice":
            return min(1.0, sum(choice.fraction for choice in self.choices if choice.fraction > 0))
        if self.type in ("single_choice", "short_answer"):
            return max((choice.fraction for choice in self.choices), default=0.0)
        if self.type == "numerical":
            return max((answer.fraction for answer in self.numeric_answers), default=0.0)
        if self.type == "description":
            return 0.0
        return 1.0


def shape_problem(question: Question) -> str | None:
    """Why the question cannot be used as written (an English msgid), or None."""
    kind = question.type
    if kind in ("single_choice", "multiple_choice") and len(question.choices) < 2:
        return N_("a choice question needs at least two options")
    if kind == "single_choice" and not any(c.fraction > 0 for c in question.choices):
        return N_("a single-choice question needs a right option")
    if kind == "multiple_choice" and sum(c.fraction for c in question.choices if c.fraction > 0) < (
        0.999
    ):
        return N_("the right options of a multiple-choice question must add up to the whole mark")
    if kind == "true_false" and question.correct_answer is None:
        return N_("a true/false question needs its answer")
    if kind == "short_answer" and not any(c.fraction > 0 for c in question.choices):
        return N_("a short-answer question needs an accepted answer")
    if kind == "numerical" and not any(
        a.value is not None and a.fraction > 0 for a in question.numeric_answers
    ):
        return N_("a numerical question needs an accepted number")
    if kind == "matching":
        prompts = [pair for pair in question.pairs if pair.prompt]
        if len(prompts) < 2:
            return N_("a matching question needs two prompts at least")
    if kind == "ordering" and len(question.order) < 2:
        return N_("an ordering question needs two items at least")
    return None


# Names the pages show (msgids).
QUESTION_TYPE_NAMES: dict[QuestionType, str] = {
    "single_choice": N_("Single choice"),
    "multiple_choice": N_("Multiple choice"),
    "true_false": N_("True/false"),
    "short_answer": N_("Short answer"),
    "numerical": N_("Numerical"),
    "matching": N_("Matching"),
    "ordering": N_("Ordering"),
    "essay": N_("Essay"),
    "description": N_("Description"),
}
DIFFICULTY_NAMES: dict[Difficulty, str] = {
    "easy": N_("Easy"),
    "medium": N_("Medium"),
    "hard": N_("Hard"),
}
TEXT_FORMAT_NAMES: dict[TextFormat, str] = {
    "moodle": N_("Moodle auto-format"),
    "html": N_("HTML"),
    "plain": N_("Plain text"),
    "markdown": N_("Markdown"),
}

QuestionStatus = Literal["active", "retired"]
BankFormat = Literal["gift", "moodle-xml", "xlsx"]
BANK_FORMATS: tuple[BankFormat, ...] = ("gift", "moodle-xml", "xlsx")


class CategoryRead(BaseModel):
    id: int
    parent_id: int | None
    name: str
    path: tuple[str, ...]
    idnumber: str | None
    questions: int  # active questions filed directly in it


class QuestionFilter(BaseModel):
    """The bank browser's filters."""

    category: tuple[str, ...] = ()
    type: QuestionType | None = None
    difficulty: Difficulty | None = None
    tag: str | None = None
    status: Literal["active", "retired", "all"] = "active"
    search: str = Field(default="", max_length=200)
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=50, ge=1, le=500)


class QuestionSummary(BaseModel):
    id: int
    name: str
    type: QuestionType
    difficulty: Difficulty | None
    default_mark: float
    category: tuple[str, ...]
    tags: tuple[str, ...]
    status: QuestionStatus
    version: int
    updated_at: datetime


class QuestionPage(BaseModel):
    items: list[QuestionSummary]
    total: int
    page: int
    page_size: int


class QuestionRead(BaseModel):
    id: int
    version_id: int
    version: int
    versions: int  # how many versions the question has
    status: QuestionStatus
    attempted: bool
    question: Question
    updated_at: datetime


class SkippedQuestion(BaseModel):
    """A question of a file the bank cannot hold (a type it lacks), named as the file names it."""

    name: str
    type: str
    reason: str
    line: int | None = None


class QuestionImportReport(BaseModel):
    """`training questions import --output json`: what the file gave."""

    file: str
    imported: int
    by_type: dict[str, int]
    skipped: list[SkippedQuestion]
    categories: int


class QuestionVersionSummary(BaseModel):
    """One version of a question in its history."""

    version_id: int
    version: int
    name: str
    type: QuestionType
    source: str
    created_at: datetime
    attempted: bool  # an attempt showed this version


class QuestionSaved(BaseModel):
    """What saving a question did: created it, edited its current version in place (nobody
    answered it yet), added a version (attempts keep theirs), or nothing (same content)."""

    question_id: int
    version_id: int
    version: int
    action: Literal["create", "update", "new_version", "unchanged"]
