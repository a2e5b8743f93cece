"""The automatic QA pages and API: an agent sees only their own calls (404 for another's), a
lead their team's, QA everyone; the JSON of a call and a period; the rule editor validates as
you type (problems named by key, in the reader's language) and applies with the CSRF token."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.org.service import AgentScope
from agentladder.periods import parse_period
from agentladder.quality.autoqa import importing
from agentladder.quality.autoqa import pages as autoqa_pages
from agentladder.quality.autoqa import rulesets as autoqa_rulesets
from agentladder.quality.autoqa import service as autoqa_service
from agentladder.quality.autoqa.rules import DEFAULT_RULES_PATH, RULE_IDS
from agentladder.web.app import create_app
from tests.conftest import make_settings
from tests.factories import csrf_token, login
from tests.quality.qa_world import World, build

OCTOBER = parse_period("2026-10")
GOOD_TURNS = [
    {
        "speaker": "agent",
        "start_s": 0.0,
        "end_s": 5.0,
        "text": "您好，安信电器3021号客服，很高兴为您服务。",
    },
    {"speaker": "customer", "start_s": 5.5, "end_s": 12.0, "text": "你好，空调不制冷了。"},
    {
        "speaker": "agent",
        "start_s": 12.5,
        "end_s": 22.0,
        "text": "好的，请您稍等，我帮您登记一下维修，谢谢您。不好意思给您添麻烦了。",
    },
    {"speaker": "customer", "start_s": 22.5, "end_s": 25.0, "text": "好的谢谢"},
    {
        "speaker": "agent",
        "start_s": 25.5,
        "end_s": 32.0,
        "text": "请问还有什么可以帮您？感谢您的来电，再见。",
    },
]
RUDE_TURNS = [
    {"speaker": "agent", "start_s": 0.0, "end_s": 3.0, "text": "喂。"},
    {
        "speaker": "customer",
        "start_s": 3.5,
        "end_s": 9.0,
        "text": "我的空调<script>alert(1)</script>坏了",
    },
    {"speaker": "agent", "start_s": 9.5, "end_s": 14.0, "text": "这是规定，我也没办法。"},
]


def _transcript(call_id: str, agent: str, day: int, turns: list[dict[str, Any]]) -> str:
    return json.dumps(
        {
            "call_id": call_id,
            "agent": agent,
            "started_at": f"2026-10-{day:02d}T09:15:00+08:00",
            "hangup_by": "customer",
            "turns": turns,
        },
        ensure_ascii=False,
    )


@dataclass
class Centre:
    settings: Settings
    world: World

    def client(self, username: str, language: str = "en") -> TestClient:
        client = TestClient(create_app(self.settings))
        client.cookies.set("al_lang", language)
        return login(client, username)


@pytest.fixture
def centre(settings: Settings, tmp_path: Path) -> Centre:
    """qa_world's centre with October transcripts: A1 (team T01) calls a1-1 (good), a1-2 and
    a1-3 (rude); A2 (team T02) call a2-1 (good)."""
    chosen = make_settings(settings.data_dir, settings.resolved_database_url)
    with session_scope(chosen) as session:
        world = build(session, chosen, ingest=False)
        lines = [
            _transcript("a1-1", "A0001", 5, GOOD_TURNS),
            _transcript("a1-2", "A0001", 6, RUDE_TURNS),
            _transcript("a1-3", "A0001", 7, RUDE_TURNS),
            _transcript("a2-1", "A0002", 5, GOOD_TURNS),
        ]
        result = importing.import_transcripts(
            session=session,
            settings=chosen,
            data="\n".join(lines).encode(),
            file_name="t.jsonl",
        )
        assert result.applied
        assert not result.preview.errors
    return Centre(chosen, world)


def test_an_agent_sees_their_own_calls_and_gets_404_for_anothers(centre: Centre) -> None:
    agent = centre.client("agent1")
    for path in ("/quality/autoqa/calls/a2-1", "/api/quality/autoqa/calls/a2-1"):
        assert agent.get(path).status_code == 404
    assert agent.get("/quality/autoqa/calls?period=2026-10&agent=A0002").status_code == 404
    own = agent.get("/api/quality/autoqa/calls/a1-2")
    assert own.status_code == 200
    assert own.json()["agent"] == "A0001"
    period = agent.get("/api/quality/autoqa/periods/2026-10").json()
    assert period["period"] == "2026-10"
    assert [call["call"] for call in period["calls"]] == ["a1-1", "a1-2", "a1-3"]
    # Without an agent asked for, an agent's page is their own.
    page = agent.get("/quality/autoqa/calls?period=2026-10")
    assert page.status_code == 200
    assert "王芳" in page.text
    assert "a1-3" in page.text
    assert "a2-1" not in page.text
    assert 'name="agent"' not in page.text


def test_a_lead_sees_their_team_and_qa_everyone(centre: Centre) -> None:
    lead = centre.client("lead1")
    assert lead.get("/api/quality/autoqa/calls/a1-1").status_code == 200
    assert lead.get("/api/quality/autoqa/calls/a2-1").status_code == 404
    assert lead.get("/quality/autoqa/calls/a2-1").status_code == 404
    calls = lead.get("/api/quality/autoqa/periods/2026-10").json()["calls"]
    assert {call["agent"] for call in calls} == {"A0001"}
    overview = lead.get("/quality/autoqa/calls?period=2026-10").text
    assert "王芳" in overview
    assert "李强" not in overview
    qa = centre.client("eva")
    assert qa.get("/quality/autoqa/calls/a2-1").status_code == 200
    everyone = qa.get("/api/quality/autoqa/periods/2026-10").json()["calls"]
    assert {call["agent"] for call in everyone} == {"A0001", "A0002"}
    assert qa.get("/api/quality/autoqa/periods/2026-13").status_code == 422


def test_a_call_in_the_json_shape_of_the_cli(centre: Centre) -> None:
    shown = centre.client("eva").get("/api/quality/autoqa/calls/a1-2").json()
    assert list(shown) == ["call", "agent", "score", "rules"]
    assert (shown["call"], shown["agent"]) == ("a1-2", "A0001")
    assert 0 <= shown["score"] < 100
    assert [rule["rule"] for rule in shown["rules"]] == list(RULE_IDS)
    verdicts = {rule["rule"]: rule for rule in shown["rules"]}
    forbidden = verdicts["forbidden_phrases"]
    assert forbidden["verdict"] == "fail"
    assert forbidden["evidence"][0]["turn"] == 2
    assert forbidden["evidence"][0]["start_s"] == 9.5
    assert "没办法" in forbidden["evidence"][0]["text"]
    with session_scope(centre.settings) as session:
        assert shown == autoqa_service.call_verdicts(session=session, call_id="a1-2")


def test_the_agent_page_compares_pass_rates_with_team_and_centre(centre: Centre) -> None:
    page = centre.client("agent1", "en").get("/quality/autoqa/calls?period=2026-10").text
    row = re.search(r'<tr data-rule="forbidden_phrases".*?</tr>', page, re.S)
    assert row is not None
    cells = re.findall(r'<td class="num">(.*?)</td>', row.group(0), re.S)
    # A1 passed one of three; A1 is alone in team T01; the centre adds A2's pass: 2 of 4.
    assert cells[0].startswith("33.3%")
    assert cells[1].startswith("33.3%")
    assert cells[2].startswith("50.0%")
    assert "?period=2026-10&amp;agent=A0001&amp;rule=forbidden_phrases" in cells[3]
    failed = centre.client("agent1").get(
        "/quality/autoqa/calls?period=2026-10&rule=forbidden_phrases"
    )
    assert "a1-2" in failed.text
    assert "a1-1" not in failed.text
    assert "(sample: 3 calls)" in page


def test_the_call_page_shows_verdicts_evidence_and_the_escaped_transcript(centre: Centre) -> None:
    page = centre.client("agent1", "zh_Hans").get("/quality/autoqa/calls/a1-2").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="#turn-2"' in page
    assert 'id="turn-2"' in page
    assert "无服务禁语" in page
    assert "不通过" in page
    # The measured figures are stored in English and read back in Chinese.
    assert "客户先挂机" in page
    assert "hung up by" not in page


def test_the_calls_list_pages_newest_first(session: Session, settings: Settings) -> None:
    world = build(session, settings, ingest=False)
    del world
    lines = [_transcript(f"p-{day}", "A0001", day, GOOD_TURNS) for day in range(1, 6)]
    importing.import_transcripts(
        session=session, settings=settings, data="\n".join(lines).encode(), file_name="t.jsonl"
    )
    agent_id = autoqa_pages.agent_in_scope(
        session=session, employee_no="A0001", scope=AgentScope.everyone_scope()
    ).id
    pages = [
        autoqa_pages.agent_calls(
            session=session,
            settings=settings,
            period=OCTOBER,
            agent_id=agent_id,
            page=number,
            per_page=2,
        )
        for number in (1, 2, 3, 9)
    ]
    assert [[row.call_id for row in page.rows] for page in pages] == [
        ["p-5", "p-4"],
        ["p-3", "p-2"],
        ["p-1"],
        ["p-1"],
    ]
    assert {page.total for page in pages} == {5}
    assert pages[3].page == 3


def test_validate_names_problems_by_key_in_the_readers_language(centre: Centre) -> None:
    text = DEFAULT_RULES_PATH.read_text("utf-8")
    bad = text.replace("max_rings: 2", "max_rings: 0")
    english = centre.client("eva").post("/api/quality/autoqa/rules/validate", json={"text": bad})
    assert english.status_code == 200
    body = english.json()
    assert body["valid"] is False
    assert [problem["key"] for problem in body["problems"]] == ["rules.answer_speed.max_rings"]
    assert body["problems"][0]["message"] == "must be at least 1"
    assert any(line.startswith("+") and "max_rings: 0" in line for line in body["diff"])
    chinese = centre.client("eva", "zh_Hans").post(
        "/api/quality/autoqa/rules/validate", json={"text": bad}
    )
    assert re.search(r"[\u4e00-\u9fff]", chinese.json()["problems"][0]["message"])
    same = centre.client("eva").post("/api/quality/autoqa/rules/validate", json={"text": text})
    assert same.json()["valid"] is True
    assert same.json()["unchanged"] is True
    broken = centre.client("eva").post(
        "/api/quality/autoqa/rules/validate", json={"text": "name: [unclosed"}
    )
    assert broken.json()["problems"][0]["key"] == ""
    assert "line 1" in broken.json()["problems"][0]["message"]


def test_the_rule_editor_applies_with_the_csrf_token_and_counts_what_is_judged_again(
    centre: Centre,
) -> None:
    changed = DEFAULT_RULES_PATH.read_text("utf-8").replace("max_rings: 2", "max_rings: 3")
    agent = centre.client("agent1")
    assert agent.get("/quality/autoqa/rules").status_code == 403
    assert agent.post("/api/quality/autoqa/rules/validate", json={"text": "x"}).status_code == 403
    qa = TestClient(create_app(centre.settings))
    qa.cookies.set("al_lang", "en")
    login(qa, "eva")
    token = qa.headers.pop("X-CSRF-Token")
    refused = qa.post("/quality/autoqa/rules", data={"text": changed}, follow_redirects=False)
    assert refused.status_code == 403
    invalid = qa.post(
        "/quality/autoqa/rules",
        data={"text": changed.replace("max_rings: 3", "max_rings: -1"), "csrf_token": token},
    )
    assert invalid.status_code == 422
    assert "rules.answer_speed.max_rings" in invalid.text
    applied = qa.post(
        "/quality/autoqa/rules",
        data={"text": changed, "csrf_token": csrf_token(qa, "/quality/autoqa/rules")},
        follow_redirects=False,
    )
    assert applied.status_code == 303
    page = qa.get(applied.headers["location"]).text
    assert 'id="applied-notice"' in page
    assert "4 stored transcripts are not judged under the rule set in force yet" in page
    with session_scope(centre.settings) as session:
        loaded = autoqa_rulesets.current_rule_set(session=session)
        assert loaded.rules.rules.answer_speed.max_rings == 3
        [version] = autoqa_rulesets.rule_set_history(session=session)
        assert version.applied_by == "eva"
        assert version.in_force
    ran = qa.post(
        "/quality/autoqa/run",
        data={"period": "2026-10", "csrf_token": token},
        follow_redirects=False,
    )
    assert ran.status_code == 303
    after = qa.get(ran.headers["location"]).text
    assert "2026-10: 4 transcripts judged under the rule set in force." in after
    assert "Every stored transcript is judged under the rule set in force." in after
    shown = qa.get("/api/quality/autoqa/rules").json()
    assert shown["hash"] == loaded.rules.content_hash
    assert shown["stale"] == 0
    assert shown["applied_at"] is not None


def test_the_api_applies_a_rule_set_and_refuses_an_invalid_one(centre: Centre) -> None:
    qa = centre.client("eva")
    text = DEFAULT_RULES_PATH.read_text("utf-8")
    refused = qa.post(
        "/api/quality/autoqa/rules", json={"text": text.replace("max_rings: 2", "max_rings: 0")}
    )
    assert refused.status_code == 422
    assert "rules.answer_speed.max_rings" in refused.json()["detail"]
    changed = text.replace("max_rings: 2", "max_rings: 4")
    applied = qa.post("/api/quality/autoqa/rules", json={"text": changed})
    assert applied.status_code == 200
    assert applied.json()["stale"] == 4
    assert applied.json()["yaml"] == changed
