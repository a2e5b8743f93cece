"""A small centre for the workspace and dispute tests: two teams with an agent each (A1 took call
c1 in October 2025), their leads, two QA evaluators, an administrator and a manager, and c1 drawn
in a sample and assigned to the evaluator `eva`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.ingest import service as ingest_service
from agentladder.org import service as org_service
from agentladder.org.models import User
from agentladder.quality import service as quality_service
from agentladder.quality.models import QaEvaluation, QaSample, QaSampledCall
from agentladder.quality.workspace import service as workspace
from tests.factories import make_agent, make_team, make_user

FORM = quality_service.default_form()
CALL_AT = datetime(2025, 10, 9, 8, 53, 20, tzinfo=UTC)
QUEUE_LOG = b"""\
1760000000|c1|support|NONE|ENTERQUEUE||13800000001|1
1760000010|c1|support|SIP/1001|CONNECT|10|x|3
1760000100|c1|support|SIP/1001|COMPLETECALLER|10|90|1
1760000200|c2|support|NONE|ENTERQUEUE||13800000002|1
1760000230|c2|support|SIP/1002|CONNECT|30|x|5
1760000235|c2|support|SIP/1002|COMPLETEAGENT|30|5|1
"""
SURVEYS = (
    "评价编号,通话流水号,工号,评价时间,满意度,问题是否解决\n"
    "S1,c1,SIP/1001,2025-10-09 09:00:00,满意,是\n"
)


def perfect() -> dict[str, Any]:
    """Every item answered at its best."""
    return {item.code: (item.scale_max if item.kind == "scale" else True) for item in FORM.items()}


@dataclass
class World:
    users: dict[str, User]
    agent_ids: dict[str, int]
    sampled_id: int
    sample_id: int


def build(
    session: Session, settings: Settings, *, ingest: bool = True, blind: bool = False
) -> World:
    t1 = make_team(session, "T01", "客服一组")
    t2 = make_team(session, "T02", "客服二组")
    a1 = make_agent(session, employee_no="A0001", name="王芳", team_code="T01")
    a2 = make_agent(session, employee_no="A0002", name="李强", team_code="T02")
    org_service.add_alias(session=session, agent=a1, identity="SIP/1001")
    org_service.add_alias(session=session, agent=a2, identity="SIP/1002")
    users = {
        "agent1": make_user(session, settings, "agent1", ["agent"], agent=a1),
        "agent2": make_user(session, settings, "agent2", ["agent"], agent=a2),
        "eva": make_user(session, settings, "eva", ["qa"]),
        "eva2": make_user(session, settings, "eva2", ["qa"]),
        "lead1": make_user(session, settings, "lead1", ["team_lead"], lead_team_id=t1),
        "lead2": make_user(session, settings, "lead2", ["team_lead"], lead_team_id=t2),
        "boss": make_user(session, settings, "boss", ["admin"]),
        "mgr": make_user(session, settings, "mgr", ["manager"]),
    }
    if ingest:
        ingest_service.import_file(
            session=session, settings=settings, adapter="queue_log", data=QUEUE_LOG, file_name="ql"
        )
        ingest_service.import_file(
            session=session,
            settings=settings,
            adapter="surveys",
            data=SURVEYS.encode("gb18030"),
            file_name="surveys.csv",
            mapping=ingest_service.load_mapping(ingest_service.shipped_mapping("surveys_zh")),
        )
    sample = QaSample(period_label="2025-10", seed=1, blind=blind)
    session.add(sample)
    session.flush()
    sampled = QaSampledCall(
        sample_id=sample.id,
        agent_id=a1.id,
        call_id="c1",
        call_at=CALL_AT,
        queue="support",
        evaluator_user_id=users["eva"].id,
    )
    session.add(sampled)
    session.flush()
    return World(users, {"A1": a1.id, "A2": a2.id}, sampled.id, sample.id)


def submitted(
    session: Session, world: World, answers: dict[str, Any] | None = None, kind: str = "official"
) -> QaEvaluation:
    """eva scores c1 (every item best unless `answers` says otherwise) and submits."""
    evaluation = workspace.start_from_assignment(
        session=session, sampled_id=world.sampled_id, by=world.users["eva"], kind=kind
    )
    quality_service.save_draft(
        session=session,
        evaluation_id=evaluation.id,
        answers={**perfect(), **(answers or {})},
        by=world.users["eva"],
    )
    return quality_service.submit_evaluation(
        session=session, evaluation_id=evaluation.id, by=world.users["eva"]
    )
