"""The ladder's pages and API through the real app: scorecards in scope, approvals, appeals,
the policy editor's validation, diff, backtest and apply, the evidence import."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from agentladder.config import Settings
from agentladder.db import session_scope, utcnow
from agentladder.ladder.decisions import service as decisions_service
from agentladder.ladder.policy import service as policy_service
from agentladder.periods import parse_period
from agentladder.web.app import create_app
from tests.factories import csrf_token, login, make_agent, make_team, make_user
from tests.ladder.builders import HIRED, give, policy_text


@dataclass
class Centre:
    settings: Settings
    own: int  # the agent user's agent (team T01)
    other: int  # an agent of team T02
    decision: int  # the own agent's pending promotion for 2026-10


@pytest.fixture
def centre(settings: Settings) -> Centre:
    with session_scope(settings) as session:
        t1 = make_team(session, "T01", "客服一组")
        make_team(session, "T02", "客服二组")
        own = make_agent(
            session, employee_no="A0001", name="王芳", team_code="T01", hire_date=HIRED
        )
        other = make_agent(
            session, employee_no="A0002", name="李强", team_code="T02", hire_date=HIRED
        )
        make_user(session, settings, "agent", ["agent"], agent=own)
        make_user(session, settings, "other_agent", ["agent"], agent=other)
        make_user(session, settings, "manager", ["manager"])
        make_user(session, settings, "team_lead", ["team_lead"], lead_team_id=t1)
        policy_service.apply_policy(
            session=session, text=policy_text(consecutive=1, approval="manager")
        )
        give(session, own, "2026-10", score=88)
        give(session, other, "2026-10", score=30, qa_evaluations=2)
        report = decisions_service.run_period(session=session, period=parse_period("2026-10"))
        [decision] = [v.decision_id for v in report.decisions if v.agent_id == own.id]
        assert decision is not None
        return Centre(settings, own.id, other.id, decision)


def _client(centre: Centre, username: str) -> TestClient:
    return login(TestClient(create_app(centre.settings)), username)


def test_agent_lands_on_their_scorecard_and_sees_the_gap(centre: Centre) -> None:
    client = _client(centre, "agent")
    home = client.get("/", follow_redirects=False)
    assert home.headers["location"] == f"/agents/{centre.own}/scorecard"
    page = client.get(f"/agents/{centre.own}/scorecard")
    assert page.status_code == 200
    assert "初级座席·二级" in page.text  # promoted to, waiting for approval
    assert "待审批" in page.text
    assert client.get(f"/agents/{centre.other}/scorecard").status_code == 404
    data = client.get(f"/api/agents/{centre.own}/scorecard").json()
    assert data["decisions"][0]["decision"] == "promote"
    assert client.get(f"/api/agents/{centre.other}/scorecard").status_code == 404


def test_the_other_agent_sees_what_is_missing(centre: Centre) -> None:
    client = _client(centre, "other_agent")
    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client, "/")})
    page = client.get(f"/agents/{centre.other}/scorecard")
    assert "4 more QA evaluations" in page.text
    assert "Insufficient evidence" in page.text


def test_manager_approves_and_the_level_changes(centre: Centre) -> None:
    client = _client(centre, "manager")
    page = client.get("/ladder/decisions?period=2026-10")
    assert "王芳" in page.text
    assert "李强" in page.text
    token = csrf_token(client, "/ladder/decisions")
    response = client.post(
        f"/ladder/decisions/{centre.decision}/approve",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    agent = client.get(f"/api/agents/{centre.own}").json()
    assert agent["current_level"] == "basic_sophomore"
    again = client.post(f"/ladder/decisions/{centre.decision}/approve", data={"csrf_token": token})
    assert again.status_code == 409


def test_rejection_needs_a_reason(centre: Centre) -> None:
    client = _client(centre, "manager")
    token = csrf_token(client, "/ladder/decisions")
    refused = client.post(
        f"/ladder/decisions/{centre.decision}/reject", data={"csrf_token": token, "reason": " "}
    )
    assert refused.status_code == 422
    client.post(
        f"/ladder/decisions/{centre.decision}/reject",
        data={"csrf_token": token, "reason": "质检复核中"},
    )
    assert client.get(f"/api/agents/{centre.own}").json()["current_level"] == "basic_fresh"


def test_appeal_and_resolution_show_on_the_scorecard(centre: Centre) -> None:
    agent = _client(centre, "agent")
    token = csrf_token(agent, f"/agents/{centre.own}/scorecard")
    sent = agent.post(
        f"/ladder/decisions/{centre.decision}/appeal",
        data={"csrf_token": token, "text": "<b>请复核</b>"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    # Another agent cannot appeal someone else's decision.
    intruder = _client(centre, "other_agent")
    blocked = intruder.post(
        f"/ladder/decisions/{centre.decision}/appeal",
        data={"csrf_token": csrf_token(intruder, "/"), "text": "x"},
    )
    assert blocked.status_code == 404
    with session_scope(centre.settings) as session:
        view = decisions_service.decision_for(
            session=session, agent_id=centre.own, period=parse_period("2026-10")
        )
        [appeal] = view.appeals
    manager = _client(centre, "manager")
    manager.post(
        f"/ladder/appeals/{appeal['id']}/resolve",
        data={
            "csrf_token": csrf_token(manager, "/ladder/decisions"),
            "outcome": "denied",
            "response": "证据充分",
        },
    )
    page = agent.get(f"/agents/{centre.own}/scorecard").text
    assert "&lt;b&gt;请复核&lt;/b&gt;" in page  # escaped
    assert "证据充分" in page
    assert "驳回" in page


def test_appeals_are_multi_line_and_accepted_only_within_the_window(centre: Centre) -> None:
    agent = _client(centre, "agent")
    page = agent.get(f"/agents/{centre.own}/scorecard").text
    assert '<textarea name="text"' in page
    assert "申诉截止日期" in page
    # The decision was made 31 days ago: the 30-day window has closed.
    with session_scope(centre.settings) as session:
        row = decisions_service.get_decision(session=session, decision_id=centre.decision)
        row.decided_at = utcnow() - timedelta(days=31)
        closed_on = (row.decided_at + timedelta(days=30)).astimezone(
            ZoneInfo(centre.settings.timezone)
        )
    page = agent.get(f"/agents/{centre.own}/scorecard").text
    assert '<textarea name="text"' not in page
    assert "该决定的申诉期已于" in page
    late = agent.post(
        f"/ladder/decisions/{centre.decision}/appeal",
        data={"csrf_token": csrf_token(agent, "/"), "text": "第一行\n第二行"},
        follow_redirects=False,
    )
    assert late.status_code == 409
    assert closed_on.date().isoformat() in late.text
    with session_scope(centre.settings) as session:
        assert (
            decisions_service.decision_for(
                session=session, agent_id=centre.own, period=parse_period("2026-10")
            ).appeals
            == []
        )
    # A centre with a longer window accepts it, line breaks kept.
    longer = login(
        TestClient(create_app(centre.settings.model_copy(update={"appeal_window_days": 60}))),
        "agent",
    )
    sent = longer.post(
        f"/ladder/decisions/{centre.decision}/appeal",
        data={"csrf_token": csrf_token(longer, "/"), "text": "第一行\n第二行"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    with session_scope(centre.settings) as session:
        [appeal] = decisions_service.decision_for(
            session=session, agent_id=centre.own, period=parse_period("2026-10")
        ).appeals
    assert appeal["text"] == "第一行\n第二行"


def test_team_lead_dashboard_covers_their_team_only(centre: Centre) -> None:
    client = _client(centre, "team_lead")
    page = client.get("/ladder?period=2026-10")
    assert page.status_code == 200
    assert "王芳" in page.text
    assert "李强" not in page.text
    assert client.get("/ladder/decisions").status_code == 403


def test_policy_editor_validates_diffs_backtests_and_applies(centre: Centre) -> None:
    client = _client(centre, "manager")
    assert "Test ladder" in client.get("/ladder/policy").text
    token = csrf_token(client, "/ladder/policy")
    bad = policy_text(weights=(50, 49))
    result = client.post(
        "/api/ladder/policy/validate", json={"text": bad}, headers={"X-CSRF-Token": token}
    ).json()
    assert result["valid"] is False
    # In the reader's language (the centre's default here), as the editor shows it.
    assert result["problems"] == [
        {"key": "components", "message": "权重合计为 99，而不是 100（service 50, quality 49）"}
    ]
    client.cookies.set("al_lang", "en")
    in_english = client.post(
        "/api/ladder/policy/validate", json={"text": bad}, headers={"X-CSRF-Token": token}
    ).json()
    assert in_english["problems"][0]["message"] == (
        "weights sum to 99, not 100 (service 50, quality 49)"
    )
    client.cookies.delete("al_lang")
    assert any(line.startswith("+") and "49" in line for line in result["diff"])
    stricter = policy_text(consecutive=2, approval="manager")
    ok = client.post(
        "/api/ladder/policy/validate", json={"text": stricter}, headers={"X-CSRF-Token": token}
    ).json()
    assert ok["valid"]
    assert not ok["unchanged"]
    backtest = client.post(
        "/ladder/policy/backtest",
        data={"csrf_token": token, "text": stricter, "first": "2026-10", "last": "2026-10"},
    )
    assert backtest.status_code == 200
    assert '<strong id="backtest-changes">1</strong>' in backtest.text  # 王芳 would wait
    refused = client.post("/ladder/policy/apply", data={"csrf_token": token, "text": bad})
    assert refused.status_code == 422
    assert "权重合计为 99" in refused.text
    client.post(
        "/ladder/policy/apply", data={"csrf_token": token, "text": stricter, "note": "两期"}
    )
    with session_scope(centre.settings) as session:
        assert (
            policy_service.current_policy(session=session).policy.promotion.consecutive_periods == 2
        )
        assert len(policy_service.policy_versions(session=session)) == 2


def test_evidence_upload_checks_then_imports(centre: Centre) -> None:
    client = _client(centre, "manager")
    token = csrf_token(client, "/ladder/evidence")
    csv = "工号,周期,指标,值,样本量\nA0001,2026-11,qa_score,91,8\nA0002,2026-11,qa_scor,80,6\n"
    checked = client.post(
        "/ladder/evidence",
        data={"csrf_token": token, "dry_run": "true"},
        files={"file": ("qa.csv", csv.encode("gb18030"), "text/csv")},
    )
    assert checked.status_code == 422
    assert "qa_scor" in checked.text
    fixed = csv.replace("qa_scor,", "qa_score,")
    imported = client.post(
        "/ladder/evidence",
        data={"csrf_token": token},
        files={"file": ("qa.csv", fixed.encode("gb18030"), "text/csv")},
    )
    assert imported.status_code == 200
    with session_scope(centre.settings) as session:
        from agentladder.external import service as external

        assert len(external.external_facts(session=session, period="2026-11")) == 2


def test_reports_download_from_the_pages(centre: Centre) -> None:
    agent = _client(centre, "agent")
    pdf = agent.get(f"/agents/{centre.own}/scorecard/export?format=pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert agent.get(f"/agents/{centre.other}/scorecard/export?format=pdf").status_code == 404
    manager = _client(centre, "manager")
    xlsx = manager.get("/ladder/decisions/export?format=xlsx&period=2026-10")
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert manager.get("/ladder/export?format=html&period=2026-10").status_code == 200
    assert manager.get("/ladder/export?format=doc").status_code == 422
    lead = _client(centre, "team_lead")
    with session_scope(centre.settings) as session:
        from agentladder.org import service as org_service

        other_team = org_service.get_team_by_code(session=session, code="T02")
        assert other_team is not None
        other_team_id = other_team.id
    assert lead.get(f"/ladder/export?format=pdf&team={other_team_id}").status_code == 404


def test_evidence_check_then_apply_the_checked_file(centre: Centre) -> None:
    client = _client(centre, "manager")
    token = csrf_token(client, "/ladder/evidence")
    csv = "工号,周期,指标,值,样本量\nA0001,2026-11,qa_score,91,8\n"
    checked = client.post(
        "/ladder/evidence",
        data={"csrf_token": token, "dry_run": "true"},
        files={"file": ("qa.csv", csv.encode(), "text/csv")},
    )
    assert checked.status_code == 200
    action = re.search(r'action="(/ladder/evidence/[0-9a-f]{64}/apply)"', checked.text)
    assert action
    applied = client.post(action.group(1), data={"csrf_token": token})
    assert applied.status_code == 200
    assert "qa.csv" in client.get("/ladder/evidence").text  # the ledger lists it


def test_evidence_template_download(centre: Centre) -> None:
    manager = _client(centre, "manager")
    assert 'href="/ladder/evidence/template"' in manager.get("/ladder/evidence").text
    template = manager.get("/ladder/evidence/template")
    assert template.status_code == 200
    assert template.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert template.content[:2] == b"PK"
    assert _client(centre, "agent").get("/ladder/evidence/template").status_code == 403


def test_a_missing_certificate_shows_no_python_value(settings: Settings) -> None:
    # The progress bar of a certification gate read "False / product_knowledge".
    with session_scope(settings) as session:
        make_team(session, "T01", "客服一组")
        agent = make_agent(
            session, employee_no="A0009", name="赵敏", team_code="T01", hire_date=HIRED
        )
        make_user(session, settings, "zhao", ["agent"], agent=agent)
        policy_service.apply_policy(
            session=session,
            text=policy_text(
                consecutive=1,
                entry={"basic_sophomore": "{min_score: 55, certifications: [product_knowledge]}"},
            ),
        )
        give(session, agent, "2026-10", score=88)
        decisions_service.run_period(session=session, period=parse_period("2026-10"))
        agent_id = agent.id
    client = login(TestClient(create_app(settings)), "zhao")
    page = client.get(f"/agents/{agent_id}/scorecard")
    assert page.status_code == 200
    values = re.findall(r'<span class="bar-value">([^<]*)</span>', page.text)
    assert "✗ / 产品知识认证" in values
    assert not any("False" in value or "True" in value for value in values)
