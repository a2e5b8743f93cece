"""KPIs end to end: import real and declarative files, compute a period, read the values."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.errors import InvalidInput
from agentladder.ingest import service as ingest_service
from agentladder.ingest.service import load_mapping, shipped_mapping
from agentladder.metrics import service as metrics_service
from agentladder.metrics.models import MetricValue
from agentladder.org import service as org_service
from agentladder.periods import parse_period, periods_between
from tests.conftest import corpus_path, make_settings
from tests.factories import make_agent


@pytest.fixture
def utc_settings(settings: Settings) -> Settings:
    return make_settings(settings.data_dir, settings.resolved_database_url, timezone="UTC")


def _import(settings: Settings, adapter: str, data: bytes, mapping: str | None = None) -> None:
    with session_scope(settings) as session:
        ingest_service.import_file(
            session=session,
            settings=settings,
            adapter=adapter,
            data=data,
            file_name="f",
            mapping=load_mapping(shipped_mapping(mapping)) if mapping else None,
        )


def _values(settings: Settings, period: str) -> dict:  # type: ignore[type-arg]
    with session_scope(settings) as session:
        metrics_service.compute_period(
            session=session, settings=settings, period=parse_period(period)
        )
    with session_scope(settings) as session:
        return metrics_service.period_values(session=session, period=parse_period(period))


def test_periods() -> None:
    assert parse_period("2026-10").end_day == date(2026, 11, 1)
    assert parse_period("2026-q4").first_day == date(2026, 10, 1)
    assert parse_period("2026-Q4").end_day == date(2027, 1, 1)
    assert parse_period("2026-W01").first_day == date(2025, 12, 29)
    assert parse_period("2026-10-08").kind == "day"
    with pytest.raises(InvalidInput):
        parse_period("2026-13")
    labels = [p.label for p in periods_between("month", date(2026, 1, 30), date(2026, 3, 1))]
    assert labels == ["2026-01", "2026-02", "2026-03"]


@pytest.mark.parametrize("timezone", ["Asia/Shanghai", "UTC", "America/New_York"])
def test_per_call_table_per_agent(settings: Settings, timezone: str) -> None:
    # The file's times are the centre's office hours: the same quarter in any time zone.
    zoned = make_settings(settings.data_dir, settings.resolved_database_url, timezone=timezone)
    data = corpus_path("calls_table", "Call-Center-Dataset.csv").read_bytes()
    _import(zoned, "calls-table", data, "call_center_dataset")
    values = _values(zoned, "2021-Q1")
    found = {
        entry["agent"]: (
            entry["metrics"]["offered_to_agent"],
            entry["metrics"]["handled_calls"],
            round(entry["metrics"]["asa_s"], 2),
            round(entry["metrics"]["csat_avg"], 2),
        )
        for entry in values["agents"]
    }
    assert found == {
        "Becky": (631, 517, 65.33, 3.37),
        "Dan": (633, 523, 67.28, 3.45),
        "Diane": (633, 501, 66.27, 3.41),
        "Greg": (624, 502, 68.44, 3.40),
        "Jim": (666, 536, 66.34, 3.39),
        "Joe": (593, 484, 70.99, 3.33),
        "Martha": (638, 514, 69.49, 3.47),
        "Stewart": (582, 477, 66.18, 3.40),
    }
    becky = next(e for e in values["agents"] if e["agent"] == "Becky")
    assert becky["metrics"]["transfer_rate"] is None  # the table does not record transfers
    # Nor why a call went unanswered: 114 of Becky's were, so neither missed rings nor
    # abandons are known (they read 0 before).
    assert becky["metrics"]["ring_no_answer"] is None
    for queue in values["queues"]:
        unknown = ("abandoned", "short_abandoned", "timed_out", "abandon_rate")
        assert [queue["metrics"][metric_id] for metric_id in unknown] == [None] * 4
        assert queue["metrics"]["answered"] < queue["metrics"]["offered"]
    assert becky["samples"]["handled_calls"] == 517
    assert becky["samples"]["transfer_rate"] == 0


def test_pbxware_queue_and_agents_and_alias_mapping(
    utc_settings: Settings, session: Session
) -> None:
    data = corpus_path("queue_log", "pbxware", "queue_log.csv").read_bytes()
    _import(utc_settings, "queue_log", data)
    values = _values(utc_settings, "2018-Q4")
    [it] = values["queues"]
    assert it["queue"] == "IT"
    metrics = it["metrics"]
    assert (
        metrics["offered"],
        metrics["answered"],
        metrics["abandoned"],
        metrics["timed_out"],
    ) == (
        108,
        93,
        12,
        1,
    )
    agents = {entry["agent"]: entry["metrics"] for entry in values["agents"]}
    assert agents["Agent/1128"]["handled_calls"] == 13  # 11 completed + 2 transferred
    assert agents["Agent/1128"]["transfer_rate"] == pytest.approx(2 / 13)
    assert sum(a["ring_no_answer"] or 0 for a in agents.values()) == 360

    # Mapping the identities later makes the next computation credit the agent.
    wang = make_agent(session, employee_no="100001", name="王芳")
    org_service.add_alias(session=session, agent=wang, identity="Agent/1128")
    session.commit()
    again = _values(utc_settings, "2018-Q4")
    names = [entry["agent"] for entry in again["agents"]]
    assert "100001" in names
    assert "Agent/1128" not in names
    with session_scope(utc_settings) as check:
        stored = check.scalar(
            select(MetricValue.agent_id).where(
                MetricValue.subject == "100001", MetricValue.metric_id == "handled_calls"
            )
        )
        assert stored == wang.id


SCENARIO = """\
1760000000|a1|support|NONE|ENTERQUEUE||13800000001|1
1760000010|a1|support|SIP/1001|CONNECT|10|x|3
1760000100|a1|support|SIP/1001|COMPLETECALLER|10|90|1
1760000200|a2|support|NONE|ENTERQUEUE||13800000002|1
1760000230|a2|support|SIP/1001|CONNECT|30|x|5
1760000235|a2|support|SIP/1001|COMPLETEAGENT|30|5|1
1760000300|a3|support|NONE|ENTERQUEUE||13800000003|1
1760000303|a3|support|NONE|ABANDON|1|1|3
1760000400|a4|support|NONE|ENTERQUEUE||13800000004|1
1760000440|a4|support|NONE|ABANDON|1|1|40
1760001000|a5|support|NONE|ENTERQUEUE||13800000001|1
1760001020|a5|support|SIP/1002|CONNECT|20|x|2
1760001080|a5|support|SIP/1002|BLINDTRANSFER|8000|ctx|20|60|1
"""


def test_declarative_scenario_exact_values(utc_settings: Settings) -> None:
    _import(utc_settings, "queue_log", SCENARIO.encode())
    values = _values(utc_settings, "2025-10-09")
    queue = values["queues"][0]["metrics"]
    assert queue["offered"] == 5
    assert queue["answered"] == 3
    assert queue["abandoned"] == 2
    assert queue["short_abandoned"] == 1  # waited 3 s <= 5 s
    # Within 20 s: a1 (10 s) and a5 (20 s, inclusive); base: 3 answered + 2 abandoned - 1 short.
    assert queue["service_level"] == pytest.approx(2 / 4)
    assert queue["abandon_rate"] == pytest.approx(1 / 5)
    assert queue["asa_s"] == pytest.approx(20.0)
    agents = {entry["agent"]: entry for entry in values["agents"]}
    sip1001 = agents["SIP/1001"]["metrics"]
    assert sip1001["handled_calls"] == 2
    assert sip1001["avg_ring_s"] == pytest.approx(4.0)
    assert sip1001["short_call_rate"] == pytest.approx(1 / 2)  # 5 s < 10 s
    # Caller ...001 called again (a5) within 7 days of a1: a1 was not resolved first time.
    assert sip1001["fcr_rate"] == pytest.approx(1 / 2)
    assert agents["SIP/1002"]["metrics"]["transfer_rate"] == 1.0
    assert agents["SIP/1002"]["metrics"]["csat_rate"] is None
    assert agents["SIP/1002"]["samples"]["csat_rate"] == 0


def test_recompute_is_idempotent(utc_settings: Settings) -> None:
    _import(utc_settings, "queue_log", SCENARIO.encode())
    first = _values(utc_settings, "2025-10-09")
    with session_scope(utc_settings) as session:
        count = session.scalar(select(func.count()).select_from(MetricValue))
    assert _values(utc_settings, "2025-10-09") == first
    with session_scope(utc_settings) as session:
        assert session.scalar(select(func.count()).select_from(MetricValue)) == count


def test_metrics_cli(cli_env: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from agentladder.cli import app

    runner = CliRunner()
    log = tmp_path / "queue_log"
    log.write_text(SCENARIO)
    assert runner.invoke(app, ["import", "queue_log", str(log)]).exit_code == 0
    computed = runner.invoke(app, ["metrics", "compute", "--period", "2025-10"])
    assert computed.exit_code == 0, computed.output
    assert "2 agents and 1 queues" in computed.output
    shown = runner.invoke(app, ["metrics", "show", "--period", "2025-10", "--format", "json"])
    document = json.loads(shown.output)
    assert document["period"] == "2025-10"
    assert {a["agent"] for a in document["agents"]} == {"SIP/1001", "SIP/1002"}
    assert document["queues"][0]["queue"] == "support"
    assert document["agents"][0]["metrics"]["nps"] is None
    catalog = runner.invoke(app, ["metrics", "catalog", "--format", "json"])
    assert {"handled_calls", "service_level", "fcr_rate"} <= {
        m["id"] for m in json.loads(catalog.output)
    }
    # In a terminal: a few columns that fit, rounded; one agent as rows; chosen columns.
    monkeypatch.setenv("COLUMNS", "100")
    table = runner.invoke(app, ["metrics", "show", "--period", "2025-10"])
    assert table.exit_code == 0, table.output
    assert "SIP/1001" in table.output
    assert "…" not in table.output.split("Queues")[0]  # no cell cut to "1…"
    assert "--metrics" in table.output  # says how to see the rest
    one = runner.invoke(app, ["metrics", "show", "--period", "2025-10", "--agent", "SIP/1001"])
    assert "Handled calls" in one.output
    chosen = runner.invoke(
        app,
        ["metrics", "show", "--period", "2025-10", "--metrics", "handled_calls", "--format", "csv"],
    )
    assert chosen.output.splitlines()[0] == "agent,handled_calls"
    unknown = runner.invoke(app, ["metrics", "show", "--period", "2025-10", "--metrics", "nope"])
    assert unknown.exit_code == 2
    empty = runner.invoke(app, ["metrics", "show", "--period", "2024-01"])
    assert empty.exit_code == 0
    assert "no metrics stored for 2024-01" in empty.output


STATES = """\
1760000000|NONE|NONE|Agent/7|AGENTLOGIN|SIP/7
1760000000|NONE|support|SIP/7|ADDMEMBER|
1760000000|NONE|sales|SIP/7|ADDMEMBER|
1760000100|s1|support|NONE|ENTERQUEUE||13800000009|1
1760000110|s1|support|SIP/7|CONNECT|10|x|2
1760000710|s1|support|SIP/7|COMPLETEAGENT|10|600|1
1760001000|NONE|NONE|SIP/7|PAUSEALL|lunch
1760001000|NONE|support|SIP/7|PAUSE|lunch
1760001000|NONE|sales|SIP/7|PAUSE|lunch
1760002800|NONE|NONE|SIP/7|UNPAUSEALL|
1760002800|NONE|support|SIP/7|UNPAUSE|
1760002800|NONE|sales|SIP/7|UNPAUSE|
1760003600|NONE|support|SIP/7|REMOVEMEMBER|
1760003600|NONE|sales|SIP/7|REMOVEMEMBER|
1760003600|NONE|NONE|Agent/7|AGENTLOGOFF|SIP/7|3600
"""


def test_login_pause_occupancy_count_overlaps_once(
    utc_settings: Settings, session: Session
) -> None:
    agent = make_agent(session, employee_no="700007", name="周杰")
    org_service.add_alias(session=session, agent=agent, identity="SIP/7")
    session.commit()
    _import(utc_settings, "queue_log", STATES.encode())
    values = _values(utc_settings, "2025-10-09")
    [entry] = values["agents"]
    assert entry["agent"] == "700007"  # Agent/7 and SIP/7 are one person
    metrics = entry["metrics"]
    assert metrics["login_s"] == 3600.0  # login + two memberships over the same hour
    assert metrics["pause_s"] == 1800.0  # PAUSEALL + two per-queue PAUSE lines: once
    assert metrics["occupancy"] == pytest.approx(600 / 1800)
    assert metrics["idle_busy_ratio"] == pytest.approx((1800 - 600) / 600)


def test_a_call_open_in_one_file_and_completed_in_the_next(utc_settings: Settings) -> None:
    lines = SCENARIO.splitlines(keepends=True)
    _import(utc_settings, "queue_log", "".join(lines[:2]).encode())  # a1 connected, not ended
    early = _values(utc_settings, "2025-10-09")
    assert early["queues"][0]["metrics"]["answered"] == 1
    assert early["agents"][0]["metrics"]["handled_calls"] == 0  # open: not completed
    _import(utc_settings, "queue_log", SCENARIO.encode())
    values = _values(utc_settings, "2025-10-09")
    assert values["queues"][0]["metrics"]["offered"] == 5  # a1 counted once
    sip1001 = next(e for e in values["agents"] if e["agent"] == "SIP/1001")["metrics"]
    assert sip1001["handled_calls"] == 2


# Complaints, praise, tickets, leads and a roster for SIP/1001 of SCENARIO, on 2025-10-09.
REGISTERS = {
    "feedback": (
        "工单编号,通话流水号,被投诉/表扬工号,受理时间,类型,投诉等级,是否有效\n"
        "F1,a1,SIP/1001,2025-10-09 10:00:00,投诉,一般,有效\n"
        "F2,a2,SIP/1001,2025-10-09 11:00:00,投诉,一般,无效\n"
        "F3,a2,SIP/1001,2025-10-09 12:00:00,表扬,,\n",
        "feedback_zh",
    ),
    "tickets": (
        "工单编号,创建时间,创建人工号,是否有效,工单类型\n"
        "T1,2025-10-09 10:00:00,SIP/1001,有效,咨询\n"
        "T2,2025-10-09 10:05:00,SIP/1001,有效,咨询\n"
        "T3,2025-10-09 10:10:00,SIP/1001,无效,咨询\n",
        "tickets_zh",
    ),
    "leads": (
        "线索编号,创建时间,坐席工号,是否有效线索,是否成交,营销活动\n"
        "L1,2025-10-09 10:00:00,SIP/1001,是,否,双十一\n",
        "leads_zh",
    ),
    "schedules": (
        "工号,日期,班次,上班时间,下班时间,请假类型\n"
        "SIP/1001,2025-10-09,早班,08:00,17:00,\n"
        "SIP/1001,2025-10-10,早班,08:00,17:00,病假\n",
        "schedules_zh",
    ),
}


def test_evidence_metrics_from_registers(utc_settings: Settings) -> None:
    """Complaints, praise, tickets, leads and rosters through their adapters and shipped
    mappings, against the handled calls of the queue_log scenario."""
    _import(utc_settings, "queue_log", SCENARIO.encode())
    for adapter, (text, mapping) in REGISTERS.items():
        _import(utc_settings, adapter, text.encode("gb18030"), mapping)
    day = _values(utc_settings, "2025-10-09")
    metrics = next(e for e in day["agents"] if e["agent"] == "SIP/1001")["metrics"]
    assert (metrics["complaints"], metrics["praise_count"]) == (1, 1)
    assert metrics["complaint_rate"] == pytest.approx(1 / 2)  # 1 valid complaint, 2 handled
    assert metrics["ticket_validity_rate"] == pytest.approx(2 / 3)
    assert metrics["sales_lead_rate"] == pytest.approx(1 / 2)
    assert metrics["attendance_rate"] == 1.0
    month = _values(utc_settings, "2025-10")
    monthly = next(e for e in month["agents"] if e["agent"] == "SIP/1001")["metrics"]
    assert monthly["attendance_rate"] == pytest.approx(1 / 2)  # sick on the 10th


def test_identical_intervals_over_several_days_are_not_merged(utc_settings: Settings) -> None:
    """AGENTLOGIN and ADDMEMBER in the same second make identical intervals; both island
    windows must order them the same way (they did not: sessions of two days merged)."""
    lines = []
    for agent in range(1, 21):
        for day in range(3):
            start = 1_760_000_000 + day * 86_400 + agent
            lines += [
                f"{start}|NONE|NONE|Agent/{agent}|AGENTLOGIN|SIP/{agent}",
                f"{start}|NONE|support|SIP/{agent}|ADDMEMBER|",
                f"{start + 3600}|NONE|support|SIP/{agent}|REMOVEMEMBER|",
                f"{start + 3600}|NONE|NONE|Agent/{agent}|AGENTLOGOFF|SIP/{agent}|3600",
            ]
    _import(utc_settings, "queue_log", ("\n".join(lines) + "\n").encode())
    values = _values(utc_settings, "2025-10")
    logins = {e["agent"]: e["metrics"]["login_s"] for e in values["agents"]}
    # Unmapped, Agent/N and SIP/N are separate subjects: each logged 3 one-hour sessions.
    assert set(logins.values()) == {3 * 3600.0}


def test_files_of_a_rolled_back_import_are_never_read(utc_settings: Settings) -> None:
    october = SCENARIO.encode()
    november = SCENARIO.replace("|a", "|n").replace("17600", "17625").encode()  # ~Nov 7th

    def import_then_fail() -> None:
        with session_scope(utc_settings) as session:
            ingest_service.import_file(
                session=session,
                settings=utc_settings,
                adapter="queue_log",
                data=november,
                file_name="november",
            )
            raise RuntimeError("the surrounding transaction fails after the files were written")

    with pytest.raises(RuntimeError):
        import_then_fail()
    _import(utc_settings, "queue_log", october)
    with session_scope(utc_settings) as session:
        calls = ingest_service.read_dataset(
            session=session, settings=utc_settings, dataset="interactions"
        )
    assert not any(callid.startswith("n") for callid in calls["callid"].to_pylist())
