"""Exams: building them, attempts drawn from the blueprint and kept on the server (the deadline
is the server's; every answer is stored when given), scoring at submission, essays graded by
trainers, and which attempt counts.

An attempt stores exactly what it showed: each slot's question version and option order. The
browser sees options by position only and posts answers by position; the key, the fractions
and the feedback stay here until the attempt is submitted.
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agentladder.errors import Conflict, Forbidden, InvalidInput, NotFound
from agentladder.i18n import N_
from agentladder.org import service as org_service
from agentladder.org.schemas import AgentRead
from agentladder.training.exams import review
from agentladder.training.exams.schemas import (
    AttemptResult,
    AttemptReview,
    AttemptView,
    Audience,
    Blueprint,
    ExamRead,
    ExamSettings,
    GradingItem,
    MyExam,
    SaveAnswer,
    SavedAnswer,
    Section,
    ShownChoice,
    ShownSlot,
    SlotResult,
)
from agentladder.training.models import AttemptSlot, Exam, ExamAttempt, QuestionVersion
from agentladder.training.programmes import service as programmes
from agentladder.training.questions import grading
from agentladder.training.questions import service as bank
from agentladder.training.questions.schemas import Question

# A save or submit that arrives this long after the deadline still counts: the browser sent
# it in time and the network delayed it.
GRACE_S = 5


# --- exams ------------------------------------------------------------------------------------


def _exam_read(session: Session, exam: Exam) -> ExamRead:
    blueprint = Blueprint.model_validate_json(exam.blueprint_json)
    attempts = session.scalar(
        select(func.count()).select_from(ExamAttempt).where(ExamAttempt.exam_id == exam.id)
    )
    return ExamRead(
        id=exam.id,
        code=exam.code,
        title=exam.title,
        description=exam.description,
        status=exam.status,
        layout=exam.layout,
        shuffle_questions=exam.shuffle_questions,
        shuffle_options=exam.shuffle_options,
        time_limit_s=exam.time_limit_s,
        max_attempts=exam.max_attempts,
        grading_method=exam.grading_method,
        pass_percent=exam.pass_percent,
        review=exam.review,
        opens_at=exam.opens_at,
        closes_at=exam.closes_at,
        blueprint=blueprint,
        audience=Audience.model_validate_json(exam.audience_json),
        slots=sum(section.slots for section in blueprint.sections),
        attempts=attempts or 0,
        created_at=exam.created_at,
    )


def exam_by_code(*, session: Session, code: str) -> Exam:
    """The exam with this code."""
    exam = session.scalar(select(Exam).where(Exam.code == code))
    if exam is None:
        raise NotFound(N_("exam {code} does not exist"), code=code)
    return exam


def get_exam(*, session: Session, code: str) -> ExamRead:
    """An exam with its blueprint, audience and number of attempts."""
    return _exam_read(session, exam_by_code(session=session, code=code))


def list_exams(*, session: Session) -> list[ExamRead]:
    """Every exam, newest first."""
    exams = session.scalars(select(Exam).order_by(Exam.id.desc())).all()
    return [_exam_read(session, exam) for exam in exams]


def blueprint_problems(
    *, session: Session, blueprint: Blueprint
) -> list[tuple[int, str, dict[str, Any]]]:
    """What keeps the blueprint from drawing every attempt in full: (section index, msgid,
    params) per problem: a section asking for more questions than its pool holds, or naming a
    question that does not exist or is retired."""
    problems: list[tuple[int, str, dict[str, Any]]] = []
    fixed = {qid for section in blueprint.sections for qid in section.question_ids}
    for index, section in enumerate(blueprint.sections):
        if section.question_ids:
            found = bank.current_versions(session=session, question_ids=section.question_ids)
            for qid in section.question_ids:
                if qid not in found:
                    problems.append((index, N_("question {id} does not exist"), {"id": qid}))
                elif found[qid][1] != "active":
                    problems.append((index, N_("question {id} is retired"), {"id": qid}))
            continue
        pool = [qid for qid, _vid in _pool(session, section) if qid not in fixed]
        if len(pool) < section.count:
            problems.append(
                (
                    index,
                    N_("the section draws {count} questions but its pool holds {pool}"),
                    {"count": section.count, "pool": len(pool)},
                )
            )
    return problems


def pool_sizes(*, session: Session, sections: Sequence[Section]) -> list[int]:
    """How many active questions each section can draw from (a section of named questions:
    how many of them exist), for the exam builder."""
    sizes = []
    for section in sections:
        if section.question_ids:
            found = bank.current_versions(session=session, question_ids=section.question_ids)
            sizes.append(sum(1 for qid in section.question_ids if qid in found))
        else:
            sizes.append(len(_pool(session, section)))
    return sizes


def _pool(session: Session, section: Section) -> list[tuple[int, int]]:
    return bank.draw_pool(
        session=session,
        category=section.category,
        difficulty=section.difficulty,
        types=section.types,
        tag=section.tag,
    )


def _fill_exam(exam: Exam, settings_in: ExamSettings) -> None:
    exam.code = settings_in.code
    exam.title = settings_in.title
    exam.description = settings_in.description
    exam.layout = settings_in.layout
    exam.shuffle_questions = settings_in.shuffle_questions
    exam.shuffle_options = settings_in.shuffle_options
    exam.time_limit_s = settings_in.time_limit_min * 60 if settings_in.time_limit_min else None
    exam.max_attempts = settings_in.max_attempts
    exam.grading_method = settings_in.grading_method
    exam.pass_percent = settings_in.pass_percent
    exam.review = settings_in.review
    exam.opens_at = settings_in.opens_at
    exam.closes_at = settings_in.closes_at
    exam.blueprint_json = settings_in.blueprint.model_dump_json()
    exam.audience_json = settings_in.audience.model_dump_json()


def save_exam(
    *, session: Session, settings_in: ExamSettings, user_id: int | None, code: str | None = None
) -> ExamRead:
    """Create an exam (`code` None) or change one; attempts already started keep what they
    drew. Refused when a section cannot be drawn in full."""
    problems = blueprint_problems(session=session, blueprint=settings_in.blueprint)
    if problems:
        index, message, params = problems[0]
        raise InvalidInput(
            N_("section {section}: {problem}"),
            section=index + 1,
            problem=message.format(**params),
        )
    if code is None:
        if session.scalar(select(Exam.id).where(Exam.code == settings_in.code)) is not None:
            raise Conflict(N_("exam {code} already exists"), code=settings_in.code)
        exam = Exam(created_by_user_id=user_id)
        session.add(exam)
    else:
        exam = exam_by_code(session=session, code=code)
        if settings_in.code != code:
            raise InvalidInput(N_("an exam's code cannot change"))
    _fill_exam(exam, settings_in)
    session.flush()
    return _exam_read(session, exam)


def set_exam_status(*, session: Session, code: str, status: str) -> ExamRead:
    """Publish an exam (agents can start it in its window) or close it (no new attempts)."""
    if status not in ("draft", "published", "closed"):
        raise InvalidInput(N_("unknown exam status {status}"), status=status)
    exam = exam_by_code(session=session, code=code)
    exam.status = status
    session.flush()
    return _exam_read(session, exam)


# --- who takes what ---------------------------------------------------------------------------


def is_required(audience: Audience, agent: AgentRead) -> bool:
    """Whether the audience names the agent (by team, skill group, level or employee number)."""
    return (
        (agent.team_code is not None and agent.team_code in audience.teams)
        or bool(set(agent.skill_groups) & set(audience.skill_groups))
        or agent.current_level in audience.levels
        or agent.employee_no in audience.agents
    )


def _is_open(exam: Exam, now: datetime) -> bool:
    return (
        exam.status == "published"
        and (exam.opens_at is None or exam.opens_at <= now)
        and (exam.closes_at is None or now < exam.closes_at)
    )


def _agent(session: Session, agent_id: int) -> AgentRead:
    found = org_service.agents_by_ids(session=session, agent_ids=[agent_id])
    if not found:
        raise NotFound(N_("agent {id} does not exist"), id=agent_id)
    return found[0]


def agent_exams(*, session: Session, agent_id: int, now: datetime) -> list[MyExam]:
    """The exams an agent must take or may take now, and those they took: attempts used and
    left, one in progress, and the counted result."""
    finish_overdue_attempts(session=session, now=now, agent_id=agent_id)
    agent = _agent(session, agent_id)
    attempts: dict[int, list[ExamAttempt]] = {}
    for attempt in session.scalars(
        select(ExamAttempt).where(ExamAttempt.agent_id == agent_id).order_by(ExamAttempt.number)
    ):
        attempts.setdefault(attempt.exam_id, []).append(attempt)
    found = []
    for exam in session.scalars(select(Exam).where(Exam.status != "draft").order_by(Exam.id)):
        audience = Audience.model_validate_json(exam.audience_json)
        required = is_required(audience, agent)
        mine = attempts.get(exam.id, [])
        is_open = _is_open(exam, now)
        if not (required or mine or (is_open and audience.empty)):
            continue
        counted = counted_percent(mine, exam.grading_method)
        in_progress = next((a.id for a in mine if a.state == "in_progress"), None)
        found.append(
            MyExam(
                code=exam.code,
                title=exam.title,
                required=required,
                open=is_open,
                opens_at=exam.opens_at,
                closes_at=exam.closes_at,
                time_limit_s=exam.time_limit_s,
                attempts_used=len(mine),
                attempts_left=None
                if exam.max_attempts is None
                else max(0, exam.max_attempts - len(mine)),
                in_progress_attempt_id=in_progress,
                counted_percent=counted,
                passed=None if counted is None else counted >= exam.pass_percent,
                submitted_attempt_ids=[a.id for a in mine if a.state != "in_progress"],
            )
        )
    return found


# --- attempts ---------------------------------------------------------------------------------


def _option_order(question: Question, shuffle: bool, rng: random.Random) -> list[int]:
    if question.type in ("single_choice", "multiple_choice"):
        order = list(range(len(question.choices)))
        if shuffle and question.shuffle_choices:
            rng.shuffle(order)
        return order
    if question.type == "matching":
        order = list(range(len(grading.match_answers(question))))
        rng.shuffle(order)  # the answers are always shuffled: their order would give them away
        return order
    if question.type == "ordering":
        order = list(range(len(question.order)))
        while len(order) > 1 and order == sorted(order):
            rng.shuffle(order)
        return order
    return []


def _draw(session: Session, exam: Exam, rng: random.Random) -> list[tuple[int, float | None]]:
    """(version id, slot mark or None) per slot, sections in order."""
    blueprint = Blueprint.model_validate_json(exam.blueprint_json)
    fixed = {qid for section in blueprint.sections for qid in section.question_ids}
    used: set[int] = set()
    slots: list[tuple[int, float | None]] = []
    for section in blueprint.sections:
        if section.question_ids:
            versions = bank.current_versions(session=session, question_ids=section.question_ids)
            chosen = [(qid, versions[qid][0]) for qid in section.question_ids if qid in versions]
        else:
            pool = [item for item in _pool(session, section) if item[0] not in used | fixed]
            if len(pool) < section.count:
                raise Conflict(
                    N_(
                        "the exam cannot be drawn: a section needs {count} questions, its pool "
                        "holds {pool}"
                    ),
                    count=section.count,
                    pool=len(pool),
                )
            chosen = rng.sample(pool, section.count)
        if exam.shuffle_questions:
            rng.shuffle(chosen)
        used.update(qid for qid, _vid in chosen)
        slots.extend((vid, section.mark) for _qid, vid in chosen)
    return slots


def start_attempt(
    *,
    session: Session,
    exam_code: str,
    agent_id: int,
    now: datetime,
    rng: random.Random | None = None,
) -> int:
    """The agent's attempt in progress, or a new one drawn from the blueprint when the exam is
    open and attempts are left; its deadline is the time limit, cut at the exam's close."""
    exam = exam_by_code(session=session, code=exam_code)
    finish_overdue_attempts(session=session, now=now, agent_id=agent_id)
    mine = session.scalars(
        select(ExamAttempt).where(ExamAttempt.exam_id == exam.id, ExamAttempt.agent_id == agent_id)
    ).all()
    current = next((attempt for attempt in mine if attempt.state == "in_progress"), None)
    if current is not None:
        return current.id
    if not _is_open(exam, now):
        raise Conflict(N_("exam {code} is not open"), code=exam.code)
    audience = Audience.model_validate_json(exam.audience_json)
    if not audience.empty and not is_required(audience, _agent(session, agent_id)):
        raise Forbidden(N_("exam {code} is not assigned to you"), code=exam.code)
    if exam.max_attempts is not None and len(mine) >= exam.max_attempts:
        raise Conflict(N_("no attempts left at exam {code}"), code=exam.code)
    # Seeded from the OS: nobody can tell from one draw what the next attempt will show.
    rng = rng or random.Random(secrets.randbits(64))  # noqa: S311
    drawn = _draw(session, exam, rng)
    questions = bank.question_versions(session=session, version_ids=[vid for vid, _m in drawn])
    deadline = now + timedelta(seconds=exam.time_limit_s) if exam.time_limit_s else None
    if exam.closes_at is not None and (deadline is None or exam.closes_at < deadline):
        deadline = exam.closes_at
    attempt = ExamAttempt(
        exam_id=exam.id,
        agent_id=agent_id,
        number=max((a.number for a in mine), default=0) + 1,
        state="in_progress",
        started_at=now,
        deadline_at=deadline,
        source="online",
    )
    session.add(attempt)
    session.flush()
    max_marks = 0.0
    for position, (version_id, slot_mark) in enumerate(drawn, start=1):
        question = questions[version_id]
        mark = (
            0.0
            if question.type == "description"
            else (question.default_mark if slot_mark is None else slot_mark)
        )
        max_marks += mark
        session.add(
            AttemptSlot(
                attempt_id=attempt.id,
                slot=position,
                question_version_id=version_id,
                max_mark=mark,
                option_order_json=json.dumps(_option_order(question, exam.shuffle_options, rng)),
            )
        )
    attempt.max_marks = max_marks
    session.flush()
    return attempt.id


def _own_attempt(session: Session, attempt_id: int, agent_id: int | None) -> ExamAttempt:
    attempt = session.get(ExamAttempt, attempt_id)
    # Another agent's attempt is answered as missing: its id tells nothing.
    if attempt is None or (agent_id is not None and attempt.agent_id != agent_id):
        raise NotFound(N_("attempt {id} does not exist"), id=attempt_id)
    return attempt


def _seconds_left(attempt: ExamAttempt, now: datetime) -> int | None:
    if attempt.deadline_at is None:
        return None
    return max(0, int((attempt.deadline_at - now).total_seconds()))


def _overdue(attempt: ExamAttempt, now: datetime) -> bool:
    return attempt.deadline_at is not None and now > attempt.deadline_at + timedelta(
        seconds=GRACE_S
    )


def _slots(session: Session, attempt_id: int) -> list[AttemptSlot]:
    return list(
        session.scalars(
            select(AttemptSlot)
            .where(AttemptSlot.attempt_id == attempt_id)
            .order_by(AttemptSlot.slot)
        )
    )


def to_shown(question: Question, order: Sequence[int], response: Any) -> Any:
    """A stored answer (the question's own indices) in the positions the attempt shows."""
    if response is None or not order:
        return response
    position = {original: shown for shown, original in enumerate(order)}
    if question.type == "single_choice":
        return position.get(response)
    if question.type in ("multiple_choice", "ordering"):
        return [position[index] for index in response if index in position]
    if question.type == "matching":
        return {key: position.get(value) for key, value in response.items()}
    return response


def to_stored(question: Question, order: Sequence[int], response: Any) -> Any:
    """A posted answer (positions shown) in the question's own indices; positions out of range
    are left for `grading.check_response` to refuse."""
    if response is None or not order:
        return response

    def original(shown: Any) -> Any:
        if isinstance(shown, int) and not isinstance(shown, bool) and 0 <= shown < len(order):
            return order[shown]
        return -1 if isinstance(shown, int) and not isinstance(shown, bool) else shown

    if question.type == "single_choice":
        return original(response)
    if question.type in ("multiple_choice", "ordering") and isinstance(response, list):
        return [original(item) for item in response]
    if question.type == "matching" and isinstance(response, dict):
        return {key: None if value is None else original(value) for key, value in response.items()}
    return response


def _shown_slot(slot: AttemptSlot, question: Question, question_id: int | None) -> ShownSlot:
    order: list[int] = json.loads(slot.option_order_json)
    shown = ShownSlot(
        slot=slot.slot,
        question_id=question_id,
        version_id=slot.question_version_id,
        type=question.type,
        name=question.name,
        text=question.text,
        text_format=question.text_format,
        max_mark=slot.max_mark,
        response_template=question.response_template,
        response=to_shown(question, order, json.loads(slot.response_json))
        if slot.response_json
        else None,
        response_seq=slot.response_seq,
    )
    if question.type in ("single_choice", "multiple_choice"):
        shown.choices = [
            ShownChoice(
                position=position,
                text=question.choices[index].text,
                text_format=question.choices[index].text_format,
            )
            for position, index in enumerate(order)
        ]
    elif question.type == "matching":
        answers = grading.match_answers(question)
        shown.prompts = [pair.prompt for pair in question.pairs]
        shown.answers = [
            ShownChoice(position=position, text=answers[index])
            for position, index in enumerate(order)
        ]
    elif question.type == "ordering":
        shown.answers = [
            ShownChoice(position=position, text=question.order[index])
            for position, index in enumerate(order)
        ]
    return shown


def attempt_view(*, session: Session, attempt_id: int, agent_id: int, now: datetime) -> AttemptView:
    """The attempt as its agent's browser gets it (no key, options by position). An attempt
    past its deadline is submitted first and comes back finished, without questions."""
    attempt = _own_attempt(session, attempt_id, agent_id)
    if attempt.state == "in_progress" and _overdue(attempt, now):
        _submit(session, attempt, now)
    exam = session.get(Exam, attempt.exam_id)
    assert exam is not None
    slots: list[ShownSlot] = []
    if attempt.state == "in_progress":
        rows = _slots(session, attempt.id)
        questions = bank.question_versions(
            session=session,
            version_ids=[r.question_version_id for r in rows if r.question_version_id],
        )
        owners = bank.version_owners(
            session=session,
            version_ids=[r.question_version_id for r in rows if r.question_version_id],
        )
        slots = [
            _shown_slot(
                row, questions[row.question_version_id], owners.get(row.question_version_id)
            )
            for row in rows
            if row.question_version_id is not None
        ]
    return AttemptView(
        id=attempt.id,
        exam_code=exam.code,
        exam_title=exam.title,
        number=attempt.number,
        state=attempt.state,
        layout=exam.layout,
        started_at=attempt.started_at,
        deadline_at=attempt.deadline_at,
        seconds_left=_seconds_left(attempt, now),
        slots=slots,
    )


def save_answer(
    *, session: Session, attempt_id: int, agent_id: int, answer: SaveAnswer, now: datetime
) -> SavedAnswer:
    """Store the agent's answer to a slot (positions as shown). A save with a number not above
    the stored one changes nothing and returns what is stored (a repeated or late request);
    after the deadline the attempt is submitted and the save refused."""
    # The attempt, the slot (locked: two saves of one slot apply in turn) and its question in
    # one round trip: every answer an agent gives comes through here.
    found = session.execute(
        select(ExamAttempt, AttemptSlot, QuestionVersion)
        .join(AttemptSlot, AttemptSlot.attempt_id == ExamAttempt.id)
        .join(QuestionVersion, QuestionVersion.id == AttemptSlot.question_version_id)
        .where(ExamAttempt.id == attempt_id, AttemptSlot.slot == answer.slot)
        .with_for_update(of=AttemptSlot)
    ).one_or_none()
    attempt = found[0] if found else _own_attempt(session, attempt_id, agent_id)
    if agent_id is not None and attempt.agent_id != agent_id:
        raise NotFound(N_("attempt {id} does not exist"), id=attempt_id)
    if attempt.state == "in_progress" and _overdue(attempt, now):
        _submit(session, attempt, now)
        session.commit()
    if attempt.state != "in_progress":
        raise Conflict(N_("the attempt is already submitted"))
    if found is None:
        raise NotFound(N_("the attempt has no question {slot}"), slot=answer.slot)
    slot, version = found[1], found[2]
    if answer.seq > slot.response_seq:
        question = bank.version_question(version)
        stored = to_stored(question, json.loads(slot.option_order_json), answer.response)
        problem = grading.check_response(question, stored)
        if problem is not None:
            raise InvalidInput(problem)
        slot.response_json = json.dumps(stored, ensure_ascii=False)
        slot.response_seq = answer.seq
        slot.answered_at = now
        session.flush()
    return SavedAnswer(
        slot=slot.slot,
        seq=slot.response_seq,
        saved_at=slot.answered_at,
        seconds_left=_seconds_left(attempt, now),
    )


def _submit(session: Session, attempt: ExamAttempt, now: datetime) -> None:
    """Score every slot; an attempt with an essay waits for a trainer, others finish now."""
    rows = _slots(session, attempt.id)
    questions = bank.question_versions(
        session=session, version_ids=[r.question_version_id for r in rows if r.question_version_id]
    )
    waiting = False
    for row in rows:
        if row.question_version_id is None:
            continue
        question = questions[row.question_version_id]
        response = json.loads(row.response_json) if row.response_json else None
        grade = grading.grade_response(question, response)
        if grade.state == "needs_grading":
            if grading.is_blank(response):
                row.fraction, row.mark = 0.0, 0.0
            else:
                waiting = True
            continue
        row.fraction = grade.fraction
        row.mark = None if grade.fraction is None else round(grade.fraction * row.max_mark, 7)
    # The server's clock, never later than the deadline: time running out is not late.
    attempt.submitted_at = min(now, attempt.deadline_at) if attempt.deadline_at else now
    if waiting:
        attempt.state = "needs_grading"
    else:
        _finish(session, attempt, rows)
    session.flush()


def _finish(session: Session, attempt: ExamAttempt, rows: Sequence[AttemptSlot]) -> None:
    exam = session.get(Exam, attempt.exam_id)
    assert exam is not None
    attempt.state = "finished"
    attempt.marks = round(sum(row.mark or 0.0 for row in rows), 7)
    attempt.percent = (
        round(100 * attempt.marks / attempt.max_marks, 5) if attempt.max_marks else None
    )
    attempt.passed = attempt.percent is not None and attempt.percent >= exam.pass_percent
    if attempt.passed and attempt.submitted_at is not None:
        programmes.award_after_exam(
            session=session,
            agent_id=attempt.agent_id,
            exam_code=exam.code,
            passed_on=attempt.submitted_at,
        )


def submit_attempt(
    *, session: Session, attempt_id: int, agent_id: int | None, now: datetime
) -> AttemptResult:
    """Submit the agent's attempt and score it at once (an essay waits for a trainer)."""
    attempt = _own_attempt(session, attempt_id, agent_id)
    if attempt.state == "in_progress":
        _submit(session, attempt, now)
    return attempt_result(session=session, attempt_id=attempt.id, with_slots=False)


def finish_overdue_attempts(*, session: Session, now: datetime, agent_id: int | None = None) -> int:
    """Submit every attempt in progress whose deadline (and grace) has passed, with the answers
    saved; how many. Runs when an agent's exams are read, and on the scheduler."""
    statement = select(ExamAttempt).where(
        ExamAttempt.state == "in_progress",
        ExamAttempt.deadline_at.is_not(None),
        ExamAttempt.deadline_at < now - timedelta(seconds=GRACE_S),
    )
    if agent_id is not None:
        statement = statement.where(ExamAttempt.agent_id == agent_id)
    overdue = session.scalars(statement).all()
    for attempt in overdue:
        _submit(session, attempt, now)
    return len(overdue)


# --- results ----------------------------------------------------------------------------------


def counted_attempt(attempts: Sequence[ExamAttempt], method: str) -> ExamAttempt | None:
    """The finished attempt that counts under the grading method (None for `average`, which
    counts them all, and when none is finished)."""
    finished = [a for a in attempts if a.state == "finished" and a.percent is not None]
    if not finished or method == "average":
        return None
    if method == "first":
        return min(finished, key=lambda a: a.number)
    if method == "last":
        return max(finished, key=lambda a: a.number)
    return max(finished, key=lambda a: (a.percent or 0.0, -a.number))


def counted_percent(attempts: Sequence[ExamAttempt], method: str) -> float | None:
    """The agent's result at an exam under its grading method (Moodle's quiz grade)."""
    finished = [a.percent for a in attempts if a.state == "finished" and a.percent is not None]
    if not finished:
        return None
    if method == "average":
        return sum(finished) / len(finished)
    attempt = counted_attempt(attempts, method)
    return None if attempt is None else attempt.percent


def _slot_result(
    row: AttemptSlot, question: Question | None, question_id: int | None
) -> SlotResult:
    response = json.loads(row.response_json) if row.response_json else None
    feedback: list[str] = []
    state = "unanswered" if grading.is_blank(response) else "needs_grading"
    if question is not None:
        grade = grading.grade_response(question, response)
        feedback = list(grade.feedback)
        state = grade.state
        # A marked essay takes its state from the mark; a blank one stays unanswered.
        if row.mark is not None and question.type == "essay" and not grading.is_blank(response):
            state = (
                "right"
                if row.fraction and row.fraction > 0.999999
                else ("wrong" if not row.fraction else "partial")
            )
    return SlotResult(
        slot=row.slot,
        question_id=question_id,
        name=question.name if question else "",
        type=question.type if question else None,
        max_mark=row.max_mark,
        mark=row.mark,
        state=state,
        response=response,
        feedback=feedback,
    )


def _result_read(
    attempt: ExamAttempt, exam: Exam, agent: AgentRead, slots: Sequence[SlotResult] = ()
) -> AttemptResult:
    return AttemptResult(
        id=attempt.id,
        exam_code=exam.code,
        exam_title=exam.title,
        agent_id=attempt.agent_id,
        employee_no=agent.employee_no,
        agent_name=agent.name,
        number=attempt.number,
        state=attempt.state,
        started_at=attempt.started_at,
        submitted_at=attempt.submitted_at,
        marks=attempt.marks,
        max_marks=attempt.max_marks,
        percent=attempt.percent,
        passed=attempt.passed,
        source=attempt.source,
        slots=list(slots),
    )


def attempt_result(
    *, session: Session, attempt_id: int, with_slots: bool = True, agent_id: int | None = None
) -> AttemptResult:
    """An attempt's result (with every slot's mark, answer and feedback when `with_slots`);
    `agent_id`: only that agent's attempt."""
    attempt = _own_attempt(session, attempt_id, agent_id)
    exam = session.get(Exam, attempt.exam_id)
    assert exam is not None
    agent = _agent(session, attempt.agent_id)
    slots: list[SlotResult] = []
    if with_slots and attempt.state != "in_progress":
        rows = _slots(session, attempt.id)
        version_ids = [r.question_version_id for r in rows if r.question_version_id]
        questions = bank.question_versions(session=session, version_ids=version_ids)
        owners = bank.version_owners(session=session, version_ids=version_ids)
        slots = [
            _slot_result(
                row,
                questions.get(row.question_version_id) if row.question_version_id else None,
                owners.get(row.question_version_id) if row.question_version_id else None,
            )
            for row in rows
        ]
    return _result_read(attempt, exam, agent, slots)


def attempt_review(
    *,
    session: Session,
    attempt_id: int,
    now: datetime,
    agent_id: int | None = None,
    scope: org_service.AgentScope | None = None,
    exam_code: str | None = None,
) -> AttemptReview:
    """An attempt's result for its reader: the agent (`agent_id`: only their own) as the exam's
    review setting allows, staff (`scope`: only agents in it) in full; questions only after
    submission. `exam_code`: the attempt must be at that exam."""
    attempt = _own_attempt(session, attempt_id, agent_id)
    exam = session.get(Exam, attempt.exam_id)
    assert exam is not None
    outside = scope is not None and not org_service.agent_ids_in_scope(
        session=session, scope=scope, agent_ids=[attempt.agent_id]
    )
    if outside or (exam_code is not None and exam.code != exam_code):
        raise NotFound(N_("attempt {id} does not exist"), id=attempt_id)
    if attempt.state == "in_progress" and _overdue(attempt, now):
        _submit(session, attempt, now)
    staff = agent_id is None
    shows_score = staff or exam.review != "none"
    shows_answers = staff or exam.review == "answers"
    result = attempt_result(session=session, attempt_id=attempt.id, with_slots=False)
    if not shows_score:
        result = result.model_copy(update={"marks": None, "percent": None, "passed": None})
    slots = []
    if shows_answers and attempt.state != "in_progress":
        rows = [row for row in _slots(session, attempt.id) if row.question_version_id]
        questions = bank.question_versions(
            session=session, version_ids=[row.question_version_id or 0 for row in rows]
        )
        for row in rows:
            question = questions[row.question_version_id or 0]
            slots.append(
                review.slot_review(
                    result=_slot_result(row, question, None),
                    question=question,
                    version_id=row.question_version_id or 0,
                    order=json.loads(row.option_order_json),
                    grader_comment=row.grader_comment,
                )
            )
    return AttemptReview(
        result=result,
        review=exam.review,
        pass_percent=exam.pass_percent,
        shows_score=shows_score,
        shows_answers=shows_answers,
        slots=slots,
    )


def exam_attempts(
    *, session: Session, code: str, scope: org_service.AgentScope
) -> list[AttemptResult]:
    """Every attempt at an exam by the agents in scope, newest first."""
    exam = exam_by_code(session=session, code=code)
    attempts = session.scalars(
        select(ExamAttempt)
        .where(ExamAttempt.exam_id == exam.id)
        .order_by(ExamAttempt.started_at.desc(), ExamAttempt.id.desc())
    ).all()
    agents = {
        agent.id: agent
        for agent in org_service.agents_by_ids(
            session=session, agent_ids={attempt.agent_id for attempt in attempts}
        )
    }
    allowed = org_service.agent_ids_in_scope(session=session, scope=scope, agent_ids=agents)
    results = []
    for attempt in attempts:
        agent = agents.get(attempt.agent_id)
        if agent is None or attempt.agent_id not in allowed:
            continue
        results.append(_result_read(attempt, exam, agent))
    return results


def grading_queue(*, session: Session) -> list[GradingItem]:
    """Essay answers of submitted attempts that no trainer has marked, oldest first."""
    rows = session.execute(
        select(AttemptSlot, ExamAttempt, Exam)
        .join(ExamAttempt, AttemptSlot.attempt_id == ExamAttempt.id)
        .join(Exam, ExamAttempt.exam_id == Exam.id)
        .where(ExamAttempt.state == "needs_grading", AttemptSlot.mark.is_(None))
        .order_by(ExamAttempt.submitted_at, AttemptSlot.slot)
    ).all()
    questions = bank.question_versions(
        session=session,
        version_ids=[slot.question_version_id for slot, _a, _e in rows if slot.question_version_id],
    )
    agents = {
        agent.id: agent
        for agent in org_service.agents_by_ids(
            session=session, agent_ids={attempt.agent_id for _s, attempt, _e in rows}
        )
    }
    items = []
    for slot, attempt, exam in rows:
        question = questions.get(slot.question_version_id) if slot.question_version_id else None
        if question is None or question.type != "essay":
            continue
        agent = agents[attempt.agent_id]
        items.append(
            GradingItem(
                attempt_id=attempt.id,
                slot=slot.slot,
                exam_code=exam.code,
                employee_no=agent.employee_no,
                agent_name=agent.name,
                question_name=question.name,
                question_text=question.text,
                grader_info=question.grader_info,
                response=json.loads(slot.response_json) if slot.response_json else "",
                max_mark=slot.max_mark,
                submitted_at=attempt.submitted_at,
            )
        )
    return items


def grade_essay(
    *,
    session: Session,
    attempt_id: int,
    slot: int,
    mark: float,
    comment: str,
    user_id: int | None,
    now: datetime,
) -> AttemptResult:
    """A trainer's mark for an essay answer; the attempt finishes (and counts) once every
    essay of it is marked."""
    attempt = _own_attempt(session, attempt_id, None)
    if attempt.state == "in_progress":
        raise Conflict(N_("the attempt is not submitted yet"))
    row = session.scalar(
        select(AttemptSlot).where(AttemptSlot.attempt_id == attempt.id, AttemptSlot.slot == slot)
    )
    if row is None:
        raise NotFound(N_("the attempt has no question {slot}"), slot=slot)
    if not 0 <= mark <= row.max_mark:
        raise InvalidInput(N_("the mark is between 0 and {max}"), max=f"{row.max_mark:g}")
    row.mark = mark
    row.fraction = mark / row.max_mark if row.max_mark else 0.0
    row.graded_by_user_id = user_id
    row.graded_at = now
    row.grader_comment = comment
    session.flush()
    rows = _slots(session, attempt.id)
    if attempt.state == "needs_grading" and all(
        r.mark is not None or r.max_mark == 0 for r in rows
    ):
        _finish(session, attempt, rows)
    elif attempt.state == "finished":
        _finish(session, attempt, rows)  # a regrade: the total follows
    session.flush()
    return attempt_result(session=session, attempt_id=attempt.id)


@dataclass(frozen=True)
class CountedResult:
    """An agent's counted result at an exam in a period, for the training provider."""

    agent_id: int
    exam_code: str
    percent: float
    passed: bool
    attempts: int


def counted_results(
    *, session: Session, start: datetime, end: datetime, agent_ids: Iterable[int] | None = None
) -> list[CountedResult]:
    """Per agent and exam, the result counted from the attempts submitted in [start, end)
    under the exam's grading method."""
    statement = (
        select(ExamAttempt, Exam)
        .join(Exam, ExamAttempt.exam_id == Exam.id)
        .where(
            ExamAttempt.state == "finished",
            ExamAttempt.submitted_at >= start,
            ExamAttempt.submitted_at < end,
        )
    )
    if agent_ids is not None:
        statement = statement.where(ExamAttempt.agent_id.in_(list(agent_ids)))
    grouped: dict[tuple[int, int], list[ExamAttempt]] = {}
    exams: dict[int, Exam] = {}
    for attempt, exam in session.execute(statement).all():
        grouped.setdefault((attempt.agent_id, exam.id), []).append(attempt)
        exams[exam.id] = exam
    results = []
    for (agent_id, exam_id), attempts in sorted(grouped.items()):
        exam = exams[exam_id]
        percent = counted_percent(attempts, exam.grading_method)
        if percent is None:
            continue
        results.append(
            CountedResult(
                agent_id=agent_id,
                exam_code=exam.code,
                percent=percent,
                passed=percent >= exam.pass_percent,
                attempts=len(attempts),
            )
        )
    return results
