"""The ladder policy: a YAML file saying how agents are scored and when they move.

Validated on load with errors that name the key (`components.quality.metrics: weights sum to
99, not 100`), identified by the hash of its canonical content (comments and layout do not
change it), and shipped with a default (`default_policy.yaml`, the example of the policy
format notes).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agentladder.errors import InvalidInput
from agentladder.i18n import N_
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


class EvidenceSpec(_Strict):
    """Minimum evidence; below it the level is held, never moved."""

    min_handled_calls: int = Field(default=0, ge=0)
    min_qa_evaluations: int = Field(default=0, ge=0)
    min_surveys: int = Field(default=0, ge=0)
    shrink: dict[str, ShrinkSpec] = Field(default_factory=dict)
    # The standard deviation of one observation of a metric that is an average (one QA
    # evaluation, one exam), in the metric's unit: how uncertain a mean of n of them is.
    # Rates need none (binomial); a metric with neither counts as exact.
    spread: dict[str, float] = Field(default_factory=dict)


class EntrySpec(_Strict):
    """What it takes to enter a level."""

    min_score: float = Field(ge=0, le=100)
    min_tenure_months: int = Field(default=0, ge=0)
    certifications: list[str] = Field(default_factory=list)
    min_qa_score: float | None = Field(default=None, ge=0, le=100)
    no_fatal_months: int | None = Field(default=None, ge=1)
    min_kb_adopted: int | None = Field(default=None, ge=1)
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


class DemotionSpec(_Strict):
    """How agents move down."""

    consecutive_periods: int = Field(default=2, ge=1)
    margin: float = Field(default=10, ge=0)
    on_fatal_compliance: Literal["none", "review", "demote"] = "review"
    expired_certification: Literal["hold", "demote"] = "hold"


class LadderPolicy(_Strict):
    """A whole policy, validated."""

    name: str = Field(min_length=1)
    period: Literal["month", "quarter"] = "month"
    levels: list[LevelSpec]
    components: dict[str, ComponentSpec] = Field(min_length=1)
    scoring: dict[str, ScoringSpec]
    evidence: EvidenceSpec = EvidenceSpec()
    promotion: PromotionSpec
    demotion: DemotionSpec = DemotionSpec()

    def level_ids(self) -> list[str]:
        """The level ids, bottom to top."""
        return [level.id for level in self.levels]

    def scored_metrics(self) -> list[str]:
        """Every metric some component weighs."""
        return [m for component in self.components.values() for m in component.metrics]


# Metrics the ladder reads that are not KPIs of the service statistics: they come from QA,
# exams and the knowledge library (or their external imports). Counting ones feed gates.
LADDER_METRICS = {
    "qa_score": "QA score (0-100), sample = evaluations",
    "qa_fatal_errors": "compliance-critical fatal errors found by QA",
    "exam_score": "exam score (0-100), sample = exams taken",
    "kb_contribution_points": "knowledge-library contribution points",
    "kb_adopted": "knowledge contributions adopted into the library",
}

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
    return problems


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


def canonical(policy: LadderPolicy) -> str:
    """The policy as canonical JSON: what its hash covers."""
    return json.dumps(policy.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)


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
