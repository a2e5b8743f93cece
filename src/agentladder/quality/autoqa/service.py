"""Automatic QA: transcripts stored and judged, the verdicts of a call or a period, each
agent's autoqa figures for the quality provider, and the QA form's suggestions.

A transcript is judged when it is imported and again whenever it or the rule set changes
(`run_autoqa`); a result always names the rule set version and the transcript content it
judged, so a stale one is found by comparing hashes.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.db import utcnow
from agentladder.errors import NotFound
from agentladder.org import service as org_service
from agentladder.periods import Period
from agentladder.quality import calls
from agentladder.quality.autoqa.rules import (
    RULE_IDS,
    CallFacts,
    CallJudgement,
    RuleSet,
    default_rule_set,
    judge_call,
    parse_rule_set,
)
from agentladder.quality.autoqa.rulesets import current_rule_set
from agentladder.quality.autoqa.schemas import RULE_NAMES, Transcript, Turn
from agentladder.quality.models import AutoqaResult, AutoqaRuleSetVersion, CallTranscript
from agentladder.quality.schemas import FormSpec


def rule_name(rule: str, language: str) -> str:
    """A rule's name in the reader's language."""
    zh, en = RULE_NAMES[rule]
    return zh if language == "zh_Hans" else en


# --- judging -------------------------------------------------------------------------------


def stored_transcript(row: CallTranscript) -> Transcript:
    """The stored transcript as the rules read it."""
    return Transcript(
        call_id=row.call_id,
        agent=row.agent_identity,
        started_at=row.started_at,
        language=row.language,
        hangup_by=row.hangup_by,
        turns=[Turn.model_validate(turn) for turn in json.loads(row.turns_json)],
    )


def call_facts_for_rules(call: calls.CallFacts | None, agent_names: Sequence[str]) -> CallFacts:
    """What the rules need from the call data (None: the call is not in it)."""
    if call is None:
        return CallFacts(agent_names=tuple(agent_names))
    names = tuple(
        dict.fromkeys([*agent_names, *([call.agent_identity] if call.agent_identity else [])])
    )
    return CallFacts(
        ring_s=call.ring_s, queue_wait_s=call.wait_s, hangup_by=call.ended_by, agent_names=names
    )


def _agent_names(session: Session, agent_ids: Iterable[int | None]) -> dict[int, tuple[str, ...]]:
    ids = {agent_id for agent_id in agent_ids if agent_id is not None}
    return {
        agent.id: (agent.employee_no, agent.name)
        for agent in org_service.agents_by_ids(session=session, agent_ids=ids)
    }


def _verdicts_json(judgement: CallJudgement) -> str:
    return json.dumps(
        [
            {
                "rule": verdict.rule,
                "verdict": verdict.verdict,
                "evidence": [evidence.as_stored() for evidence in verdict.evidence],
            }
            for verdict in judgement.verdicts
        ],
        ensure_ascii=False,
    )


def judge_transcripts(
    *,
    session: Session,
    settings: Settings,
    transcripts: Sequence[CallTranscript],
    rules: RuleSet | None = None,
) -> int:
    """Judge the stored transcripts under `rules` (default: the rule set in force) and store
    the results, the agent and time taken from the call data when it has the call (read at
    once); how many were judged."""
    rows = transcripts
    if not rows:
        return 0
    if rules is None:
        rules = current_rule_set(session=session).rules
    call_data = calls.calls_by_id(
        session=session,
        settings=settings,
        call_ids=[row.call_id for row in rows],
        agent_ids={row.call_id: row.agent_id for row in rows},
    )
    for row in rows:
        call = call_data.get(row.call_id)
        if call is not None:
            row.agent_id = call.agent_id if call.agent_id is not None else row.agent_id
            row.call_at = call.started_at or row.call_at
    names = _agent_names(session, (row.agent_id for row in rows))
    existing = {
        result.transcript_id: result
        for result in session.scalars(
            select(AutoqaResult).where(AutoqaResult.transcript_id.in_([row.id for row in rows]))
        )
    }
    now = utcnow()
    for row in rows:
        call = call_data.get(row.call_id)
        facts = call_facts_for_rules(call, names.get(row.agent_id or -1, ()))
        judgement = judge_call(stored_transcript(row), facts, rules)
        result = existing.get(row.id)
        if result is None:
            result = AutoqaResult(transcript_id=row.id)
            session.add(result)
        result.rule_set_hash = rules.content_hash
        result.transcript_hash = row.content_hash
        result.agent_id = row.agent_id
        result.call_at = row.call_at
        result.score = judgement.score
        result.verdicts_json = _verdicts_json(judgement)
        result.judged_at = now
        for verdict in judgement.verdicts:
            setattr(result, verdict.rule, verdict.verdict)
    session.flush()
    return len(rows)


@dataclass(frozen=True)
class AutoqaRun:
    """What `run_autoqa` did for a period."""

    period: str
    rule_set_hash: str
    transcripts: int  # the period's transcripts
    judged: int  # judged now (new, changed, or judged under another rule set)
    unchanged: int  # already judged under this rule set


def _judged_fresh(rules_hash: str) -> ColumnElement[bool]:
    """Whether a transcript has a result under this rule set of its present content."""
    return (
        select(AutoqaResult.id)
        .where(
            AutoqaResult.transcript_id == CallTranscript.id,
            AutoqaResult.rule_set_hash == rules_hash,
            AutoqaResult.transcript_hash == CallTranscript.content_hash,
        )
        .exists()
    )


def run_autoqa(
    *, session: Session, settings: Settings, period: Period, everything: bool = False
) -> AutoqaRun:
    """Judge the period's transcripts that have no result under the rule set in force (or
    whose content changed since); `everything`: judge them all again."""
    rules = current_rule_set(session=session).rules
    start, end = period.bounds_utc(settings.tz)
    in_period = (CallTranscript.call_at >= start, CallTranscript.call_at < end)
    query = select(CallTranscript).where(*in_period)
    if not everything:
        query = query.where(~_judged_fresh(rules.content_hash))
    pending = list(session.scalars(query.order_by(CallTranscript.call_at, CallTranscript.id)))
    transcripts = session.scalar(select(func.count(CallTranscript.id)).where(*in_period)) or 0
    judged = judge_transcripts(session=session, settings=settings, transcripts=pending, rules=rules)
    return AutoqaRun(
        period=period.label,
        rule_set_hash=rules.content_hash,
        transcripts=transcripts,
        judged=judged,
        unchanged=transcripts - judged,
    )


def stale_results(
    *, session: Session, settings: Settings, period: Period
) -> tuple[int, datetime | None]:
    """How many of the period's transcripts have no result under the rule set in force, and
    when the newest of them was stored or the rule set applied."""
    rules = current_rule_set(session=session)
    start, end = period.bounds_utc(settings.tz)
    count, newest = session.execute(
        select(func.count(), func.max(CallTranscript.updated_at)).where(
            CallTranscript.call_at >= start,
            CallTranscript.call_at < end,
            ~_judged_fresh(rules.rules.content_hash),
        )
    ).one()
    if not count:
        return 0, None
    applied = rules.version.applied_at if rules.version is not None else None
    changed = max((at for at in (newest, applied) if at is not None), default=None)
    return int(count), changed


# --- reading results -----------------------------------------------------------------------


def _call_json(
    transcript: CallTranscript, result: AutoqaResult | None, employee_no: str | None
) -> dict[str, Any]:
    """One call as `quality autoqa show` prints it (evidence: turn, start_s and text only)."""
    rules = [] if result is None else json.loads(result.verdicts_json)
    return {
        "call": transcript.call_id,
        "agent": employee_no,
        "score": None if result is None or result.score is None else round(result.score, 2),
        "rules": [
            {
                "rule": rule["rule"],
                "verdict": rule["verdict"],
                "evidence": [
                    {key: evidence.get(key) for key in ("turn", "start_s", "text")}
                    for evidence in rule["evidence"]
                ],
            }
            for rule in rules
        ],
    }


def _employee_numbers(session: Session, agent_ids: Iterable[int | None]) -> dict[int, str]:
    ids = {agent_id for agent_id in agent_ids if agent_id is not None}
    return {
        agent.id: agent.employee_no
        for agent in org_service.agents_by_ids(session=session, agent_ids=ids)
    }


def get_transcript(*, session: Session, call_id: str) -> CallTranscript | None:
    """The stored transcript of a call, if any."""
    return session.scalars(select(CallTranscript).where(CallTranscript.call_id == call_id)).first()


def get_result(*, session: Session, transcript_id: int) -> AutoqaResult | None:
    """The transcript's verdicts, if judged."""
    return session.scalars(
        select(AutoqaResult).where(AutoqaResult.transcript_id == transcript_id)
    ).first()


def call_verdicts(*, session: Session, call_id: str) -> dict[str, Any]:
    """A call's verdicts as JSON (`{"call", "agent", "score", "rules"}`); NotFound when no
    transcript of the call is stored."""
    transcript = get_transcript(session=session, call_id=call_id)
    if transcript is None:
        raise NotFound("no transcript of call {call} is stored", call=call_id)
    result = get_result(session=session, transcript_id=transcript.id)
    numbers = _employee_numbers(session, [transcript.agent_id])
    return _call_json(transcript, result, numbers.get(transcript.agent_id or -1))


def period_verdicts(
    *,
    session: Session,
    settings: Settings,
    period: Period,
    agent_ids: Collection[int] | None = None,
) -> dict[str, Any]:
    """Every call of the period with a transcript, as `{"period", "calls": [...]}` in time
    order (`agent_ids`: only those agents' calls)."""
    start, end = period.bounds_utc(settings.tz)
    query = (
        select(CallTranscript, AutoqaResult)
        .outerjoin(AutoqaResult, AutoqaResult.transcript_id == CallTranscript.id)
        .where(CallTranscript.call_at >= start, CallTranscript.call_at < end)
        .order_by(CallTranscript.call_at, CallTranscript.call_id)
    )
    if agent_ids is not None:
        query = query.where(CallTranscript.agent_id.in_(list(agent_ids)))
    pairs = session.execute(query).all()
    numbers = _employee_numbers(session, (transcript.agent_id for transcript, _ in pairs))
    return {
        "period": period.label,
        "calls": [
            _call_json(transcript, result, numbers.get(transcript.agent_id or -1))
            for transcript, result in pairs
        ],
    }


@dataclass(frozen=True)
class AgentAutoqa:
    """One agent's automatic QA over a period: the mean score over the calls judged, and each
    rule's passes and applicable calls."""

    agent_id: int
    calls: int  # calls with a transcript and a score
    score: float | None
    passed: dict[str, int]
    applicable: dict[str, int]

    def pass_rate(self, rule: str) -> float | None:
        """The share of the calls the rule applied to that passed it."""
        applicable = self.applicable.get(rule, 0)
        return self.passed.get(rule, 0) / applicable if applicable else None


def agent_figures(
    *, session: Session, start: datetime, end: datetime, agent_ids: Iterable[int] | None = None
) -> list[AgentAutoqa]:
    """Per agent, the results of the calls between `start` and `end` (UTC), counted by the
    database."""
    columns: list[Any] = [
        AutoqaResult.agent_id,
        func.count(AutoqaResult.score),
        func.avg(AutoqaResult.score),
    ]
    for rule in RULE_IDS:
        column = getattr(AutoqaResult, rule)
        columns.append(func.sum(case((column == "pass", 1), else_=0)))
        columns.append(func.sum(case((column != "na", 1), else_=0)))
    query = select(*columns).where(
        AutoqaResult.call_at >= start,
        AutoqaResult.call_at < end,
        AutoqaResult.agent_id.is_not(None),
    )
    if agent_ids is not None:
        query = query.where(AutoqaResult.agent_id.in_(list(agent_ids)))
    figures = []
    for row in session.execute(query.group_by(AutoqaResult.agent_id)):
        agent_id, count, mean = row[0], row[1], row[2]
        counts = row[3:]
        figures.append(
            AgentAutoqa(
                agent_id=agent_id,
                calls=int(count or 0),
                score=float(mean) if mean is not None else None,
                passed={rule: int(counts[2 * i] or 0) for i, rule in enumerate(RULE_IDS)},
                applicable={rule: int(counts[2 * i + 1] or 0) for i, rule in enumerate(RULE_IDS)},
            )
        )
    return figures


# --- suggestions for the QA form ---------------------------------------------------------


def suggested_answers(
    rules: RuleSet, verdicts: Sequence[Mapping[str, Any]], *, form: FormSpec
) -> dict[str, dict[str, Any]]:
    """For each yes/no item of the form that rules map to, the answer their verdicts suggest:
    "no" when an applicable mapped rule failed (the failed ones decide), "yes" when every
    applicable mapped rule passed; no suggestion when none applied. As stored in
    `QaEvaluation.suggestions_json`: `{item: {"answer", "rules", "rule_set"}}`."""
    verdict_of = {str(verdict["rule"]): str(verdict["verdict"]) for verdict in verdicts}
    yes_no = {item.code for item in form.items() if item.kind == "yes_no"}
    suggestions: dict[str, dict[str, Any]] = {}
    for item, mapped in rules.form_item_rules().items():
        if item not in yes_no:
            continue
        applicable = [rule for rule in mapped if verdict_of.get(rule, "na") != "na"]
        if not applicable:
            continue
        failed = [rule for rule in applicable if verdict_of[rule] == "fail"]
        suggestions[item] = {
            "answer": not failed,
            "rules": failed or applicable,
            "rule_set": rules.content_hash,
        }
    return suggestions


@dataclass(frozen=True)
class JudgedCall:
    """A call's stored transcript (masked at import) and its verdicts, with the rule set that
    judged it (None: not judged, or under a rule set no longer stored)."""

    transcript: Transcript
    verdicts: list[dict[str, Any]]
    score: float | None
    rules: RuleSet | None
    current: bool  # judged on this content under the rule set in force


def _stored_rule_set(session: Session, content_hash: str) -> RuleSet | None:
    """A rule set no longer in force, by its hash (None: not stored, nor the shipped one)."""
    version = session.scalars(
        select(AutoqaRuleSetVersion).where(AutoqaRuleSetVersion.content_hash == content_hash)
    ).first()
    if version is not None:
        return parse_rule_set(version.yaml_text)
    shipped = default_rule_set()
    return shipped if shipped.content_hash == content_hash else None


def judged_call(*, session: Session, call_id: str) -> JudgedCall | None:
    """The call's stored transcript and verdicts; None when no transcript of it is stored."""
    row = get_transcript(session=session, call_id=call_id)
    if row is None:
        return None
    result = get_result(session=session, transcript_id=row.id)
    if result is None:
        return JudgedCall(stored_transcript(row), [], None, None, False)
    in_force = current_rule_set(session=session).rules
    current = result.rule_set_hash == in_force.content_hash
    return JudgedCall(
        transcript=stored_transcript(row),
        verdicts=json.loads(result.verdicts_json),
        score=result.score,
        rules=in_force if current else _stored_rule_set(session, result.rule_set_hash),
        current=current and result.transcript_hash == row.content_hash,
    )


def stale_transcript_count(*, session: Session) -> int:
    """Stored transcripts of any period with no result under the rule set in force (or
    judged before their content changed): judged at the next `autoqa run` or period close."""
    rules_hash = current_rule_set(session=session).rules.content_hash
    stale = select(func.count(CallTranscript.id)).where(~_judged_fresh(rules_hash))
    return int(session.scalar(stale) or 0)
