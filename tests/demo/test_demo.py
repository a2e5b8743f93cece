"""The demo centre: realistic, reproducible, safe to re-run, never mixed with real data."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.demo import service as demo_service
from agentladder.demo.models import DemoAgentTruth
from agentladder.errors import Conflict
from agentladder.ladder import service as ladder_service
from agentladder.org.models import Agent, LevelHistory, User
from tests.factories import make_agent

TODAY = date(2026, 11, 23)


def _build(settings: Settings, **kwargs: object) -> demo_service.DemoSummary:
    with session_scope(settings) as session:
        return demo_service.build_demo(session=session, settings=settings, today=TODAY, **kwargs)  # type: ignore[arg-type]


def test_demo_builds_a_realistic_centre(settings: Settings) -> None:
    summary = _build(settings, agents=120, seed=7)
    assert summary.created
    assert summary.agents == 120
    assert len(summary.teams) == 8
    counts = [summary.pyramid[level.id] for level in ladder_service.LEVELS]
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
            ranks = [ladder_service.level_rank(h.to_level) for h in history]
            assert ranks == list(range(len(ranks))), "one level at a time, never skipping"
            assert history[-1].to_level == agent.current_level
            assert all(h.effective_on <= TODAY for h in history)
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
