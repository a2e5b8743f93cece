"""The ladder's side of the evidence providers: every registered provider's facts for the
periods a run reads, and the certifications they attest.

Providers live with their subsystems (`<domain>/provider.py`) and register in the metric
registry (`metrics.service.evidence_providers`); the ladder never reads another domain's
tables. Where two providers give the same metric for the same agent and period, the later one
in the registry wins (an import from the centre's QA tool replaces nothing the product
computed unless it names the same metric).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace

from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.freshness import StaleInput
from agentladder.metrics import service as metrics_service
from agentladder.metrics.schemas import EvidenceProvider, Fact
from agentladder.periods import Period

# Facts by period label, then agent, then metric.
PeriodFacts = dict[str, dict[int, dict[str, Fact]]]


def gather_facts(
    *,
    session: Session,
    periods: Sequence[Period],
    metrics: Collection[str] | None = None,
    providers: Sequence[EvidenceProvider] | None = None,
) -> PeriodFacts:
    """Every provider's facts (of every metric, or of the metrics named) for these periods, by
    period, agent and metric."""
    gathered: PeriodFacts = {period.label: {} for period in periods}
    for provider in metrics_service.evidence_providers() if providers is None else providers:
        for label, fact in provider.facts(session=session, periods=periods, metrics=metrics):
            gathered.setdefault(label, {}).setdefault(fact.agent_id, {})[fact.metric_id] = fact
    return gathered


def gather_certifications(
    *, session: Session, agent_ids: Collection[int], period: Period
) -> dict[int, set[str]]:
    """The certifications each agent holds on the period's last day, from every provider."""
    held: dict[int, set[str]] = {agent_id: set() for agent_id in agent_ids}
    for provider in metrics_service.evidence_providers():
        attested = provider.certifications(session=session, agent_ids=agent_ids, period=period)
        for agent_id, codes in attested.items():
            held.setdefault(agent_id, set()).update(codes)
    return held


def stale_inputs(*, session: Session, settings: Settings, period: Period) -> list[StaleInput]:
    """Every provider's stale inputs for the period (the ladder refuses to decide on them)."""
    return [
        replace(item, source=item.source or provider.name)
        for provider in metrics_service.evidence_providers()
        for item in provider.stale_inputs(session=session, settings=settings, period=period)
    ]
