"""What the automatic QA pages show: an agent's calls and pass rates against the team's and
the centre's, a call's verdicts with its transcript, each within what the reader may see."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.errors import InvalidInput, NotFound
from agentladder.formatting import local_date
from agentladder.i18n import N_
from agentladder.org import service as org_service
from agentladder.org.schemas import AgentFilter, AgentRead
from agentladder.org.service import AgentScope
from agentladder.periods import Period, period_of
from agentladder.quality.autoqa.rules import (
    RULE_IDS,
)
from agentladder.quality.autoqa.rulesets import current_rule_set
from agentladder.quality.autoqa.schemas import Turn
from agentladder.quality.autoqa.service import (
    AgentAutoqa,
    agent_figures,
    call_verdicts,
    get_result,
    get_transcript,
    period_verdicts,
    stored_transcript,
)
from agentladder.quality.models import AutoqaResult, CallTranscript

# --- pages ---------------------------------------------------------------------------------

VERDICT_NAMES: dict[str, str] = {
    "pass": N_("Pass"),
    "fail": N_("Fail"),
    "na": N_("Not applicable"),
}


def default_period(*, session: Session, zone: ZoneInfo, today: date) -> Period:
    """The month of the latest call with a transcript, else the current month."""
    latest = session.scalar(select(func.max(CallTranscript.call_at)))
    return period_of("month", local_date(latest, zone) if latest is not None else today)


@dataclass(frozen=True)
class AutoqaTotals:
    """Automatic QA pooled over some agents' calls: the mean score per call, and each rule's
    passes over the calls it applied to."""

    agents: int
    calls: int
    score: float | None
    passed: dict[str, int]
    applicable: dict[str, int]

    def pass_rate(self, rule: str) -> float | None:
        """The share of the calls the rule applied to that passed it."""
        applicable = self.applicable.get(rule, 0)
        return self.passed.get(rule, 0) / applicable if applicable else None

    @classmethod
    def pooled(cls, figures: Sequence[AgentAutoqa]) -> AutoqaTotals:
        """Every call of these agents counted once: the score weighted by each one's calls."""
        calls = sum(figure.calls for figure in figures)
        weighted = sum(
            figure.score * figure.calls for figure in figures if figure.score is not None
        )
        return cls(
            agents=len(figures),
            calls=calls,
            score=weighted / calls if calls else None,
            passed={rule: sum(f.passed.get(rule, 0) for f in figures) for rule in RULE_IDS},
            applicable={rule: sum(f.applicable.get(rule, 0) for f in figures) for rule in RULE_IDS},
        )


@dataclass(frozen=True)
class AutoqaComparison:
    """An agent's automatic QA beside their team's (None: no team) and the centre's."""

    agent: AutoqaTotals
    team: AutoqaTotals | None
    centre: AutoqaTotals


def agent_comparison(
    *, session: Session, settings: Settings, period: Period, agent: AgentRead
) -> AutoqaComparison:
    """The agent's period against the agents of their team (as it is now) and every agent."""
    start, end = period.bounds_utc(settings.tz)
    figures = agent_figures(session=session, start=start, end=end)
    teams = {
        read.id: read.team_code
        for read in org_service.agents_by_ids(
            session=session, agent_ids=[figure.agent_id for figure in figures]
        )
    }
    own = [figure for figure in figures if figure.agent_id == agent.id]
    team = [
        figure
        for figure in figures
        if agent.team_code is not None and teams.get(figure.agent_id) == agent.team_code
    ]
    return AutoqaComparison(
        agent=AutoqaTotals.pooled(own),
        team=AutoqaTotals.pooled(team) if agent.team_code is not None else None,
        centre=AutoqaTotals.pooled(figures),
    )


def _scope_agents(session: Session, scope: AgentScope) -> list[AgentRead]:
    return org_service.filtered_agents(
        session=session, scope=scope, filters=AgentFilter(status="all")
    )


@dataclass(frozen=True)
class AgentOverviewRow:
    """One agent's period on the overview: their figures and the rule they pass least."""

    agent: AgentRead
    figures: AutoqaTotals
    weakest_rule: str | None

    @property
    def weakest_rate(self) -> float | None:
        """The weakest rule's pass rate."""
        return self.figures.pass_rate(self.weakest_rule) if self.weakest_rule else None


def agents_overview(
    *, session: Session, settings: Settings, period: Period, scope: AgentScope
) -> list[AgentOverviewRow]:
    """The agents the scope allows who have judged calls in the period, lowest score first."""
    start, end = period.bounds_utc(settings.tz)
    agents = {agent.id: agent for agent in _scope_agents(session, scope)}
    rows = []
    for figure in agent_figures(session=session, start=start, end=end, agent_ids=agents):
        totals = AutoqaTotals.pooled([figure])
        rates = {rule: rate for rule in RULE_IDS if (rate := totals.pass_rate(rule)) is not None}
        weakest = min(rates, key=lambda rule: rates[rule]) if rates else None
        rows.append(AgentOverviewRow(agents[figure.agent_id], totals, weakest))
    return sorted(
        rows,
        key=lambda row: (
            row.figures.score is None,
            row.figures.score or 0.0,
            row.agent.employee_no,
        ),
    )


def agent_in_scope(*, session: Session, employee_no: str, scope: AgentScope) -> AgentRead:
    """The agent with this employee number if the scope allows them; NotFound otherwise."""
    agent = org_service.get_agent_by_employee_no(session=session, employee_no=employee_no)
    if agent is None or not scope.allows(agent):
        raise NotFound("agent not found")
    return org_service.agent_read(agent)


def own_agent(*, session: Session, agent_id: int) -> AgentRead:
    """The user's own agent record."""
    return org_service.agent_read(
        org_service.get_agent_or_raise(
            session=session, agent_id=agent_id, scope=AgentScope.everyone_scope()
        )
    )


@dataclass(frozen=True)
class CallRow:
    """A call on the agent's list: when, its score and the rules it failed."""

    call_id: str
    call_at: datetime
    judged: bool
    score: float | None
    failed: tuple[str, ...]


@dataclass(frozen=True)
class CallPage:
    """One page of an agent's calls, newest first."""

    rows: list[CallRow]
    page: int
    per_page: int
    total: int


def agent_calls(
    *,
    session: Session,
    settings: Settings,
    period: Period,
    agent_id: int,
    page: int = 1,
    per_page: int = 50,
    failed_rule: str | None = None,
) -> CallPage:
    """The agent's calls with a transcript in the period, newest first, one page of them
    (`failed_rule`: only the calls that failed it); a page past the last shows the last."""
    start, end = period.bounds_utc(settings.tz)
    verdicts = [getattr(AutoqaResult, rule) for rule in RULE_IDS]
    query = (
        select(
            CallTranscript.call_id,
            CallTranscript.call_at,
            AutoqaResult.id,
            AutoqaResult.score,
            *verdicts,
        )
        .outerjoin(AutoqaResult, AutoqaResult.transcript_id == CallTranscript.id)
        .where(
            CallTranscript.agent_id == agent_id,
            CallTranscript.call_at >= start,
            CallTranscript.call_at < end,
        )
    )
    if failed_rule is not None:
        if failed_rule not in RULE_IDS:
            raise InvalidInput("unknown rule {rule}", rule=failed_rule)
        query = query.where(getattr(AutoqaResult, failed_rule) == "fail")
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = min(max(page, 1), max(1, -(-total // per_page)))
    rows = session.execute(
        query.order_by(CallTranscript.call_at.desc(), CallTranscript.call_id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return CallPage(
        rows=[
            CallRow(
                call_id=row[0],
                call_at=row[1],
                judged=row[2] is not None,
                score=row[3],
                failed=tuple(
                    rule
                    for rule, verdict in zip(RULE_IDS, row[4:], strict=True)
                    if verdict == "fail"
                ),
            )
            for row in rows
        ],
        page=page,
        per_page=per_page,
        total=total,
    )


def _visible_transcript(
    session: Session, call_id: str, scope: AgentScope
) -> tuple[CallTranscript, AgentRead | None]:
    """The call's transcript and agent if the scope allows the agent (a call of no known
    agent: only to those who see everyone); NotFound otherwise, as if it were not stored."""
    transcript = get_transcript(session=session, call_id=call_id)
    agent = None
    if transcript is not None and transcript.agent_id is not None:
        try:
            found = org_service.get_agent_or_raise(
                session=session, agent_id=transcript.agent_id, scope=scope
            )
        except NotFound:
            transcript = None
        else:
            agent = org_service.agent_read(found)
    elif transcript is not None and not scope.everyone:
        transcript = None
    if transcript is None:
        raise NotFound("no transcript of call {call} is stored", call=call_id)
    return transcript, agent


def visible_call_verdicts(*, session: Session, call_id: str, scope: AgentScope) -> dict[str, Any]:
    """`call_verdicts` for a user: NotFound for a call outside their scope."""
    _visible_transcript(session, call_id, scope)
    return call_verdicts(session=session, call_id=call_id)


def visible_period_verdicts(
    *, session: Session, settings: Settings, period: Period, scope: AgentScope
) -> dict[str, Any]:
    """`period_verdicts` with only the calls of the agents the scope allows."""
    agent_ids = None if scope.everyone else [agent.id for agent in _scope_agents(session, scope)]
    return period_verdicts(session=session, settings=settings, period=period, agent_ids=agent_ids)


@dataclass(frozen=True)
class VerdictView:
    """One rule's verdict on a call as the call page shows it."""

    rule: str
    verdict: str
    evidence: list[dict[str, Any]]


@dataclass(frozen=True)
class CallDetail:
    """A call's transcript (masked as stored) with every rule's verdict and its evidence."""

    call_id: str
    call_at: datetime
    agent: AgentRead | None
    language: str
    hangup_by: str | None
    turns: list[Turn]
    judged: bool
    score: float | None
    judged_at: datetime | None
    current: bool  # judged under the rule set in force and this very transcript
    verdicts: list[VerdictView]

    def citations(self) -> dict[int, list[VerdictView]]:
        """Per turn, the verdicts that quote it (fails first)."""
        cited: dict[int, list[VerdictView]] = {}
        for verdict in sorted(self.verdicts, key=lambda v: v.verdict != "fail"):
            for evidence in verdict.evidence:
                if evidence.get("turn") is not None and verdict not in cited.get(
                    evidence["turn"], []
                ):
                    cited.setdefault(evidence["turn"], []).append(verdict)
        return cited


def call_detail(*, session: Session, call_id: str, scope: AgentScope) -> CallDetail:
    """The call as its page shows it; NotFound when not stored or outside the scope."""
    transcript, agent = _visible_transcript(session, call_id, scope)
    result = get_result(session=session, transcript_id=transcript.id)
    rules_hash = current_rule_set(session=session).rules.content_hash
    return CallDetail(
        call_id=transcript.call_id,
        call_at=transcript.call_at,
        agent=agent,
        language=transcript.language,
        hangup_by=transcript.hangup_by,
        turns=stored_transcript(transcript).turns,
        judged=result is not None,
        score=None if result is None else result.score,
        judged_at=None if result is None else result.judged_at,
        current=result is not None
        and result.rule_set_hash == rules_hash
        and result.transcript_hash == transcript.content_hash,
        verdicts=[]
        if result is None
        else [
            VerdictView(item["rule"], item["verdict"], item["evidence"])
            for item in json.loads(result.verdicts_json)
        ],
    )
