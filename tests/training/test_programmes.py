"""Certification programmes on the real database: passing the exams awards the certificate,
passing them again later renews it (a new certificate, the old one kept), and the reminders and
the expiring report name the exams to re-take."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.errors import InvalidInput, NotFound
from agentladder.org import service as org_service
from agentladder.org.models import Agent
from agentladder.training.certifications import service as certifications_service
from agentladder.training.exams import service as exams
from agentladder.training.exams.schemas import ExamSettings, SaveAnswer
from agentladder.training.models import AttemptSlot
from agentladder.training.programmes import service as programmes
from agentladder.training.questions import service as bank
from agentladder.training.questions.schemas import Question
from tests.factories import make_agent

EVERYONE = org_service.AgentScope(everyone=True, team_ids=frozenset(), agent_id=None)
# 10:00 in Shanghai: the pass's day is the same in UTC and in the centre.
FIRST_PASS = datetime(2025, 1, 10, 2, 0, tzinfo=UTC)


def _question(name: str, category: str) -> Question:
    return Question.model_validate(
        {
            "type": "single_choice",
            "name": name,
            "text": f"{name}？",
            "category": (category,),
            "choices": [{"text": f"选项{i}", "fraction": 1.0 if i == 0 else 0.0} for i in range(3)],
        }
    )


def make_exam(session: Session, code: str, title: str, category: str) -> str:
    """A published exam of two questions drawn from its own category."""
    for number in range(2):
        bank.store_question(
            session=session, question=_question(f"{code}-{number}", category), source="test"
        )
    exams.save_exam(
        session=session,
        settings_in=ExamSettings.model_validate(
            {
                "code": code,
                "title": title,
                "pass_percent": 60,
                "blueprint": {"sections": [{"category": [category], "count": 2}]},
            }
        ),
        user_id=None,
    )
    exams.set_exam_status(session=session, code=code, status="published")
    return code


def sit(session: Session, agent: Agent, code: str, at: datetime, *, right: bool = True) -> bool:
    """One attempt of the exam answered all right (or all wrong), submitted at `at`."""
    attempt_id = exams.start_attempt(session=session, exam_code=code, agent_id=agent.id, now=at)
    for slot in session.scalars(select(AttemptSlot).where(AttemptSlot.attempt_id == attempt_id)):
        order = json.loads(slot.option_order_json)
        shown = order.index(0)  # choice 0 is the right one
        response = shown if right else (shown + 1) % len(order)
        exams.save_answer(
            session=session,
            attempt_id=attempt_id,
            agent_id=agent.id,
            answer=SaveAnswer(slot=slot.slot, response=response, seq=1),
            now=at,
        )
    result = exams.submit_attempt(session=session, attempt_id=attempt_id, agent_id=agent.id, now=at)
    return bool(result.passed)


def add_programme(
    session: Session, code: str, cert_type: str, *exam_codes: str, months: int = 12
) -> programmes.ProgrammeRead:
    return programmes.save_programme(
        session=session,
        programme_in=programmes.ProgrammeIn(
            code=code, cert_type=cert_type, exam_codes=exam_codes, validity_months=months
        ),
        user_id=None,
    )


def test_programmes_are_saved_listed_changed_and_removed(session: Session) -> None:
    make_exam(session, "SS-1", "服务技能考试", "服务技能")
    make_exam(session, "SS-2", "服务话术考试", "服务话术")
    saved = programmes.save_programme(
        session=session,
        programme_in=programmes.ProgrammeIn.model_validate(
            {"code": " SS ", "cert_type": "service_skill", "exam_codes": "SS-1，SS-2, SS-1"}
        ),
        user_id=None,
    )
    assert (saved.code, saved.exam_codes, saved.validity_months, saved.awarded) == (
        "SS",
        ("SS-1", "SS-2"),
        None,
        0,
    )
    add_programme(session, "SS", "service_skill", "SS-1", months=6)  # the same code: a change
    [listed] = programmes.list_programmes(session=session)
    assert (listed.exam_codes, listed.validity_months) == (("SS-1",), 6)
    assert programmes.get_programme(session=session, code="SS") == listed
    with pytest.raises(InvalidInput, match="unknown certification type"):
        add_programme(session, "X", "no_such_type", "SS-1")
    with pytest.raises(InvalidInput, match="exam NOPE does not exist"):
        add_programme(session, "X", "service_skill", "SS-1", "NOPE")
    programmes.delete_programme(session=session, code="SS")
    assert programmes.list_programmes(session=session) == []
    with pytest.raises(NotFound):
        programmes.delete_programme(session=session, code="SS")
    with pytest.raises(NotFound):
        programmes.get_programme(session=session, code="SS")


def test_renewal_issues_a_new_certificate_and_keeps_the_old_one(session: Session) -> None:
    agent = make_agent(session)
    make_exam(session, "SS-1", "服务技能考试", "服务技能")
    add_programme(session, "SS", "service_skill", "SS-1")
    assert sit(session, agent, "SS-1", FIRST_PASS)
    [first] = certifications_service.certifications_of(
        session=session, agent_id=agent.id, today=date(2025, 2, 1)
    )
    assert (first.issued_on, first.expires_on, first.programme_code, first.source) == (
        date(2025, 1, 10),
        date(2026, 1, 9),
        "SS",
        "exam:SS-1",
    )
    # Eleven months on, the scorecard reminds of the expiry and names the exam to re-take.
    december = date(2025, 12, 7)
    [reminder] = certifications_service.expiry_reminders(
        session=session, agent_id=agent.id, today=december
    )
    assert (reminder.type_zh, reminder.expires_on, reminder.days_left) == (
        "服务技能认证",
        date(2026, 1, 9),
        33,
    )
    assert [(exam.code, exam.title) for exam in reminder.exams] == [("SS-1", "服务技能考试")]
    # Re-taking and passing renews: a new certificate with new dates; the old one stays.
    assert sit(session, agent, "SS-1", datetime(2025, 12, 7, 3, 0, tzinfo=UTC))
    history = certifications_service.certifications_of(
        session=session, agent_id=agent.id, today=december
    )
    assert [(c.issued_on, c.expires_on, c.status) for c in history] == [
        (date(2025, 12, 7), date(2026, 12, 6), "valid"),
        (date(2025, 1, 10), date(2026, 1, 9), "expiring"),
    ]
    assert history[1].id == first.id
    assert programmes.list_programmes(session=session)[0].awarded == 2
    # Renewed: no reminder, nothing in the trainer's report, and both codes verify.
    assert (
        certifications_service.expiry_reminders(session=session, agent_id=agent.id, today=december)
        == []
    )
    report = certifications_service.expiring_certifications(
        session=session, scope=EVERYONE, days=90, today=december
    )
    assert (report.rows, report.counts) == ([], [])
    # The old one expires in its time; the agent stays certified through the new one.
    held = certifications_service.valid_certifications(
        session=session, agent_ids=[agent.id], on=date(2026, 6, 1)
    )
    assert held[agent.id] == {"service_skill"}


def test_a_set_of_exams_is_passed_again_in_full_to_renew(session: Session) -> None:
    agent = make_agent(session)
    make_exam(session, "PK-A", "产品知识（一）", "产品一")
    make_exam(session, "PK-B", "产品知识（二）", "产品二")
    add_programme(session, "PK", "product_knowledge", "PK-A", "PK-B")

    def held() -> list[date]:
        return [
            cert.issued_on
            for cert in certifications_service.certifications_of(session=session, agent_id=agent.id)
        ]

    assert sit(session, agent, "PK-A", FIRST_PASS)
    assert held() == []  # one of two
    assert not sit(session, agent, "PK-B", datetime(2025, 1, 11, 2, tzinfo=UTC), right=False)
    assert held() == []  # a failed attempt counts for nothing
    assert sit(session, agent, "PK-B", datetime(2025, 1, 12, 2, tzinfo=UTC))
    assert held() == [date(2025, 1, 12)]
    # A year on, passing one exam of the set again is not a renewal; passing both is.
    assert sit(session, agent, "PK-B", datetime(2025, 12, 1, 2, tzinfo=UTC))
    assert held() == [date(2025, 1, 12)]
    report = certifications_service.expiring_certifications(
        session=session, scope=EVERYONE, days=60, today=date(2025, 12, 1)
    )
    assert [[exam.code for exam in row.exams] for row in report.rows] == [["PK-A", "PK-B"]]
    assert [(count.cert_type, count.count) for count in report.counts] == [("product_knowledge", 1)]
    assert sit(session, agent, "PK-A", datetime(2025, 12, 2, 2, tzinfo=UTC))
    assert held() == [date(2025, 12, 2), date(2025, 1, 12)]


def test_the_day_of_a_pass_is_the_centres(session: Session) -> None:
    agent = make_agent(session)
    make_exam(session, "SS-1", "服务技能考试", "服务技能")
    add_programme(session, "SS", "service_skill", "SS-1")
    # 17:00 UTC on the 9th is 01:00 on the 10th in Shanghai.
    assert sit(session, agent, "SS-1", datetime(2025, 3, 9, 17, 0, tzinfo=UTC))
    [cert] = certifications_service.certifications_of(session=session, agent_id=agent.id)
    assert cert.issued_on == date(2025, 3, 10)
    # A second pass the same day makes no second certificate.
    assert sit(session, agent, "SS-1", datetime(2025, 3, 10, 5, 0, tzinfo=UTC))
    assert len(certifications_service.certifications_of(session=session, agent_id=agent.id)) == 1
