"""From evidence to points: evidence pooled over periods, shrinkage, scoring standards,
composite scores.

Pure functions over plain data, so that a run, a backtest and the fairness simulation score
alike. A metric without data is left out and the weights of the others are renormalised (the
explanation says so); a component without any data is left out of the composite likewise.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from statistics import NormalDist
from typing import Any

from agentladder.ladder import labels
from agentladder.ladder.policy.schemas import Cohort, LadderPolicy, ScoringSpec, WindowSpec
from agentladder.metrics import service as metrics_service
from agentladder.metrics.schemas import Fact

# Earlier periods' facts, newest first: (period label, facts by agent and metric).
EarlierFacts = Sequence[tuple[str, Mapping[int, Mapping[str, Fact]]]]


@dataclass(frozen=True)
class Member:
    """What cohorts are made of: an agent's team and primary skill group."""

    agent_id: int
    team: str | None
    skill_group: str | None

    def cohort(self, kind: Cohort) -> str:
        """The key of the agent's cohort of this kind."""
        if kind == "team":
            return f"team:{self.team or '-'}"
        if kind == "skill_group":
            return f"skill_group:{self.skill_group or '-'}"
        return "center"


@dataclass
class MetricScore:
    """How one metric of one agent scored."""

    metric_id: str
    component: str
    weight: float  # within the component, as the policy gives it
    raw: float | None
    sample_size: int
    shrunk: float | None  # the value after shrinkage (None: no shrinkage configured)
    points: float | None  # 0..100; None: no data
    source: str = ""
    # The standard error of the points from the sample size (None: not known, counted exact).
    points_se: float | None = None
    # For a metric with an evaluator-adjusted twin: the raw and adjusted values, the
    # evaluators' effects, and whether the adjusted value was the one scored.
    adjustment: dict[str, Any] | None = None
    # For a metric pooled over periods: each period's value, sample and weight (`pooling`).
    pooled: dict[str, Any] | None = None

    @property
    def used(self) -> bool:
        """Whether the metric had data and counted."""
        return self.points is not None


@dataclass
class ComponentScore:
    """A component's score over the metrics that had data."""

    name: str
    weight: float
    score: float | None
    metrics: list[MetricScore] = field(default_factory=list)

    @property
    def renormalised(self) -> bool:
        """Whether some weighed metric had no data (the others' weights were scaled up)."""
        return any(not m.used for m in self.metrics) and self.score is not None


@dataclass
class PeriodScores:
    """An agent's scores for a period."""

    agent_id: int
    composite: float | None
    components: list[ComponentScore]
    facts: dict[str, Fact]
    # The composite's standard error from the metrics' sample sizes (0: none known).
    composite_se: float = 0.0
    # Every metric pooled over periods (scored or only counted for a minimum): how.
    pooled: dict[str, dict[str, Any]] = field(default_factory=dict)

    def lower_bound(self, confidence: float) -> float | None:
        """The one-sided lower confidence bound of the composite (the composite itself at 0)."""
        if self.composite is None:
            return None
        if confidence <= 0:
            return self.composite
        return self.composite - NormalDist().inv_cdf(confidence) * self.composite_se

    def metric(self, metric_id: str) -> MetricScore | None:
        """The scored metric, if the policy weighs it."""
        for component in self.components:
            for metric in component.metrics:
                if metric.metric_id == metric_id:
                    return metric
        return None

    def value(self, metric_id: str) -> float | None:
        """The metric's value as the gates read it: shrunk where the policy shrinks it."""
        scored = self.metric(metric_id)
        if scored is not None and scored.shrunk is not None:
            return scored.shrunk
        fact = self.facts.get(metric_id)
        return None if fact is None else fact.value

    def sample(self, metric_id: str) -> int:
        """The metric's sample size (0 without data)."""
        fact = self.facts.get(metric_id)
        return 0 if fact is None or fact.value is None else fact.sample_size


def linear_points(value: float, best: float, worst: float) -> float:
    """100 at `best`, 0 at `worst`, linear between, clamped (best < worst: lower is better)."""
    share = (value - worst) / (best - worst)
    return 100.0 * min(1.0, max(0.0, share))


def band_points(
    value: float, bands: Iterable[tuple[float, float]], lower_is_better: bool = False
) -> float:
    """The points of the first band whose threshold the value reaches (or, lower being
    better, stays at or under); 0 when it reaches none."""
    for threshold, points in bands:
        if (value <= threshold) if lower_is_better else (value >= threshold):
            return points
    return 0.0


def percentile_points(value: float, ordered: list[float], lower_is_better: bool = False) -> float:
    """Percentile rank within the cohort (mid-rank for ties): 100 best, 0 worst, 50 alone."""
    if len(ordered) <= 1:
        return 50.0
    below = bisect.bisect_left(ordered, value)
    equal = bisect.bisect_right(ordered, value) - below
    rank = (below + (equal - 1) / 2) / (len(ordered) - 1)
    return 100.0 * ((1.0 - rank) if lower_is_better else rank)


def shrunk_value(value: float, sample_size: float, target: float, prior_weight: float) -> float:
    """Bayesian average toward a target: (n x value + m x target) / (n + m)."""
    return (sample_size * value + prior_weight * target) / (sample_size + prior_weight)


@dataclass(frozen=True)
class Pooled:
    """A metric pooled over a window of periods: the fact as scored (sample-weighted mean of
    the periods' values, each observation weighted by its period's decay; sample = the
    periods' samples added up) and what lies behind it."""

    fact: Fact
    effective_sample: float  # what the weights leave of the sample, for its standard error
    periods: list[dict[str, Any]]  # {period, value, sample, weight}, this period first

    def as_dict(self) -> dict[str, Any]:
        """How the explanation and the stored decision give it."""
        return {
            "periods": self.periods,
            "sample": self.fact.sample_size,
            "effective_sample": round(self.effective_sample, 1),
        }


def pool(window: WindowSpec, facts: Sequence[tuple[str, Fact | None]]) -> Pooled | None:
    """Pool one agent's metric over the window's periods (this period first; a period without
    data adds nothing). The mean weighs each period's value by weight x sample; the standard
    error uses Kish's effective sample (sum w n)^2 / sum w^2 n, which is the plain sum of the
    samples when every weight is 1."""
    periods: list[dict[str, Any]] = []
    weighted = total = squares = 0.0
    sample = 0
    newest: Fact | None = None
    for (label, fact), weight in zip(facts, window.weights(), strict=False):
        if fact is None or fact.value is None:
            continue
        newest = newest or fact
        # A value without a count (a monthly figure) weighs as one observation.
        n = max(fact.sample_size, 1)
        weighted += weight * n * fact.value
        total += weight * n
        squares += weight * weight * n
        sample += fact.sample_size
        periods.append(
            {"period": label, "value": fact.value, "sample": fact.sample_size, "weight": weight}
        )
    if newest is None or total <= 0:
        return None
    pooled = replace(newest, value=weighted / total, sample_size=sample)
    return Pooled(pooled, total * total / squares, periods)


def own_history_mean(facts: Iterable[Fact | None]) -> float | None:
    """An agent's sample-weighted mean of a metric over earlier periods (None without any)."""
    weighted = total = 0.0
    for fact in facts:
        if fact is None or fact.value is None:
            continue
        n = max(fact.sample_size, 1)
        weighted += n * fact.value
        total += n
    return weighted / total if total > 0 else None


def _cohort_means(
    facts: Mapping[int, Mapping[str, Fact]],
    members: Mapping[int, Member],
    metric_id: str,
    kind: Cohort,
) -> dict[str, float]:
    # Sample-weighted: the cohort's pooled rate or mean score.
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for agent_id, agent_facts in facts.items():
        fact = agent_facts.get(metric_id)
        if fact is None or fact.value is None or fact.sample_size <= 0:
            continue
        total = totals[members[agent_id].cohort(kind)]
        total[0] += fact.value * fact.sample_size
        total[1] += fact.sample_size
    return {key: weighted / n for key, (weighted, n) in totals.items() if n > 0}


def _points(spec: ScoringSpec, value: float, ordered: list[float] | None) -> float:
    if spec.linear is not None:
        return linear_points(value, spec.linear.best, spec.linear.worst)
    if spec.bands is not None:
        return band_points(value, spec.bands, spec.lower_is_better)
    assert spec.percentile is not None
    assert ordered is not None
    return percentile_points(value, ordered, spec.percentile.lower_is_better)


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a rate (z = 1.96: two-sided 95%); [0, 1] without trials.
    It stays inside [0, 1] and is honest for small groups (9 of 10 -> 0.596 to 0.982)."""
    if trials <= 0:
        return 0.0, 1.0
    rate = successes / trials
    centre = rate + z * z / (2 * trials)
    margin = z * math.sqrt(rate * (1 - rate) / trials + z * z / (4 * trials * trials))
    scale = 1 + z * z / trials
    # None of n or all of n reach the bound exactly (rounding would leave 1e-17 off it).
    low = 0.0 if successes <= 0 else max(0.0, (centre - margin) / scale)
    high = 1.0 if successes >= trials else min(1.0, (centre + margin) / scale)
    return low, high


def value_se(
    policy: LadderPolicy, metric_id: str, value: float, sample_size: float
) -> float | None:
    """The standard error of a metric's value from its sample size: binomial for rates (with
    one success and one failure added, so 0 of n is not certain), the policy's spread over
    the square root of n for averages; None when neither applies."""
    if sample_size <= 0:
        return None
    if labels.metric_unit(metric_id) == "rate":
        rate = (min(1.0, max(0.0, value)) * sample_size + 1) / (sample_size + 2)
        return math.sqrt(rate * (1 - rate) / sample_size)
    spread = policy.evidence.spread.get(metric_id)
    return None if spread is None else spread / math.sqrt(sample_size)


def _points_se(
    spec: ScoringSpec, used: float, se: float | None, ordered: list[float] | None
) -> float | None:
    # Through the scoring standard as it is (clamps, steps, ranks): half the points between
    # one standard error below and above.
    if se is None:
        return None
    return abs(_points(spec, used + se, ordered) - _points(spec, used - se, ordered)) / 2


def adjusted_facts(
    policy: LadderPolicy, facts: Mapping[int, Mapping[str, Fact]]
) -> tuple[dict[int, dict[str, Fact]], dict[tuple[int, str], dict[str, Any]]]:
    """The facts as the policy scores them: a metric with an evaluator-adjusted twin
    (`qa_score`) takes the twin's value where the policy adjusts for evaluators and the twin
    has one; and, per agent and metric, what the explanation shows of both."""
    twins = {
        metric_id: definition.adjusted_variant
        for metric_id, definition in metrics_service.metric_definitions().items()
        if definition.adjusted_variant and metric_id in policy.scored_metrics()
    }
    chosen: dict[int, dict[str, Fact]] = {}
    adjustments: dict[tuple[int, str], dict[str, Any]] = {}
    for agent_id, agent_facts in facts.items():
        chosen[agent_id] = dict(agent_facts)
        for metric_id, twin_id in twins.items():
            twin = agent_facts.get(twin_id)
            if twin is None or twin.value is None:
                continue
            used = policy.qa.adjust_for_evaluator
            adjustments[(agent_id, metric_id)] = {**(twin.detail or {}), "used": used}
            if used:
                chosen[agent_id][metric_id] = replace(twin, metric_id=metric_id)
    return chosen, adjustments


def pooled_facts(
    policy: LadderPolicy,
    facts: Mapping[int, Mapping[str, Fact]],
    earlier: EarlierFacts,
    period: str = "",
) -> tuple[dict[int, dict[str, Fact]], dict[tuple[int, str], Pooled]]:
    """The facts with every windowed metric pooled over its window (`earlier`: the earlier
    periods' facts, newest first, adjusted as `facts` are); and how each was pooled."""
    windows = policy.evidence_windows()
    pooled_facts_: dict[int, dict[str, Fact]] = {a: dict(f) for a, f in facts.items()}
    pooling: dict[tuple[int, str], Pooled] = {}
    if not windows:
        return pooled_facts_, pooling
    agents = set(facts) | {agent_id for _, by_agent in earlier for agent_id in by_agent}
    for agent_id in agents:
        agent_facts = pooled_facts_.setdefault(agent_id, {})
        for metric_id, window in windows.items():
            series = [(period, agent_facts.get(metric_id))]
            series += [
                (label, by_agent.get(agent_id, {}).get(metric_id))
                for label, by_agent in earlier[: window.periods - 1]
            ]
            result = pool(window, series)
            if result is None:
                continue
            agent_facts[metric_id] = result.fact
            pooling[(agent_id, metric_id)] = result
    return pooled_facts_, pooling


def _own_history_targets(
    policy: LadderPolicy, earlier: EarlierFacts, agents: Iterable[int]
) -> dict[tuple[int, str], float]:
    """Each agent's own mean of a metric shrunk toward its own history, over the periods
    before its evidence window (None-free: agents without history are left out)."""
    windows = policy.evidence_windows()
    targets: dict[tuple[int, str], float] = {}
    for metric_id, shrink in policy.evidence.shrink.items():
        if shrink.toward != "own_history":
            continue
        skip = windows[metric_id].periods - 1 if metric_id in windows else 0
        history = earlier[skip : skip + shrink.periods]
        for agent_id in agents:
            mean = own_history_mean(
                by_agent.get(agent_id, {}).get(metric_id) for _, by_agent in history
            )
            if mean is not None:
                targets[(agent_id, metric_id)] = mean
    return targets


def score_agents(
    policy: LadderPolicy,
    members: Mapping[int, Member],
    facts: Mapping[int, Mapping[str, Fact]],
    earlier: EarlierFacts = (),
    period: str = "",
) -> dict[int, PeriodScores]:
    """Every member's scorecard for one period under the policy. `earlier` holds the earlier
    periods' facts (newest first) that evidence windows and own-history shrinkage read;
    `period` names this period in the explanation of pooled evidence."""
    facts, adjustments = adjusted_facts(policy, facts)
    earlier = [(label, adjusted_facts(policy, by_agent)[0]) for label, by_agent in earlier]
    facts, pooling = pooled_facts(policy, facts, earlier, period)
    history_targets = _own_history_targets(policy, earlier, members)
    metrics = set(policy.scored_metrics())

    def sample_of(agent_id: int, metric_id: str, fact: Fact) -> float:
        pooled = pooling.get((agent_id, metric_id))
        return pooled.effective_sample if pooled is not None else fact.sample_size

    # Values as scored: shrunk toward their target where the policy asks.
    scored_values: dict[str, dict[int, tuple[float | None, float | None]]] = {}
    for metric_id in metrics:
        shrink = policy.evidence.shrink.get(metric_id)
        means = (
            _cohort_means(facts, members, metric_id, shrink.cohort)
            if shrink is not None and shrink.toward == "cohort"
            else {}
        )
        per_agent: dict[int, tuple[float | None, float | None]] = {}
        for agent_id in members:
            fact = facts.get(agent_id, {}).get(metric_id)
            if fact is None or fact.value is None:
                continue
            shrunk = None
            if shrink is not None:
                target = (
                    history_targets.get((agent_id, metric_id))
                    if shrink.toward == "own_history"
                    else means.get(members[agent_id].cohort(shrink.cohort))
                )
                # Without a target (no history yet), the value stands as measured.
                size = sample_of(agent_id, metric_id, fact)
                shrunk = (
                    fact.value
                    if target is None
                    else shrunk_value(fact.value, size, target, shrink.prior_weight)
                )
            per_agent[agent_id] = (fact.value, shrunk)
        scored_values[metric_id] = per_agent
    # Cohort distributions for percentile standards.
    distributions: dict[tuple[str, str], list[float]] = {}
    for metric_id in metrics:
        percentile = policy.scoring[metric_id].percentile
        if percentile is None:
            continue
        grouped: dict[str, list[float]] = defaultdict(list)
        for agent_id, (raw, shrunk) in scored_values[metric_id].items():
            grouped[members[agent_id].cohort(percentile.within)].append(
                shrunk if shrunk is not None else raw  # type: ignore[arg-type]
            )
        for key, values in grouped.items():
            distributions[(metric_id, key)] = sorted(values)

    pooled_by_agent: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    for (agent_id, metric_id), pooled in pooling.items():
        pooled_by_agent[agent_id][metric_id] = pooled.as_dict()
    # The policy's scoring standard and shrinkage of each metric, looked up once rather than
    # for each of (in a large centre) tens of thousands of agents.
    specs = {metric_id: policy.scoring[metric_id] for metric_id in metrics}
    shrinks = {metric_id: policy.evidence.shrink.get(metric_id) for metric_id in metrics}
    cards: dict[int, PeriodScores] = {}
    for agent_id, member in members.items():
        agent_facts = facts.get(agent_id, {})
        agent_pooled = pooled_by_agent.get(agent_id, {})
        components = []
        for name, component in policy.components.items():
            scored = []
            for metric_id, weight in component.metrics.items():
                fact = agent_facts.get(metric_id)
                raw, shrunk = scored_values[metric_id].get(agent_id, (None, None))
                points = points_se = None
                if raw is not None and fact is not None:
                    used = shrunk if shrunk is not None else raw
                    spec = specs[metric_id]
                    ordered = (
                        distributions.get((metric_id, member.cohort(spec.percentile.within)))
                        if spec.percentile is not None
                        else None
                    )
                    points = _points(spec, used, ordered)
                    size = sample_of(agent_id, metric_id, fact)
                    se = value_se(policy, metric_id, raw, size)
                    shrink = shrinks[metric_id]
                    if se is not None and shrink is not None and shrunk != raw:
                        se *= size / (size + shrink.prior_weight)  # the prior is not sampled
                    points_se = _points_se(spec, used, se, ordered)
                scored.append(
                    MetricScore(
                        metric_id,
                        name,
                        weight,
                        raw,
                        fact.sample_size if fact is not None and raw is not None else 0,
                        shrunk,
                        points,
                        fact.source if fact is not None else "",
                        points_se,
                        adjustments.get((agent_id, metric_id)),
                        agent_pooled.get(metric_id),
                    )
                )
            weights = sum(m.weight for m in scored if m.used)
            score = (
                sum(m.weight * (m.points or 0.0) for m in scored if m.used) / weights
                if weights > 0
                else None
            )
            components.append(ComponentScore(name, component.weight, score, scored))
        total = sum(c.weight for c in components if c.score is not None)
        composite = (
            sum(c.weight * (c.score or 0.0) for c in components if c.score is not None) / total
            if total > 0
            else None
        )
        cards[agent_id] = PeriodScores(
            agent_id,
            composite,
            components,
            dict(agent_facts),
            _composite_se(components),
            pooled_by_agent.get(agent_id, {}),
        )
    return cards


def _composite_se(components: list[ComponentScore]) -> float:
    """The composite's standard error: each metric's through its share of the composite (the
    weights as renormalised), the metrics' sampling errors taken as independent."""
    total = sum(c.weight for c in components if c.score is not None)
    variance = 0.0
    for component in components:
        if component.score is None or total <= 0:
            continue
        inner = sum(m.weight for m in component.metrics if m.used)
        for metric in component.metrics:
            if metric.used and metric.points_se:
                share = (component.weight / total) * (metric.weight / inner)
                variance += (share * metric.points_se) ** 2
    return math.sqrt(variance)
