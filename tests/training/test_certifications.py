"""Certificates: types, validity, and the CSV/XLSX import (all-or-nothing, idempotent)."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.errors import Conflict, InvalidInput, NotFound
from agentladder.org import service as org_service
from agentladder.tabular import TableFileError
from agentladder.training.certifications import service as certifications_service
from agentladder.training.certifications.schemas import (
    CertificationCreate,
    CertificationFilter,
    CertificationImportResult,
    CertificationTypeCreate,
)
from agentladder.training.models import Certification
from tests.factories import make_agent, make_team
from tests.ladder.builders import HIRED, decision_of, gate_of, give, policy_text, run

EVERYONE = org_service.AgentScope(everyone=True, team_ids=frozenset(), agent_id=None)

GOOD = """工号,姓名,认证类型,发证日期,有效期至,来源
100001,王芳,产品知识认证,2025-03-01,,
100001,王芳,service_skill,2025/6/1,2027-05-31,培训部
Agent/8002,李强,Sales skill,2025年1月6日,长期,
100003,张伟,综合能力认证,20240315,,
"""


@pytest.fixture
def centre(session: Session) -> dict[str, int]:
    make_team(session, "T01", "客服一组")
    make_team(session, "T02", "客服二组")
    wang = make_agent(session, employee_no="100001", name="王芳", team_code="T01")
    li = make_agent(session, employee_no="100002", name="李强", team_code="T01")
    zhang = make_agent(session, employee_no="100003", name="张伟", team_code="T02")
    org_service.add_alias(session=session, agent=li, identity="Agent/8002")
    session.commit()
    return {"wang": wang.id, "li": li.id, "zhang": zhang.id}


def _import(
    settings: Settings, data: bytes, name: str = "证书.csv", **kwargs: object
) -> CertificationImportResult:
    with session_scope(settings) as session:
        return certifications_service.import_certifications(
            session=session,
            data=data,
            file_name=name,
            **kwargs,  # type: ignore[arg-type]
        )


def _stored(settings: Settings) -> list[tuple[int, str, date, date | None, str]]:
    with session_scope(settings) as session:
        return [
            (c.agent_id, c.cert_type, c.issued_on, c.expires_on, c.source)
            for c in session.scalars(
                select(Certification).order_by(Certification.agent_id, Certification.cert_type)
            )
        ]


def _count(settings: Settings) -> int:
    with session_scope(settings) as session:
        return session.scalar(select(func.count()).select_from(Certification)) or 0


def test_builtin_types_are_the_four_certifications_of_the_source_design() -> None:
    assert tuple(certifications_service.BUILTIN_TYPES) == (
        "product_knowledge",
        "service_skill",
        "sales_skill",
        "comprehensive",
    )
    product = certifications_service.BUILTIN_TYPES["product_knowledge"]
    assert (product.zh, product.en) == ("产品知识认证", "Product knowledge")
    assert all(t.validity_months for t in certifications_service.BUILTIN_TYPES.values())


def test_gbk_csv_with_chinese_headers(settings: Settings, centre: dict[str, int]) -> None:
    data = GOOD.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = _import(settings, data)
    assert result.applied, result.preview.issues
    assert result.preview.encoding == "gb18030"
    assert result.preview.count("create") == 4
    assert _stored(settings) == [
        # 12 months from 2025-03-01: valid through 2026-02-28
        (
            centre["wang"],
            "product_knowledge",
            date(2025, 3, 1),
            date(2026, 2, 28),
            "import:证书.csv",
        ),
        (centre["wang"], "service_skill", date(2025, 6, 1), date(2027, 5, 31), "培训部"),
        # found by ACD alias; 长期: no expiry
        (centre["li"], "sales_skill", date(2025, 1, 6), None, "import:证书.csv"),
        (centre["zhang"], "comprehensive", date(2024, 3, 15), date(2026, 3, 14), "import:证书.csv"),
    ]


def test_xlsx_with_english_headers_and_date_cells(
    settings: Settings, centre: dict[str, int]
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Employee No", "Certification", "Issued", "Expires", "Source"])
    sheet.append([100001, "Product knowledge", datetime(2025, 4, 1), datetime(2026, 3, 31), "LMS"])
    sheet.append([100003, "SALES_SKILL", datetime(2025, 5, 20), None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = _import(settings, buffer.getvalue(), name="certificates.xlsx")
    assert result.applied, result.preview.issues
    assert result.preview.encoding == "xlsx"
    assert result.preview.columns == {
        "agent": "Employee No",
        "cert_type": "Certification",
        "issued_on": "Issued",
        "expires_on": "Expires",
        "source": "Source",
    }
    assert _stored(settings) == [
        (centre["wang"], "product_knowledge", date(2025, 4, 1), date(2026, 3, 31), "LMS"),
        (
            centre["zhang"],
            "sales_skill",
            date(2025, 5, 20),
            date(2026, 5, 19),
            "import:certificates.xlsx",
        ),
    ]


def test_bad_rows_are_named_and_nothing_is_stored(
    settings: Settings, centre: dict[str, int]
) -> None:
    text = (
        "工号,认证类型,发证日期,有效期至\n"
        "100001,product_knowledge,2025-03-01,\n"  # good
        "999999,product_knowledge,2025-03-01,\n"  # nobody
        "100002,急救认证,2025-03-01,\n"  # unknown type
        "100003,service_skill,2025-02-30,\n"  # no such day
        "100003,sales_skill,2025-03-01,2024-12-31\n"  # expires before issued
        "100001,产品知识认证,2025-03-01,\n"  # row 2 again
        ",service_skill,,\n"  # empty agent and date
    )
    result = _import(settings, text.encode())
    assert not result.applied
    assert [(e.row, e.column, e.value) for e in result.preview.errors] == [
        (3, "工号", "999999"),
        (4, "认证类型", "急救认证"),
        (5, "发证日期", "2025-02-30"),
        (6, "有效期至", "2024-12-31"),
        (7, "工号", "100001"),
        (8, "工号", None),
        (8, "发证日期", None),
    ]
    assert result.preview.errors[4].params == {"row": 2}
    assert "product_knowledge" in str(result.preview.errors[1].params["codes"])
    assert _count(settings) == 0


def test_missing_column_and_empty_file(settings: Settings, centre: dict[str, int]) -> None:
    result = _import(settings, "工号,认证类型\n100001,service_skill\n".encode())
    assert [(e.row, e.column, e.message) for e in result.preview.errors] == [
        (1, "发证日期", "required column is missing")
    ]
    empty = _import(settings, "工号,认证类型,发证日期\n".encode())
    assert [e.message for e in empty.preview.errors] == ["the file has no data rows"]
    with session_scope(settings) as session, pytest.raises(TableFileError):
        certifications_service.preview_certifications(
            session=session,
            data=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64,
            file_name="a.xls",
        )
    assert _count(settings) == 0


def test_dry_run_writes_nothing(settings: Settings, centre: dict[str, int]) -> None:
    result = _import(settings, GOOD.encode(), dry_run=True)
    assert not result.applied
    assert result.dry_run
    assert result.preview.count("create") == 4
    assert _count(settings) == 0


def test_reimport_changes_nothing_then_updates(settings: Settings, centre: dict[str, int]) -> None:
    assert _import(settings, GOOD.encode()).applied
    before = _stored(settings)
    with session_scope(settings) as session:
        stamps = sorted(session.scalars(select(Certification.recorded_at)))
    again = _import(settings, GOOD.encode())
    assert again.applied
    assert again.preview.count("unchanged") == 4
    assert again.preview.count("create") == again.preview.count("update") == 0
    assert _stored(settings) == before
    with session_scope(settings) as session:
        assert sorted(session.scalars(select(Certification.recorded_at))) == stamps
    # A file without the expiry or source column leaves the stored ones alone.
    short = "工号,认证类型,发证日期\n100001,service_skill,2025-06-01\n"
    assert _import(settings, short.encode(), name="other.csv").preview.count("unchanged") == 1
    renewed = GOOD.replace("2027-05-31,培训部", "2027-12-31,培训部")
    result = _import(settings, renewed.encode())
    [row] = [r for r in result.preview.rows if r.action == "update"]
    assert row.changes == {"expires_on": ("2027-05-31", "2027-12-31")}
    assert _count(settings) == 4


def test_name_that_differs_from_the_agent_is_a_warning(
    settings: Settings, centre: dict[str, int]
) -> None:
    text = "工号,姓名,认证类型,发证日期\n100001,王小芳,service_skill,2025-06-01\n"
    result = _import(settings, text.encode())
    assert result.applied
    assert [(w.row, w.column, w.severity, w.params) for w in result.preview.issues] == [
        (2, "姓名", "warning", {"name": "王芳"})
    ]


def test_validity_on_a_date(settings: Settings, centre: dict[str, int]) -> None:
    with session_scope(settings) as session:
        for code, issued, expires in (
            ("product_knowledge", date(2025, 3, 1), date(2026, 2, 28)),
            ("service_skill", date(2026, 1, 1), None),
        ):
            certifications_service.record_certification(
                session=session,
                cert_in=CertificationCreate(
                    agent_id=centre["wang"],
                    cert_type=code,
                    issued_on=issued,
                    expires_on=expires,
                    no_expiry=expires is None,
                ),
            )

    def held(on: date) -> dict[int, set[str]]:
        with session_scope(settings) as session:
            return certifications_service.valid_certifications(
                session=session, agent_ids=[centre["wang"], centre["li"]], on=on
            )

    assert held(date(2025, 2, 28)) == {centre["wang"]: set(), centre["li"]: set()}
    assert held(date(2025, 3, 1))[centre["wang"]] == {"product_knowledge"}
    assert held(date(2026, 2, 28))[centre["wang"]] == {"product_knowledge", "service_skill"}
    # The day after expiry the certificate no longer counts.
    assert held(date(2026, 3, 1))[centre["wang"]] == {"service_skill"}
    assert held(date(2040, 1, 1))[centre["wang"]] == {"service_skill"}


def test_status_and_expiry_arithmetic() -> None:
    today = date(2026, 11, 23)
    status = certifications_service.certification_status
    assert status(date(2026, 1, 1), None, today) == "valid"
    assert status(date(2026, 1, 1), date(2027, 6, 1), today) == "valid"
    assert status(date(2026, 1, 1), date(2027, 1, 22), today) == "expiring"
    assert status(date(2026, 1, 1), today, today) == "expiring"
    assert status(date(2025, 1, 1), date(2026, 11, 22), today) == "expired"
    assert status(date(2026, 12, 1), None, today) == "pending"
    assert certifications_service.default_expiry(date(2024, 1, 31), 1) == date(2024, 2, 28)
    assert certifications_service.default_expiry(date(2025, 3, 1), 24) == date(2027, 2, 28)
    assert certifications_service.default_expiry(date(2025, 3, 1), None) is None


def test_added_type_is_known_and_imports_with_its_validity(
    settings: Settings, centre: dict[str, int]
) -> None:
    with session_scope(settings) as session:
        certifications_service.add_certification_type(
            session=session,
            type_in=CertificationTypeCreate(
                code="complaints", zh="投诉处理认证", en="Complaint handling", validity_months=6
            ),
        )
    with session_scope(settings) as session:
        with pytest.raises(Conflict):
            certifications_service.add_certification_type(
                session=session,
                type_in=CertificationTypeCreate(code="Sales_Skill", zh="销售", en="Sales"),
            )
        with pytest.raises(Conflict):
            certifications_service.add_certification_type(
                session=session,
                type_in=CertificationTypeCreate(code="pk2", zh="产品知识认证", en="PK"),
            )
        known = certifications_service.known_certification_types(session=session)
    assert known == {*certifications_service.BUILTIN_TYPES, "complaints"}
    result = _import(settings, "工号,认证类型,发证日期\n100002,投诉处理认证,2026-01-15\n".encode())
    assert result.applied
    assert _stored(settings) == [
        (centre["li"], "complaints", date(2026, 1, 15), date(2026, 7, 14), "import:证书.csv")
    ]


def test_record_certification_defaults_and_conflicts(
    settings: Settings, centre: dict[str, int]
) -> None:
    cert_in = CertificationCreate(
        agent_id=centre["li"], cert_type="service_skill", issued_on=date(2026, 2, 1)
    )
    with session_scope(settings) as session:
        read = certifications_service.record_certification(
            session=session, cert_in=cert_in, today=date(2026, 3, 1)
        )
    assert (read.expires_on, read.source, read.status) == (date(2028, 1, 31), "manual", "valid")
    assert (read.employee_no, read.type_zh) == ("100002", "服务技能认证")
    with session_scope(settings) as session, pytest.raises(Conflict):
        certifications_service.record_certification(session=session, cert_in=cert_in)
    with session_scope(settings) as session, pytest.raises(InvalidInput):
        certifications_service.record_certification(
            session=session, cert_in=cert_in.model_copy(update={"cert_type": "nope"})
        )


def test_list_filters_and_order(settings: Settings, centre: dict[str, int]) -> None:
    _import(settings, GOOD.encode())
    today = date(2026, 1, 10)

    def listed(**filters: object) -> list[tuple[str, str, str]]:
        with session_scope(settings) as session:
            page = certifications_service.list_certifications(
                session=session,
                scope=EVERYONE,
                filters=CertificationFilter.model_validate(filters),
                today=today,
            )
        return [(c.employee_no, c.cert_type, c.status) for c in page.certifications]

    assert listed() == [
        ("100001", "product_knowledge", "expiring"),
        ("100001", "service_skill", "valid"),
        ("100002", "sales_skill", "valid"),
        ("100003", "comprehensive", "valid"),
    ]
    assert listed(status="expiring") == [("100001", "product_knowledge", "expiring")]
    assert listed(status="expired") == []
    assert listed(team="t02") == [("100003", "comprehensive", "valid")]
    assert listed(q="李") == [("100002", "sales_skill", "valid")]
    assert listed(cert_type="service_skill") == [("100001", "service_skill", "valid")]
    with session_scope(settings) as session:
        own = certifications_service.list_certifications(
            session=session,
            scope=org_service.AgentScope(
                everyone=False, team_ids=frozenset(), agent_id=centre["li"]
            ),
            filters=CertificationFilter(),
            today=today,
        )
    assert [c.employee_no for c in own.certifications] == ["100002"]


# --- revocation, expiry, verification --------------------------------------------------------


def _record(session: Session, agent_id: int, code: str, issued: date, expires: date | None) -> int:
    return certifications_service.record_certification(
        session=session,
        cert_in=CertificationCreate(
            agent_id=agent_id,
            cert_type=code,
            issued_on=issued,
            expires_on=expires,
            no_expiry=expires is None,
        ),
    ).id


def test_a_revoked_certificate_stops_counting_on_the_centres_day_of_revocation(
    session: Session, centre: dict[str, int]
) -> None:
    wang = centre["wang"]
    cert_id = _record(session, wang, "service_skill", date(2025, 1, 1), date(2026, 12, 31))
    # 17:00 UTC on the 9th is 01:00 on the 10th in Shanghai: revoked on the 10th.
    revoked = certifications_service.revoke_certification(
        session=session,
        certificate_id=cert_id,
        reason="考试作弊",
        user=None,
        now=datetime(2026, 5, 9, 17, 0, tzinfo=UTC),
    )
    assert (revoked.status, revoked.revoked_reason) == ("revoked", "考试作弊")

    def held(day: date) -> set[str]:
        return certifications_service.valid_certifications(
            session=session, agent_ids=[wang], on=day
        )[wang]

    assert held(date(2026, 5, 9)) == {"service_skill"}
    assert held(date(2026, 5, 10)) == set()
    [shown] = certifications_service.certifications_of(
        session=session, agent_id=wang, today=date(2026, 6, 1)
    )
    assert (shown.status, shown.revoked_at is not None) == ("revoked", True)
    # Before the day it was revoked, it read as it then was.
    [before] = certifications_service.certifications_of(
        session=session, agent_id=wang, today=date(2026, 5, 9)
    )
    assert before.status == "valid"
    for status, expected in (("revoked", 1), ("valid", 0), ("expiring", 0), ("expired", 0)):
        page = certifications_service.list_certifications(
            session=session,
            scope=EVERYONE,
            filters=CertificationFilter(status=status),
            today=date(2026, 12, 20),
        )
        assert page.total == expected, status


def test_revocation_needs_a_reason_and_happens_once(
    session: Session, centre: dict[str, int]
) -> None:
    cert_id = _record(session, centre["wang"], "sales_skill", date(2026, 1, 1), None)
    with pytest.raises(InvalidInput, match="reason"):
        certifications_service.revoke_certification(
            session=session, certificate_id=cert_id, reason="  ", user=None
        )
    certifications_service.revoke_certification(
        session=session, certificate_id=cert_id, reason="误录", user=None
    )
    with pytest.raises(Conflict):
        certifications_service.revoke_certification(
            session=session, certificate_id=cert_id, reason="再次", user=None
        )
    with pytest.raises(NotFound):
        certifications_service.revoke_certification(
            session=session, certificate_id=cert_id + 100, reason="无", user=None
        )


def test_the_ladders_gate_stops_accepting_a_revoked_certificate(session: Session) -> None:
    text = policy_text(
        consecutive=1,
        entry={"basic_sophomore": "{min_score: 55, certifications: [product_knowledge]}"},
    )
    kept, revoked = make_agent(session, hire_date=HIRED), make_agent(session, hire_date=HIRED)
    for agent in (kept, revoked):
        cert_id = _record(session, agent.id, "product_knowledge", date(2026, 1, 5), None)
        give(session, agent, "2026-10", score=90)
    certifications_service.revoke_certification(
        session=session,
        certificate_id=cert_id,
        reason="证书作废",
        user=None,
        now=datetime(2026, 10, 20, 2, 0, tzinfo=UTC),
    )
    result = run(session, "2026-10", text)
    assert decision_of(result, kept).decision == "promote"
    view = decision_of(result, revoked)
    assert view.decision == "hold"
    gate = gate_of(view, "certification")
    assert (gate["required"], gate["passed"]) == ("product_knowledge", False)
    # September's last day came before the revocation: it counted then.
    assert certifications_service.valid_certifications(
        session=session, agent_ids=[revoked.id], on=date(2026, 9, 30)
    )[revoked.id] == {"product_knowledge"}


def test_the_expiring_report_counts_per_type_in_the_window(
    session: Session, centre: dict[str, int]
) -> None:
    today = date(2026, 12, 1)
    wang, li, zhang = centre["wang"], centre["li"], centre["zhang"]
    _record(session, wang, "product_knowledge", date(2026, 1, 1), date(2026, 12, 20))  # 19 days
    _record(session, li, "product_knowledge", date(2026, 1, 1), date(2027, 1, 30))  # 60 days
    _record(session, zhang, "sales_skill", date(2025, 3, 1), date(2027, 2, 28))  # 89 days
    _record(session, zhang, "comprehensive", date(2025, 3, 1), date(2026, 11, 30))  # expired
    gone = _record(session, li, "sales_skill", date(2026, 1, 1), date(2026, 12, 10))
    certifications_service.revoke_certification(
        session=session,
        certificate_id=gone,
        reason="作废",
        user=None,
        now=datetime(2026, 11, 25, 2, 0, tzinfo=UTC),
    )
    # Renewed already: a later certificate outlasts it.
    _record(session, zhang, "service_skill", date(2025, 1, 1), date(2026, 12, 15))
    _record(session, zhang, "service_skill", date(2026, 11, 20), date(2028, 11, 19))

    def report(days: int, scope: org_service.AgentScope = EVERYONE) -> list[tuple[str, str, int]]:
        found = certifications_service.expiring_certifications(
            session=session, scope=scope, days=days, today=today
        )
        assert sum(count.count for count in found.counts) == len(found.rows)
        return [
            (row.certification.employee_no, row.certification.cert_type, row.days_left)
            for row in found.rows
        ]

    assert report(30) == [("100001", "product_knowledge", 19)]
    assert report(60) == [("100001", "product_knowledge", 19), ("100002", "product_knowledge", 60)]
    assert report(90)[-1] == ("100003", "sales_skill", 89)
    counts = certifications_service.expiring_certifications(
        session=session, scope=EVERYONE, days=90, today=today
    ).counts
    assert [(c.cert_type, c.type_zh, c.count) for c in counts] == [
        ("product_knowledge", "产品知识认证", 2),
        ("sales_skill", "销售技能认证", 1),
    ]
    own = org_service.AgentScope(everyone=False, team_ids=frozenset(), agent_id=zhang)
    assert report(90, own) == [("100003", "sales_skill", 89)]
    with pytest.raises(InvalidInput):
        report(0)


def test_the_public_check_tells_only_name_type_dates_and_status(
    session: Session, centre: dict[str, int]
) -> None:
    cert_id = _record(session, centre["wang"], "service_skill", date(2025, 1, 10), date(2027, 1, 9))
    first = certifications_service.certificate_document(
        session=session, certificate_id=cert_id, scope=EVERYONE
    )
    code = first.verification_code
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", code)
    # Printing again keeps the code.
    again = certifications_service.certificate_document(
        session=session, certificate_id=cert_id, scope=EVERYONE
    )
    assert again.verification_code == code
    checked = certifications_service.verify_certificate(
        session=session, code=code, today=date(2026, 12, 1)
    )
    assert checked.model_dump() == {
        "name": "王芳",
        "type_zh": "服务技能认证",
        "type_en": "Service skill",
        "issued_on": date(2025, 1, 10),
        "expires_on": date(2027, 1, 9),
        "status": "valid",  # expiring soon is still valid here
    }
    # As typed from paper: lower case, no dashes, O for 0 and I or L for 1.
    typed = code.replace("-", " ").lower().replace("0", "o").replace("1", "l")
    assert (
        certifications_service.verify_certificate(
            session=session, code=typed, today=date(2026, 12, 1)
        )
        == checked
    )
    assert (
        certifications_service.verify_certificate(
            session=session, code=code, today=date(2027, 1, 10)
        ).status
        == "expired"
    )
    certifications_service.revoke_certification(
        session=session, certificate_id=cert_id, reason="作废", user=None
    )
    assert (
        certifications_service.verify_certificate(
            session=session, code=code, today=date(2027, 1, 10)
        ).status
        == "revoked"
    )
    for wrong in ("0000-0000-0000", "not a code", "", code + "X"):
        with pytest.raises(NotFound):
            certifications_service.verify_certificate(
                session=session, code=wrong, today=date(2026, 12, 1)
            )
    # Another's agent's certificate is not printed for someone outside the scope.
    own = org_service.AgentScope(everyone=False, team_ids=frozenset(), agent_id=centre["li"])
    with pytest.raises(NotFound):
        certifications_service.certificate_document(
            session=session, certificate_id=cert_id, scope=own
        )


def test_codes_are_random_and_normalized() -> None:
    codes = {certifications_service.new_verification_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert certifications_service.normalize_verification_code(code) == code
    assert (
        certifications_service.normalize_verification_code("abcd－efgh－jk mn") == "ABCD-EFGH-JKMN"
    )
    assert certifications_service.normalize_verification_code("ABCD-EFGH-JKMU") is None  # no U
    assert certifications_service.normalize_verification_code("ABCD-EFGH-JKM") is None
