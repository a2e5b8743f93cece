"""Exam pages and API: who may do what, another agent's attempt answered as missing, the
server's deadline, no key before submission for any question type, the review settings, the
builder, the grading queue and the form without scripts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from agentladder.config import Settings
from agentladder.db import session_scope, utcnow
from agentladder.org.models import ROLES
from agentladder.training.exams import service as exams
from agentladder.training.exams.schemas import ExamSettings
from agentladder.training.questions import service as bank
from agentladder.training.questions.schemas import Question
from agentladder.web.app import create_app
from tests.factories import login, make_agent, make_team, make_user

CATEGORY = "考试测试"
# Texts and numbers only the key holds: none may reach a browser before submission.
PLANTED = (
    "KEYFB",  # option and answer feedback
    "KEYGF",  # general feedback
    "KEYEX",  # explanation (解析)
    "KEYGI",  # the essay's marking guide
    "KEYANS",  # the short answer's accepted text
    "42.125",  # the numerical answer
    "0.3333",  # a fraction no page would print otherwise
)
# Fields of the key: none may appear in the JSON the API gives before submission.
KEY_FIELDS = (
    "fraction",
    "feedback",
    "grader_info",
    "general_feedback",
    "explanation",
    "correct_answer",
    "numeric_answers",
    "pairs",
)


def every_type() -> list[Question]:
    """One question of each type, its key planted with the texts of PLANTED."""
    common = {
        "category": (CATEGORY,),
        "general_feedback": "KEYGF 总评",
        "explanation": "KEYEX 解析",
    }
    specs: list[dict[str, Any]] = [
        {
            "type": "single_choice",
            "name": "单选",
            "text": "客户来电首先应该？",
            "choices": [
                {"text": "问候并报工号", "fraction": 1, "feedback": "KEYFB 单选对"},
                {"text": "直接问问题", "fraction": 0, "feedback": "KEYFB 单选错"},
                {"text": "请客户稍等", "fraction": 0, "feedback": "KEYFB 单选错二"},
            ],
        },
        {
            "type": "multiple_choice",
            "name": "多选",
            "text": "哪些属于安抚技巧？",
            "choices": [
                {"text": "复述问题", "fraction": 0.3333333, "feedback": "KEYFB 多选一"},
                {"text": "表达理解", "fraction": 0.3333333, "feedback": "KEYFB 多选二"},
                {"text": "给出时限", "fraction": 0.3333334, "feedback": "KEYFB 多选三"},
                {"text": "打断客户", "fraction": -1, "feedback": "KEYFB 多选错"},
            ],
        },
        {
            "type": "true_false",
            "name": "判断",
            "text": "投诉工单须在24小时内回访。",
            "correct_answer": True,
            "true_feedback": "KEYFB 判断真",
            "false_feedback": "KEYFB 判断假",
        },
        {
            "type": "short_answer",
            "name": "填空",
            "text": "宽带报障的受理编码前缀是？",
            "choices": [{"text": "KEYANS-BD", "fraction": 1, "feedback": "KEYFB 填空"}],
        },
        {
            "type": "numerical",
            "name": "数值",
            "text": "套餐月费是多少元？",
            "numeric_answers": [{"value": 42.125, "tolerance": 0.5, "feedback": "KEYFB 数值"}],
        },
        {
            "type": "matching",
            "name": "配对",
            "text": "把业务与办理渠道配对。",
            "pairs": [
                {"prompt": "开户", "answer": "营业厅"},
                {"prompt": "查账", "answer": "App"},
                {"prompt": "报障", "answer": "热线"},
            ],
        },
        {
            "type": "ordering",
            "name": "排序",
            "text": "把投诉处理步骤排好。",
            "order": ["倾听", "致歉", "解决", "回访"],
        },
        {
            "type": "essay",
            "name": "问答",
            "text": "写出一段安抚话术。",
            "default_mark": 5,
            "response_template": "您好，",
            "grader_info": "KEYGI 评分要点",
        },
        {"type": "description", "name": "说明", "text": "以下为情景题说明。"},
    ]
    return [Question.model_validate({**common, **spec}) for spec in specs]


@dataclass
class ExamWorld:
    """T01 (led by `lead`) with A0001 (user `agent`); T02 with A0002 (user `agent2`); one
    question of each type; exam ALL-1 showing them in that order, published."""

    settings: Settings
    question_ids: dict[str, int]
    agent_id: int
    other_agent_id: int


def build_world(settings: Settings, **exam: Any) -> ExamWorld:
    """The world (exam settings may be overridden)."""
    with session_scope(settings) as session:
        t1 = make_team(session, "T01", "客服一组")
        make_team(session, "T02", "客服二组")
        a1 = make_agent(session, employee_no="A0001", name="王芳", team_code="T01")
        a2 = make_agent(session, employee_no="A0002", name="李强", team_code="T02")
        make_user(session, settings, "agent", ["agent"], agent=a1)
        make_user(session, settings, "agent2", ["agent"], agent=a2)
        make_user(session, settings, "lead", ["team_lead"], lead_team_id=t1)
        for role in ("admin", "manager", "trainer", "qa"):
            make_user(session, settings, role, [role])
        ids = {
            question.type: bank.store_question(
                session=session, question=question, source="test"
            ).question_id
            for question in every_type()
        }
        values: dict[str, Any] = {
            "code": "ALL-1",
            "title": "综合测验",
            "time_limit_min": 30,
            "shuffle_questions": False,
            "review": "answers",
            "blueprint": {"sections": [{"question_ids": list(ids.values())}]},
        }
        values.update(exam)
        exams.save_exam(
            session=session, settings_in=ExamSettings.model_validate(values), user_id=None
        )
        exams.set_exam_status(session=session, code=values["code"], status="published")
    return ExamWorld(settings=settings, question_ids=ids, agent_id=a1.id, other_agent_id=a2.id)


@pytest.fixture
def world(settings: Settings) -> ExamWorld:
    return build_world(settings)


def client_for(world: ExamWorld, username: str) -> TestClient:
    return login(TestClient(create_app(world.settings)), username)


def start(client: TestClient, code: str = "ALL-1") -> int:
    response = client.post(f"/exams/{code}/start", follow_redirects=False)
    assert response.status_code == 303, response.text[:300]
    location = response.headers["location"]
    assert re.fullmatch(r"/exams/attempts/\d+", location)
    return int(location.rsplit("/", 1)[1])


def slot_of(view: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(slot for slot in view["slots"] if slot["type"] == kind)


def right_answers(view: dict[str, Any]) -> dict[int, Any]:
    """The right answer of each slot by shown position, worked out from the shown texts (what
    an agent who knows the material would give)."""
    texts = {
        "single_choice": {"问候并报工号"},
        "multiple_choice": {"复述问题", "表达理解", "给出时限"},
        "matching": {"开户": "营业厅", "查账": "App", "报障": "热线"},
        "ordering": ["倾听", "致歉", "解决", "回访"],
    }
    answers: dict[int, Any] = {}
    for slot in view["slots"]:
        kind, number = slot["type"], slot["slot"]
        if kind == "single_choice":
            answers[number] = next(
                c["position"] for c in slot["choices"] if c["text"] in texts[kind]
            )
        elif kind == "multiple_choice":
            answers[number] = sorted(
                c["position"] for c in slot["choices"] if c["text"] in texts[kind]
            )
        elif kind == "true_false":
            answers[number] = True
        elif kind == "short_answer":
            answers[number] = "keyans-bd"
        elif kind == "numerical":
            answers[number] = "42"
        elif kind == "matching":
            by_text = {a["text"]: a["position"] for a in slot["answers"]}
            answers[number] = {
                str(i): by_text[texts["matching"][prompt]]
                for i, prompt in enumerate(slot["prompts"])
                if prompt
            }
        elif kind == "ordering":
            by_text = {a["text"]: a["position"] for a in slot["answers"]}
            answers[number] = [by_text[item] for item in texts["ordering"]]
        elif kind == "essay":
            answers[number] = "您好，我非常理解您的心情。"
    return answers


def assert_no_key(responses: Iterable[Response]) -> None:
    for response in responses:
        body = response.text
        for planted in PLANTED:
            assert planted not in body, f"{planted!r} in {response.request.url}"
        if response.headers.get("content-type", "").startswith("application/json"):
            for key in KEY_FIELDS:
                assert f'"{key}"' not in body, f"{key!r} in {response.request.url}"


# --- the agent's way through ------------------------------------------------------------------


def test_an_agent_takes_an_exam_and_no_key_reaches_them_before_submission(
    world: ExamWorld,
) -> None:
    client = client_for(world, "agent")
    seen = [client.get("/exams")]
    assert "综合测验" in seen[0].text
    attempt_id = start(client)
    page = client.get(f"/exams/attempts/{attempt_id}")
    seen.append(page)
    assert page.status_code == 200
    # Every type is rendered with its own control.
    html = page.text
    assert 'type="radio" name="q1"' in html
    assert 'type="checkbox" name="q2"' in html
    assert 'name="q3" value="true"' in html
    assert 'name="q4"' in html
    assert 'inputmode="decimal" name="q5"' in html
    assert 'name="q6_m0"' in html
    assert 'name="q6_m2"' in html
    assert 'class="move-up"' in html
    assert 'name="q7_r0"' in html
    assert '<textarea name="q8"' in html
    assert "您好，</textarea>" in html
    assert "以下为情景题说明。" in html
    assert 'name="q9"' not in html
    view_response = client.get(f"/api/exams/attempts/{attempt_id}")
    seen.append(view_response)
    view = view_response.json()
    assert [slot["type"] for slot in view["slots"]][:3] == [
        "single_choice",
        "multiple_choice",
        "true_false",
    ]
    assert 1790 <= view["seconds_left"] <= 1800
    # The ordering question never shows its items in the right order.
    ordering = slot_of(view, "ordering")
    assert [a["text"] for a in ordering["answers"]] != ["倾听", "致歉", "解决", "回访"]

    for number, response in right_answers(view).items():
        saved = client.put(
            f"/api/exams/attempts/{attempt_id}/answers",
            json={"slot": number, "response": response, "seq": 1},
        )
        seen.append(saved)
        assert saved.status_code == 200, saved.text
        assert saved.json()["seq"] == 1
        assert saved.json()["seconds_left"] > 1700
    reloaded = client.get(f"/exams/attempts/{attempt_id}")
    seen.append(reloaded)
    assert 'value="keyans-bd"' in reloaded.text  # the saved answers are on the page again
    seen.append(client.get(f"/api/exams/attempts/{attempt_id}"))
    # The result page before submission leads back to the attempt.
    early = client.get(f"/exams/attempts/{attempt_id}/result", follow_redirects=False)
    assert early.headers["location"] == f"/exams/attempts/{attempt_id}"
    assert_no_key(seen)

    submitted = client.post(f"/api/exams/attempts/{attempt_id}/submit")
    assert submitted.status_code == 200
    body = submitted.json()
    # The essay waits for a trainer; everything else is right.
    assert body["state"] == "needs_grading"
    result = client.get(f"/exams/attempts/{attempt_id}/result")
    assert result.status_code == 200
    # After submission the review shows the key, feedback, general feedback and explanation.
    for text in ("KEYFB 单选对", "KEYGF 总评", "KEYEX 解析", "KEYANS-BD", "42.125"):
        assert text in result.text
    assert "KEYGI" not in result.text  # the marking guide is the trainer's
    # The attempt page of a submitted attempt goes to the result; saves are refused.
    assert client.get(f"/exams/attempts/{attempt_id}", follow_redirects=False).status_code == 303
    late = client.put(
        f"/api/exams/attempts/{attempt_id}/answers", json={"slot": 1, "response": 0, "seq": 9}
    )
    assert late.status_code == 409


def test_a_late_or_repeated_save_keeps_the_newer_answer(world: ExamWorld) -> None:
    client = client_for(world, "agent")
    attempt_id = start(client)
    url = f"/api/exams/attempts/{attempt_id}/answers"
    assert client.put(url, json={"slot": 1, "response": 2, "seq": 5}).json()["seq"] == 5
    assert client.put(url, json={"slot": 1, "response": 0, "seq": 4}).json()["seq"] == 5
    view = client.get(f"/api/exams/attempts/{attempt_id}").json()
    assert (view["slots"][0]["response"], view["slots"][0]["response_seq"]) == (2, 5)
    page = client.get(f"/exams/attempts/{attempt_id}").text
    assert 'data-seq="5"' in page
    assert re.search(r'name="q1" value="2" checked', page)


def test_an_invalid_answer_is_refused_with_a_reason(world: ExamWorld) -> None:
    client = client_for(world, "agent")
    attempt_id = start(client)
    refused = client.put(
        f"/api/exams/attempts/{attempt_id}/answers",
        json={"slot": 5, "response": "1,500", "seq": 1},
        headers={"Accept-Language": "en"},
    )
    assert refused.status_code == 422
    assert "ambiguous" in refused.json()["detail"]


def test_another_agents_attempt_is_not_found(world: ExamWorld) -> None:
    attempt_id = start(client_for(world, "agent"))
    other = client_for(world, "agent2")
    assert other.get(f"/exams/attempts/{attempt_id}").status_code == 404
    assert other.get(f"/exams/attempts/{attempt_id}/result").status_code == 404
    assert other.get(f"/api/exams/attempts/{attempt_id}").status_code == 404
    saved = other.put(
        f"/api/exams/attempts/{attempt_id}/answers", json={"slot": 1, "response": 0, "seq": 1}
    )
    assert saved.status_code == 404
    assert other.post(f"/api/exams/attempts/{attempt_id}/submit").status_code == 404
    assert other.post(f"/exams/attempts/{attempt_id}/submit").status_code == 404
    assert other.post(f"/exams/attempts/{attempt_id}/save").status_code == 404
    # Nothing changed for the owner.
    owner = client_for(world, "agent").get(f"/api/exams/attempts/{attempt_id}").json()
    assert owner["state"] == "in_progress"
    assert all(slot["response"] is None for slot in owner["slots"])


def test_a_save_after_the_deadline_is_refused_and_the_attempt_finishes(world: ExamWorld) -> None:
    with session_scope(world.settings) as session:
        attempt_id = exams.start_attempt(
            session=session,
            exam_code="ALL-1",
            agent_id=world.agent_id,
            now=utcnow() - timedelta(minutes=31),
        )
    client = client_for(world, "agent")
    late = client.put(
        f"/api/exams/attempts/{attempt_id}/answers", json={"slot": 1, "response": 0, "seq": 1}
    )
    assert late.status_code == 409
    view = client.get(f"/api/exams/attempts/{attempt_id}").json()
    assert view["state"] != "in_progress"
    assert view["slots"] == []
    assert view["seconds_left"] == 0
    page = client.get(f"/exams/attempts/{attempt_id}", follow_redirects=False)
    assert page.headers["location"] == f"/exams/attempts/{attempt_id}/result"


def test_the_attempt_page_opens_an_overdue_attempt_as_its_result(world: ExamWorld) -> None:
    with session_scope(world.settings) as session:
        attempt_id = exams.start_attempt(
            session=session,
            exam_code="ALL-1",
            agent_id=world.agent_id,
            now=utcnow() - timedelta(hours=2),
        )
    client = client_for(world, "agent")
    result = client.get(f"/exams/attempts/{attempt_id}")  # followed to the result
    assert result.status_code == 200
    assert result.url.path == f"/exams/attempts/{attempt_id}/result"


# --- roles ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [r for r in ROLES if r != "agent"])
def test_only_agents_take_exams(world: ExamWorld, role: str) -> None:
    client = client_for(world, "lead" if role == "team_lead" else role)
    assert client.post("/exams/ALL-1/start", follow_redirects=False).status_code == 403


def test_staff_lists_and_agents_own_page(world: ExamWorld) -> None:
    attempt_id = start(client_for(world, "agent"))
    other_id = start(client_for(world, "agent2"))
    expected = {"admin": 2, "manager": 2, "trainer": 2, "lead": 1}
    for username, count in expected.items():
        client = client_for(world, username)
        listed = client.get("/api/exams").json()
        assert [(e["code"], e["attempts"]) for e in listed] == [("ALL-1", count)], username
        attempts = client.get("/api/exams/ALL-1/attempts").json()
        assert len(attempts) == count
        page = client.get("/exams/ALL-1")
        assert page.status_code == 200
        assert "王芳" in page.text
        assert 'class="pager"' in page.text
        # A page past the last shows the last: a bookmark outlives a shorter list.
        assert "王芳" in client.get("/exams/ALL-1?page=9").text
        assert ("李强" in page.text) == (count == 2)
        assert client.get(f"/exams/ALL-1/attempts/{attempt_id}").status_code == 200
        outside = client.get(f"/exams/ALL-1/attempts/{other_id}")
        assert outside.status_code == (404 if username == "lead" else 200), username
        assert ("/exams/new" in client.get("/exams").text) == (username in ("admin", "trainer"))
    qa = client_for(world, "qa")
    # A QA evaluator neither takes exams nor reads their results: no exams page (it was an
    # empty page before the page had a permission of its own).
    assert qa.get("/exams").status_code == 403
    assert qa.get("/api/exams").status_code == 403
    assert qa.get("/exams/ALL-1").status_code == 403
    agent = client_for(world, "agent")
    assert agent.get("/exams/ALL-1").status_code == 403
    assert agent.get("/exams/new").status_code == 403
    assert agent.get("/api/exams/ALL-1/attempts").status_code == 403
    assert agent.get(f"/exams/ALL-1/attempts/{attempt_id}").status_code == 403


def test_a_staff_review_of_an_attempt_names_the_exam_it_belongs_to(world: ExamWorld) -> None:
    attempt_id = start(client_for(world, "agent"))
    with session_scope(world.settings) as session:
        exams.save_exam(
            session=session,
            settings_in=ExamSettings.model_validate(
                {
                    "code": "OTHER",
                    "title": "另一场",
                    "blueprint": {"sections": [{"question_ids": [world.question_ids["essay"]]}]},
                }
            ),
            user_id=None,
        )
    trainer = client_for(world, "trainer")
    assert trainer.get(f"/exams/OTHER/attempts/{attempt_id}").status_code == 404


# --- what the agent sees after submitting -----------------------------------------------------


@pytest.mark.parametrize(
    ("review", "score_shown", "answers_shown"),
    [("none", False, False), ("score", True, False), ("answers", True, True)],
)
def test_the_review_setting_decides_what_the_agent_sees(
    settings: Settings, review: str, score_shown: bool, answers_shown: bool
) -> None:
    world = _single_question_world(settings, review)
    client = client_for(world, "agent")
    attempt_id = start(client)
    view = client.get(f"/api/exams/attempts/{attempt_id}").json()
    answer = right_answers(view)[1]
    client.put(
        f"/api/exams/attempts/{attempt_id}/answers", json={"slot": 1, "response": answer, "seq": 1}
    )
    submitted = client.post(f"/api/exams/attempts/{attempt_id}/submit").json()
    assert (submitted["percent"] is not None) == score_shown
    page = client.get(f"/exams/attempts/{attempt_id}/result", headers={"Accept-Language": "en"})
    assert ('id="score-percent"' in page.text) == score_shown
    assert ("KEYEX 解析" in page.text) == answers_shown
    assert ("KEYFB 单选对" in page.text) == answers_shown
    listed = client.get("/exams").text
    assert f"/exams/attempts/{attempt_id}/result" in listed
    # Staff always see the whole attempt.
    staff = client_for(world, "trainer").get(f"/exams/ALL-1/attempts/{attempt_id}")
    assert "KEYEX 解析" in staff.text
    assert 'id="score-percent"' in staff.text


def _single_question_world(settings: Settings, review: str) -> ExamWorld:
    world = build_world(settings, code="ONE", review=review)
    with session_scope(settings) as session:
        exams.set_exam_status(session=session, code="ONE", status="closed")
        exams.save_exam(
            session=session,
            settings_in=ExamSettings.model_validate(
                {
                    "code": "ALL-1",
                    "title": "单题测验",
                    "review": review,
                    "blueprint": {
                        "sections": [{"question_ids": [world.question_ids["single_choice"]]}]
                    },
                }
            ),
            user_id=None,
        )
        exams.set_exam_status(session=session, code="ALL-1", status="published")
    return world


# --- the page without scripts -----------------------------------------------------------------


def test_the_form_without_scripts_saves_and_submits(world: ExamWorld) -> None:
    client = client_for(world, "agent")
    attempt_id = start(client)
    view = client.get(f"/api/exams/attempts/{attempt_id}").json()
    right = right_answers(view)
    ordering = slot_of(view, "ordering")
    shown = [a["position"] for a in ordering["answers"]]
    form: dict[str, Any] = {
        "q1": str(right[1]),
        "q2": [str(p) for p in right[2]],
        "q3": "true",
        "q4": "KEYANS-bd",
        "q5": "４２",  # full-width digits count
        "q8": "您好，",  # the template left as it is: not an answer
    }
    matching = right[6]
    for key, position in matching.items():
        form[f"q6_m{key}"] = str(position)
    for position in shown:
        form[f"q7_r{position}"] = str(right[7].index(position) + 1)
    saved = client.post(f"/exams/attempts/{attempt_id}/save", data=form, follow_redirects=False)
    assert saved.status_code == 303
    stored = client.get(f"/api/exams/attempts/{attempt_id}").json()
    responses = {slot["slot"]: slot["response"] for slot in stored["slots"]}
    assert responses[1] == right[1]
    assert responses[2] == right[2]
    assert responses[3] is True
    assert responses[6] == matching
    assert responses[7] == right[7]
    assert responses[8] is None
    # Saving the same form again changes nothing (no new numbers).
    client.post(f"/exams/attempts/{attempt_id}/save", data=form)
    again = client.get(f"/api/exams/attempts/{attempt_id}").json()
    assert [s["response_seq"] for s in again["slots"]] == [
        s["response_seq"] for s in stored["slots"]
    ]
    done = client.post(f"/exams/attempts/{attempt_id}/submit", data=form, follow_redirects=False)
    assert done.headers["location"] == f"/exams/attempts/{attempt_id}/result"
    with session_scope(world.settings) as session:
        result = exams.attempt_result(session=session, attempt_id=attempt_id)
    marks = {slot.type: slot.mark for slot in result.slots}
    assert result.state == "finished"  # the essay was left blank: nothing to grade
    assert marks["single_choice"] == 1
    assert marks["numerical"] == 1
    assert marks["ordering"] == 1
    assert marks["matching"] == 1
    assert marks["essay"] == 0


# --- trainers ---------------------------------------------------------------------------------


def _builder_form(**overrides: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "code": "PK-NEW",
        "title": "产品知识新测验",
        "layout": "all_on_one_page",
        "shuffle_options": "1",
        "time_limit_min": "20",
        "max_attempts": "2",
        "grading_method": "highest",
        "pass_percent": "75",
        "review": "score",
        "opens_at": "2026-11-10T09:00",
        "closes_at": "2026-11-20T18:00",
        "teams": ["T01"],
        "levels": ["basic_fresh"],
        "agents": "A0002, A0009",
        "section_rows": "2",
        "s0_title": "基础",
        "s0_category": CATEGORY,
        "s0_types": ["single_choice", "true_false"],
        "s0_count": "2",
        "s0_mark": "5",
        "s1_question_ids": "",
        "action": "save",
    }
    form.update(overrides)
    return form


def test_a_trainer_builds_checks_publishes_and_edits_an_exam(world: ExamWorld) -> None:
    client = client_for(world, "trainer")
    assert client.get("/exams/new").status_code == 200
    checked = client.post("/exams/new", data=_builder_form(action="check", s0_count="3"))
    assert checked.status_code == 200
    assert 'id="pool-1"' in checked.text
    assert 'class="error"' in checked.text
    added = client.post("/exams/new", data=_builder_form(action="add_section"))
    assert 'id="section-2"' in added.text
    too_many = client.post("/exams/new", data=_builder_form(s0_count="3"))
    assert too_many.status_code == 422
    assert 'id="builder-problems"' in too_many.text
    bad = client.post(
        "/exams/new", data=_builder_form(pass_percent="150", code="bad code", s0_count="x")
    )
    assert bad.status_code == 422
    assert bad.text.count("<li>") >= 3
    created = client.post("/exams/new", data=_builder_form(), follow_redirects=False)
    assert created.status_code == 303
    assert created.headers["location"] == "/exams/PK-NEW"
    read = client.get("/api/exams/PK-NEW").json()
    assert read["status"] == "draft"
    assert read["time_limit_s"] == 1200
    assert read["opens_at"] == "2026-11-10T01:00:00Z"  # 09:00 in Shanghai
    assert read["audience"] == {
        "teams": ["T01"],
        "skill_groups": [],
        "levels": ["basic_fresh"],
        "agents": ["A0002", "A0009"],
    }
    assert read["blueprint"]["sections"][0]["types"] == ["single_choice", "true_false"]
    edit = client.get("/exams/PK-NEW/edit")
    assert 'value="2026-11-10T09:00"' in edit.text
    assert "readonly" in edit.text
    changed = client.post(
        "/exams/PK-NEW/edit", data=_builder_form(title="改过的标题", code="IGNORED")
    )
    assert changed.status_code == 200
    assert "改过的标题" in changed.text
    client.post("/exams/PK-NEW/status", data={"status": "published"})
    assert client.get("/api/exams/PK-NEW").json()["status"] == "published"
    api = client.put("/api/exams/PK-NEW", json=_settings_only(read))
    assert api.status_code == 200
    assert api.json()["title"] == "API 标题"
    status = client.post("/api/exams/PK-NEW/status", json={"status": "closed"})
    assert status.json()["status"] == "closed"


def _settings_only(read: dict[str, Any]) -> dict[str, Any]:
    keys = set(ExamSettings.model_fields) - {"time_limit_min"}
    body = {key: read[key] for key in keys if key in read}
    body["title"] = "API 标题"
    body["time_limit_min"] = 20
    return body


def test_a_trainer_grades_an_essay_and_the_attempt_counts(world: ExamWorld) -> None:
    agent = client_for(world, "agent")
    attempt_id = start(agent)
    view = agent.get(f"/api/exams/attempts/{attempt_id}").json()
    for number, response in right_answers(view).items():
        agent.put(
            f"/api/exams/attempts/{attempt_id}/answers",
            json={"slot": number, "response": response, "seq": 1},
        )
    agent.post(f"/api/exams/attempts/{attempt_id}/submit")
    trainer = client_for(world, "trainer")
    queue = trainer.get("/exams/grading")
    assert "我非常理解您的心情" in queue.text
    assert "KEYGI 评分要点" in queue.text
    graded = trainer.post(
        f"/exams/grading/{attempt_id}/8",
        data={"mark": "4", "comment": "语气再柔和些"},
        follow_redirects=False,
    )
    assert graded.status_code == 303
    assert 'id="grading-empty"' in trainer.get("/exams/grading").text
    result = agent.get(f"/exams/attempts/{attempt_id}/result")
    assert "语气再柔和些" in result.text
    # 1 + 1 + 1 + 1 + 1 + 1 + 1 + 4 of 1 * 7 + 5 marks
    percent = agent.post(f"/api/exams/attempts/{attempt_id}/submit").json()["percent"]
    assert percent == pytest.approx(11 / 12 * 100, abs=1e-4)
    too_much = trainer.post(f"/exams/grading/{attempt_id}/8", data={"mark": "9"})
    assert too_much.status_code == 422
