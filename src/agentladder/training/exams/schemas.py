"""Exams in and out: the blueprint (sections that draw questions), the audience, an attempt as
the agent sees it (never the key before submission), and the results and statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agentladder.i18n import N_
from agentladder.training.questions.schemas import Difficulty, QuestionType

ExamStatus = Literal["draft", "published", "closed"]
Layout = Literal["one_per_page", "all_on_one_page"]
GradingMethod = Literal["highest", "last", "first", "average"]
ReviewOption = Literal["none", "score", "answers"]
AttemptState = Literal["in_progress", "needs_grading", "finished"]
EXAM_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$"
# The database's integer columns (PostgreSQL `integer`) hold no more.
_MAX_INT = 2**31 - 1


class Section(BaseModel):
    """A part of the blueprint: `count` questions drawn at random from a category (and below)
    at a difficulty, or the fixed `question_ids`; each slot worth `mark` (None: the question's
    own mark)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(default="", max_length=200)
    category: tuple[str, ...] = ()
    difficulty: Difficulty | None = None
    types: tuple[QuestionType, ...] = ()
    tag: str | None = Field(default=None, max_length=100)
    count: int = Field(default=0, ge=0, le=500)
    question_ids: tuple[Annotated[int, Field(ge=1, le=2**31 - 1)], ...] = ()
    mark: float | None = Field(default=None, ge=0, le=1000)

    @model_validator(mode="after")
    def _draws_something(self) -> Section:
        if not self.question_ids and self.count == 0:
            raise ValueError(N_("a section draws at least one question or names its questions"))
        return self

    @property
    def slots(self) -> int:
        """How many questions the section puts in an attempt."""
        return len(self.question_ids) or self.count


class Blueprint(BaseModel):
    """The sections in the order the attempt shows them."""

    model_config = ConfigDict(extra="forbid")

    sections: tuple[Section, ...] = Field(min_length=1, max_length=50)


class Audience(BaseModel):
    """Who must take the exam: agents of these teams, skill groups or levels, and named agents
    (codes and employee numbers); empty: nobody is required, anyone may take it while open."""

    model_config = ConfigDict(extra="forbid")

    teams: tuple[str, ...] = ()
    skill_groups: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether nobody is required."""
        return not (self.teams or self.skill_groups or self.levels or self.agents)


class ExamSettings(BaseModel):
    """An exam's settings as the builder or the command line gives them."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=EXAM_CODE_PATTERN)
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    layout: Layout = "one_per_page"
    shuffle_questions: bool = True
    shuffle_options: bool = True
    time_limit_min: int | None = Field(default=None, ge=1, le=1440)
    max_attempts: int | None = Field(default=None, ge=1, le=100)
    grading_method: GradingMethod = "highest"
    pass_percent: float = Field(default=60, ge=0, le=100)
    review: ReviewOption = "score"
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    blueprint: Blueprint
    audience: Audience = Audience()

    @field_validator("code", "title", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _window(self) -> ExamSettings:
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValueError(N_("the exam must close after it opens"))
        return self


class ExamRead(BaseModel):
    id: int
    code: str
    title: str
    description: str
    status: ExamStatus
    layout: Layout
    shuffle_questions: bool
    shuffle_options: bool
    time_limit_s: int | None
    max_attempts: int | None
    grading_method: GradingMethod
    pass_percent: float
    review: ReviewOption
    opens_at: datetime | None
    closes_at: datetime | None
    blueprint: Blueprint
    audience: Audience
    slots: int
    attempts: int  # attempts started, online or imported
    created_at: datetime


class ShownChoice(BaseModel):
    """An option as the attempt shows it: its position on screen and its text, nothing more."""

    position: int
    text: str
    text_format: str = "moodle"


class ShownSlot(BaseModel):
    """A question as the agent sees it during an attempt: no fractions, no feedback, no key;
    options, matching answers and ordering items in the attempt's own order."""

    slot: int
    question_id: int | None
    version_id: int | None
    type: QuestionType
    name: str
    text: str
    text_format: str
    max_mark: float
    choices: list[ShownChoice] = []  # single and multiple choice
    prompts: list[str] = []  # matching: the prompts, in the question's order
    answers: list[ShownChoice] = []  # matching answers / ordering items, shuffled
    response_template: str = ""
    response: Any = None  # the last saved answer, in the positions shown
    response_seq: int = 0


class AttemptView(BaseModel):
    """An attempt in progress as its agent's browser receives it."""

    id: int
    exam_code: str
    exam_title: str
    number: int
    state: AttemptState
    layout: Layout
    started_at: datetime
    deadline_at: datetime | None
    seconds_left: int | None  # by the server's clock
    slots: list[ShownSlot]


class SaveAnswer(BaseModel):
    """An answer the browser saves: the slot, the answer in shown positions, and a number that
    grows with every change (a late duplicate of an older save never overwrites a newer one)."""

    model_config = ConfigDict(extra="forbid")

    slot: int = Field(ge=1, le=_MAX_INT)
    response: Any = None
    seq: int = Field(ge=1, le=_MAX_INT)


class SavedAnswer(BaseModel):
    """The server's receipt: what it holds for the slot now."""

    slot: int
    seq: int
    saved_at: datetime | None
    seconds_left: int | None


class SlotResult(BaseModel):
    """A slot after scoring, as the review shows it."""

    slot: int
    question_id: int | None
    name: str
    type: QuestionType | None
    max_mark: float
    mark: float | None
    state: str  # right, partial, wrong, unanswered, needs_grading, no_mark
    response: Any = None  # in the question's own option order
    feedback: list[str] = []


class AttemptResult(BaseModel):
    id: int
    exam_code: str
    exam_title: str
    agent_id: int
    employee_no: str
    agent_name: str
    number: int
    state: AttemptState
    started_at: datetime
    submitted_at: datetime | None
    marks: float | None
    max_marks: float
    percent: float | None
    passed: bool | None
    source: str
    slots: list[SlotResult] = []


class GradingItem(BaseModel):
    """An essay answer waiting for a trainer."""

    attempt_id: int
    slot: int
    exam_code: str
    employee_no: str
    agent_name: str
    question_name: str
    question_text: str
    grader_info: str
    response: str
    max_mark: float
    submitted_at: datetime | None


class MyExam(BaseModel):
    """An exam as an agent's list shows it."""

    code: str
    title: str
    required: bool
    open: bool
    opens_at: datetime | None
    closes_at: datetime | None
    time_limit_s: int | None
    attempts_used: int
    attempts_left: int | None
    in_progress_attempt_id: int | None
    counted_percent: float | None
    passed: bool | None
    submitted_attempt_ids: list[int] = []  # oldest first: their results


class ExamStatusUpdate(BaseModel):
    """Publish, close or withdraw (draft) an exam."""

    model_config = ConfigDict(extra="forbid")

    status: ExamStatus


class ReviewLine(BaseModel):
    """One line of a question's review: an option (chosen? right?), a matching prompt (the
    answer given and the right one) or an ordering item (in its right place?)."""

    text: str
    chosen: bool = False
    right: bool = False
    given: str | None = None  # matching: the answer the agent chose
    expected: str = ""  # matching: the right answer
    feedback: str = ""  # what a chosen option tells the agent


class SlotReview(BaseModel):
    """A question after submission as the review shows it: the agent's answer beside the right
    one, the feedback earned, the general feedback and the explanation."""

    slot: int
    version_id: int  # the question version the attempt showed (its pictures)
    type: QuestionType
    name: str
    text: str
    text_format: str
    max_mark: float
    mark: float | None
    state: str  # right, partial, wrong, unanswered, needs_grading, no_mark
    lines: list[ReviewLine] = []  # choices (as shown), matching prompts, ordering (as given)
    answer_text: str | None = None  # short answer, numerical, essay: as typed
    answer_bool: bool | None = None  # true/false: the agent's
    correct_bool: bool | None = None  # true/false: the right one
    right_answers: list[str] = []  # short answer: accepted texts; ordering: the right order
    right_numbers: list[tuple[float, float]] = []  # numerical: (value, tolerance) accepted
    feedback: list[str] = []
    general_feedback: str = ""
    explanation: str = ""
    grader_comment: str = ""


class AttemptReview(BaseModel):
    """A submitted attempt as its reader may see it: the agent per the exam's review setting
    (`none`: no score, `score`: the score, `answers`: every question), staff in full."""

    result: AttemptResult
    review: ReviewOption
    pass_percent: float
    shows_score: bool
    shows_answers: bool
    slots: list[SlotReview] = []
