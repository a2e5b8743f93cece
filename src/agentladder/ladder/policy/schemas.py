"""The ladder policy: a YAML file saying how agents are scored and when they move.

Validated on load with errors that name the key (`components.quality.metrics: weights sum to
99, not 100`), identified by the hash of its canonical content (comments and layout do not
change it), and shipped with a default (`default_policy.yaml`, the example of the policy
format notes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agentladder.config import Language
from agentladder.errors import InvalidInput
from agentladder.i18n import N_, translate

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


class WindowSpec(_Strict):
    """Evidence pooled over the last `periods` periods, this one included: period k back
    weighs `decay`**k per observation (1: every observation alike)."""

    periods: int = Field(ge=1, le=24)
    decay: float = Field(default=1.0, gt=0, le=1)

    def weights(self) -> list[float]:
        """Each period's weight, this period first."""
        return [self.decay**back for back in range(self.periods)]


class ComponentSpec(_Strict):
    """A component of the composite score and the weights of its metrics."""

    weight: float = Field(ge=0)
    metrics: dict[str, Annotated[float, Field(ge=0)]] = Field(min_length=1)
    # Pool each of the component's metrics over periods (a metric's own window wins).
    window: WindowSpec | None = None


class LinearSpec(_Strict):
    """`best` gives 100 points, `worst` 0, linear between (best < worst: lower is better)."""

    best: float
    worst: float

    @model_validator(mode="after")
    def _distinct(self) -> LinearSpec:
        if self.best == self.worst:
            raise ValueError(N_("best and worst must differ"))
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
            raise ValueError(N_("give exactly one of linear, bands, percentile"))
        if self.bands is not None:
            if not self.bands:
                raise ValueError(N_("bands: at least one [threshold, points]"))
            thresholds = [threshold for threshold, _ in self.bands]
            ordered = sorted(thresholds, reverse=not self.lower_is_better)
            if thresholds != ordered or len(set(thresholds)) != len(thresholds):
                raise ValueError(
                    N_("bands: thresholds must be distinct and ascending")
                    if self.lower_is_better
                    else N_("bands: thresholds must be distinct and descending")
                )
        return self


class ShrinkSpec(_Strict):
    """Bayesian average toward a target: (n*value + m*target) / (n + m). The target is the
    cohort's mean (`toward: cohort`), or the agent's own mean over the `periods` periods
    before the evidence window (`toward: own_history`: neutral between strong and weak)."""

    prior_weight: float = Field(gt=0)
    toward: Literal["cohort", "own_history"] = "cohort"
    cohort: Cohort = "skill_group"
    periods: int = Field(default=12, ge=1, le=36)  # own_history: how far back


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
    # Metrics pooled over periods ({metric id: window}); a component's window covers its
    # metrics that have none here. Minimums are checked on the pooled sample.
    window: dict[str, WindowSpec] = Field(default_factory=dict)
    # Too little evidence holds the level; `pause` keeps both streaks as they were (the next
    # period with evidence continues them), `reset` starts them again.
    on_insufficient: Literal["pause", "reset"] = "pause"


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
            raise ValueError(N_("give min, max or both"))
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(N_("min is above max"))
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


class QaSpec(_Strict):
    """How QA evidence counts: as scored, or with each evaluator's harshness or leniency
    taken out (the quality subsystem fits it over its scoring window)."""

    adjust_for_evaluator: bool = False


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
    qa: QaSpec = QaSpec()

    def level_ids(self) -> list[str]:
        """The level ids, bottom to top."""
        return [level.id for level in self.levels]

    def scored_metrics(self) -> list[str]:
        """Every metric some component weighs."""
        return [m for component in self.components.values() for m in component.metrics]

    def evidence_windows(self) -> dict[str, WindowSpec]:
        """Every pooled metric and its window: the metric's own, else its component's."""
        windows = {
            metric: component.window
            for component in self.components.values()
            if component.window is not None
            for metric in component.metrics
        }
        return {**windows, **self.evidence.window}

    def history_periods(self) -> dict[str, int]:
        """The metrics scoring reads from earlier periods, with how many periods before this
        one (the window's, and for own-history shrinkage the history behind it)."""
        windows = self.evidence_windows()
        depth = {metric: window.periods - 1 for metric, window in windows.items()}
        for metric, shrink in self.evidence.shrink.items():
            if shrink.toward == "own_history":
                pooled = windows[metric].periods if metric in windows else 1
                depth[metric] = pooled - 1 + shrink.periods
        return {metric: periods for metric, periods in depth.items() if periods > 0}


@dataclass(frozen=True)
class PolicyProblem:
    """One problem of a policy: the key it concerns and what is wrong, as a msgid."""

    key: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, language: Language) -> str:
        """What is wrong, in the reader's language."""
        return translate(language, self.message, **self.params)


class PolicyError(InvalidInput):
    """A policy that does not validate: every problem with the key it concerns."""

    def __init__(self, problems: list[PolicyProblem]) -> None:
        self.details = problems
        # (key, English text): what scripts and logs read.
        self.problems = [(problem.key, problem.text("en")) for problem in problems]
        super().__init__(
            N_("the ladder policy is not valid: {problems}"),
            problems="; ".join(f"{key}: {text}" for key, text in self.problems),
        )

    def translated(self, language: Language) -> str:
        """Every problem in the reader's language."""
        return translate(
            language,
            self.message,
            problems=translate(language, N_("; ")).join(
                f"{key}: {text}" for key, text in self.texts(language)
            ),
        )

    def texts(self, language: Language) -> list[tuple[str, str]]:
        """(key, what is wrong) for every problem, in the reader's language."""
        return [(problem.key, problem.text(language)) for problem in self.details]


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
    counts: bool = False  # counts and hours add up over a window; other values are averaged
    gap_plural: str = ""

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
    gap_plural: str = ""


@dataclass(frozen=True)
class Trigger:
    """A metric counted this period that opens a review or demotes (or, `none`, nothing)."""

    metric: str
    above: float
    action: str
    review_reason: str = ""
    demote_reason: str = ""
