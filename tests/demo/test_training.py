"""The demo's training: a bilingual bank of 200+ questions in the four certification areas,
one exam per area taken through the exam service over six months with scores that follow the
agents' latent skill, essays marked by the trainer, and certificates from passing, some of
them expiring by the demo's today."""

from __future__ import annotations

import random
import re
import statistics
from collections import Counter
from datetime import date, timedelta

from sqlalchemy import select

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.demo import question_bank
from agentladder.demo import service as demo_service
from agentladder.demo import training as demo_training
from agentladder.demo.models import DemoAgentTruth
from agentladder.org import service as org_service
from agentladder.org.accounts import service as accounts_service
from agentladder.training.models import AttemptSlot, Certification, ExamAttempt
from agentladder.training.questions import grading
from agentladder.training.questions import service as bank_service
from agentladder.training.questions.schemas import QUESTION_TYPES
from tests.demo.stats import spearman

TODAY = date(2026, 11, 23)
_CHINESE = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]{2}")


def test_the_bank_is_bilingual_varied_and_keyed_right() -> None:
    questions = question_bank.demo_questions()
    assert len(questions) >= 200
    assert len({q.content_hash() for q in questions}) == len(questions)
    assert {q.category[0] for q in questions} == set(question_bank.AREAS)
    assert all(len(q.category) == 2 for q in questions), "every question in a sub-category"
    assert set(Counter(q.type for q in questions)) == set(QUESTION_TYPES) - {"description"}
    assert {q.difficulty for q in questions} == {"easy", "medium", "hard"}
    for question in questions:
        for text in (question.name, question.text, question.explanation):
            assert _CHINESE.search(text), (question.idnumber, text)
            assert _LATIN.search(text), (question.idnumber, text)
        # The key grades full marks: what the demo's right answers post.
        right = grading.right_response(question)
        if right is not None:
            assert grading.grade_response(question, right).fraction == 1.0, question.idnumber
    essays = [q.idnumber for q in questions if q.type == "essay"]
    assert essays
    assert set(essays) <= set(question_bank.ESSAY_ANSWERS)


def test_a_stronger_agent_is_more_likely_right() -> None:
    item = demo_training._Item(question_bank.demo_questions()[0], difficulty_b=0.0)
    chances = [demo_training.right_chance(item, skill) for skill in (-2.0, 0.0, 2.0)]
    assert chances == sorted(chances)
    guess = 1 / len(item.question.choices)
    assert guess < chances[0] < chances[-1] < 1


def test_agents_sit_the_exams_and_earn_certificates(settings: Settings) -> None:
    with session_scope(settings) as session:
        # The organisation, levels and logins only; the step is run for six months below
        # (the calls' simulation, which gives the months, is not needed by the exams).
        demo_service.build_demo(
            session=session,
            settings=settings,
            today=TODAY,
            agents=45,
            seed=3,
            call_months=0,
            period_kinds=("month",),
        )
    with session_scope(settings) as session:
        ctx = demo_service.DemoContext(
            session=session,
            settings=settings,
            rng=random.Random(8),
            agents_wanted=45,
            today=TODAY,
            password=demo_service.DEMO_PASSWORD,
            password_hash="",
            call_months=6,
        )
        demo_service.step_training(ctx)
    facts = ctx.summary["training"]
    assert isinstance(facts, dict)
    assert facts["questions"] >= 200
    assert facts["exams"] == ["PK-2026", "SS-2026", "SA-2026", "CA-2026"]

    with session_scope(settings) as session:
        stored = bank_service.bank_questions(session=session)
        assert len(stored) >= 200
        assert {question.category[0] for _id, question in stored} == set(question_bank.AREAS)

        attempts = session.scalars(select(ExamAttempt)).all()
        assert len(attempts) == facts["attempts"]
        assert {a.passed for a in attempts if a.state == "finished"} == {True, False}
        assert any(a.number > 1 for a in attempts), "some agents re-take a failed exam"
        first_day = date(2026, 5, 1)
        assert all(
            first_day <= a.started_at.date() <= TODAY and a.source == "online" for a in attempts
        )

        slots = session.scalars(select(AttemptSlot)).all()
        fractions = [s.fraction for s in slots if s.fraction is not None]
        assert any(0 < f < 1 for f in fractions), "partial credit shows"
        trainer = accounts_service.get_user_by_username(session=session, username="trainer")
        assert trainer is not None
        graded = [s for s in slots if s.graded_by_user_id is not None]
        assert graded
        assert all(s.graded_by_user_id == trainer.id for s in graded)

        certificates = session.scalars(select(Certification)).all()
        assert {c.cert_type for c in certificates} == {
            "product_knowledge",
            "service_skill",
            "sales_skill",
            "comprehensive",
        }
        assert all(c.source.startswith("exam:") and c.programme_id for c in certificates)
        assert any(
            c.expires_on is not None and TODAY <= c.expires_on <= TODAY + timedelta(days=90)
            for c in certificates
        ), "some certificates are expiring"
        assert any(c.expires_on is not None and c.expires_on < TODAY for c in certificates)

        # Better latent skill, higher mean exam score.
        truths = {t.agent_id: t for t in session.scalars(select(DemoAgentTruth))}
        hired = {a.id: a.hire_date for a in org_service.all_agents(session=session)}
        percents: dict[int, list[float]] = {}
        for attempt in attempts:
            if attempt.percent is not None:
                percents.setdefault(attempt.agent_id, []).append(attempt.percent)
        agents = sorted(percents)
        assert len(agents) >= 30
        skill = [demo_service.true_skill(truths[a], hired[a], TODAY) for a in agents]
        mean = [statistics.mean(percents[a]) for a in agents]
        assert spearman(skill, mean) > 0.5
