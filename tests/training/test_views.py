"""Certification pages and API: object scope, the import preview and apply, expiring marks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.training.certifications import service as certifications_service
from agentladder.training.certifications.schemas import CertificationCreate
from agentladder.training.models import Certification
from agentladder.web.app import create_app
from tests.factories import login, make_agent, make_team, make_user


@dataclass
class Centre:
    settings: Settings
    ids: dict[str, int]
    today: date


@pytest.fixture
def centre(settings: Settings) -> Centre:
    """T01 (led by `lead`) has A0001 (user `agent`) and A0003; T02 has A0002."""
    today = settings.today()
    with session_scope(settings) as session:
        t1 = make_team(session, "T01", "客服一组")
        make_team(session, "T02", "客服二组")
        a1 = make_agent(session, employee_no="A0001", name="王芳", team_code="T01")
        a2 = make_agent(session, employee_no="A0002", name="李强", team_code="T02")
        a3 = make_agent(session, employee_no="A0003", name="赵敏", team_code="T01")
        make_user(session, settings, "agent", ["agent"], agent=a1)
        make_user(session, settings, "lead", ["team_lead"], lead_team_id=t1)
        make_user(session, settings, "trainer", ["trainer"])
        make_user(session, settings, "qa", ["qa"])
        for agent, code, issued, expires in (
            (a1, "product_knowledge", today - timedelta(days=300), today + timedelta(days=20)),
            (a1, "service_skill", today - timedelta(days=800), today - timedelta(days=1)),
            (a2, "sales_skill", today - timedelta(days=10), today + timedelta(days=700)),
            (a3, "comprehensive", today - timedelta(days=10), today + timedelta(days=700)),
        ):
            certifications_service.record_certification(
                session=session,
                cert_in=CertificationCreate(
                    agent_id=agent.id, cert_type=code, issued_on=issued, expires_on=expires
                ),
            )
        ids = {"a1": a1.id, "a2": a2.id, "a3": a3.id}
    return Centre(settings=settings, ids=ids, today=today)


def _client(centre: Centre, username: str) -> TestClient:
    return login(TestClient(create_app(centre.settings)), username)


def _count(settings: Settings) -> int:
    with session_scope(settings) as session:
        return session.scalar(select(func.count()).select_from(Certification)) or 0


def test_agent_sees_only_their_own_certificates(centre: Centre) -> None:
    client = _client(centre, "agent")
    own = client.get(f"/api/agents/{centre.ids['a1']}/certifications")
    assert own.status_code == 200
    assert {c["cert_type"]: c["status"] for c in own.json()} == {
        "product_knowledge": "expiring",
        "service_skill": "expired",
    }
    for other in ("a2", "a3"):
        assert client.get(f"/api/agents/{centre.ids[other]}/certifications").status_code == 404
        assert client.get(f"/agents/{centre.ids[other]}/certifications").status_code == 404
    listed = client.get("/api/certifications").json()
    assert {c["employee_no"] for c in listed["certifications"]} == {"A0001"}
    page = client.get("/certifications")
    assert page.status_code == 200
    assert "A0001" in page.text
    assert "A0002" not in page.text
    assert "A0003" not in page.text
    assert client.get("/certifications/import").status_code == 403


def test_team_lead_sees_their_teams_certificates(centre: Centre) -> None:
    client = _client(centre, "lead")
    listed = client.get("/api/certifications").json()
    assert {c["employee_no"] for c in listed["certifications"]} == {"A0001", "A0003"}
    assert client.get(f"/api/agents/{centre.ids['a3']}/certifications").status_code == 200
    assert client.get(f"/api/agents/{centre.ids['a2']}/certifications").status_code == 404
    assert client.get(f"/agents/{centre.ids['a2']}/certifications").status_code == 404
    filtered = client.get("/api/certifications", params={"team": "T02"}).json()
    assert filtered["certifications"] == []


def test_staff_page_marks_expiring_and_expired(centre: Centre) -> None:
    client = _client(centre, "qa")
    page = client.get("/certifications")
    assert page.status_code == 200
    rows = re.findall(
        r"<tr class=\"(\w*)\"><td><a href=\"/agents/\d+/certifications\">(\w+)", page.text
    )
    assert sorted(rows) == [("", "A0002"), ("", "A0003"), ("error", "A0001"), ("warning", "A0001")]
    assert "即将到期" in page.text  # zh_Hans is the test default language
    assert "已过期" in page.text
    expiring = client.get("/certifications", params={"status": "expiring"})
    assert expiring.text.count('/certifications">A0') == 1
    agent_page = client.get(f"/agents/{centre.ids['a1']}/certifications")
    assert agent_page.status_code == 200
    assert "产品知识认证" in agent_page.text


def test_import_preview_then_apply(centre: Centre) -> None:
    client = _client(centre, "trainer")
    good = "工号,认证类型,发证日期\nA0002,产品知识认证,2025-09-01\nA0003,service_skill,2025-09-01\n"
    preview = client.post(
        "/certifications/import",
        files={"file": ("证书.csv", good.encode("gbk"), "text/csv")},
    )
    assert preview.status_code == 200
    assert "gb18030" in preview.text
    assert _count(centre.settings) == 4
    action = re.search(r'action="(/certifications/import/[0-9a-f]{64}/apply)"', preview.text)
    assert action
    applied = client.post(action.group(1), data={})
    assert applied.status_code == 200
    assert _count(centre.settings) == 6
    again = client.post(action.group(1), data={})
    assert again.status_code == 200
    assert _count(centre.settings) == 6


def test_import_with_errors_shows_them_and_stores_nothing(centre: Centre) -> None:
    client = _client(centre, "trainer")
    bad = (
        "工号,认证类型,发证日期\nA0002,product_knowledge,2025-09-01\nA9999,sales_skill,2025-13-01\n"
    )
    response = client.post(
        "/certifications/import", files={"file": ("bad.csv", bad.encode(), "text/csv")}
    )
    assert response.status_code == 422
    assert "A9999" in response.text
    assert "2025-13-01" in response.text
    assert "/apply" not in response.text
    assert _count(centre.settings) == 4
    unreadable = client.post(
        "/certifications/import",
        files={"file": ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "x")},
    )
    assert unreadable.status_code == 422


def test_api_import_dry_run_then_apply(centre: Centre) -> None:
    client = _client(centre, "trainer")
    body = b"agent,certification,issued,expires\nA0002,Service skill,2025-09-01,never\n"
    dry = client.post(
        "/api/certifications/import",
        files={"file": ("c.csv", body, "text/csv")},
        params={"dry_run": "true"},
    ).json()
    assert (dry["applied"], dry["dry_run"], dry["preview"]["rows"][0]["action"]) == (
        False,
        True,
        "create",
    )
    assert _count(centre.settings) == 4
    done = client.post("/api/certifications/import", files={"file": ("c.csv", body, "text/csv")})
    assert done.json()["applied"] is True
    certificates = client.get(f"/api/agents/{centre.ids['a2']}/certifications").json()
    assert {(c["cert_type"], c["expires_on"]) for c in certificates} == {
        ("sales_skill", (centre.today + timedelta(days=700)).isoformat()),
        ("service_skill", None),
    }
    assert _count(centre.settings) == 5
    refused = _client(centre, "qa").post(
        "/api/certifications/import", files={"file": ("c.csv", body, "text/csv")}
    )
    assert refused.status_code == 403


def test_certificates_template_download(centre: Centre) -> None:
    trainer = _client(centre, "trainer")
    assert 'href="/certifications/import/template"' in trainer.get("/certifications/import").text
    template = trainer.get("/certifications/import/template")
    assert template.status_code == 200
    assert template.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert template.content[:2] == b"PK"
    assert _client(centre, "agent").get("/certifications/import/template").status_code == 403
