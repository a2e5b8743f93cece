"""The primary skill group rules (org/cohorts.py) and how the services keep them: create,
update, and the cohort the ladder reads from standings_on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from agentladder.errors import InvalidInput
from agentladder.org import service as org_service
from agentladder.org.cohorts import cohort_code, settled_primary
from agentladder.org.schemas import AgentUpdate
from tests.factories import make_agent, make_skill_group


@dataclass(frozen=True)
class Group:
    code: str


codes = st.lists(st.sampled_from(["billing", "general", "sales", "vip"]), unique=True)


@given(codes, st.sampled_from(["billing", "general", "sales", "vip", None]))
def test_settled_primary_is_always_one_of_the_groups(
    group_codes: list[str], wanted: str | None
) -> None:
    groups = [Group(code) for code in sorted(group_codes)]
    settled = settled_primary(groups, Group(wanted) if wanted else None)
    if wanted in group_codes:
        assert settled == Group(wanted)
    elif len(groups) == 1:
        assert settled == groups[0]
    else:
        assert settled is None
    assert settled is None or settled in groups


@given(codes, st.sampled_from(["billing", "general", "sales", "vip", None]))
def test_the_cohort_is_the_primary_else_the_first_group_by_code(
    group_codes: list[str], primary: str | None
) -> None:
    expected = primary if primary is not None else min(group_codes, default=None)
    assert cohort_code(group_codes, primary) == expected


@pytest.fixture
def groups(session: Session) -> None:
    for code, name in [("general", "普通话热线"), ("sales", "销售外呼"), ("vip", "VIP专席")]:
        make_skill_group(session, code, name)


def _cohorts(session: Session) -> dict[str, str | None]:
    standings = org_service.standings_on(session=session, on=date(2026, 11, 1))
    return {standing.employee_no: standing.skill_group for standing in standings}


def test_standings_take_the_primary_group_and_its_fallbacks(session: Session, groups: None) -> None:
    make_agent(session, employee_no="A1", skill_group_codes=["general", "vip"])
    make_agent(
        session,
        employee_no="A2",
        skill_group_codes=["general", "vip"],
        primary_skill_group_code="vip",
    )
    make_agent(session, employee_no="A3", skill_group_codes=["sales"])
    make_agent(session, employee_no="A4")
    make_agent(session, employee_no="A5", primary_skill_group_code="SALES")
    session.flush()
    # A1: several groups, no primary -> the first by code; A2 its primary, though `general`
    # comes first; A3 its only group; A4 none; A5 the primary joined its (empty) groups.
    assert _cohorts(session) == {
        "A1": "general",
        "A2": "vip",
        "A3": "sales",
        "A4": None,
        "A5": "sales",
    }
    a5 = org_service.get_agent_by_employee_no(session=session, employee_no="A5")
    assert a5 is not None
    read = org_service.agent_read(a5)
    assert (read.skill_groups, read.primary_skill_group) == (["sales"], "sales")


def test_update_keeps_the_primary_among_the_groups(session: Session, groups: None) -> None:
    agent = make_agent(session, employee_no="A1", skill_group_codes=["general"])
    assert agent.primary_skill_group is not None
    assert agent.primary_skill_group.code == "general"

    def update(**fields: object) -> tuple[list[str], str | None]:
        org_service.update_agent(
            session=session, agent=agent, agent_in=AgentUpdate.model_validate(fields)
        )
        session.expire_all()  # read back what was stored, not the objects in memory
        read = org_service.agent_read(agent)
        return read.skill_groups, read.primary_skill_group

    # Setting a primary the agent lacks adds it to the groups.
    assert update(primary_skill_group_code="vip") == (["general", "vip"], "vip")
    # New groups without the primary: re-picked among them (none of two).
    assert update(skill_group_codes=["general", "sales"]) == (["general", "sales"], None)
    assert update(primary_skill_group_code="sales") == (["general", "sales"], "sales")
    # Groups that keep the primary keep it; a field left out is kept.
    assert update(skill_group_codes=["sales", "vip"]) == (["sales", "vip"], "sales")
    assert update() == (["sales", "vip"], "sales")
    # Cleared: none with two groups; with one group, that group.
    assert update(primary_skill_group_code=None) == (["sales", "vip"], None)
    assert update(skill_group_codes=["vip"]) == (["vip"], "vip")
    assert update(skill_group_codes=[]) == ([], None)
    with pytest.raises(InvalidInput):
        update(primary_skill_group_code="nosuch")
