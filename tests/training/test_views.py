"""Certification pages and API: object scope, the import preview and apply, expiring marks."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.org import service as org_service
from agentladder.training.certifications import service as certifications_service
from agentladder.training.certifications.schemas import CertificationCreate
from agentladder.training.models import Certification
from agentladder.training.programmes import service as programmes
from agentladder.web.app import create_app
from tests.factories import csrf_token, login, make_agent, make_team, make_user
from tests.training.test_programmes import make_exam

EVERYONE = org_service.AgentScope(everyone=True, team_ids=frozenset(), agent_id=None)


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
        r'<tr id="certificate-\d+" class="(\w*)">\s*<td[^>]*><a href="/agents/\d+/certifications">'
        r"(\w+)",
        page.text,
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


# --- revocation, the printed certificate, the public check, programmes, what expires -------


def _certificate_id(centre: Centre, agent: str, cert_type: str) -> int:
    with session_scope(centre.settings) as session:
        return next(
            cert.id
            for cert in certifications_service.certifications_of(
                session=session, agent_id=centre.ids[agent]
            )
            if cert.cert_type == cert_type
        )


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)  # A4 landscape
    # pypdf reads fpdf2's two-byte CJK codes as two one-byte ones (see tests/reports/conftest).
    return reader.pages[0].extract_text().replace("\x00", "")


def test_the_certificate_pdf_for_the_agent_and_staff_who_see_them(centre: Centre) -> None:
    cert_id = _certificate_id(centre, "a1", "product_knowledge")
    agent = _client(centre, "agent")
    printed = agent.get(f"/certifications/{cert_id}/certificate.pdf")
    assert printed.status_code == 200
    assert printed.headers["content-type"] == "application/pdf"
    text = _pdf_text(printed.content)
    with session_scope(centre.settings) as session:
        code = certifications_service.certificate_document(
            session=session, certificate_id=cert_id, scope=EVERYONE
        ).verification_code
    assert code in text
    assert "王芳" in text
    assert "产品知识认证" in text
    assert f"/verify/{code}" in text.replace("\n", "")
    # The same code every time it is printed; English for a reader who chose it.
    agent.post("/language", data={"language": "en", "csrf_token": csrf_token(agent, "/")})
    english = _pdf_text(agent.get(f"/certifications/{cert_id}/certificate.pdf").content)
    assert code in english
    assert "Product knowledge" in english
    assert "Certificate" in english
    other = _certificate_id(centre, "a2", "sales_skill")
    assert agent.get(f"/certifications/{other}/certificate.pdf").status_code == 404
    lead = _client(centre, "lead")
    assert lead.get(f"/certifications/{cert_id}/certificate.pdf").status_code == 200
    assert lead.get(f"/certifications/{other}/certificate.pdf").status_code == 404
    assert agent.get("/certifications/999999/certificate.pdf").status_code == 404


def test_the_public_check_shows_only_name_type_dates_and_status(centre: Centre) -> None:
    cert_id = _certificate_id(centre, "a1", "product_knowledge")
    _client(centre, "agent").get(f"/certifications/{cert_id}/certificate.pdf")
    with session_scope(centre.settings) as session:
        code = certifications_service.certificate_document(
            session=session, certificate_id=cert_id, scope=EVERYONE
        ).verification_code
    public = TestClient(create_app(centre.settings))  # nobody logged in
    page = public.get(f"/verify/{code}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "noindex" in page.headers["x-robots-tag"]
    shown = page.text
    assert "王芳" in shown
    assert "产品知识认证" in shown
    assert "有效" in shown
    for private in ("A0001", "T01", "客服一组", "/agents/", "exam:", "manual"):
        assert private not in shown, private
    # The form: a code as typed goes to its page; an unknown one is a plain 404.
    typed = public.get(
        "/verify", params={"code": code.lower().replace("-", " ")}, follow_redirects=False
    )
    assert typed.status_code == 303
    assert typed.headers["location"] == f"/verify/{code}"
    assert public.get("/verify").status_code == 200
    missing = public.get("/verify/ZZZZ-ZZZZ-ZZZZ")
    assert missing.status_code == 404
    assert "王芳" not in missing.text
    assert public.get("/verify/not-a-code").status_code == 404
    assert public.get("/verify", params={"code": "nonsense"}).status_code == 404
    # Revoked: the page says so, and nothing more.
    trainer = _client(centre, "trainer")
    trainer.post(
        f"/certifications/{cert_id}/revoke",
        data={"reason": "考试作弊", "csrf_token": csrf_token(trainer, "/certifications")},
    )
    revoked = public.get(f"/verify/{code}")
    assert 'id="verification-status"><span class="tag verdict-fail">' in revoked.text
    assert "考试作弊" not in revoked.text


def test_revoking_from_the_certifications_page(centre: Centre) -> None:
    cert_id = _certificate_id(centre, "a2", "sales_skill")
    trainer = _client(centre, "trainer")
    page = trainer.get("/certifications")
    assert f'action="/certifications/{cert_id}/revoke"' in page.text
    token = csrf_token(trainer, "/certifications")
    done = trainer.post(
        f"/certifications/{cert_id}/revoke",
        data={"reason": "资质造假", "csrf_token": token, "next": "/certifications?status=all"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/certifications?status=all"
    listed = trainer.get("/certifications", params={"status": "revoked"})
    assert "资质造假" in listed.text
    assert 'class="tag verdict-fail"' in listed.text
    assert f'action="/certifications/{cert_id}/revoke"' not in listed.text
    statuses = {
        c["cert_type"]: c["status"]
        for c in trainer.get(f"/api/agents/{centre.ids['a2']}/certifications").json()
    }
    assert statuses == {"sales_skill": "revoked"}
    again = trainer.post(
        f"/certifications/{cert_id}/revoke", data={"reason": "再次", "csrf_token": token}
    )
    assert again.status_code == 409
    # An open redirect is not offered.
    other = _certificate_id(centre, "a3", "comprehensive")
    away = trainer.post(
        f"/certifications/{other}/revoke",
        data={"reason": "测试", "csrf_token": token, "next": "https://example.com/"},
        follow_redirects=False,
    )
    assert away.headers["location"] == "/certifications"
    lead = _client(centre, "lead")
    assert "/revoke" not in lead.get("/certifications").text
    api = trainer.post(
        f"/api/certifications/{_certificate_id(centre, 'a1', 'service_skill')}/revoke",
        json={"reason": "API"},
    )
    assert (api.status_code, api.json()["status"], api.json()["revoked_reason"]) == (
        200,
        "revoked",
        "API",
    )


def test_programmes_pages(centre: Centre) -> None:
    with session_scope(centre.settings) as session:
        make_exam(session, "SS-1", "服务技能考试", "服务技能")
        make_exam(session, "SS-2", "服务话术考试", "服务话术")
    trainer = _client(centre, "trainer")
    page = trainer.get("/certifications/programmes")
    assert page.status_code == 200
    assert "服务技能考试" in page.text
    token = csrf_token(trainer, "/certifications/programmes")
    created = trainer.post(
        "/certifications/programmes",
        data={
            "code": "SS",
            "cert_type": "service_skill",
            "exam_codes": ["SS-1", "SS-2"],
            "validity_months": "",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    listed = trainer.get("/api/certification-programmes").json()
    assert [(p["code"], p["exam_codes"], p["validity_months"]) for p in listed] == [
        ("SS", ["SS-1", "SS-2"], None)
    ]
    editing = trainer.get("/certifications/programmes", params={"code": "SS"})
    assert 'name="code" value="SS"' in editing.text
    assert editing.text.count("checked") == 2
    changed = trainer.post(
        "/certifications/programmes",
        data={
            "code": "SS",
            "cert_type": "service_skill",
            "exam_codes": ["SS-1"],
            "validity_months": "18",
            "csrf_token": token,
        },
    )
    assert changed.status_code == 200
    assert [p["validity_months"] for p in trainer.get("/api/certification-programmes").json()] == [
        18
    ]
    bad = trainer.post(
        "/certifications/programmes",
        data={"code": "X", "cert_type": "nope", "exam_codes": ["SS-1"], "csrf_token": token},
    )
    assert bad.status_code == 422
    assert "nope" in bad.text
    # A type of the centre's own, then a programme awarding it.
    added = trainer.post(
        "/certifications/types",
        data={
            "code": "complaints",
            "zh": "投诉处理认证",
            "en": "Complaint handling",
            "validity_months": "6",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert "投诉处理认证" in trainer.get("/certifications/programmes").text
    twice = trainer.post(
        "/certifications/types",
        data={"code": "complaints", "zh": "投诉", "en": "Complaints", "csrf_token": token},
    )
    assert twice.status_code == 409
    removed = trainer.post(
        "/certifications/programmes/SS/delete", data={"csrf_token": token}, follow_redirects=False
    )
    assert removed.status_code == 303
    assert trainer.get("/api/certification-programmes").json() == []
    for role in ("agent", "lead", "qa"):
        assert _client(centre, role).get("/certifications/programmes").status_code == 403


def test_the_expiring_report_and_its_download(centre: Centre) -> None:
    trainer = _client(centre, "trainer")
    page = trainer.get("/certifications/expiring", params={"days": 30})
    assert page.status_code == 200
    assert "A0001" in page.text  # product knowledge expires in 20 days
    assert "产品知识认证" in page.text
    report = trainer.get("/api/certifications/expiring", params={"days": 90}).json()
    assert [(c["cert_type"], c["count"]) for c in report["counts"]] == [("product_knowledge", 1)]
    assert report["rows"][0]["days_left"] == 20
    sheet = trainer.get("/certifications/expiring", params={"days": 60, "format": "xlsx"})
    assert sheet.status_code == 200
    book = load_workbook(io.BytesIO(sheet.content))
    rows = list(book.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0][0] == "工号"
    assert rows[1][:2] == ("A0001", "王芳")
    assert trainer.get("/certifications/expiring", params={"days": 0}).status_code == 422
    # A lead sees their team's; an agent only their own.
    other = _client(centre, "lead").get("/api/certifications/expiring", params={"days": 90})
    assert [r["certification"]["employee_no"] for r in other.json()["rows"]] == ["A0001"]


def test_the_scorecard_reminds_of_an_expiring_certificate(centre: Centre) -> None:
    with session_scope(centre.settings) as session:
        make_exam(session, "PK-1", "产品知识月考", "产品知识")
        programmes.save_programme(
            session=session,
            programme_in=programmes.ProgrammeIn(
                code="PK", cert_type="product_knowledge", exam_codes=("PK-1",)
            ),
            user_id=None,
        )
    page = _client(centre, "agent").get(f"/agents/{centre.ids['a1']}/scorecard")
    assert page.status_code == 200
    reminder = re.search(
        r'<section class="card" id="certificate-reminders">(.*?)</section>', page.text, re.S
    )
    assert reminder
    assert "产品知识认证" in reminder.group(1)
    assert "20" in reminder.group(1)
    assert "产品知识月考" in reminder.group(1)
    # Nothing to renew: no reminder.
    quiet = _client(centre, "qa").get(f"/agents/{centre.ids['a2']}/scorecard")
    assert quiet.status_code == 200
    assert "certificate-reminders" not in quiet.text
