"""The shapes every evidence subsystem shares: a metric's declaration, a fact about an agent,
and the provider protocol through which a subsystem hands its facts to the ladder.

"Evidence" means one thing in agentladder: facts about an agent in a period (a metric's value
with its sample size and source). Subsystems produce it; the ladder reads it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agentladder.config import Settings
    from agentladder.freshness import StaleInput
    from agentladder.periods import Period

Unit = Literal["count", "s", "rate", "score", "hours", "points", "per_1000_calls"]
# Units whose monthly values add up over a window (a gate over 12 months reads their sum).
SUMMED_UNITS: frozenset[str] = frozenset({"count", "hours", "points"})
Direction = Literal["up", "down", "neutral"]
# How a policy key written as a shorthand reads as a rule on the metric that declares it:
#   min_value      entry gate: the period's value at least the key's number
#   no_events      entry gate: none counted over the key's number of months
#   min_window     entry gate: at least the key's number counted over the metric's window
#   min_samples    sufficiency: the period's sample size at least the key's number
#   trigger        demotion: any counted this period opens a review, demotes, or does nothing
PolicyKeyKind = Literal["min_value", "no_events", "min_window", "min_samples", "trigger"]


@dataclass(frozen=True)
class PolicyKey:
    """A policy shorthand a metric answers to (`min_qa_score: 85` for a gate on `qa_score`),
    with the gate's name and wording in decisions, so published policies keep their keys."""

    section: Literal["entry", "evidence", "demotion"]
    key: str
    kind: PolicyKeyKind
    gate: str  # the gate's name in decisions (the JSON output and the stored detail)
    label: str  # msgid: the gate's name for people
    gap: str = ""  # msgid of the gap sentence; params: needed, actual, count
    gap_plural: str = ""  # its plural msgid, for gaps with a {count} ("1 more call")
    default: object = None  # the value when a policy leaves the key out
    # For triggers: the msgids of the sentences for a review and for a demotion.
    review_reason: str = ""
    demote_reason: str = ""


@dataclass(frozen=True)
class MetricDefinition:
    """One metric of the registry, whichever subsystem measures it."""

    id: str
    zh: str
    en: str
    unit: Unit
    direction: Direction
    subsystem: str  # the provider that declares it
    sample: str = ""  # what its sample size counts (calls, evaluations, exams...)
    # The values an imported result may take (None: any); KPIs are bounded by their unit.
    bounds: tuple[float, float | None] | None = None
    # Months a count is summed over when a gate reads it without a window of its own.
    window_months: int = 1
    # Scored by people (QA evaluators): the fairness table groups agents by its source.
    evaluator_scored: bool = False
    policy_keys: tuple[PolicyKey, ...] = field(default_factory=tuple)
    # Its twin with the evaluators' effects taken out: a policy that adjusts for evaluators
    # (`qa.adjust_for_evaluator`) scores this metric by the twin where the twin has a value.
    adjusted_variant: str | None = None

    def name(self, language: str) -> str:
        """The metric's name in the reader's language."""
        return self.zh if language == "zh_Hans" else self.en


@dataclass(frozen=True)
class Fact:
    """A metric for one agent in one period, and how many observations back it."""

    agent_id: int
    metric_id: str
    value: float | None
    sample_size: int
    source: str
    # What lies behind an adjusted value (the raw one, the evaluators' effects), for the
    # explanation: JSON-ready, never compared.
    detail: Mapping[str, Any] | None = field(default=None, compare=False)


class EvidenceProvider(Protocol):
    """What every evidence subsystem implements (in its `provider.py`) to feed the ladder."""

    name: str

    def metrics(self) -> Sequence[MetricDefinition]:
        """The metrics this subsystem declares (each id declared by one subsystem only)."""
        ...

    def facts(
        self, *, session: Session, periods: Sequence[Period], metrics: Collection[str] | None
    ) -> Iterable[tuple[str, Fact]]:
        """(period label, fact) for every agent with evidence in these periods (of every
        metric, or only of the metrics named)."""
        ...

    def certification_types(self, *, session: Session) -> Collection[str]:
        """Codes of the certifications this subsystem attests (policy gates may name them)."""
        ...

    def certification_names(self, *, session: Session) -> Mapping[str, tuple[str, str]]:
        """The Chinese and English names of those certifications, by code."""
        ...

    def certifications(
        self, *, session: Session, agent_ids: Collection[int], period: Period
    ) -> dict[int, set[str]]:
        """The certifications each agent holds, valid on the period's last day."""
        ...

    def stale_inputs(
        self, *, session: Session, settings: Settings, period: Period
    ) -> list[StaleInput]:
        """What changed after the facts this provider precomputed for the period were computed
        (empty when it reads its facts directly)."""
        ...


class ProviderBase:
    """Defaults for a provider that attests no certifications and precomputes nothing."""

    name = ""

    def certification_types(self, *, session: Session) -> Collection[str]:
        """None."""
        return ()

    def certification_names(self, *, session: Session) -> Mapping[str, tuple[str, str]]:
        """None."""
        return {}

    def certifications(
        self, *, session: Session, agent_ids: Collection[int], period: Period
    ) -> dict[int, set[str]]:
        """None."""
        return {}

    def stale_inputs(
        self, *, session: Session, settings: Settings, period: Period
    ) -> list[StaleInput]:
        """Nothing: its facts are read as they are stored."""
        return []
