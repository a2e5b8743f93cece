"""Exams on the real database: the draw, answers kept by position, the server's deadline,
scoring at submission, essays in the queue, which attempt counts, and a certificate for a pass."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.errors import Conflict, Forbidden, InvalidInput, NotFound
from agentladder.training.certifications import service as certifications_service
from agentladder.training.exams import service as exams
from agentladder.training.exams.schemas import ExamSettings, SaveAnswer
from agentladder.training.models import AttemptSlot
from agentladder.training.programmes import service as programmes
from agentladder.training.questions import service as bank
from agentladder.training.questions.schemas import Question
from tests.factories import make_agent, make_team

NOW = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)


def single(
    name: str, right: int = 0, category: str = "产品知识", difficulty: str = "easy"
) -> Question:
    return Question.model_validate(
        {
            "type": "single_choice",
            "name": name,
            "text": f"{name}？",
            "category": (category,),
            "difficulty": difficulty,
            "choices": [
                {"text": f"选项{i}", "fraction": 1.0 if i == right else 0.0, "feedback": f"反馈{i}"}
                for i in range(4)
            ],
        }
    )


def essay(name: str) -> Question:
    return Question.model_validate(
        {
            "type": "essay",
            "name": name,
            "text": "写出安抚话术。",
            "category": ("服务技能",),
            "default_mark": 5,
        }
    )


def build_bank(session: Session, count: int = 6) -> list[int]:
    return [
        bank.store_question(
            session=session, question=single(f"题{i}", right=i % 4), source="test"
        ).question_id
        for i in range(count)
    ]


def make_exam(session: Session, **overrides: object) -> str:
    values: dict[str, object] = {
        "code": "PK-1",
        "title": "产品知识月考",
        "time_limit_min": 30,
        "pass_percent": 60,
        "blueprint": {"sections": [{"category": ["产品知识"], "count": 4, "mark": 2.5}]},
    }
    values.update(overrides)
    exam = exams.save_exam(
        session=session, settings_in=ExamSettings.model_validate(values), user_id=None
    )
    exams.set_exam_status(session=session, code=exam.code, status="published")
    return exam.code


def right_answers(session: Session, attempt_id: int, agent_id: int) -> list[SaveAnswer]:
    """The right answer of every slot, by the position the attempt shows it (read from the
    stored key: what a perfect agent would click)."""
    answers = []
    for row in session.scalars(select(AttemptSlot).where(AttemptSlot.attempt_id == attempt_id)):
        assert row.question_version_id is not None
        question = bank.question_versions(session=session, version_ids=[row.question_version_id])[
            row.question_version_id
        ]
        order = json.loads(row.option_order_json)
        right = next(i for i, c in enumerate(question.choices) if c.fraction == 1)
        answers.append(SaveAnswer(slot=row.slot, response=order.index(right), seq=1))
    return answers


def test_an_attempt_draws_shows_no_key_and_scores_at_submission(session: Session) -> None:
    build_bank(session)
    agent = make_agent(session)
    code = make_exam(session)
    attempt_id = exams.start_attempt(
        session=session, exam_code=code, agent_id=agent.id, now=NOW, rng=random.Random(1)
    )
    view = exams.attempt_view(session=session, attempt_id=attempt_id, agent_id=agent.id, now=NOW)
    assert len(view.slots) == 4
    assert view.seconds_left == 1800
    shown = view.model_dump_json()
    assert "fraction" not in shown
    assert "反馈" not in shown
    assert {slot.max_mark for slot in view.slots} == {2.5}
    answers = right_answers(session, attempt_id, agent.id)
    for answer in answers[:3]:
        exams.save_answer(
            session=session, attempt_id=attempt_id, agent_id=agent.id, answer=answer, now=NOW
        )
    wrong = answers[3].model_copy(update={"response": (answers[3].response + 1) % 4})
    exams.save_answer(
        session=session, attempt_id=attempt_id, agent_id=agent.id, answer=wrong, now=NOW
    )
    result = exams.submit_attempt(
        session=session, attempt_id=attempt_id, agent_id=agent.id, now=NOW + timedelta(minutes=5)
    )
    assert (result.state, result.marks, result.max_marks, result.percent, result.passed) == (
        "finished",
        7.5,
        10,
        75,
        True,
    )
    full = exams.attempt_result(session=session, attempt_id=attempt_id)
    assert [slot.state for slot in full.slots].count("right") == 3


def test_a_late_or_repeated_save_never_overwrites_a_newer_answer(session: Session) -> None:
    build_bank(session)
    agent = make_agent(session)
    attempt_id = exams.start_attempt(
        session=session, exam_code=make_exam(session), agent_id=agent.id, now=NOW
    )
    newer = SaveAnswer(slot=1, response=2, seq=5)
    older = SaveAnswer(slot=1, response=0, seq=3)
    exams.save_answer(
        session=session, attempt_id=attempt_id, agent_id=agent.id, answer=newer, now=NOW
    )
    receipt = exams.save_answer(
        session=session, attempt_id=attempt_id, agent_id=agent.id, answer=older, now=NOW
    )
    assert receipt.seq == 5
    view = exams.attempt_view(session=session, attempt_id=attempt_id, agent_id=agent.id, now=NOW)
    assert view.slots[0].response == 2


def test_positions_out_of_range_are_refused(session: Session) -> None:
    build_bank(session)
    agent = make_agent(session)
    attempt_id = exams.start_attempt(
        session=session, exam_code=make_exam(session), agent_id=agent.id, now=NOW
    )
    for bad in (9, -1, "A", [0, 1], True):
        with pytest.raises(InvalidInput):
            exams.save_answer(
                session=session,
                attempt_id=attempt_id,
                agent_id=agent.id,
                answer=SaveAnswer(slot=1, response=bad, seq=1),
                now=NOW,
            )


def test_the_server_deadline_closes_the_attempt(session: Session) -> None:
    build_bank(session)
    agent = make_agent(session)
    attempt_id = exams.start_attempt(
        session=session, exam_code=make_exam(session, time_limit_min=10), agent_id=agent.id, now=NOW
    )
    answer = right_answers(session, attempt_id, agent.id)[0]
    exams.save_answer(
        session=session,
        attempt_id=attempt_id,
        agent_id=agent.id,
        answer=answer,
        now=NOW + timedelta(minutes=9),
    )
    late = answer.model_copy(update={"seq": 2})
    with pytest.raises(Conflict):
        exams.save_answer(
            session=session,
            attempt_id=attempt_id,
            agent_id=agent.id,
            answer=late,
            now=NOW + timedelta(minutes=11),
        )
    result = exams.attempt_result(session=session, attempt_id=attempt_id)
    assert result.state == "finished"
    assert result.marks == 2.5
    assert result.submitted_at == NOW + timedelta(minutes=10)  # time ran out: not late


def test_overdue_attempts_are_finished_by_the_sweep(session: Session) -> None:
    build_bank(session)
    agent = make_agent(session)
    exams.start_attempt(
        session=session, exam_code=make_exam(session, time_limit_min=10), agent_id=agent.id, now=NOW
    )
    assert exams.finish_overdue_attempts(session=session, now=NOW + timedelta(minutes=5)) == 0
    assert exams.finish_overdue_attempts(session=session, now=NOW + timedelta(minutes=11)) == 1


def test_another_agents_attempt_is_not_found(session: Session) -> None:
    build_bank(session)
    owner, other = make_agent(session), make_agent(session)
    attempt_id = exams.start_attempt(
        session=session, exam_code=make_exam(session), agent_id=owner.id, now=NOW
    )
    with pytest.raises(NotFound):
        exams.attempt_view(session=session, attempt_id=attempt_id, agent_id=other.id, now=NOW)
    with pytest.raises(NotFound):
        exams.save_answer(
            session=session,
            attempt_id=attempt_id,
            agent_id=other.id,
            answer=SaveAnswer(slot=1, response=0, seq=1),
            now=NOW,
        )
    with pytest.raises(NotFound):
        exams.submit_attempt(session=session, attempt_id=attempt_id, agent_id=other.id, now=NOW)


def test_attempts_window_audience_and_counting(session: Session) -> None:
    build_bank(session)
    team = make_team(session, "T09", "九组")
    member, outsider = make_agent(session, team_code="T09"), make_agent(session)
    assert team
    code = make_exam(
        session,
        max_attempts=2,
        grading_method="highest",
        audience={"teams": ["T09"]},
        closes_at=NOW + timedelta(days=1),
    )
    with pytest.raises(Forbidden):
        exams.start_attempt(session=session, exam_code=code, agent_id=outsider.id, now=NOW)
    percents = []
    for number in range(2):
        attempt_id = exams.start_attempt(
            session=session, exam_code=code, agent_id=member.id, now=NOW
        )
        for answer in right_answers(session, attempt_id, member.id)[: 4 - 2 * number]:
            exams.save_answer(
                session=session, attempt_id=attempt_id, agent_id=member.id, answer=answer, now=NOW
            )
        percents.append(
            exams.submit_attempt(
                session=session, attempt_id=attempt_id, agent_id=member.id, now=NOW
            ).percent
        )
    assert percents == [100, 50]
    with pytest.raises(Conflict):
        exams.start_attempt(session=session, exam_code=code, agent_id=member.id, now=NOW)
    [mine] = exams.agent_exams(session=session, agent_id=member.id, now=NOW)
    assert (mine.required, mine.attempts_left, mine.counted_percent, mine.passed) == (
        True,
        0,
        100,
        True,
    )
    assert exams.agent_exams(session=session, agent_id=outsider.id, now=NOW) == []
    with pytest.raises(Conflict):
        exams.start_attempt(
            session=session, exam_code=code, agent_id=member.id, now=NOW + timedelta(days=2)
        )


def test_a_section_that_cannot_be_drawn_is_refused(session: Session) -> None:
    build_bank(session, count=3)
    with pytest.raises(InvalidInput):
        make_exam(session)


def test_parallel_forms_come_from_the_draw(session: Session) -> None:
    build_bank(session, count=12)
    code = make_exam(session)
    drawn = set()
    for seed in range(6):
        agent = make_agent(session)
        attempt_id = exams.start_attempt(
            session=session, exam_code=code, agent_id=agent.id, now=NOW, rng=random.Random(seed)
        )
        view = exams.attempt_view(
            session=session, attempt_id=attempt_id, agent_id=agent.id, now=NOW
        )
        drawn.add(tuple(sorted(slot.question_id or 0 for slot in view.slots)))
    assert len(drawn) > 1


def test_essays_wait_for_a_trainer(session: Session) -> None:
    build_bank(session)
    essay_id = bank.store_question(
        session=session, question=essay("安抚话术"), source="test"
    ).question_id
    agent = make_agent(session)
    code = make_exam(session, blueprint={"sections": [{"question_ids": [essay_id]}]})
    attempt_id = exams.start_attempt(session=session, exam_code=code, agent_id=agent.id, now=NOW)
    exams.save_answer(
        session=session,
        attempt_id=attempt_id,
        agent_id=agent.id,
        answer=SaveAnswer(slot=1, response="非常抱歉给您带来不便", seq=1),
        now=NOW,
    )
    assert (
        exams.submit_attempt(
            session=session, attempt_id=attempt_id, agent_id=agent.id, now=NOW
        ).state
        == "needs_grading"
    )
    [item] = exams.grading_queue(session=session)
    assert item.response == "非常抱歉给您带来不便"
    assert item.max_mark == 5
    with pytest.raises(InvalidInput):
        exams.grade_essay(
            session=session,
            attempt_id=attempt_id,
            slot=1,
            mark=6,
            comment="",
            user_id=None,
            now=NOW,
        )
    result = exams.grade_essay(
        session=session, attempt_id=attempt_id, slot=1, mark=4, comment="好", user_id=None, now=NOW
    )
    assert (result.state, result.percent, result.passed) == ("finished", 80, True)
    assert exams.grading_queue(session=session) == []


def test_editing_an_attempted_question_makes_a_version_the_attempt_keeps(session: Session) -> None:
    [question_id, *_rest] = build_bank(session, count=4)
    agent = make_agent(session)
    attempt_id = exams.start_attempt(
        session=session,
        exam_code=make_exam(session, shuffle_questions=False),
        agent_id=agent.id,
        now=NOW,
    )
    before = exams.attempt_view(session=session, attempt_id=attempt_id, agent_id=agent.id, now=NOW)
    stored = bank.store_question(
        session=session, question=single("题0 改", right=1), source="test", question_id=question_id
    )
    assert (stored.action, stored.version) == ("new_version", 2)
    after = exams.attempt_view(session=session, attempt_id=attempt_id, agent_id=agent.id, now=NOW)
    assert [s.name for s in after.slots] == [s.name for s in before.slots]
    with pytest.raises(Conflict):
        bank.delete_question(session=session, question_id=question_id)
    bank.retire_question(session=session, question_id=question_id, user_id=None)
    assert question_id not in {
        qid for qid, _v in bank.draw_pool(session=session, category=("产品知识",))
    }


def test_passing_awards_the_programmes_certificate(session: Session) -> None:
    build_bank(session)
    agent = make_agent(session)
    code = make_exam(session)
    programmes.save_programme(
        session=session,
        programme_in=programmes.ProgrammeIn(
            code="PK", cert_type="product_knowledge", exam_codes=(code,)
        ),
        user_id=None,
    )
    attempt_id = exams.start_attempt(session=session, exam_code=code, agent_id=agent.id, now=NOW)
    for answer in right_answers(session, attempt_id, agent.id):
        exams.save_answer(
            session=session, attempt_id=attempt_id, agent_id=agent.id, answer=answer, now=NOW
        )
    exams.submit_attempt(session=session, attempt_id=attempt_id, agent_id=agent.id, now=NOW)
    held = certifications_service.valid_certifications(
        session=session, agent_ids=[agent.id], on=date(2026, 11, 30)
    )
    assert held[agent.id] == {"product_knowledge"}
    [certificate] = certifications_service.certifications_of(session=session, agent_id=agent.id)
    assert certificate.issued_on == date(2026, 11, 10)
    assert certificate.expires_on == date(2027, 11, 9)
    assert certificate.source == f"exam:{code}"
