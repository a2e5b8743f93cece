"""Item statistics of an exam from its stored attempts, as Moodle's quiz statistics report
computes them (the formulas: `training.exams.statistics`; docs: reference-definitions.md §3).

Which attempts are used, as Moodle's "calculate statistics from" does by default (it follows
the quiz grading method):
- only finished attempts (in progress and waiting for an essay mark are left out);
- `highest`: each agent's attempt with the highest percent (the earlier one on a tie);
  `first` / `last`: each agent's first / last attempt by number; `average`: every finished
  attempt of every agent (Moodle's "all attempts": an average has no single attempt to use).
  The reference notes' "using the last try" is about Moodle's interactive behaviour, where a
  question can be tried several times within one attempt and the statistics read the last
  try; an attempt here keeps one answer per slot, so that answer is the last try.

The marks matrix is per slot position: x_i is the mark on slot i (an unanswered or unmarked
slot, and a slot the attempt does not have, count 0), m_i is the slot's largest max mark among
the attempts used (every attempt has the same m_i when the blueprint's section gives the slot
mark). Slots worth 0 in every attempt (descriptions) are left out, as Moodle leaves out
questions of length 0.

A slot that held the same question (any of its versions) in every attempt used is named after
the question (its newest version used). A random-draw or shuffled slot held different
questions: its row is named "random (category path)" after the blueprint section it lies in
(the section's title when it draws from the whole bank, "random (section n)" without either;
a section of fixed questions shuffled, or mixed with imported attempts, by its title or
"section n"), and lists each question it held with its own facility. An imported attempt
knows only marks: a slot held by imported attempts alone is named "Q. n", as Moodle's grades
report names it.

Random guess score per slot: the mean, over the attempts used, of the random guess score of
the question each attempt showed (`grading.random_guess_score`), i.e. what a guesser expects
to score on that slot across the draws; null when any of those questions has none (multiple
choice, description), or any attempt is imported (no question to ask) or lacks the slot.

Distractor analysis: for a slot that held the same single-choice or true/false question in
every attempt used (its versions with the same options), the share of attempts choosing each
option, overall and in the top and bottom thirds by total (`statistics.distractor_analysis`).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agentladder.db import in_chunks
from agentladder.training.exams import service as exams_service
from agentladder.training.exams import statistics
from agentladder.training.exams.schemas import Blueprint, GradingMethod
from agentladder.training.models import AttemptSlot, ExamAttempt
from agentladder.training.questions import grading
from agentladder.training.questions import service as bank
from agentladder.training.questions.schemas import Question

# Which attempts the statistics read: per agent the one the method counts, or all of them.
AttemptChoice = Literal["highest", "first", "last", "all"]
ATTEMPT_CHOICES: tuple[AttemptChoice, ...] = ("highest", "first", "last", "all")
_TAG = re.compile(r"<[^>]*>")


# --- what the statistics say ------------------------------------------------------------------


class TestFigures(BaseModel):
    """The exam's figures: mean, sd and standard_error in % of the maximum total, skewness and
    kurtosis (excess) as plain numbers, cic and error_ratio in %."""

    __test__ = False  # a result, not a pytest test class

    mean: float | None
    sd: float | None
    skewness: float | None
    kurtosis: float | None
    cic: float | None
    error_ratio: float | None
    standard_error: float | None
    # For the page only (the JSON contract leaves it out).
    median: float | None = Field(default=None, exclude=True)


class DistractorOption(BaseModel):
    """One option of a choice question (None: left unanswered) and the shares choosing it, in %."""

    option: int | None
    text: str
    fraction: float | None  # the option's share of the mark; None for no answer
    count: int
    share: float | None
    top_share: float | None
    bottom_share: float | None


class SlotQuestion(BaseModel):
    """A question a slot held, how many of the attempts used showed it, and its facility (%)."""

    question_id: int
    name: str
    status: str  # active | retired
    attempts: int
    facility: float | None


class ItemRow(BaseModel):
    """One slot's row of Moodle's statistics table (facility, sd, weights, indices in %)."""

    slot: int
    question: str
    facility: float | None
    sd: float | None
    random_guess: float | None
    intended_weight: float
    effective_weight: float | None
    discrimination_index: float | None
    discriminative_efficiency: float | None
    dubious: bool
    # For the page only (the JSON contract leaves them out).
    max_mark: float = Field(default=0, exclude=True)
    negcovar: bool = Field(default=False, exclude=True)
    varied: bool = Field(default=False, exclude=True)  # held different questions
    # A varied slot's blueprint section, the category path or title it draws from, and whether
    # at random (else its fixed questions were shuffled).
    section: int | None = Field(default=None, exclude=True)
    drawn_from: str = Field(default="", exclude=True)
    random: bool = Field(default=False, exclude=True)
    question_type: str | None = Field(default=None, exclude=True)  # of the one question held
    imported: int = Field(default=0, exclude=True)  # attempts used that were imported
    questions: list[SlotQuestion] = Field(default_factory=list, exclude=True)
    distractors: list[DistractorOption] = Field(default_factory=list, exclude=True)

    @property
    def question_id(self) -> int | None:
        """The one question the slot held in every attempt used, if so."""
        return (
            self.questions[0].question_id if len(self.questions) == 1 and not self.varied else None
        )


class ExamAnalysis(BaseModel):
    """An exam's statistics over the attempts used; its JSON is `training exams stats`'s."""

    exam: str
    attempts: int
    test: TestFigures
    items: list[ItemRow]
    # For the page only (the JSON contract leaves them out).
    title: str = Field(default="", exclude=True)
    grading_method: GradingMethod = Field(default="highest", exclude=True)
    which: AttemptChoice = Field(default="highest", exclude=True)
    agents: int = Field(default=0, exclude=True)
    imported: int = Field(default=0, exclude=True)
    max_total: float = Field(default=0, exclude=True)


class AttemptCounts(BaseModel):
    """How many attempts an exam has, by state, and how many were imported."""

    in_progress: int = 0
    needs_grading: int = 0
    finished: int = 0
    imported: int = 0
    agents: int = 0


# --- which attempts ---------------------------------------------------------------------------


def default_choice(method: str) -> AttemptChoice:
    """The attempts Moodle's statistics read by default under a grading method."""
    return "all" if method == "average" else method  # type: ignore[return-value]


def used_attempts(attempts: Iterable[ExamAttempt], which: AttemptChoice) -> list[ExamAttempt]:
    """The finished attempts the statistics read (see the module docstring), by start time."""
    by_agent: dict[int, list[ExamAttempt]] = defaultdict(list)
    for attempt in attempts:
        if attempt.state == "finished" and attempt.percent is not None:
            by_agent[attempt.agent_id].append(attempt)
    used: list[ExamAttempt] = []
    for mine in by_agent.values():
        if which == "all":
            used.extend(mine)
            continue
        counted = exams_service.counted_attempt(mine, which)
        if counted is not None:
            used.append(counted)
    return sorted(used, key=lambda attempt: (attempt.started_at, attempt.id))


# --- the marks matrix -------------------------------------------------------------------------


@dataclass
class _Slot:
    """One slot position across the attempts used: each attempt's row (or None)."""

    number: int
    rows: list[AttemptSlot | None]
    max_mark: float = 0.0
    marks: list[float] = field(default_factory=list)


def _slot_rows(session: Session, attempt_ids: Sequence[int]) -> dict[int, list[AttemptSlot]]:
    rows: dict[int, list[AttemptSlot]] = defaultdict(list)
    for chunk in in_chunks(attempt_ids):
        for row in session.scalars(select(AttemptSlot).where(AttemptSlot.attempt_id.in_(chunk))):
            rows[row.attempt_id].append(row)
    return rows


def _slots(attempts: Sequence[ExamAttempt], rows: dict[int, list[AttemptSlot]]) -> list[_Slot]:
    numbers = sorted({row.slot for attempt in attempts for row in rows.get(attempt.id, [])})
    by_attempt = [{row.slot: row for row in rows.get(attempt.id, [])} for attempt in attempts]
    slots = []
    for number in numbers:
        cells = [mine.get(number) for mine in by_attempt]
        max_mark = max((row.max_mark for row in cells if row is not None), default=0.0)
        if max_mark <= 0:
            continue  # a description: no mark to analyse
        marks = [float(row.mark or 0.0) if row is not None else 0.0 for row in cells]
        slots.append(_Slot(number=number, rows=cells, max_mark=max_mark, marks=marks))
    return slots


class _SlotLabel(NamedTuple):
    """How a slot that held different questions is named."""

    name: str  # Moodle's name, as the JSON reads it: "random (产品知识/宽带)"
    drawn_from: str  # the category path or section title the page shows; "" for none
    section: int  # the blueprint section's number
    random: bool  # drawn at random (else fixed questions, shuffled)


def _section_labels(blueprint: Blueprint) -> dict[int, _SlotLabel]:
    """Slot position -> the name of the blueprint section that fills it, for varied slots."""
    labels: dict[int, _SlotLabel] = {}
    position = 0
    for index, section in enumerate(blueprint.sections, start=1):
        path = "/".join(section.category)
        if section.question_ids:  # fixed questions, shuffled or mixed with imported attempts
            label = _SlotLabel(section.title or f"section {index}", section.title, index, False)
        elif path:
            label = _SlotLabel(f"random ({path})", path, index, True)
        elif section.title:
            label = _SlotLabel(f"random ({section.title})", section.title, index, True)
        else:
            label = _SlotLabel(f"random (section {index})", "", index, True)
        for _ in range(section.slots):
            position += 1
            labels[position] = label
    return labels


@dataclass(frozen=True)
class _Bank:
    """The questions behind the versions the attempts showed."""

    questions: dict[int, Question]  # version id -> content
    owners: dict[int, int]  # version id -> question id
    statuses: dict[int, str]  # question id -> active | retired


def _bank(session: Session, slots: Sequence[_Slot]) -> _Bank:
    version_ids = {
        row.question_version_id
        for slot in slots
        for row in slot.rows
        if row is not None and row.question_version_id is not None
    }
    owners = bank.version_owners(session=session, version_ids=version_ids)
    current = bank.current_versions(session=session, question_ids=set(owners.values()))
    return _Bank(
        questions=bank.question_versions(session=session, version_ids=version_ids),
        owners=owners,
        statuses={qid: status for qid, (_vid, status) in current.items()},
    )


def _random_guess(slot: _Slot, known: _Bank) -> float | None:
    guesses = []
    for row in slot.rows:
        if row is None or row.question_version_id is None:
            return None
        guess = grading.random_guess_score(known.questions[row.question_version_id])
        if guess is None:
            return None
        guesses.append(guess)
    return math.fsum(guesses) / len(guesses) if guesses else None


def _slot_questions(slot: _Slot, known: _Bank) -> list[SlotQuestion]:
    """The questions the slot held, in the order first seen, each with its own facility."""
    marks: dict[int, list[float]] = {}
    names: dict[int, tuple[int, str]] = {}  # question id -> (newest version id, its name)
    for row, mark in zip(slot.rows, slot.marks, strict=True):
        if row is None or row.question_version_id is None:
            continue
        version_id = row.question_version_id
        question_id = known.owners[version_id]
        marks.setdefault(question_id, []).append(mark)
        if version_id >= names.get(question_id, (0, ""))[0]:
            names[question_id] = (version_id, known.questions[version_id].name)
    return [
        SlotQuestion(
            question_id=question_id,
            name=names[question_id][1],
            status=known.statuses.get(question_id, "active"),
            attempts=len(held),
            facility=100 * math.fsum(held) / len(held) / slot.max_mark,
        )
        for question_id, held in marks.items()
    ]


def _choice(question: Question, response_json: str | None) -> int | None:
    """The option an answer chose, as an index into the question's own options."""
    response = json.loads(response_json) if response_json else None
    if question.type == "true_false":
        return None if response is None else (0 if response else 1)
    if isinstance(response, int) and not isinstance(response, bool):
        return response if 0 <= response < len(question.choices) else None
    return None


def _plain(text: str, limit: int = 160) -> str:
    """An option's text without markup, to name it in a table."""
    words = " ".join(html.unescape(_TAG.sub(" ", text)).split())
    return words if len(words) <= limit else words[: limit - 1] + "…"


def _options(question: Question) -> list[tuple[str, float]]:
    if question.type == "true_false":
        right = question.correct_answer
        return [("True", 1.0 if right else 0.0), ("False", 0.0 if right else 1.0)]
    return [(_plain(choice.text), choice.fraction) for choice in question.choices]


def _distractors(slot: _Slot, known: _Bank, totals: Sequence[float]) -> list[DistractorOption]:
    """The distractor table of a slot that held one choice question throughout, else []."""
    versions = [row.question_version_id if row is not None else None for row in slot.rows]
    if not versions or any(v is None for v in versions):
        return []
    shown = {v: known.questions[v] for v in versions if v is not None}
    if len({known.owners[v] for v in shown}) != 1:
        return []
    options = {tuple(_options(q)) for q in shown.values()}
    kinds = {q.type for q in shown.values()}
    if len(options) != 1 or not kinds <= {"single_choice", "true_false"}:
        return []
    [option_list] = options
    choices = [
        _choice(shown[v], row.response_json if row is not None else None)
        for v, row in zip(versions, slot.rows, strict=True)
        if v is not None
    ]
    rows = statistics.distractor_analysis(choices, totals, len(option_list))
    return [
        DistractorOption(
            option=row.option,
            text="" if row.option is None else option_list[row.option][0],
            fraction=None if row.option is None else option_list[row.option][1],
            count=row.count,
            share=row.share,
            top_share=row.top_share,
            bottom_share=row.bottom_share,
        )
        for row in rows
    ]


def _question_type(slot: _Slot, known: _Bank) -> str | None:
    kinds = {
        known.questions[row.question_version_id].type
        for row in slot.rows
        if row is not None and row.question_version_id is not None
    }
    return kinds.pop() if len(kinds) == 1 else None


def _slot_name(
    slot: _Slot, questions: list[SlotQuestion], imported: int, label: str
) -> tuple[str, bool]:
    """The row's name, and whether the slot held different questions (or unknown ones)."""
    if imported == len(slot.rows):
        return f"Q. {slot.number}", False
    if len(questions) == 1 and imported == 0 and all(row is not None for row in slot.rows):
        return questions[0].name, False
    return label, True


# --- the service ------------------------------------------------------------------------------


def exam_analysis(
    *, session: Session, code: str, which: AttemptChoice | None = None
) -> ExamAnalysis:
    """The exam's test and item statistics over the attempts `which` picks (default: as the
    exam's grading method, see the module docstring)."""
    exam = exams_service.exam_by_code(session=session, code=code)
    choice = which or default_choice(exam.grading_method)
    attempts = used_attempts(
        session.scalars(select(ExamAttempt).where(ExamAttempt.exam_id == exam.id)), choice
    )
    slots = _slots(attempts, _slot_rows(session, [attempt.id for attempt in attempts]))
    known = _bank(session, slots)
    marks = [[slot.marks[a] for slot in slots] for a in range(len(attempts))]
    test, rows = statistics.exam_statistics(
        marks, [slot.max_mark for slot in slots], [_random_guess(slot, known) for slot in slots]
    )
    totals = [math.fsum(row) for row in marks]
    labels = _section_labels(Blueprint.model_validate_json(exam.blueprint_json))
    items = []
    for slot, row in zip(slots, rows, strict=True):
        questions = _slot_questions(slot, known)
        imported = sum(1 for r in slot.rows if r is not None and r.question_version_id is None)
        label = labels.get(slot.number)
        name, varied = _slot_name(
            slot, questions, imported, label.name if label else f"random (Q. {slot.number})"
        )
        items.append(
            ItemRow(
                slot=slot.number,
                question=name,
                facility=row.facility,
                sd=row.sd,
                random_guess=row.random_guess,
                intended_weight=row.intended_weight,
                effective_weight=row.effective_weight,
                discrimination_index=row.discrimination_index,
                discriminative_efficiency=row.discriminative_efficiency,
                dubious=row.dubious,
                max_mark=slot.max_mark,
                negcovar=row.negcovar,
                varied=varied,
                section=label.section if label and varied else None,
                drawn_from=label.drawn_from if label and varied else "",
                random=bool(label and varied and label.random),
                question_type=_question_type(slot, known) if not varied else None,
                imported=imported,
                questions=questions,
                distractors=_distractors(slot, known, totals),
            )
        )
    return ExamAnalysis(
        exam=exam.code,
        attempts=test.attempts,
        test=TestFigures(
            mean=test.mean,
            sd=test.sd,
            skewness=test.skewness,
            kurtosis=test.kurtosis,
            cic=test.cic,
            error_ratio=test.error_ratio,
            standard_error=test.standard_error,
            median=test.median,
        ),
        items=items,
        title=exam.title,
        grading_method=exam.grading_method,
        which=choice,
        agents=len({attempt.agent_id for attempt in attempts}),
        imported=sum(1 for attempt in attempts if attempt.source != "online"),
        max_total=math.fsum(slot.max_mark for slot in slots),
    )


def attempt_counts(*, session: Session, code: str) -> AttemptCounts:
    """How many attempts the exam has by state, how many were imported, how many agents."""
    exam = exams_service.exam_by_code(session=session, code=code)
    counts = AttemptCounts()
    for state, source, number in session.execute(
        select(ExamAttempt.state, ExamAttempt.source, func.count())
        .where(ExamAttempt.exam_id == exam.id)
        .group_by(ExamAttempt.state, ExamAttempt.source)
    ):
        setattr(counts, state, getattr(counts, state) + number)
        if source != "online":
            counts.imported += number
    counts.agents = (
        session.scalar(
            select(func.count(func.distinct(ExamAttempt.agent_id))).where(
                ExamAttempt.exam_id == exam.id
            )
        )
        or 0
    )
    return counts
