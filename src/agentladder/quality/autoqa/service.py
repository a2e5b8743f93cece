"""Automatic QA: the rule set in force and its versions, transcripts stored and judged, the
verdicts of a call or a period, and each agent's autoqa figures for the quality provider.

A transcript is judged when it is imported and again whenever it or the rule set changes
(`run_autoqa`); a result always names the rule set version and the transcript content it
judged, so a stale one is found by comparing hashes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import ValidationError
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from agentladder.config import Language, Settings
from agentladder.db import utcnow
from agentladder.errors import InvalidInput, NotFound
from agentladder.formatting import format_number, local_date
from agentladder.i18n import N_, translate
from agentladder.org import service as org_service
from agentladder.org.accounts import service as accounts_service
from agentladder.org.schemas import AgentFilter, AgentRead
from agentladder.org.service import AgentScope
from agentladder.periods import Period, period_of
from agentladder.quality import calls
from agentladder.quality.autoqa.rules import (
    DEFAULT_RULES_PATH,
    RULE_IDS,
    CallFacts,
    CallJudgement,
    RuleSet,
    default_rule_set,
    judge_call,
)
from agentladder.quality.autoqa.schemas import Transcript, Turn
from agentladder.quality.models import AutoqaResult, AutoqaRuleSetVersion, CallTranscript
from agentladder.quality.schemas import FormSpec
from agentladder.validation import validation_problems

# Each rule's name as people read it: (zh, en).
RULE_NAMES: dict[str, tuple[str, str]] = {
    "greeting": ("自报家门", "Greeting"),
    "answer_speed": ("及时接听", "Answer speed"),
    "late_apology": ("久等致歉", "Apology when late"),
    "hold_etiquette": ("保留礼仪", "Hold etiquette"),
    "polite_phrases": ("礼貌用语", "Polite phrases"),
    "forbidden_phrases": ("无服务禁语", "No forbidden phrases"),
    "closing_question": ("结束前询问", "Closing question"),
    "thanks_goodbye": ("致谢道别", "Thanks and goodbye"),
    "customer_hangs_up_first": ("客户先挂机", "Customer hangs up first"),
    "silence": ("静音时长", "Silence"),
    "talk_over": ("抢话", "Talk-over"),
    "speaking_rate": ("语速", "Speaking rate"),
}


def rule_name(rule: str, language: str) -> str:
    """A rule's name in the reader's language."""
    zh, en = RULE_NAMES[rule]
    return zh if language == "zh_Hans" else en


# --- the rule set --------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleProblem:
    """One problem with a rule set: where (dotted key) and what (an English msgid + params)."""

    key: str
    message: str
    params: dict[str, Any]

    def text(self, language: Language) -> str:
        """What is wrong, in the reader's language."""
        return translate(language, self.message, **self.params)


@dataclass(frozen=True)
class LoadedRuleSet:
    """The rule set in force: validated, its YAML and its stored version (None: shipped)."""

    rules: RuleSet
    yaml_text: str
    version: AutoqaRuleSetVersion | None


def check_rule_set_text(text: str) -> tuple[RuleSet | None, list[RuleProblem]]:
    """A rule set from YAML and its problems, each named by key (none: the rule set)."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return None, [
            RuleProblem(
                "",
                N_("not valid YAML (line {line}): {error}"),
                {"line": line, "error": str(getattr(exc, "problem", exc))},
            )
        ]
    if not isinstance(document, dict):
        return None, [RuleProblem("", N_("a rule set is a mapping of keys to values"), {})]
    try:
        return RuleSet.model_validate(document), []
    except ValidationError as exc:
        # In our words (agentladder.validation), so the editor shows them in zh as well.
        return None, [
            RuleProblem(
                ".".join(str(part) for part in problem.loc), problem.message, problem.params
            )
            for problem in validation_problems(exc)
        ]


def parse_rule_set_text(text: str, *, source: str = "") -> RuleSet:
    """A valid rule set from YAML; InvalidInput naming every problem's key otherwise."""
    rules, problems = check_rule_set_text(text)
    if rules is None:
        listed = "; ".join(
            f"{problem.key}: {problem.text('en')}" if problem.key else problem.text("en")
            for problem in problems
        )
        raise InvalidInput(
            "the rule set {source} is not valid: {problems}", source=source, problems=listed
        )
    return rules


def current_rule_set(*, session: Session) -> LoadedRuleSet:
    """The latest applied rule set, else the shipped one."""
    version = session.scalars(
        select(AutoqaRuleSetVersion)
        .where(AutoqaRuleSetVersion.applied_at.is_not(None))
        .order_by(AutoqaRuleSetVersion.applied_at.desc(), AutoqaRuleSetVersion.id.desc())
        .limit(1)
    ).first()
    if version is None:
        return LoadedRuleSet(default_rule_set(), DEFAULT_RULES_PATH.read_text("utf-8"), None)
    return LoadedRuleSet(parse_rule_set_text(version.yaml_text), version.yaml_text, version)


def rule_set_versions(*, session: Session) -> list[AutoqaRuleSetVersion]:
    """Every stored version, the newest first."""
    return list(
        session.scalars(select(AutoqaRuleSetVersion).order_by(AutoqaRuleSetVersion.id.desc()))
    )


def apply_rule_set(
    *, session: Session, text: str, user_id: int | None = None, source: str = ""
) -> AutoqaRuleSetVersion:
    """Validate the YAML and make it the rule set in force (the same content again only
    records when it was applied); every call is judged again by `run_autoqa`."""
    rules = parse_rule_set_text(text, source=source)
    version = session.scalars(
        select(AutoqaRuleSetVersion).where(AutoqaRuleSetVersion.content_hash == rules.content_hash)
    ).first()
    if version is None:
        version = AutoqaRuleSetVersion(
            content_hash=rules.content_hash,
            name=rules.name[:200],
            yaml_text=text,
            created_by_user_id=user_id,
        )
        session.add(version)
    version.applied_at = utcnow()
    version.applied_by_user_id = user_id
    session.flush()
    return version


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
                "evidence": [evidence.as_dict() for evidence in verdict.evidence],
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


def run_autoqa(
    *, session: Session, settings: Settings, period: Period, everything: bool = False
) -> AutoqaRun:
    """Judge the period's transcripts that have no result under the rule set in force (or
    whose content changed since); `everything`: judge them all again."""
    rules = current_rule_set(session=session).rules
    start, end = period.bounds_utc(settings.tz)
    rows = list(
        session.scalars(
            select(CallTranscript)
            .where(CallTranscript.call_at >= start, CallTranscript.call_at < end)
            .order_by(CallTranscript.call_at, CallTranscript.id)
        )
    )
    current = {
        transcript_id
        for (transcript_id,) in session.execute(
            select(AutoqaResult.transcript_id)
            .join(CallTranscript, CallTranscript.id == AutoqaResult.transcript_id)
            .where(
                CallTranscript.call_at >= start,
                CallTranscript.call_at < end,
                AutoqaResult.rule_set_hash == rules.content_hash,
                AutoqaResult.transcript_hash == CallTranscript.content_hash,
            )
        )
    }
    pending = rows if everything else [row for row in rows if row.id not in current]
    judged = judge_transcripts(session=session, settings=settings, transcripts=pending, rules=rules)
    return AutoqaRun(
        period=period.label,
        rule_set_hash=rules.content_hash,
        transcripts=len(rows),
        judged=judged,
        unchanged=len(rows) - judged,
    )


def stale_results(
    *, session: Session, settings: Settings, period: Period
) -> tuple[int, datetime | None]:
    """How many of the period's transcripts have no result under the rule set in force, and
    when the newest of them was stored or the rule set applied."""
    rules = current_rule_set(session=session)
    start, end = period.bounds_utc(settings.tz)
    fresh = (
        select(AutoqaResult.id)
        .where(
            AutoqaResult.transcript_id == CallTranscript.id,
            AutoqaResult.rule_set_hash == rules.rules.content_hash,
            AutoqaResult.transcript_hash == CallTranscript.content_hash,
        )
        .exists()
    )
    count, newest = session.execute(
        select(func.count(), func.max(CallTranscript.updated_at)).where(
            CallTranscript.call_at >= start, CallTranscript.call_at < end, ~fresh
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
    """One call as `quality autoqa show` prints it."""
    return {
        "call": transcript.call_id,
        "agent": employee_no,
        "score": None if result is None or result.score is None else round(result.score, 2),
        "rules": [] if result is None else json.loads(result.verdicts_json),
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
        return parse_rule_set_text(version.yaml_text)
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


# The figures the timing and counting rules measure (rules.py writes them in English), as
# msgids with their numbers, so a reader sees them in their language.
_FIGURES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"ring (?P<ring>\S+) s \(limit (?P<limit>\S+) s\)"),
        N_("ring {ring} s (limit {limit} s)"),
    ),
    (re.compile(r"(?P<count>\d+) polite phrases"), N_("{count} polite phrases")),
    (re.compile(r"hung up by agent"), N_("hung up by the agent")),
    (re.compile(r"hung up by customer"), N_("hung up by the customer")),
    (
        re.compile(r"silent (?P<share>\d+)% of (?P<duration>\S+) s"),
        N_("silent {share}% of {duration} s"),
    ),
    (
        re.compile(r"over the customer (?P<share>\d+)% of agent speech"),
        N_("talking over the customer {share}% of the agent's speech"),
    ),
    (
        re.compile(r"(?P<rate>\d+) a minute \(band (?P<low>\S+)-(?P<high>\S+)\)"),
        N_("{rate} a minute (band {low}-{high})"),
    ),
    (re.compile(r"no agent turn"), N_("no agent turn")),
)


def figure_message(text: str) -> tuple[str, dict[str, str]]:
    """A measured figure's msgid and parameters (an unknown figure: itself, as `{figure}`)."""
    for pattern, message in _FIGURES:
        found = pattern.fullmatch(text)
        if found is not None:
            return message, found.groupdict()
    return "{figure}", {"figure": text}


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


# The figures the timing and counting rules measure are stored as English text (the JSON of
# `quality autoqa show`); pages read them back into the reader's language.
_FIGURE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^no agent turn$"), N_("The agent never speaks")),
    (
        re.compile(r"^ring (?P<ring_s>[\d.]+) s \(limit (?P<limit_s>[\d.]+) s\)$"),
        N_("Rang {ring_s} s (limit {limit_s} s)"),
    ),
    (re.compile(r"^(?P<count>\d+) polite phrases$"), N_("Polite phrases: {count}")),
    (re.compile(r"^hung up by agent$"), N_("The agent hung up")),
    (re.compile(r"^hung up by customer$"), N_("The customer hung up")),
    (
        re.compile(r"^silent (?P<share>\d+)% of (?P<duration_s>[\d.]+) s$"),
        N_("Silent for {share} of the call ({duration})"),
    ),
    (
        re.compile(r"^over the customer (?P<share>\d+)% of agent speech$"),
        N_("Talking over the customer in {share} of the agent's speech"),
    ),
    (
        re.compile(r"^(?P<rate>\d+) a minute \(band (?P<low>[\d.]+)-(?P<high>[\d.]+)\)$"),
        N_("{rate} a minute (expected {low}–{high})"),
    ),
)
SPEAKING_RATE_UNITS = {"zh": N_("characters"), "en": N_("words")}


def figure_text(text: str, language: Language) -> str:
    """A measured figure's evidence in the reader's language (other text as it is)."""
    for pattern, message in _FIGURE_PATTERNS:
        found = pattern.match(text)
        if found is None:
            continue
        params: dict[str, str] = {}
        for name, value in found.groupdict().items():
            number = float(value)
            if name == "share":
                params[name] = format_number(number / 100, "percent", language)
            elif name == "duration_s":
                params["duration"] = format_number(number, "duration", language)
            else:
                params[name] = format_number(number, "plain", language)
        return translate(language, message, **params)
    return text


@dataclass(frozen=True)
class RuleSetVersionRow:
    """A stored rule set version as the editor lists it."""

    content_hash: str
    name: str
    created_at: datetime
    applied_at: datetime | None
    applied_by: str | None
    in_force: bool


def rule_set_history(*, session: Session) -> list[RuleSetVersionRow]:
    """Every stored version, newest first, with who applied it and which one is in force."""
    in_force = current_rule_set(session=session).version
    names = accounts_service.user_names(session=session)
    return [
        RuleSetVersionRow(
            content_hash=version.content_hash,
            name=version.name,
            created_at=version.created_at,
            applied_at=version.applied_at,
            applied_by=names.get(version.applied_by_user_id)
            if version.applied_by_user_id is not None
            else None,
            in_force=in_force is not None and version.id == in_force.id,
        )
        for version in rule_set_versions(session=session)
    ]


def stale_transcript_count(*, session: Session) -> int:
    """Stored transcripts of any period with no result under the rule set in force (or
    judged before their content changed): judged at the next `autoqa run` or period close."""
    rules_hash = current_rule_set(session=session).rules.content_hash
    fresh = (
        select(AutoqaResult.id)
        .where(
            AutoqaResult.transcript_id == CallTranscript.id,
            AutoqaResult.rule_set_hash == rules_hash,
            AutoqaResult.transcript_hash == CallTranscript.content_hash,
        )
        .exists()
    )
    return int(session.scalar(select(func.count(CallTranscript.id)).where(~fresh)) or 0)
