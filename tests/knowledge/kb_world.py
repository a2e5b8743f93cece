"""A small centre for the library's tests: two teams, agents with accounts, a team lead, QA, a
trainer and a manager; and helpers that write items through the service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.knowledge.items import service as items_service
from agentladder.knowledge.models import KbItem
from agentladder.knowledge.schemas import ItemDraft
from agentladder.org.models import Agent, User
from tests.factories import make_agent, make_team, make_user


@dataclass
class World:
    agents: dict[str, Agent]
    users: dict[str, User]


def build(session: Session, settings: Settings) -> World:
    """Agents a1, a2 (team T1) and b1 (team T2) with accounts of the same names; lead (leads
    T1, an agent of T1 too), qa, trainer, manager."""
    t1 = make_team(session, "T1", "一组")
    make_team(session, "T2", "二组")
    agents = {
        "a1": make_agent(session, name="张三", team_code="T1"),
        "a2": make_agent(session, name="李四", team_code="T1"),
        "b1": make_agent(session, name="王五", team_code="T2"),
        "lead": make_agent(session, name="赵六", team_code="T1"),
    }
    users = {
        name: make_user(session, settings, name, ["agent"], agent)
        for name, agent in agents.items()
        if name != "lead"
    }
    users["lead"] = make_user(
        session, settings, "lead", ["agent", "team_lead"], agents["lead"], lead_team_id=t1
    )
    for role in ("qa", "trainer", "manager"):
        users[role] = make_user(session, settings, role, [role])
    session.flush()
    return World(agents, users)


CASE = ItemDraft(
    type="case",
    title="光猫红灯闪烁怎么处理",
    title_en="Optical modem red light blinking",
    category="宽带/故障",
    situation="客户来电说光猫的LOS灯一直闪红灯，家里不能上网。",
    solution=(
        "1. 请客户检查光纤接头是否松动、弯折。\n"
        "2. 拔插光纤并重启光猫。\n"
        "3. 仍然红灯则派单上门维修。"
    ),
    result="客户重新插好光纤后恢复上网，无需上门。",
    tags=["宽带", "光猫", "故障排查"],
    products=["光宽带"],
)


def case(**changes: object) -> ItemDraft:
    """The sample case with some fields changed."""
    return CASE.model_copy(update=changes)


def published(
    session: Session,
    world: World,
    author: str = "a1",
    draft: ItemDraft | None = None,
    reviewer: str = "qa",
    at: datetime | None = None,
    grade: int | None = None,
) -> KbItem:
    """An item written by `author`, submitted and approved by `reviewer`."""
    item = items_service.create_item(
        session=session, draft=draft or CASE, by=world.users[author], at=at
    )
    items_service.submit(session=session, item_id=item.id, by=world.users[author], at=at)
    items_service.review(
        session=session,
        item_id=item.id,
        by=world.users[reviewer],
        decision="approve",
        grade=grade,
        at=at,
    )
    return item
