"""The decision rules: from an agent's scorecard and standing to promote, hold, demote or
insufficient_evidence, with every gate and the reasons in words.

Pure functions: the service feeds them what the database holds, the backtest what it carries
in memory from one period to the next. Semantics (see the policy notes):

* evidence a policy pools over periods counts as one sample (minimums included);
* too little evidence holds the level and pauses both streaks (the next period with enough
  evidence continues them) or, per policy, resets them; it never moves anyone;
* an agent qualifies for the next level when the composite (or, with a confidence, its lower
  confidence bound from the sample sizes) reaches its entry score plus the band and every
  entry gate passes; `consecutive_periods` qualifying periods in a row promote
  one level (never more, whatever the agent would qualify for);
* an agent below the current level's entry score minus the margin for `consecutive_periods`
  in a row is demoted one level, except in the protected periods after a promotion;
* a quota caps the share of active agents holding a level: the best composites enter, ties
  go to longer tenure at the current level, then the earlier hire;
* a trigger (a metric counted this period, such as a compliance-critical fatal error) opens a
  review, demotes, or does nothing, per policy; an expired certificate required by the current
  level blocks promotion or demotes, per policy.

The rules name no metric: the policy's gates, minimums and triggers say which metrics they
read, and the metric registry says what each shorthand key means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from agentladder.i18n import N_, N_plural
from agentladder.ladder.decisions.scoring import PeriodScores
from agentladder.ladder.policy import schemas as policy_schemas
from agentladder.ladder.policy import service as ladder_policy
from agentladder.ladder.policy.schemas import EntrySpec, LadderPolicy

PROMOTE, HOLD, DEMOTE, INSUFFICIENT = "promote", "hold", "demote", "insufficient_evidence"
PROMOTED = N_("Qualified for {needed} periods in a row: promoted one level to {level}.")
# Sentences the rules no longer write but decisions stored earlier still hold: kept in the
# catalog so that those decisions read in Chinese as they did.
STORED_ONLY_SENTENCES = (
    N_("Quota of {level} full ({capacity} places): ranked {rank} of {candidates}."),
    N_("{months} more months of tenure"),
    N_("{count} more qualifying periods in a row"),
    N_("{count} more observations of {metric}"),
)
# A month of a windowed metric: its value and sample size (None: nothing recorded).
MonthValue = tuple[float | None, int]


@dataclass(frozen=True)
class Standing:
    """Where an agent stands when a period closes, and what the last period carried over."""

    agent_id: int
    hire_date: date
    level: str  # held on the period's last day
    level_since: date
    entered_by_promotion: bool
    certifications: frozenset[str]  # valid on the period's last day
    qualify_streak: int = 0  # previous periods in a row qualifying for the next level
    floor_streak: int = 0  # previous periods in a row below the current level's floor
    # Metrics the gates and triggers read over months: each month's value and sample size,
    # the period's last month first (as far back as the policy looks).
    windows: dict[str, tuple[MonthValue, ...]] = field(default_factory=dict)

    def window_value(self, metric_id: str, months: int, count: bool) -> float | None:
        """A windowed metric over its first `months` months: counts add up (a month without
        a record counts 0); other values are averaged by sample size (None without any)."""
        values = self.windows.get(metric_id, ())[:months]
        if count:
            return float(sum(int(value or 0) for value, _ in values))
        weighted = [(value, n) for value, n in values if value is not None and n > 0]
        total = sum(n for _, n in weighted)
        return sum(value * n for value, n in weighted) / total if total else None

    def this_period(self, metric_id: str) -> int:
        """A counted metric's count in the period's last month."""
        values = self.windows.get(metric_id, ())
        return int(values[0][0] or 0) if values else 0


@dataclass(frozen=True)
class Gate:
    """One condition with what it requires, what the agent has, and whether it passed."""

    gate: str
    required: Any
    actual: Any
    passed: bool
    level: str = ""  # the level the gate is for ("" for evidence)

    def as_dict(self) -> dict[str, Any]:
        """The gate as the JSON output and stored detail give it."""
        return {
            "gate": self.gate,
            "level": self.level,
            "required": self.required,
            "actual": self.actual,
            "passed": self.passed,
        }


@dataclass(frozen=True)
class Reason:
    """A sentence of an explanation: an English msgid and its parameters; with `plural`, the
    plural msgid, the form chosen by the `count` parameter."""

    message: str
    params: dict[str, Any] = field(default_factory=dict)
    plural: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Stored form (sentences without a plural keep the shape stored before)."""
        stored = {"message": self.message, "params": self.params}
        if self.plural:
            stored["plural"] = self.plural
        return stored


def counted(forms: tuple[str, str], **params: Any) -> Reason:
    """A sentence whose form follows its `count` parameter."""
    return Reason(forms[0], params, forms[1])


@dataclass
class Outcome:
    """The rules' verdict for one agent and period, before quotas and approval."""

    agent_id: int
    from_level: str
    to_level: str
    decision: str
    composite: float | None
    gates: list[Gate]
    reasons: list[Reason]
    gaps: list[Reason]
    qualify_streak: int
    floor_streak: int
    review: bool = False


def months_between(start: date, end: date) -> int:
    """Whole months from start to end (a hire on 15 March has 2 months on 14 May)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - (1 if end.day < start.day else 0)


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def evidence_gates(policy: LadderPolicy, card: PeriodScores) -> list[Gate]:
    """The evidence minimums, in the order the policy lists them."""
    gates = []
    for minimum in ladder_policy.sample_minimums(policy):
        sample = card.sample(minimum.metric)
        gates.append(Gate(minimum.name, minimum.required, sample, sample >= minimum.required))
    return gates


def _metric_gate(
    gate: policy_schemas.MetricGate, card: PeriodScores, standing: Standing, level: str
) -> Gate:
    if gate.window_months <= 1:
        reached = _round(card.value(gate.metric), 2)
        return Gate(gate.name, gate.required, reached, gate.passes(reached), level)
    value = standing.window_value(gate.metric, gate.window_months, gate.counts)
    actual: float | int | None = int(value) if gate.counts and value is not None else value
    return Gate(gate.name, gate.required, actual, gate.passes(value), level)


def entry_gates(
    policy: LadderPolicy,
    level: str,
    entry: EntrySpec,
    card: PeriodScores,
    standing: Standing,
    period_end: date,
) -> list[Gate]:
    """Every gate of entering `level` (quotas apart: they depend on everyone)."""
    needed = entry.min_score + policy.promotion.band
    confidence = policy.promotion.confidence
    # With a confidence, the composite must clear the entry score by its sampling error too:
    # a noisy month of thin evidence does not qualify on luck.
    gate = "score_lower_bound" if confidence > 0 else "score"
    reached = _round(card.lower_bound(confidence), 2)
    gates = [Gate(gate, needed, reached, reached is not None and reached >= needed, level)]
    tenure = months_between(standing.hire_date, period_end)
    if entry.min_tenure_months:
        gates.append(
            Gate(
                "tenure_months",
                entry.min_tenure_months,
                tenure,
                tenure >= entry.min_tenure_months,
                level,
            )
        )
    for certification in entry.certifications:
        held = certification in standing.certifications
        gates.append(Gate("certification", certification, held, held, level))
    for metric_gate in ladder_policy.entry_gates(entry):
        gates.append(_metric_gate(metric_gate, card, standing, level))
    return gates


# The gap sentences of the gates every policy has; a metric's gates bring their own.
TENURE_GAP = N_plural("{count} more month of tenure", "{count} more months of tenure")
STREAK_GAP = N_plural(
    "{count} more qualifying period in a row", "{count} more qualifying periods in a row"
)
_GAPS = {
    "certification": N_("certification: {certification}"),
    "current_certifications": N_("renew the certification of the current level: {certifications}"),
}
GENERIC_GAP = N_("{metric} {needed} (now {actual})")
GENERIC_SAMPLE_GAP = N_plural(
    "{count} more observation of {metric}", "{count} more observations of {metric}"
)


def _gap(
    gate: Gate, card: PeriodScores, sentences: dict[str, tuple[str, str, str, str]]
) -> Reason | None:
    if gate.passed:
        return None
    if gate.gate == "score":
        points = gate.required - (gate.actual or 0.0)
        return Reason(
            N_("+{points} points (composite {needed})"),
            {"points": round(points, 1), "needed": gate.required},
        )
    if gate.gate == "score_lower_bound":
        points = gate.required - (gate.actual or 0.0)
        return Reason(
            N_("+{points} points on the composite's lower bound {needed} (margin {margin})"),
            {
                "points": round(points, 1),
                "needed": gate.required,
                "margin": round((card.composite or 0.0) - (gate.actual or 0.0), 1),
            },
        )
    if gate.gate == "tenure_months":
        return counted(TENURE_GAP, count=gate.required - gate.actual)
    if gate.gate == "certification":
        return Reason(_GAPS["certification"], {"certification": gate.required})
    if gate.gate == "current_certifications":
        return Reason(_GAPS["current_certifications"], {"certifications": gate.actual})
    return _metric_gap(gate, sentences)


def _metric_gap(gate: Gate, sentences: dict[str, tuple[str, str, str, str]]) -> Reason | None:
    # A metric's gate or minimum: its declared sentence, else the generic one.
    kind, metric, message, plural = sentences.get(gate.gate, ("", "", "", ""))
    if not kind:
        return None
    if kind in ("min_samples", "min_window"):
        params: dict[str, Any] = {"count": gate.required - (gate.actual or 0)}
    elif kind == "no_events":
        params = {"count": gate.actual}
    else:
        params = {"needed": gate.required, "actual": gate.actual}
    if message in (GENERIC_GAP, GENERIC_SAMPLE_GAP[0]):
        params = {key: _plain(value) for key, value in params.items()}
        params["metric"] = metric
    return Reason(message, params, plural if "count" in params else "")


def _plain(value: Any) -> Any:
    """A whole float as an integer (4.0 -> 4), for sentences."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def gap_sentences(policy: LadderPolicy) -> dict[str, tuple[str, str, str, str]]:
    """Gate name -> (kind, metric, gap msgid, its plural msgid or "") for the gates on metrics
    a policy can have."""
    sentences: dict[str, tuple[str, str, str, str]] = {}
    for minimum in ladder_policy.sample_minimums(policy):
        singular, plural = (minimum.gap, minimum.gap_plural) if minimum.gap else GENERIC_SAMPLE_GAP
        sentences[minimum.name] = ("min_samples", minimum.metric, singular, plural)
    for entry in policy.promotion.entry.values():
        for gate in ladder_policy.entry_gates(entry):
            sentences[gate.name] = (
                gate.kind,
                gate.metric,
                gate.gap or GENERIC_GAP,
                gate.gap_plural,
            )
    return sentences


def _score_reasons(card: PeriodScores) -> list[Reason]:
    if card.composite is None:
        return [Reason(N_("No scored evidence this period."))]
    reasons = [Reason(N_("Composite score {score}."), {"score": round(card.composite, 1)})]
    if card.composite_se > 0:
        reasons.append(
            Reason(
                N_("Its standard error from the sample sizes is {se} points."),
                {"se": round(card.composite_se, 1)},
            )
        )
    for metric_id, pooled in card.pooled.items():
        reasons.append(
            Reason(
                N_("{metric} pooled over {periods}: {sample} observations."),
                {
                    "metric": metric_id,
                    "periods": [
                        f"{p['period']} ×{_plain(round(p['weight'], 3))}" for p in pooled["periods"]
                    ],
                    "sample": pooled["sample"],
                },
            )
        )
    missing = [m.metric_id for c in card.components for m in c.metrics if not m.used]
    if missing:
        reasons.append(
            Reason(
                N_("No data for {metrics}: the other metrics' weights were scaled up."),
                {"metrics": ", ".join(missing)},
            )
        )
    return reasons


def decide(
    policy: LadderPolicy,
    card: PeriodScores,
    standing: Standing,
    period_end: date,
    protected: bool,
) -> Outcome:
    """One agent's outcome for a period (before quotas)."""
    levels = policy.level_ids()
    index = levels.index(standing.level)
    target = levels[index + 1] if index + 1 < len(levels) else None
    evidence = evidence_gates(policy, card)
    sentences = gap_sentences(policy)
    reasons = _score_reasons(card)
    gaps = [gap for gate in evidence if (gap := _gap(gate, card, sentences)) is not None]
    gates = list(evidence)
    current_entry = policy.promotion.entry.get(standing.level)
    if not all(gate.passed for gate in evidence):
        paused = policy.evidence.on_insufficient == "pause"
        if not paused:
            reasons.append(Reason(N_("Not enough evidence this period: the level is held.")))
        elif standing.qualify_streak or standing.floor_streak:
            reasons.append(
                Reason(
                    N_(
                        "Not enough evidence this period: the level is held and the streaks "
                        "are paused ({qualify} qualifying, {floor} below the floor, kept for "
                        "the next period)."
                    ),
                    {"qualify": standing.qualify_streak, "floor": standing.floor_streak},
                )
            )
        else:
            reasons.append(
                Reason(N_("Not enough evidence this period: the level is held (streaks paused)."))
            )
        if target is not None:
            entry = policy.promotion.entry[target]
            target_gates = entry_gates(policy, target, entry, card, standing, period_end)
            gates += target_gates
            gaps += [
                gap for gate in target_gates if (gap := _gap(gate, card, sentences)) is not None
            ]
        return Outcome(
            standing.agent_id,
            standing.level,
            standing.level,
            INSUFFICIENT,
            card.composite,
            gates,
            reasons,
            gaps,
            standing.qualify_streak if paused else 0,
            standing.floor_streak if paused else 0,
        )

    # Certificates the current level requires, expired since.
    expired = [
        c
        for c in (current_entry.certifications if current_entry else [])
        if c not in standing.certifications
    ]
    fired = [
        trigger
        for trigger in ladder_policy.demotion_triggers(policy)
        if standing.this_period(trigger.metric) > trigger.above
    ]

    qualify_streak = 0
    if target is not None:
        entry = policy.promotion.entry[target]
        target_gates = entry_gates(policy, target, entry, card, standing, period_end)
        if expired and policy.demotion.expired_certification == "hold":
            target_gates.append(
                Gate("current_certifications", "valid", ", ".join(expired), False, standing.level)
            )
        gates += target_gates
        qualifies = all(gate.passed for gate in target_gates)
        qualify_streak = standing.qualify_streak + 1 if qualifies else 0
        gaps += [gap for gate in target_gates if (gap := _gap(gate, card, sentences)) is not None]
        if expired:
            reasons.append(
                Reason(
                    N_("Required certification expired: {certifications}."),
                    {"certifications": ", ".join(expired)},
                )
            )
        if qualifies:
            reasons.append(
                Reason(
                    N_("Qualified for {level} ({streak} of {needed} periods in a row)."),
                    {
                        "level": target,
                        # Held by a full quota, the streak runs past what is needed.
                        "streak": min(qualify_streak, policy.promotion.consecutive_periods),
                        "needed": policy.promotion.consecutive_periods,
                    },
                )
            )
            if qualify_streak < policy.promotion.consecutive_periods:
                gaps.append(
                    counted(STREAK_GAP, count=policy.promotion.consecutive_periods - qualify_streak)
                )
        else:
            failed = [gate.gate for gate in target_gates if not gate.passed]
            reasons.append(
                Reason(
                    N_("Not qualified for {level}: {failed}."),
                    {"level": target, "failed": ", ".join(failed)},
                )
            )

    floor_streak = 0
    floor = None
    if current_entry is not None and card.composite is not None:
        floor = current_entry.min_score - policy.demotion.margin
        if card.composite < floor:
            floor_streak = standing.floor_streak + 1
            reasons.append(
                Reason(
                    N_("Below the floor of {level} ({floor}) for {streak} of {needed} periods."),
                    {
                        "level": standing.level,
                        "floor": floor,
                        "streak": floor_streak,
                        "needed": policy.demotion.consecutive_periods,
                    },
                )
            )

    previous = levels[index - 1] if index > 0 else None
    demote_for: Reason | None = None
    if previous is not None:
        demoting = [trigger for trigger in fired if trigger.action == "demote"]
        if demoting:
            demote_for = _trigger_reason(demoting[0], "demote")
        elif expired and policy.demotion.expired_certification == "demote" and not protected:
            demote_for = Reason(
                N_("A certification the level requires expired: demoted one level.")
            )
        elif floor_streak >= policy.demotion.consecutive_periods:
            if protected:
                reasons.append(
                    Reason(N_("Protected after a recent promotion: no demotion this period."))
                )
            else:
                demote_for = Reason(
                    N_("Below the floor for {needed} periods in a row: demoted one level."),
                    {"needed": policy.demotion.consecutive_periods},
                )
    if demote_for is not None and previous is not None:
        reasons.append(demote_for)
        return Outcome(
            standing.agent_id,
            standing.level,
            previous,
            DEMOTE,
            card.composite,
            gates,
            reasons,
            gaps,
            0,
            0,
        )

    reviewing = [trigger for trigger in fired if trigger.action == "review"]
    review = bool(reviewing)
    if review:
        reasons.append(_trigger_reason(reviewing[0], "review"))
    if target is not None and qualify_streak >= policy.promotion.consecutive_periods:
        reasons.append(
            Reason(
                PROMOTED,
                {"needed": policy.promotion.consecutive_periods, "level": target},
            )
        )
        return Outcome(
            standing.agent_id,
            standing.level,
            target,
            PROMOTE,
            card.composite,
            gates,
            reasons,
            gaps,
            0,
            floor_streak,
            review,
        )
    return Outcome(
        standing.agent_id,
        standing.level,
        standing.level,
        HOLD,
        card.composite,
        gates,
        reasons,
        gaps,
        qualify_streak,
        floor_streak,
        review,
    )


def _trigger_reason(trigger: policy_schemas.Trigger, action: str) -> Reason:
    declared = trigger.demote_reason if action == "demote" else trigger.review_reason
    if declared:
        return Reason(declared)
    if action == "demote":
        message = N_("{metric} above {above} this period: demoted one level.")
    else:
        message = N_("{metric} above {above} this period: a review is open.")
    return Reason(message, {"metric": trigger.metric, "above": _plain(trigger.above)})


def _tie_break(
    outcome: Outcome, last_in: Outcome | None, seats: dict[int, QuotaSeat]
) -> Reason | None:
    """Which tie-break left the agent out, when their composite equals the last admitted."""
    if last_in is None or (outcome.composite or 0.0) != (last_in.composite or 0.0):
        return None
    mine, theirs = seats[outcome.agent_id], seats[last_in.agent_id]
    if mine.level_since != theirs.level_since:
        return Reason(
            N_(
                "Same composite as the last admitted, who has held the level longer (since {date})."
            ),
            {"date": theirs.level_since.isoformat()},
        )
    if mine.hire_date != theirs.hire_date:
        return Reason(
            N_(
                "Same composite and time at the level as the last admitted, hired earlier ({date})."
            ),
            {"date": theirs.hire_date.isoformat()},
        )
    return Reason(
        N_("Same composite, time at the level and hire date: the lower agent id went in.")
    )


@dataclass(frozen=True)
class QuotaSeat:
    """What breaks ties between candidates for a capped level."""

    agent_id: int
    composite: float
    level_since: date
    hire_date: date


def apply_quotas(
    policy: LadderPolicy,
    outcomes: dict[int, Outcome],
    seats: dict[int, QuotaSeat],
    active_agents: int,
) -> None:
    """Hold the promotions a level's quota has no room for (best composites enter; ties:
    longer at the current level, then the earlier hire). Changes `outcomes` in place."""
    for level, entry in policy.promotion.entry.items():
        if entry.quota is None:
            continue
        capacity = math.floor(entry.quota * active_agents)
        # Holders after the period besides the newcomers: those staying, those demoted into it.
        staying = sum(1 for o in outcomes.values() if o.to_level == level and o.decision != PROMOTE)
        candidates = [o for o in outcomes.values() if o.decision == PROMOTE and o.to_level == level]
        if not candidates:
            continue
        candidates.sort(
            key=lambda o: (
                -(o.composite or 0.0),
                seats[o.agent_id].level_since,
                seats[o.agent_id].hire_date,
                o.agent_id,
            )
        )
        room = max(0, capacity - staying)
        last_in = candidates[room - 1] if 0 < room <= len(candidates) else None
        for rank, outcome in enumerate(candidates, start=1):
            admitted = rank <= room
            # The place the agent would take: holders staying, then candidates by rank.
            outcome.gates.append(Gate("quota", capacity, staying + rank, admitted, level))
            if admitted:
                continue
            outcome.decision = HOLD
            outcome.to_level = outcome.from_level
            # Still qualified: the streak stays, so the agent enters when a place opens.
            outcome.qualify_streak = policy.promotion.consecutive_periods
            # The rule's promotion sentence no longer holds: say what happened instead.
            outcome.reasons = [r for r in outcome.reasons if r.message != PROMOTED]
            outcome.reasons.append(
                Reason(
                    N_(
                        "Not promoted: the quota of {level} is full ({capacity} places, "
                        "{staying} held); ranked {rank} of {candidates} qualified by composite."
                    ),
                    {
                        "level": level,
                        "capacity": capacity,
                        "staying": staying,
                        "rank": rank,
                        "candidates": len(candidates),
                    },
                )
            )
            tie = _tie_break(outcome, last_in, seats)
            if tie is not None:
                outcome.reasons.append(tie)
            outcome.gaps.append(Reason(N_("a place under the quota of {level}"), {"level": level}))
