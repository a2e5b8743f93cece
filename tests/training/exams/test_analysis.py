"""Item statistics from stored attempts: attempts made through the exam service (start, save
answers, submit) and imported from Moodle, checked against an independent numpy/scipy
computation of Moodle's formulas written here."""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from fastapi.testclient import TestClient
from scipy import stats
from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.org import service as org_service
from agentladder.training.exams import analysis, moodle_grades
from agentladder.training.exams import service as exams
from agentladder.training.exams.schemas import AttemptResult, ExamSettings, SaveAnswer
from agentladder.training.models import AttemptSlot
from agentladder.training.questions import service as bank
from agentladder.training.questions.schemas import Question
from agentladder.web.app import create_app
from tests.factories import login, make_agent, make_user

START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
EVERYONE = org_service.AgentScope(everyone=True, team_ids=frozenset(), agent_id=None)
approx = pytest.approx


def single(name: str, category: str, right: int) -> Question:
    return Question.model_validate(
        {
            "type": "single_choice",
            "name": name,
            "text": f"{name}？",
            "category": (category,),
            "choices": [
                {"text": f"选项{i}", "fraction": 1.0 if i == right else 0.0} for i in range(4)
            ],
        }
    )


def true_false(name: str, category: str) -> Question:
    return Question.model_validate(
        {
            "type": "true_false",
            "name": name,
            "text": f"{name}？",
            "category": (category,),
            "correct_answer": True,
        }
    )


@dataclass(frozen=True)
class Built:
    code: str
    fixed: tuple[int, int]
    agents: list[int]


def build(session: Session, grading_method: str = "highest") -> Built:
    """An exam of two fixed questions (2 marks each) and two drawn from a pool of five (1 mark
    each); 14 agents of different ability take it once or twice through the exam service."""
    fixed = (
        bank.store_question(session=session, question=single("资费", "基础", 2), source="t"),
        bank.store_question(session=session, question=true_false("提速", "基础"), source="t"),
    )
    for i in range(4):
        bank.store_question(session=session, question=single(f"话术{i}", "服务技能", i), source="t")
    bank.store_question(session=session, question=true_false("安抚", "服务技能"), source="t")
    settings = ExamSettings.model_validate(
        {
            "code": "STAT-1",
            "title": "统计考试",
            "shuffle_questions": False,
            "grading_method": grading_method,
            "blueprint": {
                "sections": [
                    {"title": "基础题", "question_ids": [q.question_id for q in fixed], "mark": 2},
                    {"title": "抽题", "category": ["服务技能"], "count": 2, "mark": 1},
                ]
            },
        }
    )
    exams.save_exam(session=session, settings_in=settings, user_id=None)
    exams.set_exam_status(session=session, code="STAT-1", status="published")
    rng = random.Random(7)
    agents = []
    now = START
    for n in range(14):
        agent = make_agent(session, employee_no=f"A{n:04d}", name=f"座席{n}")
        agents.append(agent.id)
        ability = 0.2 + 0.05 * n
        for _ in range(1 + n % 2):
            now += timedelta(minutes=7)
            take(session, agent.id, ability, rng, now)
    # An attempt still in progress is never counted.
    exams.start_attempt(session=session, exam_code="STAT-1", agent_id=agents[0], now=now)
    return Built("STAT-1", (fixed[0].question_id, fixed[1].question_id), agents)


def take(
    session: Session, agent_id: int, ability: float, rng: random.Random, now: datetime
) -> None:
    """Start, answer every slot (right with chance `ability`, some left blank), submit."""
    attempt_id = exams.start_attempt(
        session=session, exam_code="STAT-1", agent_id=agent_id, now=now, rng=rng
    )
    view = exams.attempt_view(session=session, attempt_id=attempt_id, agent_id=agent_id, now=now)
    for slot in view.slots:
        if rng.random() < 0.1:
            continue  # left blank
        question = bank.get_question(session=session, question_id=slot.question_id or 0).question
        right = rng.random() < ability
        if question.type == "true_false":
            response: object = right
        else:
            key = next(i for i, c in enumerate(question.choices) if c.fraction == 1)
            original = key if right else rng.choice([i for i in range(4) if i != key])
            order = _order(session, attempt_id, slot.slot)
            response = exams.to_shown(question, order, original)
        exams.save_answer(
            session=session,
            attempt_id=attempt_id,
            agent_id=agent_id,
            answer=SaveAnswer(slot=slot.slot, response=response, seq=1),
            now=now,
        )
    exams.submit_attempt(
        session=session, attempt_id=attempt_id, agent_id=agent_id, now=now + timedelta(minutes=5)
    )


def _order(session: Session, attempt_id: int, slot: int) -> list[int]:
    """The option order the attempt shows a slot in (as stored by the draw)."""
    row = session.scalars(
        select(AttemptSlot).where(AttemptSlot.attempt_id == attempt_id, AttemptSlot.slot == slot)
    ).one()
    order: list[int] = json.loads(row.option_order_json)
    return order


# --- the independent computation ---------------------------------------------------------------


def chosen(results: list[AttemptResult], which: str) -> list[AttemptResult]:
    finished = [r for r in results if r.state == "finished"]
    by_agent: dict[int, list[AttemptResult]] = {}
    for r in finished:
        by_agent.setdefault(r.agent_id, []).append(r)
    used = []
    for mine in by_agent.values():
        if which == "all":
            used += mine
        elif which == "first":
            used.append(min(mine, key=lambda r: r.number))
        elif which == "last":
            used.append(max(mine, key=lambda r: r.number))
        else:
            best = max(r.percent or 0 for r in mine)
            used.append(min((r for r in mine if r.percent == best), key=lambda r: r.number))
    return sorted(used, key=lambda r: (r.started_at, r.id))


def moodle(marks: np.ndarray, maxima: np.ndarray) -> dict[str, object]:
    """Moodle's quiz statistics by numpy and scipy (reference-definitions.md §3)."""
    p = marks.shape[1]
    totals = marks.sum(axis=1)
    scale = maxima.sum()
    variances = marks.var(axis=0, ddof=1)
    total_variance = totals.var(ddof=1)
    cic = 100 * p / (p - 1) * (1 - variances.sum() / total_variance)
    error_ratio = 100 * math.sqrt(1 - cic / 100)
    sd = 100 * totals.std(ddof=1) / scale
    test = {
        "mean": 100 * totals.mean() / scale,
        "sd": sd,
        "skewness": float(stats.skew(totals, bias=False)),
        "kurtosis": float(stats.kurtosis(totals, bias=False)),
        "cic": cic,
        "error_ratio": error_ratio,
        "standard_error": error_ratio / 100 * sd,
    }
    cov_total = np.array([np.cov(marks[:, i], totals)[0, 1] for i in range(p)])
    positive = np.sqrt(cov_total[cov_total >= 0]).sum()
    items = []
    for i in range(p):
        x = marks[:, i]
        rest = totals - x
        covariance = np.cov(x, rest)[0, 1]
        maximum = np.cov(np.sort(x), np.sort(rest))[0, 1]
        items.append(
            {
                "facility": 100 * x.mean() / maxima[i],
                "sd": 100 * x.std(ddof=1) / maxima[i],
                "intended_weight": 100 * maxima[i] / scale,
                "effective_weight": 100 * math.sqrt(cov_total[i]) / positive
                if cov_total[i] >= 0
                else None,
                "discrimination_index": 100 * float(np.corrcoef(x, rest)[0, 1])
                if x.var() and rest.var()
                else None,
                "discriminative_efficiency": 100 * covariance / maximum if maximum else None,
            }
        )
    return {"test": test, "items": items}


def matrix(session: Session, used: list[AttemptResult]) -> tuple[np.ndarray, list[AttemptResult]]:
    full = [exams.attempt_result(session=session, attempt_id=r.id) for r in used]
    marks = np.array([[slot.mark or 0.0 for slot in r.slots] for r in full])
    return marks, full


def check(found: analysis.ExamAnalysis, marks: np.ndarray, maxima: list[float]) -> None:
    expected = moodle(marks, np.array(maxima))
    assert found.attempts == marks.shape[0]
    for name, value in expected["test"].items():  # type: ignore[attr-defined]
        assert getattr(found.test, name) == approx(value, rel=1e-9, abs=1e-9), name
    for row, want in zip(found.items, expected["items"], strict=True):  # type: ignore[call-overload]
        for name, value in want.items():
            got = getattr(row, name)
            if value is None:
                assert got is None, (row.slot, name)
            else:
                assert got == approx(value, rel=1e-9, abs=1e-9), (row.slot, name)
        efficiency = want["discriminative_efficiency"]
        assert row.dubious == (efficiency is not None and efficiency < 15)


# --- the tests ------------------------------------------------------------------------------------


def test_statistics_of_online_attempts_match_numpy(session: Session) -> None:
    built = build(session)
    results = exams.exam_attempts(session=session, code=built.code, scope=EVERYONE)
    used = chosen(results, "highest")
    assert len(used) == 14  # one per agent: each one's highest; the attempt in progress left out
    marks, full = matrix(session, used)
    found = analysis.exam_analysis(session=session, code=built.code)
    assert found.which == "highest"
    check(found, marks, [2, 2, 1, 1])

    # Names: the fixed questions by name, the drawn slots after their section's category.
    assert [row.question for row in found.items] == ["资费", "提速"] + ["random (服务技能)"] * 2
    assert [(row.section, row.drawn_from, row.random) for row in found.items] == [
        (None, "", False),
        (None, "", False),
        (2, "服务技能", True),
        (2, "服务技能", True),
    ]
    assert [row.question_id for row in found.items[:2]] == list(built.fixed)
    assert found.items[2].question_id is None
    assert len(found.items[2].questions) > 1
    # Random guess: 1/4 for the single choice, 1/2 for true/false; a drawn slot averages the
    # guess of the question each attempt drew.
    assert found.items[0].random_guess == approx(25)
    assert found.items[1].random_guess == approx(50)
    for index in (2, 3):
        guesses = [50 if r.slots[index].type == "true_false" else 25 for r in full]
        assert found.items[index].random_guess == approx(sum(guesses) / len(guesses))

    # Distractors of the fixed single choice: each option's share, overall and in the thirds.
    totals = marks.sum(axis=1)
    picks = [r.slots[0].response for r in full]
    ranked = sorted(range(len(full)), key=lambda a: -totals[a])  # stable: earlier first on ties
    third = len(full) // 3
    rows = {row.option: row for row in found.items[0].distractors}
    for option in [0, 1, 2, 3, None]:
        assert rows[option].count == picks.count(option)
        assert rows[option].share == approx(100 * picks.count(option) / len(picks))
        top = [picks[a] for a in ranked[:third]]
        bottom = [picks[a] for a in ranked[-third:]]
        assert rows[option].top_share == approx(100 * top.count(option) / third)
        assert rows[option].bottom_share == approx(100 * bottom.count(option) / third)
    assert rows[2].fraction == 1
    assert rows[2].text == "选项2"
    assert [row.option for row in found.items[1].distractors] == [0, 1, None]  # True, False
    assert found.items[2].distractors == []  # different questions: no distractor table


@pytest.mark.parametrize("which", ["first", "last", "all"])
def test_other_attempt_choices_match_numpy(session: Session, which: str) -> None:
    built = build(session)
    results = exams.exam_attempts(session=session, code=built.code, scope=EVERYONE)
    used = chosen(results, which)
    assert len(used) == (21 if which == "all" else 14)
    found = analysis.exam_analysis(session=session, code=built.code, which=which)  # type: ignore[arg-type]
    check(found, matrix(session, used)[0], [2, 2, 1, 1])


def test_an_average_graded_exam_reads_every_attempt(session: Session) -> None:
    build(session, grading_method="average")
    found = analysis.exam_analysis(session=session, code="STAT-1")
    assert (found.which, found.attempts, found.agents) == ("all", 21, 14)


def test_imported_attempts_join_with_marks_only(session: Session) -> None:
    built = build(session)
    for n in range(4):
        make_agent(session, employee_no=f"M{n:04d}", name=f"迁移{n}")
    report = (
        "Last name,First name,ID number,State,Started on,Completed,Grade/10.00,"
        "Q. 1 /2.00,Q. 2 /2.00,Q. 3 /1.00,Q. 4 /1.00\n"
        '迁,移0,M0000,Finished,"1 March 2026, 9:00 AM","1 March 2026, 9:20 AM",10.00,2,2,1,1\n'
        '迁,移1,M0001,Finished,"1 March 2026, 9:00 AM","1 March 2026, 9:20 AM",3.33,2,0,0,0\n'
        '迁,移2,M0002,Finished,"1 March 2026, 9:00 AM","1 March 2026, 9:20 AM",6.67,0,2,1,1\n'
        '迁,移3,M0003,Finished,"1 March 2026, 9:00 AM","1 March 2026, 9:20 AM",0.00,0,0,0,-\n'
        "Overall average,,,,,,,,,,\n"
    )
    imported = moodle_grades.import_moodle_grades(
        session=session,
        data=report.encode(),
        file_name="moodle.csv",
        exam_code=built.code,
        zone=ZoneInfo("Asia/Shanghai"),
    )
    assert imported.applied, imported.preview.errors
    results = exams.exam_attempts(session=session, code=built.code, scope=EVERYONE)
    used = chosen(results, "highest")
    assert len(used) == 18
    marks, _ = matrix(session, used)
    found = analysis.exam_analysis(session=session, code=built.code)
    check(found, marks, [2, 2, 1, 1])
    assert found.imported == 4
    # A slot held by imported attempts knows no question: no random guess, the section's name.
    assert [row.random_guess for row in found.items] == [None] * 4
    assert [row.question for row in found.items] == ["基础题", "基础题"] + ["random (服务技能)"] * 2
    assert [row.imported for row in found.items] == [4] * 4


def test_an_exam_of_imported_attempts_only(session: Session) -> None:
    build(session)
    exams.save_exam(
        session=session,
        settings_in=ExamSettings.model_validate(
            {
                "code": "OLD-1",
                "title": "旧考试",
                "blueprint": {"sections": [{"category": ["服务技能"], "count": 1}]},
            }
        ),
        user_id=None,
    )
    for n in range(4):
        make_agent(session, employee_no=f"M{n:04d}", name=f"迁移{n}")
    report = "ID number,State,Started on,Completed,Q. 1 /1.00,Q. 2 /1.00\n" + "".join(
        f"M{n:04d},Finished,2026-03-01 09:0{n},2026-03-01 09:3{n},{n % 2},{int(n > 0)}\n"
        for n in range(4)
    )
    moodle_grades.import_moodle_grades(
        session=session,
        data=report.encode(),
        file_name="old.csv",
        exam_code="OLD-1",
        zone=ZoneInfo("Asia/Shanghai"),
    )
    found = analysis.exam_analysis(session=session, code="OLD-1")
    assert [row.question for row in found.items] == ["Q. 1", "Q. 2"]
    check(found, np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 1.0]]), [1, 1])


def test_an_exam_nobody_finished(session: Session) -> None:
    bank.store_question(session=session, question=true_false("题", "基础"), source="t")
    exams.save_exam(
        session=session,
        settings_in=ExamSettings.model_validate(
            {
                "code": "EMPTY",
                "title": "空",
                "blueprint": {"sections": [{"category": ["基础"], "count": 1}]},
            }
        ),
        user_id=None,
    )
    found = analysis.exam_analysis(session=session, code="EMPTY")
    assert found.model_dump(mode="json") == {
        "exam": "EMPTY",
        "attempts": 0,
        "test": {
            "mean": None,
            "sd": None,
            "skewness": None,
            "kurtosis": None,
            "cic": None,
            "error_ratio": None,
            "standard_error": None,
        },
        "items": [],
    }
    counts = analysis.attempt_counts(session=session, code="EMPTY")
    assert counts.model_dump() == {
        "in_progress": 0,
        "needs_grading": 0,
        "finished": 0,
        "imported": 0,
        "agents": 0,
    }


def test_attempt_counts(session: Session) -> None:
    build(session)
    counts = analysis.attempt_counts(session=session, code="STAT-1")
    assert (counts.in_progress, counts.finished, counts.imported, counts.agents) == (1, 21, 0, 14)


def test_the_statistics_page_its_api_and_retiring_a_question(settings: Settings) -> None:
    with session_scope(settings) as session:
        built = build(session)
        expected = analysis.exam_analysis(session=session, code=built.code)
        make_user(session, settings, "trainer", ["trainer"])
        make_user(session, settings, "lead", ["team_lead"])
    client = login(TestClient(create_app(settings)), "trainer")
    page = client.get(f"/exams/{built.code}/statistics")
    assert page.status_code == 200
    assert 'id="item-statistics"' in page.text
    # The page names drawn slots in the reader's language; the JSON keeps Moodle's name.
    assert "随机抽题（服务技能）" in page.text
    assert "random (" not in page.text
    assert 'id="distractors-1"' in page.text
    assert client.get(f"/exams/{built.code}/statistics?which=all").status_code == 200
    api = client.get(f"/api/exams/{built.code}/statistics")
    assert api.json() == json.loads(expected.model_dump_json())
    assert client.get("/api/exams/NOPE/statistics").status_code == 404

    retired = client.post(
        f"/exams/{built.code}/statistics/questions/{built.fixed[0]}/retire?which=first",
        follow_redirects=False,
    )
    assert retired.status_code == 303
    assert retired.headers["location"] == (
        f"/exams/{built.code}/statistics?retired={built.fixed[0]}&which=first"
    )
    with session_scope(settings) as session:
        question = bank.get_question(session=session, question_id=built.fixed[0])
        assert question.status == "retired"
    after = client.get(retired.headers["location"])
    assert 'id="retired-notice"' in after.text

    lead = login(TestClient(create_app(settings)), "lead")
    assert lead.get(f"/exams/{built.code}/statistics").status_code == 403
    assert lead.get(f"/api/exams/{built.code}/statistics").status_code == 403
