"""The ladder policy: a YAML file saying how agents are scored and when they move.

Validated on load with errors that name the key (`components.quality.metrics: weights sum to
99, not 100`), identified by the hash of its canonical content (comments and layout do not
change it), and shipped with a default (`default_policy.yaml`, the example of the policy
format notes).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agentladder.errors import InvalidInput
from agentladder.i18n import N_
from agentladder.metrics import service as metrics_service
from agentladder.org.schemas import LEVELS

DEFAULT_POLICY_PATH = Path(__file__).parent / "default_policy.yaml"

Cohort = Literal["center", "team", "skill_group"]
# Weights are compared to 100 with this tolerance (YAML floats such as 33.3 + 33.3 + 33.4).
WEIGHT_TOLERANCE = 1e-6


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LevelSpec(_Strict):
    """A rung as the policy names it."""

    id: str
    tier: Literal["basic", "primary", "senior"]
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class ComponentSpec(_Strict):
    """A component of the composite score and the weights of its metrics."""

    weight: float = Field(ge=0)
    metrics: dict[str, Annotated[float, Field(ge=0)]] = Field(min_length=1)


class LinearSpec(_Strict):
    """`best` gives 100 points, `worst` 0, linear between (best < worst: lower is better)."""

    best: float
    worst: float

    @model_validator(mode="after")
    def _distinct(self) -> LinearSpec:
        if self.best == self.worst:
            raise ValueError("best and worst must differ")
        return self


class PercentileSpec(_Strict):
    """Points = percentile rank within the cohort."""

    within: Cohort = "center"
    lower_is_better: bool = False


class ScoringSpec(_Strict):
    """One scoring standard: exactly one of linear, bands, percentile."""

    linear: LinearSpec | None = None
    # [[threshold, points], ...], highest threshold first: the first threshold the value
    # reaches gives the points (with lower_is_better: the first the value stays under).
    bands: list[tuple[float, Annotated[float, Field(ge=0, le=100)]]] | None = None
    lower_is_better: bool = False
    percentile: PercentileSpec | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ScoringSpec:
        chosen = [n for n in ("linear", "bands", "percentile") if getattr(self, n) is not None]
        if len(chosen) != 1:
            raise ValueError("give exactly one of linear, bands, percentile")
        if self.bands is not None:
            if not self.bands:
                raise ValueError("bands: at least one [threshold, points]")
            thresholds = [threshold for threshold, _ in self.bands]
            ordered = sorted(thresholds, reverse=not self.lower_is_better)
            if thresholds != ordered or len(set(thresholds)) != len(thresholds):
                direction = "ascending" if self.lower_is_better else "descending"
                raise ValueError(f"bands: thresholds must be distinct and {direction}")
        return self


class ShrinkSpec(_Strict):
    """Bayesian average toward the cohort mean: (n*value + m*mean) / (n + m)."""

    prior_weight: float = Field(gt=0)
    cohort: Cohort = "skill_group"


class _WithShorthands(BaseModel):
    """A section that also takes the shorthand keys the registry's metrics answer to
    (`min_qa_score: 85`); `_cross_checks` validates them against the registry."""

    model_config = ConfigDict(extra="allow", frozen=True)

    def shorthands(self) -> dict[str, Any]:
        """The shorthand keys this section was given, in the policy's order."""
        return dict(self.model_extra or {})


class SufficiencySpec(_WithShorthands):
    """Minimum evidence (the policy's `evidence:` section); below it the level is held, never
    moved. Shorthands such as `min_handled_calls: 100` name a metric's minimum sample."""

    # The least sample size of a metric this period: {metric id: n}.
    min_samples: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    shrink: dict[str, ShrinkSpec] = Field(default_factory=dict)
    # The standard deviation of one observation of a metric that is an average (one QA
    # evaluation, one exam), in the metric's unit: how uncertain a mean of n of them is.
    # Rates need none (binomial); a metric with neither counts as exact.
    spread: dict[str, float] = Field(default_factory=dict)


class GateSpec(_Strict):
    """An entry gate on any metric of the registry: its value this period, or over a window
    of months (counts add up; other values are averaged by sample size), within bounds."""

    metric: str
    min: float | None = None
    max: float | None = None
    window_months: int | None = Field(default=None, ge=1)  # default: the metric's own window

    @model_validator(mode="after")
    def _bounded(self) -> GateSpec:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is above max")
        return self


class TriggerSpec(_Strict):
    """A metric that, counted above a threshold this period, opens a review or demotes."""

    metric: str
    above: float = 0
    action: Literal["none", "review", "demote"] = "review"


class EntrySpec(_WithShorthands):
    """What it takes to enter a level. Shorthands such as `min_qa_score: 85` or
    `no_fatal_months: 3` are gates on the metric that declares them."""

    min_score: float = Field(ge=0, le=100)
    min_tenure_months: int = Field(default=0, ge=0)
    certifications: list[str] = Field(default_factory=list)
    gates: list[GateSpec] = Field(default_factory=list)
    quota: float | None = Field(default=None, gt=0, le=1)


class PromotionSpec(_Strict):
    """How agents move up."""

    consecutive_periods: int = Field(default=2, ge=1)
    band: float = Field(default=0, ge=0)
    # Above 0: qualify on the one-sided lower confidence bound of the composite at this level
    # (0.95: composite - 1.645 x its standard error from the sample sizes), not the composite.
    confidence: float = Field(default=0, ge=0, lt=1)
    max_step: Literal[1] = 1
    protect_periods: int = Field(default=1, ge=0)
    approval: Literal["auto", "manager"] = "manager"
    entry: dict[str, EntrySpec]


class DemotionSpec(_WithShorthands):
    """How agents move down. Shorthands such as `on_fatal_compliance: review` are triggers
    on the metric that declares them."""

    consecutive_periods: int = Field(default=2, ge=1)
    margin: float = Field(default=10, ge=0)
    triggers: list[TriggerSpec] = Field(default_factory=list)
    expired_certification: Literal["hold", "demote"] = "hold"


class LadderPolicy(_Strict):
    """A whole policy, validated."""

    name: str = Field(min_length=1)
    period: Literal["month", "quarter"] = "month"
    levels: list[LevelSpec]
    components: dict[str, ComponentSpec] = Field(min_length=1)
    scoring: dict[str, ScoringSpec]
    evidence: SufficiencySpec = SufficiencySpec()
    promotion: PromotionSpec
    demotion: DemotionSpec = DemotionSpec()

    def level_ids(self) -> list[str]:
        """The level ids, bottom to top."""
        return [level.id for level in self.levels]

    def scored_metrics(self) -> list[str]:
        """Every metric some component weighs."""
        return [m for component in self.components.values() for m in component.metrics]


# Certification types the product knows from the start; the training domain may add more.
DEFAULT_CERTIFICATIONS = ("product_knowledge", "service_skill", "sales_skill", "comprehensive")


class PolicyError(InvalidInput):
    """A policy that does not validate: every problem with the key it concerns."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        text = "; ".join(f"{key}: {message}" for key, message in problems)
        super().__init__(N_("the ladder policy is not valid: {problems}"), problems=text)
        self.problems = problems


def _location(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if not str(p).startswith(("function-after", "tuple["))]
    return ".".join(parts) or "(top)"


def _cross_checks(
    policy: LadderPolicy, known_metrics: set[str], known_certifications: set[str]
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    expected = [level.id for level in LEVELS]
    if policy.level_ids() != expected:
        problems.append(
            (
                "levels",
                "the nine levels bottom to top, in this order: " + ", ".join(expected),
            )
        )
    total = sum(component.weight for component in policy.components.values())
    if abs(total - 100) > WEIGHT_TOLERANCE:
        shares = ", ".join(f"{name} {c.weight:g}" for name, c in policy.components.items())
        problems.append(("components", f"weights sum to {total:g}, not 100 ({shares})"))
    for name, component in policy.components.items():
        inner = sum(component.metrics.values())
        if abs(inner - 100) > WEIGHT_TOLERANCE:
            problems.append(
                (f"components.{name}.metrics", f"weights of {name} sum to {inner:g}, not 100")
            )
        for metric in component.metrics:
            if metric not in known_metrics:
                problems.append((f"components.{name}.metrics.{metric}", "unknown metric"))
            elif metric not in policy.scoring:
                problems.append((f"scoring.{metric}", f"missing: {name} weighs {metric}"))
    for metric in policy.scoring:
        if metric not in known_metrics:
            problems.append((f"scoring.{metric}", "unknown metric"))
    for section, metrics in (
        ("shrink", policy.evidence.shrink),
        ("spread", policy.evidence.spread),
    ):
        for metric in metrics:
            if metric not in known_metrics:
                problems.append((f"evidence.{section}.{metric}", "unknown metric"))
    for metric, spread in policy.evidence.spread.items():
        if spread <= 0:
            problems.append((f"evidence.spread.{metric}", "must be above 0"))
    levels = policy.level_ids()
    for level_id in policy.promotion.entry:
        if level_id not in levels:
            problems.append((f"promotion.entry.{level_id}", "unknown level"))
        elif level_id == levels[0]:
            problems.append((f"promotion.entry.{level_id}", "the first level has no entry"))
    for level_id in levels[1:]:
        if level_id not in policy.promotion.entry:
            problems.append((f"promotion.entry.{level_id}", "missing: how to enter this level"))
    for level_id, entry in policy.promotion.entry.items():
        for certification in entry.certifications:
            if certification not in known_certifications:
                problems.append(
                    (
                        f"promotion.entry.{level_id}.certifications",
                        f"unknown certification {certification}",
                    )
                )
        problems += _shorthand_problems(f"promotion.entry.{level_id}", "entry", entry)
        for index, gate in enumerate(entry.gates):
            if gate.metric not in known_metrics:
                problems.append(
                    (f"promotion.entry.{level_id}.gates.{index}.metric", "unknown metric")
                )
    problems += _shorthand_problems("evidence", "evidence", policy.evidence)
    for metric in policy.evidence.min_samples:
        if metric not in known_metrics:
            problems.append((f"evidence.min_samples.{metric}", "unknown metric"))
    problems += _shorthand_problems("demotion", "demotion", policy.demotion)
    for index, trigger in enumerate(policy.demotion.triggers):
        if trigger.metric not in known_metrics:
            problems.append((f"demotion.triggers.{index}.metric", "unknown metric"))
    return problems


def _shorthand_value(kind: str, value: Any) -> Any:
    """A shorthand's value as its kind reads it, or ValueError naming what it must be."""
    if kind == "trigger":
        if value not in TRIGGER_ACTIONS:
            raise ValueError("one of " + ", ".join(TRIGGER_ACTIONS))
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("a number")
    if kind == "min_value":
        return float(value)
    if value != int(value):
        raise ValueError("a whole number")
    least = 0 if kind == "min_samples" else 1
    if value < least:
        raise ValueError(f"at least {least}")
    return int(value)


def _shorthand_problems(where: str, section: str, spec: _WithShorthands) -> list[tuple[str, str]]:
    known = metrics_service.policy_keys(section)
    problems = []
    for key, value in spec.shorthands().items():
        if key not in known:
            problems.append((f"{where}.{key}", "Extra inputs are not permitted"))
            continue
        definition, shorthand = known[key]
        try:
            number = _shorthand_value(shorthand.kind, value)
        except ValueError as exc:
            problems.append((f"{where}.{key}", f"must be {exc}"))
            continue
        low, high = definition.bounds or (None, None)
        if shorthand.kind == "min_value" and (
            (low is not None and number < low) or (high is not None and number > high)
        ):
            problems.append((f"{where}.{key}", f"must be within {low:g}..{high or 'inf'}"))
    return problems


# --- shorthands and gates as the rules read them -------------------------------------------

TRIGGER_ACTIONS = ("none", "review", "demote")


@dataclass(frozen=True)
class MetricGate:
    """An entry gate on a metric: from a shorthand (`min_qa_score: 85`) or from `gates:`."""

    name: str  # the gate's name in decisions
    metric: str
    kind: str  # min_value | no_events | min_window | bounds
    minimum: float | None
    maximum: float | None
    window_months: int  # 1: this period's value
    gap: str = ""  # msgid of the gap sentence ("" for the generic one)
    counts: bool = False  # a count adds up over a window; other values are averaged

    @property
    def required(self) -> Any:
        """What the gate requires, as decisions show it."""
        if self.kind == "no_events":
            return 0
        if self.kind == "min_window":
            return int(self.minimum or 0)
        if self.minimum is not None and self.maximum is not None:
            return [self.minimum, self.maximum]
        return self.minimum if self.minimum is not None else self.maximum

    def passes(self, actual: float | None) -> bool:
        """Whether a value meets the gate (no value meets nothing)."""
        if actual is None:
            return False
        low_ok = self.minimum is None or actual >= self.minimum
        return low_ok and (self.maximum is None or actual <= self.maximum)


@dataclass(frozen=True)
class SampleMinimum:
    """The least sample size of a metric for the period to count as evidence."""

    name: str
    metric: str
    required: int
    gap: str = ""


@dataclass(frozen=True)
class Trigger:
    """A metric counted this period that opens a review or demotes (or, `none`, nothing)."""

    metric: str
    above: float
    action: str
    review_reason: str = ""
    demote_reason: str = ""


# Resolved once per section object: the rules read them for every agent.
_RESOLVED: dict[int, tuple[object, Any]] = {}


def _resolved(section: object, resolve: Any) -> Any:
    cached = _RESOLVED.get(id(section))
    if cached is None or cached[0] is not section:
        if len(_RESOLVED) > 256:
            _RESOLVED.clear()
        cached = (section, resolve(section))
        _RESOLVED[id(section)] = cached
    return cached[1]


def entry_gates(entry: EntrySpec) -> list[MetricGate]:
    """An entry's gates on metrics, shorthands first, in the policy's order."""
    gates: list[MetricGate] = _resolved(entry, _entry_gates)
    return gates


def _entry_gates(entry: EntrySpec) -> list[MetricGate]:
    known = metrics_service.policy_keys("entry")
    gates = []
    for key, value in entry.shorthands().items():
        definition, shorthand = known[key]
        number = _shorthand_value(shorthand.kind, value)
        minimum, maximum, window = {
            "min_value": (number, None, 1),
            "no_events": (None, 0, number),
            "min_window": (number, None, definition.window_months),
        }[shorthand.kind]
        gates.append(
            MetricGate(
                shorthand.gate,
                definition.id,
                shorthand.kind,
                minimum,
                maximum,
                window,
                shorthand.gap,
                counts=definition.unit == "count",
            )
        )
    for spec in entry.gates:
        declared = metrics_service.metric_definition(spec.metric)
        gates.append(
            MetricGate(
                spec.metric,
                spec.metric,
                "bounds",
                spec.min,
                spec.max,
                spec.window_months or (declared.window_months if declared else 1),
                counts=declared is not None and declared.unit == "count",
            )
        )
    return gates


def sample_minimums(policy: LadderPolicy) -> list[SampleMinimum]:
    """The evidence minimums: shorthands (in the policy's order), then `min_samples`."""
    minimums: list[SampleMinimum] = _resolved(policy.evidence, _sample_minimums)
    return minimums


def _sample_minimums(sufficiency: SufficiencySpec) -> list[SampleMinimum]:
    known = metrics_service.policy_keys("evidence")
    minimums = []
    for key, value in sufficiency.shorthands().items():
        definition, shorthand = known[key]
        minimums.append(
            SampleMinimum(
                shorthand.gate,
                definition.id,
                _shorthand_value(shorthand.kind, value),
                shorthand.gap,
            )
        )
    minimums += [
        SampleMinimum(f"min_samples:{metric}", metric, required)
        for metric, required in sufficiency.min_samples.items()
    ]
    return [minimum for minimum in minimums if minimum.required > 0]


def demotion_triggers(policy: LadderPolicy) -> list[Trigger]:
    """The triggers: each declared shorthand (given, or at its default), then `triggers`."""
    triggers: list[Trigger] = _resolved(policy.demotion, _demotion_triggers)
    return triggers


def _demotion_triggers(demotion: DemotionSpec) -> list[Trigger]:
    given = demotion.shorthands()
    triggers = []
    for key, (definition, shorthand) in metrics_service.policy_keys("demotion").items():
        action = given.get(key, shorthand.default)
        triggers.append(
            Trigger(
                definition.id,
                0,
                str(action),
                shorthand.review_reason,
                shorthand.demote_reason,
            )
        )
    triggers += [Trigger(t.metric, t.above, t.action) for t in demotion.triggers]
    return [trigger for trigger in triggers if trigger.action != "none"]


def window_months(policy: LadderPolicy) -> dict[str, int]:
    """The metrics the gates and triggers read over months, with how many months back."""
    windows: dict[str, int] = {}
    for entry in policy.promotion.entry.values():
        for gate in entry_gates(entry):
            if gate.window_months > 1:
                windows[gate.metric] = max(windows.get(gate.metric, 1), gate.window_months)
    for trigger in demotion_triggers(policy):
        windows.setdefault(trigger.metric, 1)
    return windows


def parse_policy(
    text: str,
    *,
    known_metrics: set[str],
    known_certifications: set[str],
) -> LadderPolicy:
    """A validated policy from YAML text, or a PolicyError listing every problem by key."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(yaml)"
        raise PolicyError([(where, str(getattr(exc, "problem", exc)))]) from exc
    if not isinstance(document, dict):
        raise PolicyError([("(top)", "a policy is a mapping of keys (name, levels, ...)")])
    try:
        policy = LadderPolicy.model_validate(document)
    except ValidationError as exc:
        raise PolicyError(
            [(_location(error["loc"]), error["msg"]) for error in exc.errors()]
        ) from exc
    problems = _cross_checks(policy, known_metrics, known_certifications)
    if problems:
        raise PolicyError(problems)
    return policy


def _canonical_section(dumped: dict[str, Any], section: str, empty_keys: tuple[str, ...]) -> None:
    # Shorthands at their typed value (or their default), new keys only when used: a policy
    # written before the registry keeps its hash.
    for key in empty_keys:
        if not dumped.get(key):
            dumped.pop(key, None)
    for key, (_, shorthand) in metrics_service.policy_keys(section).items():
        if key in dumped:
            dumped[key] = _shorthand_value(shorthand.kind, dumped[key])
        else:
            dumped[key] = shorthand.default


def canonical(policy: LadderPolicy) -> str:
    """The policy as canonical JSON: what its hash covers."""
    dumped = policy.model_dump(mode="json")
    for entry in dumped["promotion"]["entry"].values():
        _canonical_section(entry, "entry", ("gates",))
    _canonical_section(dumped["evidence"], "evidence", ("min_samples",))
    _canonical_section(dumped["demotion"], "demotion", ("triggers",))
    return json.dumps(dumped, sort_keys=True, ensure_ascii=False)


def policy_hash(policy: LadderPolicy) -> str:
    """The content hash that identifies a policy version (sha256 of its canonical form)."""
    return hashlib.sha256(canonical(policy).encode()).hexdigest()


def default_policy_text() -> str:
    """The shipped default policy (YAML)."""
    return DEFAULT_POLICY_PATH.read_text(encoding="utf-8")


def policy_summary(policy: LadderPolicy) -> dict[str, Any]:
    """A few figures about a policy for lists and logs."""
    return {
        "name": policy.name,
        "period": policy.period,
        "components": {name: c.weight for name, c in policy.components.items()},
        "approval": policy.promotion.approval,
    }
