"""The demo centre: realistic, reproducible, safe to re-run, never mixed with real data."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.demo import service as demo_service
from agentladder.demo.models import DemoAgentTruth
from agentladder.errors import Conflict, InvalidInput
from agentladder.ingest import service as ingest_service
from agentladder.ingest.models import ImportBatch
from agentladder.ladder.decisions import service as decisions_service
from agentladder.metrics.models import MetricValue
from agentladder.org import service as org_service
from agentladder.org.levels import service as levels_service
from agentladder.org.models import Agent, LevelHistory, User
from agentladder.org.schemas import LEVELS
from tests.demo.stats import spearman as _spearman
from tests.factories import make_agent

TODAY = date(2026, 11, 23)


def _build(settings: Settings, **kwargs: object) -> demo_service.DemoSummary:
    # Calls are generated only by the tests that look at them (below): they cost seconds; and
    # so do the periods the metrics engine computes (~1 s each), so months only unless asked.
    kwargs.setdefault("call_months", 0)
    kwargs.setdefault("period_kinds", ("month",))
    with session_scope(settings) as session:
        return demo_service.build_demo(session=session, settings=settings, today=TODAY, **kwargs)  # type: ignore[arg-type]


def test_demo_builds_a_realistic_centre(settings: Settings) -> None:
    summary = _build(settings, agents=120, seed=7)
    assert summary.created
    assert summary.agents == 120
    assert len(summary.teams) == 8
    counts = [summary.pyramid[level.id] for level in LEVELS]
    # A pyramid: every tier narrower than the one below it.
    basic, primary, senior = sum(counts[:4]), sum(counts[4:7]), sum(counts[7:])
    assert basic > primary > senior > 0
    assert counts[0] >= counts[-1]
    with session_scope(settings) as session:
        agents = session.scalars(select(Agent)).all()
        hires = sorted(a.hire_date for a in agents)
        assert (TODAY - hires[0]).days > 2 * 365
        assert (TODAY - hires[-1]).days < 120
        assert all("\u4e00" <= a.name[0] <= "\u9fff" for a in agents)
        assert session.scalar(select(func.count()).select_from(DemoAgentTruth)) == 120
        for agent in agents:
            history = agent.level_history
            assert history[0].from_level is None
            assert history[0].effective_on == agent.hire_date
            ranks = [levels_service.level_rank(h.to_level) for h in history]
            assert ranks == list(range(len(ranks))), "one level at a time, never skipping"
            assert history[-1].to_level == agent.current_level
            assert all(h.effective_on <= TODAY for h in history)
            # The primary group: the specialised one the agent has, else `general`.
            assert agent.primary_skill_group is not None
            assert agent.primary_skill_group in agent.skill_groups
            codes = {group.code for group in agent.skill_groups}
            primary = agent.primary_skill_group.code
            assert primary != "general" if codes - {"general"} else primary == "general"
        cohorts = Counter(
            standing.skill_group for standing in org_service.standings_on(session=session, on=TODAY)
        )
        assert {"sales", "vip", "general"} <= set(cohorts)
        users = session.scalars(select(User)).all()
        roles = Counter(role for user in users for role in user.roles)
        assert roles["agent"] == 120
        assert roles["team_lead"] == 8
        assert roles["admin"] == roles["manager"] == roles["qa"] == roles["trainer"] == 1


def test_same_seed_same_centre(settings: Settings, tmp_path: object) -> None:
    first = _build(settings, agents=30, seed=3)
    with session_scope(settings) as session:
        names = [a.name for a in session.scalars(select(Agent).order_by(Agent.employee_no))]
    again = _build(settings, agents=30, seed=3, reset=True)
    with session_scope(settings) as session:
        assert names == [a.name for a in session.scalars(select(Agent).order_by(Agent.employee_no))]
    assert first.pyramid == again.pyramid


def test_rerun_is_safe_and_reset_starts_over(settings: Settings) -> None:
    _build(settings, agents=20, seed=1)
    rerun = _build(settings, agents=20, seed=1)
    assert not rerun.created
    with session_scope(settings) as session:
        assert session.scalar(select(func.count()).select_from(Agent)) == 20
        history_rows = session.scalar(select(func.count()).select_from(LevelHistory))
    again = _build(settings, agents=25, seed=2, reset=True)
    assert again.created
    assert again.agents == 25
    with session_scope(settings) as session:
        assert session.scalar(select(func.count()).select_from(Agent)) == 25
        assert session.scalar(select(func.count()).select_from(LevelHistory)) >= 25
    assert history_rows is not None
    assert history_rows >= 20


def test_demo_refuses_a_database_with_real_agents(settings: Settings, session: Session) -> None:
    make_agent(session, employee_no="REAL1")
    session.commit()
    with pytest.raises(Conflict):
        _build(settings, agents=10)
    with pytest.raises(Conflict):
        _build(settings, agents=10, reset=True)
    with session_scope(settings) as check:
        assert check.scalar(select(func.count()).select_from(Agent)) == 1


def test_demo_logins_work(settings: Settings) -> None:
    from fastapi.testclient import TestClient

    from agentladder.web.app import create_app
    from tests.factories import login

    _build(settings, agents=15, seed=5)
    client = login(TestClient(create_app(settings)), "100001", demo_service.DEMO_PASSWORD)
    me = client.get("/api/me").json()
    assert me["employee_no"] == "100001"
    assert client.get(f"/agents/{me['agent_id']}").status_code == 200


# --- calls: raw queue_log files imported through the real adapter ----------------------------


def _queue_logs(settings: Settings) -> dict[str, bytes]:
    folder = demo_service.queue_log_folder(settings)
    return {path.name: path.read_bytes() for path in sorted(folder.glob("queue_log-*"))}


def test_the_demo_computes_months_quarters_whole_weeks_and_every_day() -> None:
    periods = demo_service.metric_periods(date(2026, 5, 1), date(2026, 10, 31))
    labels = {kind: [p.label for p in found] for kind, found in periods.items()}
    assert labels["month"] == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    assert labels["quarter"] == ["2026-Q2", "2026-Q3", "2026-Q4"]
    # Fri 1 May to Sat 31 Oct: the ISO weeks wholly inside, Mon 4 May to Sun 25 October.
    assert labels["week"] == [f"2026-W{week}" for week in range(19, 44)]
    assert periods["week"][0].first_day == date(2026, 5, 4)
    assert periods["week"][-1].last_day == date(2026, 10, 25)
    assert len(labels["day"]) == 184
    assert labels["day"][0] == "2026-05-01"
    assert labels["day"][-1] == "2026-10-31"
    assert list(demo_service.metric_periods(date(2026, 5, 1), date(2026, 10, 31), ["month"])) == [
        "month"
    ]


def test_period_kinds_must_be_known_and_include_months(settings: Settings) -> None:
    assert demo_service.check_period_kinds(["month", "day"]) == ("month", "day")
    for kinds in (["week", "quarter"], ["month", "year"], []):
        with pytest.raises(InvalidInput, match="month is needed"):
            demo_service.check_period_kinds(kinds)
    # build_demo refuses them too, before it writes anything.
    with pytest.raises(InvalidInput), session_scope(settings) as session:
        demo_service.build_demo(
            session=session, settings=settings, agents=5, period_kinds=("week",)
        )
    with session_scope(settings) as session:
        assert session.scalar(select(func.count()).select_from(Agent)) == 0


def test_demo_calls_import_cleanly_and_feed_every_month(settings: Settings) -> None:
    # Every kind but days (the last month's 31 would add half a minute; days are checked in
    # the one-month test below).
    kinds = ("week", "month", "quarter")
    summary = _build(settings, agents=12, seed=21, call_months=6, period_kinds=kinds)
    months = ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    files = _queue_logs(settings)
    assert summary.facts["queue_log_files"] == len(files) >= 26  # weekly, May to October
    assert min(files) == "queue_log-20260501"
    assert summary.facts["months_computed"] == months
    computed = summary.facts["periods_computed"]
    assert isinstance(computed, dict)
    assert computed == {
        kind: [p.label for p in found]
        for kind, found in demo_service.metric_periods(
            date(2026, 5, 1), date(2026, 10, 31), kinds
        ).items()
    }
    by_kind = summary.facts["metric_values_by_kind"]
    assert isinstance(by_kind, dict)
    assert set(by_kind) == set(kinds)
    assert all(by_kind.values())
    assert summary.facts["queue_log_unmapped"] == []
    first_line = next(iter(files.values())).decode().splitlines()[0]
    assert first_line.split("|")[4] == "QUEUESTART"
    with session_scope(settings) as session:
        # The other evidence files are tested in test_evidence.py.
        batches = session.scalars(
            select(ImportBatch).where(ImportBatch.adapter == "queue_log")
        ).all()
        assert len(batches) == len(files)
        for batch in batches:
            assert batch.rows_rejected == 0, batch.file_name
            assert batch.rows_duplicate == 0, batch.file_name
            assert batch.rows_read == batch.rows_accepted + batch.rows_rejected + batch.rows_ignored
        assert sum(b.rows_read for b in batches) == summary.facts["queue_log_lines"]

        agents = session.scalars(select(Agent)).all()
        values = session.scalars(
            select(MetricValue).where(MetricValue.period_kind == "month")
        ).all()
        by_metric: dict[tuple[str, str], dict[int, float | None]] = {}
        for value in values:
            if value.scope == "agent" and value.agent_id is not None:
                by_metric.setdefault((value.period, value.metric_id), {})[value.agent_id] = (
                    value.value
                )
        for month in months:
            handled = by_metric[(month, "handled_calls")]
            assert len(handled) >= 0.75 * len(agents), month
            assert sum(1 for n in handled.values() if (n or 0) >= 100) >= 0.75 * len(agents)
            for metric in ("avg_talk_s", "fcr_rate", "transfer_rate", "login_s", "occupancy"):
                assert len(by_metric[(month, metric)]) == len(handled), (month, metric)
        queues = {v.subject for v in values if v.scope == "queue"}
        assert {"kf-general", "kf-vip", "kf-complaints"} <= queues

        # Weeks and quarters are there too, and add up: a quarter's handled calls are its
        # months'; the whole weeks hold all but the 3 days before the first and 6 after the last.
        handled_in = _handled_by_period(session)
        assert all(handled_in[label] > 0 for labels in computed.values() for label in labels)
        assert handled_in["2026-Q2"] == sum(handled_in[m] for m in months[:2])
        assert handled_in["2026-Q3"] == sum(handled_in[m] for m in months[2:5])
        assert handled_in["2026-Q4"] == handled_in["2026-10"]
        in_weeks = sum(handled_in[week] for week in computed["week"])
        assert (
            0.9 * sum(handled_in[m] for m in months) < in_weeks < sum(handled_in[m] for m in months)
        )
        week_rows = session.scalars(
            select(MetricValue).where(
                MetricValue.period_kind == "week", MetricValue.scope == "agent"
            )
        ).all()
        assert {v.metric_id for v in week_rows} >= {"avg_talk_s", "fcr_rate", "occupancy"}

        # The evidence follows the hidden skill: better agents talk shorter and resolve more.
        truths = {t.agent_id: t for t in session.scalars(select(DemoAgentTruth))}
        hires = {a.id: a.hire_date for a in agents}
        ids = sorted(
            agent_id
            for agent_id in hires
            if all(agent_id in by_metric[(m, "avg_talk_s")] for m in months[-3:])
        )
        assert len(ids) >= 9
        skill = [demo_service.true_skill(truths[i], hires[i], date(2026, 9, 15)) for i in ids]

        def mean_of(metric: str, agent_id: int) -> float:
            numbers = [by_metric[(m, metric)][agent_id] for m in months[-3:]]
            return sum(n for n in numbers if n is not None) / len(numbers)

        talk = [mean_of("avg_talk_s", i) for i in ids]
        fcr = [mean_of("fcr_rate", i) for i in ids]
        assert _spearman(skill, talk) < -0.3
        assert _spearman(skill, fcr) > 0.3

        # Six ladder cycles under the default policy: a decision for every agent each month,
        # earlier months' moves approved, the last month's waiting for the manager.
        from agentladder.periods import parse_period

        ladder = summary.facts["ladder"]
        assert isinstance(ladder, dict)
        assert ladder["periods"] == months
        for month in months:
            views = decisions_service.decision_views(session=session, period=parse_period(month))
            last_day = parse_period(month).last_day
            employed = [a for a in agents if a.hire_date <= last_day and a.status == "active"]
            assert len(views) == len(employed)
            assert all(v.explanation("zh_Hans") for v in views)
        last = decisions_service.decision_views(session=session, period=parse_period(months[-1]))
        assert {v.status for v in last if v.decision in ("promote", "demote")} <= {"pending"}
        earlier = [
            v
            for m in months[:-1]
            for v in decisions_service.decision_views(session=session, period=parse_period(m))
            if v.decision in ("promote", "demote") or v.status != "final"
        ]
        # Moves and fatal-error reviews, every one approved by the manager.
        assert {v.status for v in earlier} == {"approved"}
        assert len(earlier) == ladder["approved"]
        composite = {v.agent_id: v.composite for v in last if v.composite is not None}
        scored = sorted(composite)
        assert len(scored) >= 9
        truth_now = [
            demo_service.true_skill(truths[i], hires[i], date(2026, 10, 15)) for i in scored
        ]
        assert _spearman(truth_now, [composite[i] for i in scored]) > 0.5
        busiest = max(
            (v for v in values if v.metric_id == "handled_calls" and v.period == months[-1]),
            key=lambda v: v.value or 0,
        ).agent_id

    # The agent's KPI page has a trend for every period kind: the last six the agent worked.
    from fastapi.testclient import TestClient

    from agentladder.web.app import create_app
    from tests.factories import login

    client = login(TestClient(create_app(settings)), "manager", demo_service.DEMO_PASSWORD)
    for kind, labels in computed.items():
        page = client.get(f"/agents/{busiest}/kpis", params={"kind": kind})
        assert page.status_code == 200
        shown = re.findall(r'<th class="num">([^<]+)</th>', page.text)
        assert len(shown) == min(6, len(labels)), kind
        assert set(shown) <= set(labels), kind
        if kind != "day":  # the busiest agent has days off, never a week off
            assert shown == labels[-6:], kind


def _handled_by_period(session: Session) -> Counter[str]:
    """The handled calls of all agents by period label."""
    handled: Counter[str] = Counter()
    for value in session.scalars(
        select(MetricValue).where(
            MetricValue.metric_id == "handled_calls", MetricValue.scope == "agent"
        )
    ):
        handled[value.period] += int(value.value or 0)
    return handled


def _stored_files(settings: Settings) -> dict[Path, bytes]:
    with session_scope(settings) as session:
        files = ingest_service.dataset_files(session=session, settings=settings)
    return {path: path.read_bytes() for paths in files.values() for path in paths}


def test_demo_calls_same_seed_same_files_and_reset_regenerates(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _build(settings, agents=12, seed=5, call_months=1)
    first = _queue_logs(settings)
    assert first
    stored = _stored_files(settings)
    assert stored

    # A reset that fails after importing leaves the old demo and its stored files as they were.
    def explode(ctx: demo_service.DemoContext) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(demo_service, "DEMO_STEPS", [*demo_service.DEMO_STEPS, ("x", explode)])
    with pytest.raises(RuntimeError):
        _build(settings, agents=12, seed=6, call_months=1, reset=True)
    monkeypatch.undo()
    assert _stored_files(settings) == stored
    events = settings.data_dir / "events"
    assert sorted(events.rglob("*.parquet*")) == sorted(stored)
    assert not _build(settings, agents=12, seed=5).created

    (demo_service.queue_log_folder(settings) / "queue_log-19990101").write_text("stale")
    # This time with every period kind, as `agentladder demo` computes them.
    again = _build(
        settings,
        agents=12,
        seed=5,
        call_months=1,
        reset=True,
        period_kinds=demo_service.PERIOD_KINDS,
    )
    assert again.created
    assert _queue_logs(settings) == first  # byte for byte, and the stale file is gone
    with session_scope(settings) as session:
        batches = session.scalars(select(ImportBatch)).all()
        assert sum(b.adapter == "queue_log" for b in batches) == len(first)
        # Nothing of the first build's store was taken for already stored.
        assert all(b.rows_duplicate == 0 and b.rows_rejected == 0 for b in batches)
        handled = session.scalars(
            select(MetricValue.value).where(
                MetricValue.period == "2026-10", MetricValue.metric_id == "handled_calls"
            )
        ).all()
        by_month = again.facts["handled_by_month"]
        assert isinstance(by_month, dict)
        assert sum(v or 0 for v in handled) == by_month["2026-10"]
        # October's days, its whole weeks (Mon 5 to Sun 25) and Q4, adding up.
        assert again.facts["periods_computed"] == {
            "day": [f"2026-10-{day:02d}" for day in range(1, 32)],
            "week": ["2026-W41", "2026-W42", "2026-W43"],
            "month": ["2026-10"],
            "quarter": ["2026-Q4"],
        }
        by_period = _handled_by_period(session)
        assert by_period["2026-Q4"] == by_period["2026-10"] == by_month["2026-10"]
        assert by_period["2026-10"] == sum(by_period[f"2026-10-{d:02d}"] for d in range(1, 32))
        assert by_period["2026-W42"] == sum(by_period[f"2026-10-{d}"] for d in range(12, 19))
        assert (
            not by_period.keys()
            - {"2026-Q4", "2026-10", "2026-W41", "2026-W42", "2026-W43"}
            - {f"2026-10-{d:02d}" for d in range(1, 32)}
        )
    other = _build(settings, agents=12, seed=6, call_months=1, reset=True)
    assert other.created
    assert _queue_logs(settings) != first


def test_each_step_is_announced_as_it_begins(settings: Settings) -> None:
    seen: list[tuple[int, int, str]] = []
    _build(settings, agents=5, on_step=lambda number, of, name: seen.append((number, of, name)))
    names = [name for name, _ in demo_service.DEMO_STEPS]
    assert seen == [(n, len(names), name) for n, name in enumerate(names, start=1)]
    # The terminal names every step in words.
    from agentladder.demo.cli import STEP_TITLES

    assert set(names) <= set(STEP_TITLES)
