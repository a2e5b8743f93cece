"""KPI pages and the imports page, end to end through the web app."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.ingest import service as ingest_service
from agentladder.metrics import service as metrics_service
from agentladder.metrics.catalog import AGENT_KPI_GROUPS, DEFAULT_AGENT_KPI_COLUMNS
from agentladder.metrics.models import MetricValue
from agentladder.org import service as org_service
from agentladder.periods import parse_period, period_of
from agentladder.web.app import create_app
from tests.factories import csrf_token, login, make_agent, make_team, make_user
from tests.metrics.test_metrics import SCENARIO


@pytest.fixture
def centre(settings: Settings, session: Session) -> dict[str, int]:
    make_team(session, "T01", "客服一组")
    make_team(session, "T02", "客服二组")
    wang = make_agent(session, employee_no="100001", name="王芳", team_code="T01")
    li = make_agent(session, employee_no="100002", name="李强", team_code="T02")
    org_service.add_alias(session=session, agent=wang, identity="SIP/1001")
    make_user(session, settings, "boss", ["manager"])
    make_user(session, settings, "lead", ["team_lead"], lead_team_id=li.team_id)
    make_user(session, settings, "wang", ["agent"], agent=wang)
    session.commit()
    with session_scope(settings) as work:
        ingest_service.import_file(
            session=work,
            settings=settings,
            adapter="queue_log",
            data=SCENARIO.encode(),
            file_name="queue_log",
        )
    with session_scope(settings) as work:
        metrics_service.compute_period(
            session=work, settings=settings, period=parse_period("2025-10")
        )
    return {"wang": wang.id, "li": li.id}


def test_agent_table_sort_and_export(settings: Settings, centre: dict[str, int]) -> None:
    boss = login(TestClient(create_app(settings)), "boss")
    page = boss.get("/kpis/agents?period=2025-10")
    assert page.status_code == 200
    assert "王芳" in page.text
    assert "SIP/1002" in page.text
    assert "未映射" in page.text or "unmapped" in page.text
    by_talk = boss.get("/kpis/agents?period=2025-10&sort=handled_calls&desc=true").text
    assert by_talk.index("100001") < by_talk.index("SIP/1002")
    xlsx = boss.get("/kpis/agents?period=2025-10&export=xlsx")
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("employee_no", "name", "team")
    assert rows[1][:3] == ("100001", "王芳", "T01")
    csv_body = boss.get("/kpis/agents?period=2025-10&export=csv").content
    assert csv_body.startswith(b"\xef\xbb\xbf")  # Excel in China needs the BOM for UTF-8
    queues = boss.get("/kpis/queues?period=2025-10")
    assert "support" in queues.text


def test_team_lead_sees_only_their_team(settings: Settings, centre: dict[str, int]) -> None:
    lead = login(TestClient(create_app(settings)), "lead")
    page = lead.get("/kpis/agents?period=2025-10").text
    assert "王芳" not in page
    assert "SIP/1002" not in page
    api = lead.get("/api/metrics?period=2025-10").json()
    assert api["agents"] == []


def test_agent_sees_own_kpis_only(settings: Settings, centre: dict[str, int]) -> None:
    wang = login(TestClient(create_app(settings)), "wang")
    own = wang.get(f"/agents/{centre['wang']}/kpis")
    assert own.status_code == 200
    assert "2025-10" in own.text
    assert 'id="agent-kpis"' in own.text
    assert wang.get(f"/agents/{centre['li']}/kpis").status_code == 404
    assert wang.get("/kpis/agents").status_code == 403
    data = wang.get(f"/api/agents/{centre['wang']}/metrics").json()
    assert data["metrics"]["handled_calls"] == [{"period": "2025-10", "value": 2.0, "sample": 2}]


def test_imports_page_maps_identities(settings: Settings, centre: dict[str, int]) -> None:
    boss = login(TestClient(create_app(settings)), "boss")
    page = boss.get("/imports")
    assert "SIP/1002" in page.text
    assert 'id="ledger"' in page.text
    response = boss.post(
        "/imports/identities",
        data={
            "identity": "SIP/1002",
            "employee_no": "100002",
            "csrf_token": csrf_token(boss, "/imports"),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "SIP/1002" not in boss.get("/imports").text.split('id="ledger"')[0]
    with session_scope(settings) as work:
        metrics_service.compute_period(
            session=work, settings=settings, period=parse_period("2025-10")
        )
    assert "李强" in boss.get("/kpis/agents?period=2025-10").text
    batch = boss.get("/api/imports").json()[0]
    detail = boss.get(f"/imports/{batch['id']}")
    assert detail.status_code == 200
    assert boss.get("/imports/999999").status_code == 404


def _store_values(session: Session, agent_id: int, labels: list[str]) -> None:
    for label in labels:
        period = parse_period(label)
        session.add(
            MetricValue(
                period_kind=period.kind,
                period=period.label,
                scope="agent",
                subject="100001",
                agent_id=agent_id,
                metric_id="handled_calls",
                value=10.0,
                numerator=10.0,
                denominator=None,
                sample_size=10,
                engine="duckdb",
            )
        )
    session.flush()


def test_default_period_is_the_latest_complete_month(session: Session) -> None:
    make_team(session, "T01", "客服一组")
    agent = make_agent(session, employee_no="100001", team_code="T01")
    _store_values(session, agent.id, ["2026-09", "2026-10", "2026-11", "2026-Q4", "2026-W47"])

    def default(today: date) -> str | None:
        chosen = metrics_service.default_period(session=session, today=today)
        return chosen.label if chosen else None

    assert default(date(2026, 11, 20)) == "2026-10"  # November is running
    assert default(date(2026, 12, 1)) == "2026-11"  # November ended yesterday
    assert default(date(2026, 12, 31)) == "2026-11"  # the quarter is partial: never chosen
    assert default(date(2026, 9, 5)) == "2026-11"  # nothing complete yet: the latest month
    asked = parse_period("2026-Q4")
    assert (
        metrics_service.default_period(session=session, today=date(2026, 11, 20), period=asked)
        == asked
    )


def test_kpi_page_opens_on_the_latest_complete_month(
    settings: Settings, centre: dict[str, int]
) -> None:
    this_month = period_of("month", settings.today())
    with session_scope(settings) as work:
        _store_values(work, centre["wang"], [this_month.label, this_month.previous().label])
    boss = login(TestClient(create_app(settings)), "boss")
    heading = re.search(r"<h1>(.*?)</h1>", boss.get("/kpis/agents").text)
    assert heading is not None
    assert this_month.previous().label in heading.group(1)
    assert this_month.label not in heading.group(1)


def test_kpi_table_groups_columns_and_keeps_the_agent_column(
    settings: Settings, centre: dict[str, int]
) -> None:
    boss = login(TestClient(create_app(settings)), "boss")
    page = boss.get("/kpis/agents?period=2025-10&sort=aht_s&desc=true").text
    for group in AGENT_KPI_GROUPS:
        assert f'data-group="{group.id}"' in page
    assert '<th scope="col" data-col="subject" rowspan="2" class=" sticky"' in page
    assert 'aria-sort="descending"' in page
    described = re.search(r'data-columns="([^"]*)"', page)
    assert described is not None
    columns = json.loads(html.unescape(described.group(1)))
    assert [c["key"] for c in columns][:3] == ["subject", "name", "team"]
    assert len(columns) == 3 + len(metrics_service.AGENT_METRIC_IDS)
    shown = {c["key"] for c in columns if c["shown"]}
    assert shown == {"subject", "name", "team"} | DEFAULT_AGENT_KPI_COLUMNS
    assert '<script src="/static/datatable.js" defer></script>' in page
    assert boss.get("/static/datatable.js").status_code == 200
    # An unknown sort key sorts by employee number; one that is not a key at all is refused.
    assert boss.get("/kpis/agents?period=2025-10&sort=nope").status_code == 200
    assert boss.get("/kpis/agents?period=2025-10&sort=a;b").status_code == 422


def test_kpi_table_pages_within_bounds(settings: Settings, centre: dict[str, int]) -> None:
    boss = login(TestClient(create_app(settings)), "boss")
    last = boss.get("/kpis/agents?period=2025-10&page=999")
    assert last.status_code == 200
    assert "王芳" in last.text  # past the end: the last (here the only) page
    assert boss.get("/kpis/agents?period=2025-10&page=0").status_code == 422
    assert boss.get("/kpis/agents?period=2025-10&page=1000001").status_code == 422


def test_kpi_export_honours_team_and_sort(settings: Settings, centre: dict[str, int]) -> None:
    boss = login(TestClient(create_app(settings)), "boss")
    body = boss.get("/kpis/agents?period=2025-10&team=T01&export=csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert [row[0] for row in rows[1:]] == ["100001"]
    everyone = boss.get("/kpis/agents?period=2025-10&sort=handled_calls&desc=false&export=csv")
    subjects = [row[0] for row in csv.reader(io.StringIO(everyone.content.decode("utf-8-sig")))]
    calls = {"100001": 2, "SIP/1002": 1}
    ordered = [s for s in subjects[1:] if s in calls]
    assert ordered == sorted(ordered, key=calls.__getitem__)
