"""The ladder's tables people work with: the decisions page (pending first, filters, paging,
sort), the fairness table (band order, teams by name, the noise check) and the agent list's
composite score, trend and export."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.ladder.decisions import service as decisions_service
from agentladder.ladder.insights.service import FairnessRow
from agentladder.ladder.policy import service as policy_service
from agentladder.periods import parse_period
from agentladder.web.app import create_app
from tests.factories import login, make_agent, make_team, make_user
from tests.ladder.builders import give, policy_text

# Hire dates that fall in each tenure band on 2026-10-31, newest hires first.
HIRES = (date(2026, 6, 1), date(2026, 1, 15), date(2025, 6, 1), date(2023, 1, 1))
TEAMS = (("T01", "客服一组"), ("T02", "客服十组"), ("T03", "客服二组"))
AGENTS = 55
HOSTILE_NAME = '=HYPERLINK("http://x")'


@dataclass
class Centre:
    settings: Settings
    promoted: list[str]  # employee numbers promoted (pending approval) in 2026-10


def _number(index: int) -> str:
    return f"A{index:04d}"


@pytest.fixture
def centre(settings: Settings) -> Centre:
    with session_scope(settings) as session:
        for code, name in TEAMS:
            make_team(session, code, name)
        agents = []
        for index in range(1, AGENTS + 1):
            agents.append(
                make_agent(
                    session,
                    employee_no=_number(index),
                    name=HOSTILE_NAME if index == 2 else f"座席{index}",
                    team_code=TEAMS[index % 3][0],
                    hire_date=HIRES[index % 4],
                )
            )
        make_user(session, settings, "manager", ["manager"])
        make_user(session, settings, "agent", ["agent"], agent=agents[0])
        policy_service.apply_policy(
            session=session, text=policy_text(consecutive=1, approval="manager")
        )
        promoted = []
        for index, agent in enumerate(agents, start=1):
            score = 88.0 if index % 5 == 0 else 40.0 + index % 7
            give(session, agent, "2026-09", score=score - 2)
            give(session, agent, "2026-10", score=score)
            if index % 5 == 0:
                promoted.append(agent.employee_no)
        decisions_service.run_period(session=session, period=parse_period("2026-09"))
        decisions_service.run_period(session=session, period=parse_period("2026-10"))
    return Centre(settings, promoted)


def _manager(centre: Centre) -> TestClient:
    return login(TestClient(create_app(centre.settings)), "manager")


def _decision_rows(page: str) -> list[str]:
    return re.findall(r'<tr id="row-(A\d{4})">', page)


def test_decisions_page_shows_pending_first_a_page_at_a_time(centre: Centre) -> None:
    manager = _manager(centre)
    first = manager.get("/ladder/decisions?period=2026-10")
    assert first.status_code == 200
    rows = _decision_rows(first.text)
    assert len(rows) == 50
    assert rows[: len(centre.promoted)] == centre.promoted  # waiting for approval first
    assert 'class="current" aria-current="page">1<' in first.text
    second = _decision_rows(manager.get("/ladder/decisions?period=2026-10&page=2").text)
    assert len(second) == AGENTS - 50
    assert not set(rows) & set(second)
    assert _decision_rows(manager.get("/ladder/decisions?period=2026-10&page=99").text) == second
    assert manager.get("/ladder/decisions?period=2026-10&page=0").status_code == 422


def test_decisions_page_filters_by_team_kind_and_status(centre: Centre) -> None:
    manager = _manager(centre)
    t03 = manager.get("/ladder/decisions?period=2026-10&team=T03").text
    team_t03 = [_number(i) for i in range(1, AGENTS + 1) if i % 3 == 2]
    pending_t03 = [number for number in centre.promoted if number in team_t03]
    assert _decision_rows(t03) == pending_t03 + [n for n in team_t03 if n not in pending_t03]
    pending = _decision_rows(manager.get("/ladder/decisions?period=2026-10&status=pending").text)
    assert pending == centre.promoted
    promote = _decision_rows(manager.get("/ladder/decisions?period=2026-10&decision=promote").text)
    assert promote == centre.promoted
    none = manager.get("/ladder/decisions?period=2026-10&team=T03&decision=demote").text
    assert _decision_rows(none) == []
    assert "没有符合条件的评定结果。" in none
    # The filters travel with the pager's and the headers' links.
    assert "team=T03" in re.search(r'<th[^>]*data-col="composite".*?</th>', t03, re.S).group(0)  # type: ignore[union-attr]


def test_decisions_page_sorts_by_composite(centre: Centre) -> None:
    manager = _manager(centre)
    rows = _decision_rows(
        manager.get("/ladder/decisions?period=2026-10&sort=composite&desc=true").text
    )
    assert rows[: len(centre.promoted)] == centre.promoted  # 88 beats every other score
    ascending = _decision_rows(
        manager.get("/ladder/decisions?period=2026-10&sort=composite&desc=false&page=2").text
    )
    assert set(ascending) <= set(centre.promoted)


def test_fairness_lists_bands_in_order_and_teams_by_name(centre: Centre) -> None:
    page = _manager(centre).get("/ladder/fairness?period=2026-10").text
    groups = {
        dimension: re.findall(
            rf'<tr data-dimension="{dimension}"><td>[^<]*</td><td>([^<]*)</td>', page
        )
        for dimension in ("team", "tenure")
    }
    assert groups["tenure"] == ["0-6", "6-12", "12-24", "24+"]
    assert groups["team"] == ["客服一组 (T01)", "客服二组 (T03)", "客服十组 (T02)"]
    assert 'id="noise-note"' in page


def test_a_difference_beyond_noise_is_marked() -> None:
    lopsided = FairnessRow("team", "T01", 20, 15, 0, 0, "", 60, 15, 0)
    assert not lopsided.promotion_within_noise  # 75% against 25%: not chance
    assert lopsided.demotion_within_noise  # nobody demoted anywhere
    small = FairnessRow("team", "T05", 15, 3, 0, 0, "", 120, 9, 0)
    assert small.promotion_within_noise  # 20% of 15 against 7.5%: chance


def test_agent_list_shows_composite_and_trend(centre: Centre) -> None:
    manager = _manager(centre)
    page = manager.get("/agents?sort=composite&desc=true").text
    first = re.search(r"<tbody>\s*<tr>(.*?)</tr>", page, re.S)
    assert first is not None
    assert centre.promoted[0] in first.group(1)
    assert "88.0" in first.group(1)
    assert "▲ 2.0" in first.group(1)
    assert 'data-col="change"' in page
    second = manager.get("/agents?page=2").text
    assert len(re.findall(r'<tr><td><a href="/agents/\d+">A\d{4}</a>', second)) == AGENTS - 50


def test_agent_export_honours_filters_and_neutralises_cells(centre: Centre) -> None:
    manager = _manager(centre)
    body = manager.get("/agents?team=T03&sort=composite&desc=true&export=csv")
    assert body.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body.content.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:3] == ["employee_no", "name", "team"]
    assert {row[2] for row in rows[1:]} == {"T03"}
    assert len(rows) - 1 == sum(1 for i in range(1, AGENTS + 1) if i % 3 == 2)
    composite = header.index("composite")
    scores = [float(row[composite]) for row in rows[1:]]
    assert scores == sorted(scores, reverse=True)
    hostile = [row for row in rows if row[0] == "A0002"]
    assert hostile[0][1] == "'" + HOSTILE_NAME  # never a formula
    assert hostile[0][header.index("composite_change")] == "2.0"
    xlsx = manager.get("/agents?team=T03&export=xlsx")
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")


def test_an_agent_cannot_list_or_export_agents(centre: Centre) -> None:
    agent = login(TestClient(create_app(centre.settings)), "agent")
    assert agent.get("/agents").status_code == 403
    assert agent.get("/agents?export=csv").status_code == 403
    assert agent.get("/ladder/decisions").status_code == 403
