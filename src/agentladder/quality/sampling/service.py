"""Which calls QA evaluates: a seeded, stratified random sample per agent and period, targeted
calls on top, each assigned to an evaluator.

The calls are the ingested ones (the `interactions` dataset): rows answered by an agent
(`outcome` answered, `agent_identity` resolved to an agent), one per `callid` (a call answered
twice, after a transfer to another queue, counts for the agent who answered it first). Calls
already evaluated, or already in an earlier sample, are never drawn again.

Per agent:
1. Targeted calls first, at most `rules.max_targeted`, by rule in this order: a complaint
   about the call (the `feedback` dataset, not judged invalid), a low survey score (at most
   `low_survey_share` of the survey's scale: 1-2 of 5), a repeat caller (the same caller
   again within `repeat_days`), a transfer, very short talk, very long talk (below or above
   a percentile of the queue's talk times in the period, or a number of seconds). A call
   that matches several rules keeps the first reason.
2. Then `per_agent` calls at random, stratified by queue and ISO week: every stratum gets one
   call while the target allows, the rest is allocated in proportion to the strata's sizes
   (largest remainders); with more strata than the target, the strata are drawn with
   probability in proportion to their size, one call each.

Reproducible: the seed (random when not given) is stored with the rules; each agent's draw
uses its own random stream from the seed and the agent's employee number, over the calls in a
fixed order, so the same seed and the same data give the same sample, and one agent's calls
never change another agent's draw.

Assignment: calls go, agent by agent, to the QA evaluator (an active user with the `qa`
role) with the fewest open assignments (assigned, not yet submitted, in any sample), ties
broken by a seeded order; never to the evaluator's own calls, and with `exclude_own_team` never
to an evaluator who leads the agent's team or is an agent of it (such a call stays unassigned
when no one else is left).
"""

from __future__ import annotations

import json
import random
import secrets
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.errors import InvalidInput, NotFound
from agentladder.i18n import N_
from agentladder.ingest import service as ingest_service
from agentladder.org import service as org_service
from agentladder.org.accounts import service as accounts_service
from agentladder.periods import Period
from agentladder.quality import service as quality_service
from agentladder.quality.models import QaEvaluation, QaSample, QaSampledCall
from agentladder.quality.sampling.drawing import (
    MAX_PER_AGENT,
    TARGETED_REASONS,
    CallFacts,
    Evaluator,
    SamplingRules,
    assign,
    plan_draw,
)

if TYPE_CHECKING:
    from agentladder.org.models import User

# The calls per agent and period when the ladder policy asks no minimum of QA evaluations.
DEFAULT_PER_AGENT = 6
# The metric whose minimum sample (the policy's `min_qa_evaluations`) sets the target.
QA_METRIC = "qa_score"
# What the pages call each reason.
REASON_NAMES = {
    "random": N_("Random"),
    "complaint": N_("Complaint"),
    "low_survey": N_("Low survey score"),
    "repeat_caller": N_("Repeat caller"),
    "transfer": N_("Transfer"),
    "short_talk": N_("Very short talk"),
    "long_talk": N_("Very long talk"),
}
SEED_LIMIT = 2**31 - 1  # QaSample.seed is a 32-bit integer on PostgreSQL


class _Minimum(Protocol):
    @property
    def metric(self) -> str: ...

    @property
    def required(self) -> int: ...


def target_from_policy(minimums: Iterable[_Minimum]) -> int:
    """The calls per agent a policy's evidence minimums ask for (`min_qa_evaluations`, or
    `min_samples: {qa_score: n}`), else DEFAULT_PER_AGENT."""
    wanted = [m.required for m in minimums if m.metric == QA_METRIC and m.required > 0]
    return min(max(wanted), MAX_PER_AGENT) if wanted else DEFAULT_PER_AGENT


# --- the period's calls ----------------------------------------------------------------------


def period_calls(
    *, session: Session, settings: Settings, period: Period, repeat_days: int = 7
) -> list[CallFacts]:
    """The period's answered calls with an agent, their surveys and complaints, one per call
    id, in a fixed order (time, then call id)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    start, end = period.bounds_utc(settings.tz)
    files = ingest_service.dataset_files(session=session, settings=settings)

    def read(name: str, columns: list[str], until: datetime) -> pa.Table:
        paths = [str(path) for path in files.get(name, [])]
        schema = ingest_service.dataset_schema(name)
        if not paths:
            return schema.empty_table().select(columns)
        return pq.ParquetDataset(
            paths,
            schema=schema,
            filters=[
                ("event_at", ">=", pa.scalar(start, schema.field("event_at").type)),
                ("event_at", "<", pa.scalar(until, schema.field("event_at").type)),
            ],
        ).read(columns)

    rows = read(
        "interactions",
        [
            "key",
            "callid",
            "queue",
            "agent_identity",
            "event_at",
            "wait_s",
            "talk_s",
            "outcome",
            "transferred",
            "caller_hash",
            "direction",
        ],
        end + timedelta(days=repeat_days),
    )

    # A repeat caller: the same caller on another inbound call (by call id: a call that moves
    # to a second queue is one call) in the period or the window after it.
    # Times as microseconds since the epoch: Arrow writes a time zone-aware datetime for each
    # row a hundred times slower, and a month of a large centre has hundreds of thousands.
    def micros(table: pa.Table) -> list[int]:
        return table.column("event_at").cast(pa.int64()).to_pylist()  # type: ignore[no-any-return]

    first_at: dict[tuple[str, str], int] = {}
    for call_id, caller, at, direction in zip(
        rows.column("callid").to_pylist(),
        rows.column("caller_hash").to_pylist(),
        micros(rows),
        rows.column("direction").to_pylist(),
        strict=True,
    ):
        if caller is not None and direction == "inbound":
            known = first_at.get((caller, call_id))
            first_at[(caller, call_id)] = at if known is None else min(known, at)
    by_caller: dict[str, list[int]] = defaultdict(list)
    for (caller, _), at in first_at.items():
        by_caller[caller].append(at)
    for times in by_caller.values():
        times.sort()
    answered = rows.filter(
        pc.and_(
            pc.and_(pc.equal(rows["outcome"], "answered"), pc.is_valid(rows["agent_identity"])),
            pc.and_(
                pc.is_valid(rows["callid"]),
                pc.less(rows["event_at"], pa.scalar(end, rows.schema.field("event_at").type)),
            ),
        )
    )
    surveys = read("surveys", ["callid", "score", "scale_max"], end + timedelta(days=repeat_days))
    low: dict[str, float] = {}
    for call_id, score, scale in zip(
        *(surveys.column(c).to_pylist() for c in surveys.column_names), strict=True
    ):
        if call_id and score is not None and scale:
            low[call_id] = min(low.get(call_id, 1.0), score / scale)
    feedback = read("feedback", ["callid", "kind", "valid"], end + timedelta(days=90))
    complained = {
        call_id
        for call_id, kind, valid in zip(
            *(feedback.column(c).to_pylist() for c in feedback.column_names), strict=True
        )
        if call_id and kind == "complaint" and valid is not False
    }
    # Few identities answer many calls: each is resolved once.
    resolve = cache(org_service.identity_resolver(session=session))
    window_us = repeat_days * 86_400_000_000
    columns = {
        name: answered.column(name).to_pylist()
        for name in answered.column_names
        if name != "event_at"
    }
    columns["event_at"] = micros(answered)
    order = sorted(
        range(answered.num_rows),
        key=lambda i: (columns["event_at"][i], columns["callid"][i], columns["key"][i]),
    )
    chosen: dict[str, CallFacts] = {}
    for i in order:
        call_id = columns["callid"][i]
        if call_id in chosen:
            continue
        agent_id = resolve(columns["agent_identity"][i])
        if agent_id is None:
            continue
        at = columns["event_at"][i]
        caller = columns["caller_hash"][i]
        times = by_caller.get(caller, []) if caller is not None else []
        later = bisect_right(times, at)
        chosen[call_id] = CallFacts(
            call_id=call_id,
            agent_id=agent_id,
            queue=columns["queue"][i] or "",
            event_at=EPOCH + timedelta(microseconds=at),
            wait_s=columns["wait_s"][i],
            talk_s=columns["talk_s"][i],
            transferred=bool(columns["transferred"][i]),
            caller_hash=caller,
            survey_share=low.get(call_id),
            complaint=call_id in complained,
            repeat_caller=later < len(times) and times[later] <= at + window_us,
        )
    return list(chosen.values())


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- stored samples --------------------------------------------------------------------------


def attach_evaluations(*, session: Session, evaluations: Mapping[int, QaEvaluation]) -> None:
    """Mark sampled calls (by id) as evaluated by the evaluations made of them elsewhere than
    the workspace, which does this itself."""
    for sampled_id, evaluation in evaluations.items():
        sampled = session.get(QaSampledCall, sampled_id)
        if sampled is None:
            raise NotFound("call not found")
        sampled.evaluator_user_id = evaluation.evaluator_user_id
        sampled.evaluation_id = evaluation.id
    session.flush()


def qa_evaluators(*, session: Session) -> list[Evaluator]:
    """Active users with the qa role, the teams they lead or belong to, and their open
    assignments (assigned in any sample, not submitted)."""
    users = [
        u for u in accounts_service.list_users(session=session) if "qa" in u.roles and u.is_active
    ]
    own = {
        a.id: a.team_code
        for a in org_service.agents_by_ids(
            session=session, agent_ids={u.agent_id for u in users if u.agent_id is not None}
        )
    }
    submitted = select(QaEvaluation.id).where(QaEvaluation.status == "submitted").scalar_subquery()
    open_counts = dict(
        session.execute(
            select(QaSampledCall.evaluator_user_id, func.count())
            .where(
                QaSampledCall.evaluator_user_id.is_not(None),
                QaSampledCall.evaluation_id.is_(None)
                | QaSampledCall.evaluation_id.not_in(submitted),
            )
            .group_by(QaSampledCall.evaluator_user_id)
        ).all()
    )
    return [
        Evaluator(
            user_id=u.id,
            username=u.username,
            teams=frozenset(u.led_teams) | _own_team(own, u.agent_id),
            open_assignments=open_counts.get(u.id, 0),
            agent_id=u.agent_id,
        )
        for u in users
    ]


def _own_team(teams: Mapping[int, str | None], agent_id: int | None) -> frozenset[str]:
    team = teams.get(agent_id) if agent_id is not None else None
    return frozenset([team]) if team else frozenset()


def _taken_calls(session: Session, start: datetime, end: datetime) -> set[str]:
    """Call ids of the period already evaluated or already in a sample."""
    evaluated = session.scalars(
        select(QaEvaluation.call_id).where(
            QaEvaluation.call_at >= start, QaEvaluation.call_at < end
        )
    )
    sampled = session.scalars(
        select(QaSampledCall.call_id).where(
            QaSampledCall.call_at >= start, QaSampledCall.call_at < end
        )
    )
    return {*evaluated, *sampled}


def draw_sample(
    *,
    session: Session,
    settings: Settings,
    period: Period,
    seed: int | None = None,
    per_agent: int | None = None,
    rules: SamplingRules | None = None,
    blind: bool = False,
    exclude_own_team: bool = False,
    form_version_id: int | None = None,
    by: User | None = None,
) -> QaSample:
    """Draw the period's sample (see the module docstring), assign it and store it with its
    seed and rules."""
    chosen_rules = rules or SamplingRules(repeat_days=settings.fcr_window_days)
    target = DEFAULT_PER_AGENT if per_agent is None else per_agent
    if not 0 <= target <= MAX_PER_AGENT:
        raise InvalidInput(
            "calls per agent must be 0 to {most}, not {value}", most=MAX_PER_AGENT, value=target
        )
    if seed is None:
        seed = secrets.randbelow(SEED_LIMIT)
    elif not 0 <= seed <= SEED_LIMIT:
        raise InvalidInput("the seed must be 0 to {most}", most=SEED_LIMIT)
    calls = period_calls(
        session=session, settings=settings, period=period, repeat_days=chosen_rules.repeat_days
    )
    if not calls:
        raise InvalidInput("no answered calls of known agents in {period}", period=period.label)
    start, end = period.bounds_utc(settings.tz)
    taken = _taken_calls(session, start, end)
    open_calls = [call for call in calls if call.call_id not in taken]
    agents = org_service.agents_by_ids(session=session, agent_ids={c.agent_id for c in calls})
    drawn = plan_draw(
        open_calls,
        seed=seed,
        per_agent=target,
        rules=chosen_rules,
        agent_keys={a.id: a.employee_no for a in agents},
        zone=settings.tz,
        all_calls=calls,
    )
    if not drawn:
        raise InvalidInput(
            "nothing left to draw in {period}: its calls are already sampled or evaluated",
            period=period.label,
        )
    assignments = assign(
        drawn,
        evaluators=qa_evaluators(session=session),
        agent_teams={a.id: a.team_code for a in agents},
        seed=seed,
        exclude_own_team=exclude_own_team,
    )
    stored_rules = {
        **chosen_rules.model_dump(),
        "per_agent": target,
        "exclude_own_team": exclude_own_team,
    }
    if form_version_id is None:
        current = quality_service.current_form_version(
            session=session, code=quality_service.default_form().code
        )
        form_version_id = current.id if current is not None else None
    sample = QaSample(
        period_label=period.label,
        seed=seed,
        rules_json=json.dumps(stored_rules, sort_keys=True),
        form_version_id=form_version_id,
        blind=blind,
        created_by_user_id=by.id if by is not None else None,
    )
    session.add(sample)
    session.flush()
    session.add_all(
        QaSampledCall(
            sample_id=sample.id,
            agent_id=a.drawn.call.agent_id,
            call_id=a.drawn.call.call_id,
            call_at=a.drawn.call.event_at,
            queue=a.drawn.call.queue[:80],
            reason=a.drawn.reason,
            evaluator_user_id=a.evaluator_user_id,
        )
        for a in assignments
    )
    session.flush()
    return sample


@dataclass(frozen=True)
class SampledCallRow:
    """A sampled call as the samples page and the CLI show it."""

    call_id: str
    call_at: datetime
    queue: str
    reason: str
    agent_id: int
    agent: str  # employee number, or a pseudonym in a blind sample
    agent_name: str
    evaluator: str | None
    evaluated: bool


@dataclass(frozen=True)
class SampleSummary:
    """A stored sample: its draw, counts per evaluator and reason, and its calls."""

    id: int
    period: str
    seed: int
    blind: bool
    rules: dict[str, Any]
    created_at: datetime
    created_by: str | None
    calls: list[SampledCallRow]
    by_evaluator: dict[str, int] = field(default_factory=dict)
    by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def unassigned(self) -> int:
        """Calls no evaluator could take."""
        return sum(1 for call in self.calls if call.evaluator is None)

    @property
    def agents(self) -> int:
        """Agents with calls in the sample."""
        return len({call.agent_id for call in self.calls})

    def as_json(self) -> dict[str, Any]:
        """The shape `agentladder quality sample --format json` prints (docs/quality.md)."""
        return {
            "sample": self.id,
            "period": self.period,
            "seed": self.seed,
            "blind": self.blind,
            "rules": self.rules,
            "agents": self.agents,
            "calls": len(self.calls),
            "unassigned": self.unassigned,
            "reasons": self.by_reason,
            "evaluators": [
                {"evaluator": name, "calls": count} for name, count in self.by_evaluator.items()
            ],
            "sampled_calls": [
                {
                    "call": call.call_id,
                    "call_at": call.call_at.isoformat(),
                    "queue": call.queue,
                    "agent": call.agent,
                    "reason": call.reason,
                    "evaluator": call.evaluator,
                }
                for call in self.calls
            ],
        }


def get_sample_or_raise(*, session: Session, sample_id: int) -> QaSample:
    """The sample or NotFound."""
    sample = session.get(QaSample, sample_id)
    if sample is None:
        raise NotFound("sample not found")
    return sample


def sample_summary(
    *,
    session: Session,
    sample_id: int,
    reveal_agents: bool = True,
    evaluator: str | None = None,
) -> SampleSummary:
    """A sample with its calls (only `evaluator`'s, when given); in a blind sample agents
    show as pseudonyms unless `reveal_agents`. Counts always cover the whole sample."""
    sample = get_sample_or_raise(session=session, sample_id=sample_id)
    names = accounts_service.user_names(session=session, usernames_only=True)
    agents = {
        a.id: a
        for a in org_service.agents_by_ids(
            session=session, agent_ids={c.agent_id for c in sample.calls}
        )
    }
    submitted = set(
        session.scalars(
            select(QaEvaluation.id).where(
                QaEvaluation.id.in_([c.evaluation_id for c in sample.calls if c.evaluation_id]),
                QaEvaluation.status == "submitted",
            )
        )
    )
    hide = sample.blind and not reveal_agents
    # Numbered in an order drawn from the seed: neither employee numbers nor ids show through.
    shuffled = sorted(agents)
    random.Random(f"{sample.seed}:blind").shuffle(shuffled)  # noqa: S311
    numbers = {agent_id: number for number, agent_id in enumerate(shuffled, start=1)}
    pseudonyms = {agent_id: f"#{number}" for agent_id, number in numbers.items()}
    rows = [
        SampledCallRow(
            call_id=c.call_id,
            call_at=c.call_at,
            queue=c.queue,
            reason=c.reason,
            agent_id=c.agent_id,
            agent=pseudonyms[c.agent_id] if hide else agents[c.agent_id].employee_no,
            agent_name="" if hide else agents[c.agent_id].name,
            evaluator=names.get(c.evaluator_user_id) if c.evaluator_user_id else None,
            evaluated=c.evaluation_id in submitted,
        )
        for c in sample.calls
    ]
    rows.sort(
        key=lambda r: (
            numbers[r.agent_id] if hide else agents[r.agent_id].employee_no,
            TARGETED_REASONS.index(r.reason)
            if r.reason in TARGETED_REASONS
            else len(TARGETED_REASONS),
            r.call_at,
        )
    )
    by_evaluator = Counter(row.evaluator or "" for row in rows if row.evaluator)
    by_reason = Counter(row.reason for row in rows)
    return SampleSummary(
        id=sample.id,
        period=sample.period_label,
        seed=sample.seed,
        blind=sample.blind,
        rules=json.loads(sample.rules_json),
        created_at=sample.created_at,
        created_by=names.get(sample.created_by_user_id) if sample.created_by_user_id else None,
        calls=[row for row in rows if evaluator is None or row.evaluator == evaluator],
        by_evaluator=dict(sorted(by_evaluator.items())),
        by_reason={r: by_reason[r] for r in ("random", *TARGETED_REASONS) if by_reason[r]},
    )


@dataclass(frozen=True)
class SampleListRow:
    """One sample in the list: when, for which period, how far evaluated."""

    id: int
    period: str
    seed: int
    blind: bool
    created_at: datetime
    created_by: str | None
    calls: int
    assigned: int
    evaluated: int


def list_samples(*, session: Session, limit: int = 200) -> list[SampleListRow]:
    """The latest samples first."""
    samples = list(session.scalars(select(QaSample).order_by(QaSample.id.desc()).limit(limit)))
    names = accounts_service.user_names(session=session, usernames_only=True)
    submitted = set(
        session.scalars(
            select(QaSampledCall.id)
            .join(QaEvaluation, QaEvaluation.id == QaSampledCall.evaluation_id)
            .where(
                QaSampledCall.sample_id.in_([s.id for s in samples]),
                QaEvaluation.status == "submitted",
            )
        )
    )
    return [
        SampleListRow(
            id=s.id,
            period=s.period_label,
            seed=s.seed,
            blind=s.blind,
            created_at=s.created_at,
            created_by=names.get(s.created_by_user_id) if s.created_by_user_id else None,
            calls=len(s.calls),
            assigned=sum(1 for c in s.calls if c.evaluator_user_id is not None),
            evaluated=sum(1 for c in s.calls if c.id in submitted),
        )
        for s in samples
    ]
