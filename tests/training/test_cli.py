"""`agentladder training ...` through Typer's runner on the test database."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from agentladder.cli import app
from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.training.certifications import service as certifications_service
from agentladder.training.certifications.schemas import CertificationCreate
from tests.factories import make_agent
from tests.training.test_programmes import make_exam

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_types_list_and_add(cli_env: Settings) -> None:
    types = json.loads(run("training", "types", "list", "--format", "json"))
    assert [t["code"] for t in types] == [
        "product_knowledge",
        "service_skill",
        "sales_skill",
        "comprehensive",
    ]
    assert "added" in run(
        "training", "types", "add", "complaints", "投诉处理认证", "Complaint handling",
        "--validity-months", "6",
    )  # fmt: skip
    types = json.loads(run("training", "types", "list", "--format", "json"))
    assert types[-1] == {
        "code": "complaints",
        "zh": "投诉处理认证",
        "en": "Complaint handling",
        "validity_months": 6,
        "builtin": False,
    }
    again = runner.invoke(app, ["training", "types", "add", "complaints", "投诉", "Complaints"])
    assert again.exit_code == 1
    assert "exists" in again.output
    bad = runner.invoke(app, ["training", "types", "add", "no spaces", "坏", "Bad"])
    assert bad.exit_code == 1


def test_certifications_import_and_list(cli_env: Settings, tmp_path: Path) -> None:
    run("org", "teams", "create", "T01", "客服一组")
    roster = tmp_path / "花名册.csv"
    roster.write_text(
        "工号,姓名,入职日期,班组,分机\n9001,王芳,2024-03-01,T01,Agent/9001\n9002,李强,2024-03-01,T01,\n",
        encoding="utf-8",
    )
    run("org", "roster", "import", str(roster))
    certificates = tmp_path / "证书.csv"
    certificates.write_bytes(
        "工号,认证类型,发证日期,有效期至\n"
        "Agent/9001,产品知识认证,2025-03-01,长期\n"
        "9002,service_skill,2020-01-01,2021-12-31\n".encode("gbk")
    )
    dry = run("training", "certifications", "import", str(certificates), "--dry-run")
    assert "2 new" in dry
    assert "nothing written" in dry
    assert json.loads(run("training", "certifications", "list", "--format", "json")) == []
    assert "imported" in run("training", "certifications", "import", str(certificates))
    assert "2 unchanged" in run("training", "certifications", "import", str(certificates))
    listed = json.loads(run("training", "certifications", "list", "--format", "json"))
    assert [(c["employee_no"], c["cert_type"], c["expires_on"]) for c in listed] == [
        ("9001", "product_knowledge", None),
        ("9002", "service_skill", "2021-12-31"),
    ]
    mine = json.loads(
        run("training", "certifications", "list", "--agent", "Agent/9001", "--format", "json")
    )
    assert [c["employee_no"] for c in mine] == ["9001"]
    expired = json.loads(
        run("training", "certifications", "list", "--status", "expired", "--format", "json")
    )
    assert [c["employee_no"] for c in expired] == ["9002"]
    nobody = runner.invoke(app, ["training", "certifications", "list", "--agent", "nobody"])
    assert nobody.exit_code == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("工号,认证类型,发证日期\n9001,急救认证,2025-01-01\n", encoding="utf-8")
    result = runner.invoke(app, ["training", "certifications", "import", str(bad)])
    assert result.exit_code == 1
    assert "认证类型" in result.output
    assert "nothing imported" in result.output


def test_certificates_template_imports_as_it_is(cli_env: Settings, tmp_path: Path) -> None:
    run("org", "teams", "create", "T01", "客服一组")
    run("org", "skill-groups", "create", "general", "普通话热线")
    roster = tmp_path / "roster.xlsx"
    run("org", "roster", "template", "--out", str(roster))
    run("org", "roster", "import", str(roster))  # agent 100001, whom the example names
    template = tmp_path / "certificates.xlsx"
    run("training", "certifications", "template", "--out", str(template))
    dry = run("training", "certifications", "import", str(template), "--dry-run")
    assert "1 new" in dry
    assert "0 errors" in dry
    help_text = run("training", "certifications", "import", "--help")
    for header in ("认证类型", "certification", "有效期至", "valid until", "工号", "agent"):
        assert header in help_text


def test_programmes_revocation_and_what_expires(cli_env: Settings) -> None:
    today = cli_env.today()
    with session_scope(cli_env) as session:
        agent = make_agent(session, employee_no="9001", name="王芳")
        make_exam(session, "SS-1", "服务技能考试", "服务技能")
        certificate = certifications_service.record_certification(
            session=session,
            cert_in=CertificationCreate(
                agent_id=agent.id,
                cert_type="service_skill",
                issued_on=today - timedelta(days=700),
                expires_on=today + timedelta(days=33),
            ),
        )
    assert "saved" in run(
        "training", "programmes", "add", "SS", "--type", "service_skill", "--exam", "SS-1",
        "--validity-months", "12",
    )  # fmt: skip
    listed = json.loads(run("training", "programmes", "list", "--format", "json"))
    assert [(p["code"], p["cert_type"], p["exam_codes"], p["validity_months"]) for p in listed] == [
        ("SS", "service_skill", ["SS-1"], 12)
    ]
    unknown = runner.invoke(
        app, ["training", "programmes", "add", "X", "--type", "service_skill", "--exam", "NOPE"]
    )
    assert unknown.exit_code == 1
    assert "NOPE" in unknown.output
    expiring = json.loads(
        run("training", "certifications", "expiring", "--days", "60", "--format", "json")
    )
    assert [(r["employee_no"], r["days_left"], r["exams"]) for r in expiring] == [
        ("9001", 33, ["SS-1"])
    ]
    assert (
        json.loads(
            run("training", "certifications", "expiring", "--days", "30", "--format", "json")
        )
        == []
    )
    assert "revoked" in run(
        "training", "certifications", "revoke", str(certificate.id), "--reason", "考试作弊"
    )
    again = runner.invoke(
        app, ["training", "certifications", "revoke", str(certificate.id), "--reason", "再次"]
    )
    assert again.exit_code == 1
    revoked = json.loads(
        run("training", "certifications", "list", "--status", "revoked", "--format", "json")
    )
    assert [(c["employee_no"], c["status"], c["revoked_reason"]) for c in revoked] == [
        ("9001", "revoked", "考试作弊")
    ]
    assert (
        json.loads(
            run("training", "certifications", "expiring", "--days", "60", "--format", "json")
        )
        == []
    )
    assert "removed" in run("training", "programmes", "remove", "SS")
    assert runner.invoke(app, ["training", "programmes", "remove", "SS"]).exit_code == 1
