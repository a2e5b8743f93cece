"""The draw itself, without storage: from a period's calls, a seed and the rules, which calls
each agent gets and why, and which evaluator each call goes to. The same inputs always give
the same draw (`quality.sampling` reads the calls and stores the sample; its docstring gives
the rules)."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

# The largest target one draw accepts per agent.
MAX_PER_AGENT = 100
# Targeted rules in the order a call's reason is chosen.
TARGETED_REASONS = (
    "complaint",
    "low_survey",
    "repeat_caller",
    "transfer",
    "short_talk",
    "long_talk",
)


class SamplingRules(BaseModel):
    """The targeted rules of a draw, stored with the sample as JSON."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    complaint: bool = True
    low_survey: bool = True
    # A survey answer at most this share of its scale is low (2 of 5, 4 of 10).
    low_survey_share: float = Field(default=0.4, ge=0, le=1)
    repeat_caller: bool = True
    repeat_days: int = Field(default=7, ge=1, le=90)
    transfer: bool = True
    short_talk: bool = True
    # Seconds, else the percentile of the queue's talk times in the period.
    short_talk_s: float | None = Field(default=None, ge=0)
    short_talk_percentile: float = Field(default=5, gt=0, lt=50)
    long_talk: bool = True
    long_talk_s: float | None = Field(default=None, ge=0)
    long_talk_percentile: float = Field(default=95, gt=50, lt=100)
    # Targeted calls per agent, on top of the random ones.
    max_targeted: int = Field(default=2, ge=0, le=MAX_PER_AGENT)


@dataclass(frozen=True)
class CallFacts:
    """One answered call as QA sees it."""

    call_id: str
    agent_id: int
    queue: str
    event_at: datetime
    wait_s: float | None
    talk_s: float | None
    transferred: bool
    caller_hash: str | None
    survey_share: float | None = None  # the lowest survey answer / its scale
    complaint: bool = False
    repeat_caller: bool = False


@dataclass(frozen=True)
class DrawnCall:
    """A call picked for an agent and why."""

    call: CallFacts
    reason: str


@dataclass(frozen=True)
class Assignment:
    """A drawn call and the evaluator it goes to (None: nobody eligible)."""

    drawn: DrawnCall
    evaluator_user_id: int | None


@dataclass(frozen=True)
class Evaluator:
    """A QA evaluator with the team codes they lead or belong to, and their own agent record
    (an evaluator never scores their own calls)."""

    user_id: int
    username: str
    teams: frozenset[str]
    open_assignments: int
    agent_id: int | None = None


def _percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..100) of sorted values."""
    rank = max(1, math.ceil(share / 100 * len(values)))
    return values[min(rank, len(values)) - 1]


# --- drawing (pure: the same calls, seed and rules give the same draw) -----------------------

# Fewer answered calls than this in a queue: its talk-time percentiles are not used.
MIN_CALLS_FOR_PERCENTILE = 20


@dataclass(frozen=True)
class TalkThresholds:
    """A queue's very short and very long talk, in seconds (None: the rule is off there)."""

    short_s: float | None
    long_s: float | None


def talk_thresholds(calls: Iterable[CallFacts], rules: SamplingRules) -> dict[str, TalkThresholds]:
    """Per queue: the rules' seconds, else the percentiles of the queue's talk times."""
    talk: dict[str, list[float]] = defaultdict(list)
    for call in calls:
        if call.talk_s is not None:
            talk[call.queue].append(call.talk_s)
    thresholds = {}
    for queue, values in talk.items():
        values.sort()
        enough = len(values) >= MIN_CALLS_FOR_PERCENTILE
        short = rules.short_talk_s
        if short is None and enough:
            short = _percentile(values, rules.short_talk_percentile)
        long = rules.long_talk_s
        if long is None and enough:
            long = _percentile(values, rules.long_talk_percentile)
        thresholds[queue] = TalkThresholds(
            short if rules.short_talk else None, long if rules.long_talk else None
        )
    return thresholds


def targeted_reason(
    call: CallFacts, rules: SamplingRules, thresholds: Mapping[str, TalkThresholds]
) -> str | None:
    """The first targeted rule the call meets, or None."""
    limits = thresholds.get(call.queue, TalkThresholds(None, None))
    checks = {
        "complaint": rules.complaint and call.complaint,
        "low_survey": rules.low_survey
        and call.survey_share is not None
        and call.survey_share <= rules.low_survey_share,
        "repeat_caller": rules.repeat_caller and call.repeat_caller,
        "transfer": rules.transfer and call.transferred,
        "short_talk": limits.short_s is not None
        and call.talk_s is not None
        and call.talk_s <= limits.short_s,
        "long_talk": limits.long_s is not None
        and call.talk_s is not None
        and call.talk_s >= limits.long_s,
    }
    return next((reason for reason in TARGETED_REASONS if checks[reason]), None)


def allocate(sizes: Mapping[Any, int], target: int) -> dict[Any, int]:
    """Calls per stratum: one each, the rest in proportion to the sizes (largest remainders),
    never more than a stratum holds. Needs fewer strata than `target` and more calls."""
    alloc = dict.fromkeys(sizes, 1)
    remaining = target - len(sizes)
    while remaining > 0:
        room = [key for key in sorted(sizes) if alloc[key] < sizes[key]]
        if not room:
            break
        total = sum(sizes[key] for key in room)
        quotas = {key: remaining * sizes[key] / total for key in room}
        given = 0
        for key in room:
            whole = min(int(quotas[key]), sizes[key] - alloc[key])
            alloc[key] += whole
            given += whole
        left = remaining - given
        by_remainder = sorted(room, key=lambda key: -(quotas[key] - int(quotas[key])))
        for key in by_remainder:
            if left == 0:
                break
            if alloc[key] < sizes[key]:
                alloc[key] += 1
                left -= 1
        remaining = left
    return alloc


def stratified_pick(
    calls: Sequence[CallFacts], target: int, rng: random.Random, zone: ZoneInfo
) -> list[CallFacts]:
    """`target` calls at random, stratified by queue and ISO week (in the centre's zone)."""
    if target <= 0:
        return []
    if len(calls) <= target:
        return list(calls)
    strata: dict[tuple[str, int, int], list[CallFacts]] = defaultdict(list)
    for call in calls:
        year, week, _ = call.event_at.astimezone(zone).isocalendar()
        strata[(call.queue, year, week)].append(call)
    keys = sorted(strata)
    if len(keys) >= target:
        # More strata than calls: strata drawn in proportion to their size, one call each.
        chosen: list[tuple[str, int, int]] = []
        left = list(keys)
        for _ in range(target):
            point = rng.random() * sum(len(strata[key]) for key in left)
            for key in left:
                point -= len(strata[key])
                if point < 0:
                    break
            chosen.append(key)
            left.remove(key)
        return [rng.choice(strata[key]) for key in sorted(chosen)]
    counts = allocate({key: len(strata[key]) for key in keys}, target)
    return [call for key in keys for call in rng.sample(strata[key], counts[key])]


def draw_agent(
    calls: Sequence[CallFacts],
    *,
    per_agent: int,
    rules: SamplingRules,
    thresholds: Mapping[str, TalkThresholds],
    rng: random.Random,
    zone: ZoneInfo,
) -> list[DrawnCall]:
    """One agent's draw: targeted calls (at most `rules.max_targeted`, by rule order), then
    `per_agent` stratified random calls from the rest."""
    by_reason: dict[str, list[CallFacts]] = defaultdict(list)
    for call in calls:
        reason = targeted_reason(call, rules, thresholds)
        if reason is not None:
            by_reason[reason].append(call)
    targeted: list[DrawnCall] = []
    for reason in TARGETED_REASONS:
        candidates = by_reason.get(reason, [])
        wanted = min(rules.max_targeted - len(targeted), len(candidates))
        if wanted <= 0:
            continue
        targeted += [DrawnCall(call, reason) for call in rng.sample(candidates, wanted)]
    taken = {drawn.call.call_id for drawn in targeted}
    rest = [call for call in calls if call.call_id not in taken]
    random_part = [
        DrawnCall(call, "random") for call in stratified_pick(rest, per_agent, rng, zone)
    ]
    return targeted + sorted(random_part, key=lambda d: (d.call.event_at, d.call.call_id))


def plan_draw(
    calls: Sequence[CallFacts],
    *,
    seed: int,
    per_agent: int,
    rules: SamplingRules,
    agent_keys: Mapping[int, str],
    zone: ZoneInfo,
    all_calls: Sequence[CallFacts] | None = None,
) -> list[DrawnCall]:
    """Every agent's draw from the calls still open to sampling; `all_calls` (default: the
    same) sets the queues' talk-time percentiles. Agents in order of `agent_keys`' value."""
    thresholds = talk_thresholds(all_calls if all_calls is not None else calls, rules)
    per: dict[int, list[CallFacts]] = defaultdict(list)
    for call in sorted(calls, key=lambda c: (c.event_at, c.call_id)):
        per[call.agent_id].append(call)
    drawn: list[DrawnCall] = []
    for agent_id in sorted(per, key=lambda a: (agent_keys.get(a, ""), a)):
        rng = random.Random(f"{seed}:{agent_keys.get(agent_id, agent_id)}")  # noqa: S311 (reproducible draws)
        drawn += draw_agent(
            per[agent_id],
            per_agent=per_agent,
            rules=rules,
            thresholds=thresholds,
            rng=rng,
            zone=zone,
        )
    return drawn


def assign(
    drawn: Sequence[DrawnCall],
    *,
    evaluators: Sequence[Evaluator],
    agent_teams: Mapping[int, str | None],
    seed: int,
    exclude_own_team: bool = False,
) -> list[Assignment]:
    """Each call to the eligible evaluator with the fewest open assignments so far (ties in a
    seeded order); None when nobody is eligible. Nobody is eligible for their own calls."""
    order = sorted(evaluators, key=lambda e: e.user_id)
    random.Random(f"{seed}:evaluators").shuffle(order)  # noqa: S311
    rank = {e.user_id: position for position, e in enumerate(order)}
    load = {e.user_id: e.open_assignments for e in evaluators}
    assignments = []
    for item in drawn:
        team = agent_teams.get(item.call.agent_id)
        eligible = [
            e
            for e in order
            if e.agent_id != item.call.agent_id
            and not (exclude_own_team and team is not None and team in e.teams)
        ]
        if not eligible:
            assignments.append(Assignment(item, None))
            continue
        chosen = min(eligible, key=lambda e: (load[e.user_id], rank[e.user_id]))
        load[chosen.user_id] += 1
        assignments.append(Assignment(item, chosen.user_id))
    return assignments
