"""A small centre whose two ladder periods produce every kind of decision, for the reports."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.ladder.appeals import service as appeals_service
from agentladder.ladder.decisions import service as decisions_service
from agentladder.ladder.policy import service as policy_service
from agentladder.org.models import Agent
from agentladder.periods import parse_period
from tests.factories import make_agent, make_skill_group, make_team, make_user
from tests.ladder.builders import HIRED, give, policy_text

PERIODS = ("2026-09", "2026-10")
SCRIPT_NAME = "<script>alert(1)</script>"
APPEAL_TEXT = "<b>不服</b> 质检样本太少"


@dataclass
class Centre:
    """The agents of the situation, by the role they play in the reports."""

    promoted: Agent  # qualifies twice: promotion (approved)
    close: Agent  # qualifies once: close to promotion
    demoted: Agent  # below the floor twice: demotion (waiting for approval), appealed
    at_risk: Agent  # below the floor once: at risk
    thin: Agent  # too few QA evaluations: insufficient evidence, named <script>


def build_centre(session: Session, settings: Settings) -> Centre:
    """Two teams, two skill groups, five agents, periods 2026-09 and 2026-10 decided under a
    policy that waits for a manager's approval; one promotion approved, one appeal."""
    make_team(session, "T01", "客服一组")
    make_team(session, "T02", "客服二组")
    make_skill_group(session, "general", "普通话热线")
    make_skill_group(session, "vip", "VIP热线")

    def agent(number: str, name: str, team: str, group: str, level: str | None = None) -> Agent:
        return make_agent(
            session,
            employee_no=number,
            name=name,
            hire_date=HIRED,
            team_code=team,
            skill_group_codes=[group],
            level=level,
        )

    centre = Centre(
        promoted=agent("100001", "王芳", "T01", "general"),
        close=agent("100002", "李强", "T01", "general"),
        demoted=agent("100003", "赵敏", "T02", "vip", "basic_junior"),
        at_risk=agent("100004", "刘洋", "T02", "vip", "basic_junior"),
        thin=agent("100005", SCRIPT_NAME, "T02", "general"),
    )
    scores = {
        centre.promoted.id: (80, 80),
        centre.close.id: (40, 80),
        centre.demoted.id: (40, 40),
        centre.at_risk.id: (70, 45),
    }
    policy = policy_service.load_policy_text(session=session, text=policy_text(approval="manager"))
    for index, period in enumerate(PERIODS):
        for member in (centre.promoted, centre.close, centre.demoted, centre.at_risk):
            give(session, member, period, score=scores[member.id][index])
        give(session, centre.thin, period, score=90, qa_evaluations=5)
        decisions_service.run_period(session=session, period=parse_period(period), policy=policy)
    manager = make_user(session, settings, "boss", ["manager"])
    promoted = decisions_service.decision_for(
        session=session, agent_id=centre.promoted.id, period=parse_period("2026-10")
    )
    assert promoted.decision_id is not None
    decisions_service.review_decision(
        session=session, decision_id=promoted.decision_id, approve=True, by=manager
    )
    demoted = decisions_service.decision_for(
        session=session, agent_id=centre.demoted.id, period=parse_period("2026-10")
    )
    assert demoted.decision_id is not None
    user = make_user(session, settings, "zhaomin", ["agent"], agent=centre.demoted)
    appeals_service.create_appeal(
        session=session,
        decision_id=demoted.decision_id,
        agent_id=centre.demoted.id,
        text=APPEAL_TEXT,
        by=user,
    )
    session.flush()
    return centre
