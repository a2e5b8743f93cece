"""The demo's other evidence: surveys, complaints and praise, tickets, rosters, sales leads and
the second site's daily reports, written as centres export them and imported through the real
adapters with the shipped mappings."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from agentladder.config import Settings
from agentladder.db import session_scope, upgrade_schema
from agentladder.demo import service as demo_service
from agentladder.demo.evidence import EXPORTS, Export, evidence_folder
from agentladder.demo.models import DemoAgentTruth
from agentladder.ingest import service as ingest_service
from agentladder.ingest.models import ImportBatch
from agentladder.metrics.models import MetricValue
from agentladder.org import service as org_service
from agentladder.org.models import Agent
from agentladder.tabular import Table, read_table
from tests.conftest import fresh_database_url, make_settings
from tests.demo.stats import spearman as _spearman

TODAY = date(2026, 11, 23)
MONTHS = ("2026-09", "2026-10")
DATASETS = {
    "surveys": "surveys",
    "feedback": "feedback",
    "tickets": "tickets",
    "schedules": "schedules",
    "daily-stats": "daily_stats",
    "leads": "leads",
}


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory, worker_name: str
) -> tuple[Settings, demo_service.DemoSummary]:
    """One demo of 45 agents (three teams, the third on the daily-report site) and two months
    of calls in its own database, read (never changed) by the tests of this module."""
    url = fresh_database_url(tmp_path_factory.mktemp("evidence_db"), f"{worker_name}_evidence")
    settings = make_settings(tmp_path_factory.mktemp("evidence") / "data", url)
    upgrade_schema(settings)
    with session_scope(settings) as session:
        summary = demo_service.build_demo(
            session=session,
            settings=settings,
            agents=45,
            seed=11,
            today=TODAY,
            call_months=2,
            period_kinds=("month",),  # the other kinds are tested in test_demo.py
        )
    return settings, summary


def _skipped(export: Export, table: Table) -> int:
    """Rows the adapter is expected to skip: unanswered surveys, rest days, total lines."""
    column = {"surveys": "满意度", "schedules": "班次", "daily-stats": "日期"}.get(export.adapter)
    if column is None:
        return 0
    word = {"surveys": "未评价", "schedules": "休", "daily-stats": "合计"}[export.adapter]
    index = table.header.index(column)
    return sum(1 for _, cells in table.rows if cells[index] == word)


def test_every_export_imports_through_its_shipped_mapping_with_every_row_accounted_for(
    built: tuple[Settings, demo_service.DemoSummary],
) -> None:
    settings, summary = built
    facts = summary.facts["evidence"]
    assert isinstance(facts, dict)
    assert set(facts) == {export.adapter for export in EXPORTS}
    with session_scope(settings) as session:
        batches = session.scalars(select(ImportBatch)).all()
        for export in EXPORTS:
            folder = evidence_folder(settings, export)
            assert folder.parent == demo_service.queue_log_folder(settings).parent
            files = sorted(folder.iterdir())
            assert [path.name for path in files] == [
                f"{export.stem}_{month.replace('-', '')}{export.suffix}" for month in MONTHS
            ]
            mine = {b.file_name: b for b in batches if b.adapter == export.adapter}
            assert sorted(mine) == [path.name for path in files]
            for path in files:
                data = path.read_bytes()
                table = read_table(data, path.name)
                assert table.header == list(export.header)
                assert table.rows, path.name
                batch = mine[path.name]
                skipped = _skipped(export, table)
                assert batch.rows_read == len(table.rows), path.name
                assert batch.rows_rejected == 0, path.name
                assert batch.rows_duplicate == 0, path.name
                assert batch.rows_ignored == skipped, path.name
                assert batch.rows_accepted == len(table.rows) - skipped, path.name
                if export.suffix == ".csv":
                    # As Chinese systems export: UTF-8 with a BOM, or GB18030 (not UTF-8).
                    assert data.startswith(b"\xef\xbb\xbf") == (export.encoding == "utf-8-sig")
                    encoding = ingest_service.batch_notes(batch)["encoding"]
                    assert encoding == ("gb18030" if export.encoding == "gb18030" else "utf-8")
            stored = ingest_service.read_dataset(
                session=session, settings=settings, dataset=DATASETS[export.adapter]
            ).num_rows
            assert stored == sum(b.rows_accepted for b in mine.values())
            assert facts[export.adapter]["stored"] == stored
            assert facts[export.adapter]["rows_written"] == facts[export.adapter]["rows_read"]
            assert facts[export.adapter]["rows_rejected"] == 0
            assert facts[export.adapter]["unmapped"] == []
        # Unanswered surveys are exported too (未评价); about 15-30% of answered calls have a
        # survey score.
        surveys = facts["surveys"]
        assert surveys["rows_ignored"] > 0
        handled = summary.facts["calls_handled"]
        second_site = summary.facts["daily_report_calls_handled"]
        assert isinstance(handled, int)
        assert isinstance(second_site, int)
        assert 0.15 <= surveys["rows_accepted"] / (handled + second_site) <= 0.30


def test_the_evidence_follows_the_hidden_skill(
    built: tuple[Settings, demo_service.DemoSummary],
) -> None:
    settings, _ = built
    with session_scope(settings) as session:
        agents = {a.id: a for a in session.scalars(select(Agent))}
        by_employee_no = {a.employee_no: a.id for a in agents.values()}
        truths = {t.agent_id: t for t in session.scalars(select(DemoAgentTruth))}
        values = session.scalars(
            select(MetricValue).where(
                MetricValue.period_kind == "month", MetricValue.scope == "agent"
            )
        ).all()
        feedback = ingest_service.read_dataset(
            session=session, settings=settings, dataset="feedback"
        ).to_pylist()
    # Rates pooled over the months: numerators over denominators.
    hits: Counter[tuple[str, int]] = Counter()
    base: Counter[tuple[str, int]] = Counter()
    for value in values:
        if value.agent_id is not None and value.denominator:
            hits[(value.metric_id, value.agent_id)] += value.numerator or 0
            base[(value.metric_id, value.agent_id)] += value.denominator
    handled: Counter[int] = Counter()
    for value in values:
        if value.metric_id == "handled_calls" and value.agent_id is not None:
            handled[value.agent_id] += value.value or 0
    complaints: Counter[int] = Counter()
    praise: Counter[int] = Counter()
    for row in feedback:
        agent_id = by_employee_no[row["agent_identity"]]
        if row["valid"] is not False:
            (complaints if row["kind"] == "complaint" else praise)[agent_id] += 1

    ids = sorted(agent_id for agent_id, calls in handled.items() if calls >= 200)
    assert len(ids) >= 25
    skill = [
        demo_service.true_skill(truths[i], agents[i].hire_date, date(2026, 10, 1)) for i in ids
    ]

    def pooled(metric: str) -> list[float]:
        return [hits[(metric, i)] / base[(metric, i)] for i in ids]

    assert _spearman(skill, pooled("csat_rate")) > 0.5
    assert _spearman(skill, pooled("csat_avg")) > 0.5
    assert _spearman(skill, pooled("ticket_validity_rate")) > 0.5
    assert _spearman(skill, pooled("fcr_survey_rate")) > 0.3
    assert _spearman(skill, [complaints[i] / handled[i] for i in ids]) < -0.3
    assert _spearman(skill, [praise[i] / handled[i] for i in ids]) > 0.3
    # Some complaints are judged invalid on review, and they count for nothing.
    assert any(row["valid"] is False for row in feedback if row["kind"] == "complaint")


def _second_site(summary: demo_service.DemoSummary) -> set[str]:
    """The work numbers of the agents on the daily-report site."""
    numbers = summary.facts["daily_report_agents"]
    assert isinstance(numbers, list)
    return {str(number) for number in numbers}


def test_the_roster_agrees_with_the_logins_and_gives_attendance(
    built: tuple[Settings, demo_service.DemoSummary],
) -> None:
    settings, summary = built
    zone = ZoneInfo(settings.timezone)
    second_site = _second_site(summary)
    with session_scope(settings) as session:
        resolve = org_service.identity_resolver(session=session)
        employee_no = {a.id: a.employee_no for a in session.scalars(select(Agent))}
        roster = ingest_service.read_dataset(
            session=session, settings=settings, dataset="schedules"
        ).to_pylist()
        states = ingest_service.read_dataset(
            session=session, settings=settings, dataset="agent_states"
        ).to_pylist()
        attendance = session.scalars(
            select(MetricValue).where(
                MetricValue.metric_id == "attendance_rate", MetricValue.period_kind == "month"
            )
        ).all()
    logged_in: set[tuple[str, date]] = set()
    for state in states:
        if state["state"] == "login":
            agent_id = resolve(state["agent_identity"])
            assert agent_id is not None
            logged_in.add((employee_no[agent_id], state["event_at"].astimezone(zone).date()))
    to_work = {(r["agent_identity"], r["day"]) for r in roster if r["absence"] is None}
    away = {(r["agent_identity"], r["day"]) for r in roster if r["absence"] is not None}
    assert {reason for r in roster if (reason := r["absence"])} <= {"事假", "病假", "年假", "调休"}
    # Everyone rostered to work on the queue_log site logged in that day, and nobody else did;
    # the second site has no logins to check.
    assert {key for key in to_work if key[0] not in second_site} == logged_in
    assert not away & logged_in
    assert all(r["planned"] for r in roster)

    # Attendance is what the simulation decided: every rostered shift, less the absences.
    rostered = summary.facts["rostered_shifts"]
    absences = summary.facts["rostered_absences"]
    assert isinstance(rostered, int)
    assert isinstance(absences, int)
    assert rostered == len(to_work) + len(away)
    assert absences == len(away)
    assert 0.01 < absences / rostered < 0.06  # LEAVE_RATE: 3% of rostered days
    assert sum(v.denominator or 0 for v in attendance if v.scope == "agent") == rostered
    assert sum(v.numerator or 0 for v in attendance if v.scope == "agent") == rostered - absences


def test_the_second_site_reaches_the_product_only_through_daily_reports(
    built: tuple[Settings, demo_service.DemoSummary],
) -> None:
    settings, summary = built
    assert summary.facts["daily_report_team"] == "T03"
    second_site = _second_site(summary)
    assert len(second_site) == 15
    zone = ZoneInfo(settings.timezone)
    with session_scope(settings) as session:
        resolve = org_service.identity_resolver(session=session)
        ids = {a.employee_no: a.id for a in session.scalars(select(Agent))}
        site_ids = {ids[number] for number in second_site}

        def dataset(name: str) -> list[dict[str, object]]:
            return ingest_service.read_dataset(
                session=session, settings=settings, dataset=name
            ).to_pylist()

        daily = dataset("daily_stats")
        for name in ("interactions", "agent_states"):
            identities = {str(row["agent_identity"]) for row in dataset(name)}
            identities.discard("None")
            assert identities
            assert not {resolve(identity) for identity in identities} & site_ids, name
        # Their calls still leave surveys, tickets and roster rows, under their work numbers.
        for name in ("surveys", "tickets", "schedules"):
            assert second_site <= {row["agent_identity"] for row in dataset(name)}, name
        handled = session.scalars(
            select(MetricValue).where(
                MetricValue.metric_id == "handled_calls", MetricValue.period_kind == "month"
            )
        ).all()
    assert {row["agent_identity"] for row in daily} == second_site
    assert all(isinstance(row["login_s"], float) and row["login_s"] > 6 * 3600 for row in daily)
    answered = sum(int(str(row["answered"])) for row in daily)
    assert answered == summary.facts["daily_report_calls_handled"]
    # Their rows count for them in the KPIs, month by month, with no call-level data to
    # double count.
    by_month: defaultdict[tuple[str, str], int] = defaultdict(int)
    for row in daily:
        at = row["event_at"]
        assert isinstance(at, datetime)
        month = f"{at.astimezone(zone):%Y-%m}"
        by_month[(str(row["agent_identity"]), month)] += int(str(row["answered"]))
    numbers = {agent_id: number for number, agent_id in ids.items()}
    from_reports = {
        (numbers[v.agent_id], v.period): v.value
        for v in handled
        if v.agent_id in site_ids and v.scope == "agent"
    }
    assert from_reports == by_month


def test_after_call_work_reaches_the_kpis_through_the_daily_reports_and_follows_skill(
    built: tuple[Settings, demo_service.DemoSummary],
) -> None:
    settings, summary = built
    second_site = _second_site(summary)
    with session_scope(settings) as session:
        agents = {a.employee_no: a for a in session.scalars(select(Agent))}
        truths = {t.agent_id: t for t in session.scalars(select(DemoAgentTruth))}
        acw = session.scalars(
            select(MetricValue).where(
                MetricValue.metric_id == "avg_acw_s",
                MetricValue.period_kind == "month",
                MetricValue.scope == "agent",
            )
        ).all()
        daily = ingest_service.read_dataset(
            session=session, settings=settings, dataset="daily_stats"
        ).to_pylist()
    # The queue_log carries no after-call work: only the daily-report site has the KPI.
    by_id = {agent.id: number for number, agent in agents.items()}
    assert {by_id[v.agent_id] for v in acw if v.value is not None and v.agent_id} == second_site
    # The KPI is the reports' ACW over their answered calls, pooled here over the months.
    seconds: Counter[str] = Counter()
    answered: Counter[str] = Counter()
    for row in daily:
        seconds[str(row["agent_identity"])] += float(str(row["acw_s"]))
        answered[str(row["agent_identity"])] += int(str(row["answered"]))
    pooled: dict[str, float] = {}
    for number in second_site:
        values = [v for v in acw if v.agent_id == agents[number].id]
        numerator = sum(v.numerator or 0 for v in values)
        denominator = sum(v.denominator or 0 for v in values)
        assert denominator == answered[number]
        assert abs(numerator - seconds[number]) <= answered[number], number  # whole seconds
        pooled[number] = numerator / denominator
    # Realistic: 10 to 40 seconds of ACW a call for most agents, ~15-30 s on average.
    assert 12 <= sum(seconds.values()) / sum(answered.values()) <= 30
    assert all(7 <= value <= 50 for value in pooled.values()), pooled
    # The skilled wrap up faster: the best third well below the weakest third.
    ranked = sorted(
        second_site,
        key=lambda n: demo_service.true_skill(
            truths[agents[n].id], agents[n].hire_date, date(2026, 10, 1)
        ),
    )
    third = len(ranked) // 3
    weakest = sum(pooled[n] for n in ranked[:third]) / third
    best = sum(pooled[n] for n in ranked[-third:]) / third
    assert best < 0.8 * weakest, (best, weakest)
    skill = [
        demo_service.true_skill(truths[agents[n].id], agents[n].hire_date, date(2026, 10, 1))
        for n in ranked
    ]
    assert _spearman(skill, [pooled[n] for n in ranked]) < -0.4


def _demo_files(settings: Settings) -> dict[Path, bytes]:
    folder = demo_service.queue_log_folder(settings).parent
    return {
        path.relative_to(folder): path.read_bytes() for path in folder.rglob("*") if path.is_file()
    }


def test_same_seed_same_evidence_files(settings: Settings) -> None:
    def build(**kwargs: object) -> None:
        with session_scope(settings) as session:
            demo_service.build_demo(
                session=session,
                settings=settings,
                agents=16,  # two teams: the second on the daily-report site
                seed=8,
                today=TODAY,
                call_months=1,
                period_kinds=("month",),
                **kwargs,  # type: ignore[arg-type]
            )

    build()
    first = _demo_files(settings)
    assert {path.parts[0] for path in first if len(path.parts) > 1} == {
        "queue_log",
        "ladder",  # QA, exam and knowledge results, certificates
        "transcripts",  # call transcripts, JSON Lines
        *(export.folder for export in EXPORTS),
    }
    build(reset=True)
    again = _demo_files(settings)
    assert again.keys() == first.keys()
    for path, data in first.items():
        assert again[path] == data, path  # XLSX included: no save time in the bytes
