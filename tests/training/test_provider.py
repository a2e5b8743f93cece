"""The training provider on the real database, through the real exam and course services: the
exam score of the exams required of the agent, exams passed, course hours, the period's days
in the centre's time zone, certificates awarded by a passed programme opening the ladder's
gate, and the period's evidence stale after a late result."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from agentladder import closing
from agentladder.config import Settings
from agentladder.cycle import service as cycle_service
from agentladder.db import utcnow
from agentladder.external.models import ExternalEvidence
from agentladder.formatting import format_value
from agentladder.ladder.decisions import facts as ladder_facts
from agentladder.ladder.policy import service as policy_service
from agentladder.ladder.policy.schemas import EntrySpec
from agentladder.metrics import service as metrics_service
from agentladder.metrics.schemas import Fact
from agentladder.org import service as org_service
from agentladder.org.models import Agent
from agentladder.periods import Period, parse_period
from agentladder.training.certifications import service as certifications_service
from agentladder.training.certifications.schemas import CertificationCreate
from agentladder.training.courses import service as courses_service
from agentladder.training.courses.schemas import CourseCreate
from agentladder.training.exams import service as exams
from agentladder.training.exams.schemas import SaveAnswer
from agentladder.training.programmes import service as programmes
from agentladder.training.provider import PROVIDER
from agentladder.training.questions import service as bank
from tests.cycle.builders import import_queue_log, october
from tests.factories import make_agent, make_team
from tests.ladder.builders import HIRED, decision_of, gate_of, give, policy_text, run
from tests.training.exams.test_service import build_bank, essay, make_exam, right_answers

OCTOBER = parse_period("2026-10")
# 10:00 in Shanghai, the centre's zone in the tests.
MID_OCTOBER = datetime(2026, 10, 15, 2, 0, tzinfo=UTC)


def facts(session: Session, period: Period = OCTOBER) -> dict[tuple[int, str], Fact]:
    """The provider's facts of one period by agent and metric."""
    found = PROVIDER.facts(session=session, periods=[period], metrics=None)
    return {(fact.agent_id, fact.metric_id): fact for label, fact in found if label == period.label}


def sit(session: Session, agent: Agent, code: str, now: datetime, right: int) -> float:
    """One attempt with the first `right` answers right and the others wrong; its percent."""
    attempt_id = exams.start_attempt(
        session=session, exam_code=code, agent_id=agent.id, now=now, rng=random.Random(7)
    )
    for index, answer in enumerate(right_answers(session, attempt_id, agent.id)):
        if index >= right:
            answer = answer.model_copy(update={"response": (answer.response + 1) % 4})
        exams.save_answer(
            session=session, attempt_id=attempt_id, agent_id=agent.id, answer=answer, now=now
        )
    result = exams.submit_attempt(
        session=session, attempt_id=attempt_id, agent_id=agent.id, now=now + timedelta(minutes=9)
    )
    assert result.percent is not None
    return result.percent


def team_agent(session: Session, **overrides: object) -> Agent:
    if org_service.get_team_by_code(session=session, code="T01") is None:
        make_team(session)
    return make_agent(session, team_code="T01", hire_date=HIRED, **overrides)


def test_a_passed_required_exam_gives_the_score_and_a_pass(session: Session) -> None:
    build_bank(session)
    agent, other = team_agent(session), make_agent(session)
    code = make_exam(session, audience={"teams": ["T01"]})
    assert sit(session, agent, code, MID_OCTOBER, right=3) == 75
    found = facts(session)
    assert found[(agent.id, "exam_score")] == Fact(agent.id, "exam_score", 75, 1, "training")
    assert found[(agent.id, "exams_passed")] == Fact(agent.id, "exams_passed", 1, 1, "training")
    assert not any(agent_id == other.id for agent_id, _ in found)
    assert facts(session, parse_period("2026-11")) == {}


def test_the_counted_attempt_of_each_exam_averaged_over_the_required_ones(
    session: Session,
) -> None:
    build_bank(session)
    agent = team_agent(session)
    best = make_exam(session, code="PK-1", audience={"teams": ["T01"]})
    last = make_exam(
        session, code="PK-2", grading_method="last", audience={"agents": [agent.employee_no]}
    )
    practice = make_exam(session, code="OPEN", title="自测")  # no audience: nobody is held to it
    sit(session, agent, best, MID_OCTOBER, right=1)  # 25, failed
    sit(session, agent, best, MID_OCTOBER + timedelta(days=1), right=4)  # 100 counts (highest)
    sit(session, agent, last, MID_OCTOBER, right=4)  # 100
    sit(session, agent, last, MID_OCTOBER + timedelta(days=2), right=2)  # 50 counts (last)
    sit(session, agent, practice, MID_OCTOBER, right=0)  # 0, left out of the score
    found = facts(session)
    score = found[(agent.id, "exam_score")]
    assert (score.value, score.sample_size) == (75, 4)  # (100 + 50) / 2 over four attempts
    passed = found[(agent.id, "exams_passed")]
    assert (passed.value, passed.sample_size) == (1, 3)  # PK-1 passed; PK-2 at 50 and OPEN not


def test_only_practice_exams_give_passes_but_no_score(session: Session) -> None:
    build_bank(session)
    agent = make_agent(session)
    sit(session, agent, make_exam(session), MID_OCTOBER, right=4)
    found = facts(session)
    assert (agent.id, "exam_score") not in found
    assert found[(agent.id, "exams_passed")].value == 1


def test_an_audience_by_level_reads_the_level_of_the_periods_last_day(session: Session) -> None:
    build_bank(session)
    agent = make_agent(session, hire_date=HIRED)
    code = make_exam(session, audience={"levels": ["basic_fresh"]})
    sit(session, agent, code, MID_OCTOBER, right=4)
    # Promoted at October's close, from November on: October's exam was still required.
    org_service.change_level(
        session=session,
        agent=agent,
        to_level="basic_sophomore",
        effective_on=date(2026, 11, 1),
        source="ladder",
        reason="promoted at October's close",
    )
    assert agent.current_level == "basic_sophomore"
    assert facts(session)[(agent.id, "exam_score")].value == 100


def test_a_period_is_its_days_in_the_centres_time_zone(session: Session) -> None:
    build_bank(session)
    agent = team_agent(session)
    code = make_exam(session, audience={"teams": ["T01"]}, max_attempts=None)
    # 2026-10-31 23:30 in Shanghai is 15:30 UTC; 2026-11-01 00:30 there is still October in UTC.
    sit(session, agent, code, datetime(2026, 10, 31, 15, 20, tzinfo=UTC), right=4)
    sit(session, agent, code, datetime(2026, 10, 31, 16, 20, tzinfo=UTC), right=2)
    october_score = facts(session)[(agent.id, "exam_score")]
    november_score = facts(session, parse_period("2026-11"))[(agent.id, "exam_score")]
    assert (october_score.value, november_score.value) == (100, 50)
    # A quarter holds both: the highest of its two attempts counts.
    quarter = facts(session, parse_period("2026-Q4"))[(agent.id, "exam_score")]
    assert (quarter.value, quarter.sample_size) == (100, 2)


def test_course_hours_of_the_period_add_up(session: Session) -> None:
    agent, other = make_agent(session), make_agent(session)
    for who, course, day, hours in (
        (agent, "投诉处理技巧", date(2026, 10, 1), 3.5),
        (agent, "新产品培训", date(2026, 10, 31), 2),
        (agent, "新产品培训", date(2026, 11, 1), 8),
        (other, "投诉处理技巧", date(2026, 9, 30), 3.5),
    ):
        courses_service.record_course(
            session=session,
            course_in=CourseCreate(agent_id=who.id, course=course, completed_on=day, hours=hours),
        )
    found = facts(session)
    assert found[(agent.id, "training_hours")] == Fact(
        agent.id, "training_hours", 5.5, 2, "training"
    )
    assert (other.id, "training_hours") not in found
    only_hours = PROVIDER.facts(session=session, periods=[OCTOBER], metrics={"training_hours"})
    assert [fact.metric_id for _, fact in only_hours] == ["training_hours"]
    # Shown in hours with the half hour kept (as a count 5.5 read "6"), summed over a window.
    definition = metrics_service.metric_definition("training_hours")
    assert definition is not None
    assert format_value(5.5, definition.unit, "en") == "5.5 h"
    assert format_value(5.5, definition.unit, "zh_Hans") == "5.5小时"
    entry = EntrySpec.model_validate(
        {"min_score": 60, "gates": [{"metric": "training_hours", "min": 40, "window_months": 12}]}
    )
    [gate] = policy_service.entry_gates(entry)
    assert (gate.counts, gate.window_months) == (True, 12)


def test_the_products_exam_score_wins_over_an_imported_one(session: Session) -> None:
    build_bank(session)
    taker, imported_only = team_agent(session), team_agent(session)
    for agent in (taker, imported_only):
        session.add(
            ExternalEvidence(
                agent_id=agent.id,
                period="2026-10",
                metric_id="exam_score",
                value=40.0,
                sample_size=1,
                source="lms.csv",
            )
        )
    session.flush()
    sit(session, taker, make_exam(session, audience={"teams": ["T01"]}), MID_OCTOBER, right=4)
    gathered = ladder_facts.gather_facts(
        session=session, periods=[OCTOBER], metrics={"exam_score"}
    )["2026-10"]
    assert (gathered[taker.id]["exam_score"].value, gathered[taker.id]["exam_score"].source) == (
        100,
        "training",
    )
    assert gathered[imported_only.id]["exam_score"].value == 40


def test_passing_a_programmes_exam_awards_the_certification_the_ladder_gate_accepts(
    session: Session,
) -> None:
    """The issue's done-when: the gate of Basic Sophomore requires `service_skill`; the agent
    fails it before passing the programme's exam and passes it after."""
    text = policy_text(
        consecutive=1,
        entry={"basic_sophomore": "{min_score: 55, certifications: [service_skill]}"},
    )
    build_bank(session)
    agent = team_agent(session)
    code = make_exam(session, code="SS-1", title="服务技能认证考试", audience={"teams": ["T01"]})
    programmes.save_programme(
        session=session,
        programme_in=programmes.ProgrammeIn(
            code="service-skill", cert_type="service_skill", exam_codes=(code,)
        ),
        user_id=None,
    )
    give(session, agent, "2026-10", score=90)

    before = decision_of(run(session, "2026-10", text, dry_run=True), agent)
    assert before.decision == "hold"
    gate = gate_of(before, "certification")
    assert (gate["required"], gate["passed"]) == ("service_skill", False)
    assert "certification: Service skill" in before.gaps("en")

    assert sit(session, agent, code, MID_OCTOBER, right=1) == 25  # a fail awards nothing
    held = decision_of(run(session, "2026-10", text, dry_run=True), agent)
    assert gate_of(held, "certification")["passed"] is False

    assert sit(session, agent, code, MID_OCTOBER + timedelta(days=1), right=4) == 100
    [certificate] = certifications_service.certifications_of(session=session, agent_id=agent.id)
    assert (certificate.cert_type, certificate.issued_on, certificate.source) == (
        "service_skill",
        date(2026, 10, 16),
        "exam:SS-1",
    )
    after = decision_of(run(session, "2026-10", text), agent)
    assert gate_of(after, "certification")["passed"] is True
    assert (after.decision, after.to_level) == ("promote", "basic_sophomore")
    # September closed before the pass: the certificate was not valid on its last day.
    give(session, agent, "2026-09", score=90)
    september = decision_of(run(session, "2026-09", text, dry_run=True), agent)
    assert gate_of(september, "certification")["passed"] is False


def test_results_after_the_period_was_gathered_make_it_stale(
    session: Session, settings: Settings
) -> None:
    agent = team_agent(session, employee_no="A0001")
    org_service.add_alias(session=session, agent=agent, identity="SIP/1001")
    essay_id = bank.store_question(
        session=session, question=essay("安抚话术"), source="test"
    ).question_id
    code = make_exam(
        session,
        code="SS-ESSAY",
        audience={"teams": ["T01"]},
        blueprint={"sections": [{"question_ids": [essay_id]}]},
    )
    attempt_id = exams.start_attempt(
        session=session, exam_code=code, agent_id=agent.id, now=MID_OCTOBER
    )
    exams.save_answer(
        session=session,
        attempt_id=attempt_id,
        agent_id=agent.id,
        answer=SaveAnswer(slot=1, response="先道歉，再确认问题。", seq=1),
        now=MID_OCTOBER,
    )
    exams.submit_attempt(session=session, attempt_id=attempt_id, agent_id=agent.id, now=MID_OCTOBER)
    session.commit()
    import_queue_log(settings, "october", october(1, 2))
    assert PROVIDER.stale_inputs(session=session, settings=settings, period=OCTOBER) == []
    metrics_service.compute_period(session=session, settings=settings, period=OCTOBER)
    assert PROVIDER.stale_inputs(session=session, settings=settings, period=OCTOBER) == []
    assert (agent.id, "exam_score") not in facts(session)  # the essay waits for a trainer

    exams.grade_essay(
        session=session,
        attempt_id=attempt_id,
        slot=1,
        mark=5,
        comment="好",
        user_id=None,
        now=datetime.now(UTC),  # graded after October's evidence was gathered
    )
    stale = PROVIDER.stale_inputs(session=session, settings=settings, period=OCTOBER)
    assert [item.params["count"] for item in stale] == [1]
    assert stale[0].refresh_command == "agentladder cycle close --period 2026-10"
    assert stale[0].describe("en").startswith("exam results of 2026-10 submitted, graded or")
    assert facts(session)[(agent.id, "exam_score")].value == 100
    # The ladder hears of it too (and refuses to decide until the period is gathered again).
    assert [
        item.source
        for item in ladder_facts.stale_inputs(session=session, settings=settings, period=OCTOBER)
    ] == ["training"]
    metrics_service.compute_period(session=session, settings=settings, period=OCTOBER)
    assert PROVIDER.stale_inputs(session=session, settings=settings, period=OCTOBER) == []

    def course(name: str, day: date) -> None:
        courses_service.record_course(
            session=session,
            course_in=CourseCreate(agent_id=agent.id, course=name, completed_on=day, hours=3),
        )

    def certificate(kind: str, day: date) -> None:
        certifications_service.record_certification(
            session=session,
            cert_in=CertificationCreate(agent_id=agent.id, cert_type=kind, issued_on=day),
        )

    course("投诉处理技巧", date(2026, 10, 20))
    certificate("product_knowledge", date(2026, 10, 5))
    # A November course changes nothing of October; certificates are never stale (a ladder
    # run reads them as they are on the period's last day).
    course("新产品培训", date(2026, 11, 2))
    certificate("sales_skill", date(2026, 11, 5))
    stale = PROVIDER.stale_inputs(session=session, settings=settings, period=OCTOBER)
    assert [(item.what.split(" ")[0], item.params["count"]) for item in stale] == [("course", 1)]
    september = parse_period("2026-09")  # never gathered: read as it is
    assert PROVIDER.stale_inputs(session=session, settings=settings, period=september) == []


@pytest.mark.parametrize("metric", ["exam_score", "exams_passed", "training_hours"])
def test_the_metrics_are_declared_by_the_training_provider(metric: str) -> None:
    definition = metrics_service.metric_definition(metric)
    assert definition is not None
    assert definition.subsystem == "training"


def test_the_period_close_submits_attempts_whose_time_ran_out(
    session: Session, settings: Settings
) -> None:
    build_bank(session)
    started = utcnow() - timedelta(hours=1)
    attempt_id = exams.start_attempt(
        session=session,
        exam_code=make_exam(session, time_limit_min=10),
        agent_id=make_agent(session).id,
        now=started,
    )
    [step] = [step for step in cycle_service.steps() if step.name == "exam_attempts"]
    context = closing.CloseContext(
        session=session,
        settings=settings,
        period=OCTOBER,
        allow_stale=False,
        run_by=None,
        progress=lambda done, total: None,
    )
    assert step.run(context) == {"finished": 1}
    result = exams.attempt_result(session=session, attempt_id=attempt_id)
    assert (result.state, result.submitted_at) == ("finished", started + timedelta(minutes=10))
