"""Evidence providers: how each subsystem hands the ladder per-agent, per-period facts.

A provider turns its domain's results into `Fact`s (metric, value, sample size, source). The
ladder never reads another domain's tables: the service statistics come through the metrics
service, results brought from other tools through the external evidence import. QA, exams and
the knowledge library will each add a provider here. Where two providers give the same
metric for the same agent and period, the later one in `PROVIDERS` wins (an import from the
centre's QA tool replaces nothing the product computed unless it names the same metric).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from typing import Protocol

from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.freshness import StaleInput
from agentladder.ladder import external
from agentladder.ladder.scoring import Fact
from agentladder.metrics import service as metrics_service

# Facts by period, then agent, then metric.
PeriodFacts = dict[str, dict[int, dict[str, Fact]]]


class EvidenceProvider(Protocol):
    """What every subsystem implements to feed the ladder."""

    name: str

    def facts(
        self, *, session: Session, periods: Sequence[str], metrics: Collection[str] | None
    ) -> Iterable[tuple[str, Fact]]:
        """(period, fact) for every agent with evidence in these periods (of every metric, or
        of the metrics named)."""
        ...

    def stale_inputs(
        self, *, session: Session, settings: Settings, period: str
    ) -> list[StaleInput]:
        """What changed after the facts this provider precomputed for the period were computed
        (empty when it reads its facts directly)."""
        ...


class ServiceStatisticsProvider:
    """The KPIs the metrics engine stored (service statistics, CSAT, complaints, tickets...)."""

    name = "service_statistics"

    def facts(
        self, *, session: Session, periods: Sequence[str], metrics: Collection[str] | None
    ) -> Iterable[tuple[str, Fact]]:
        for row in metrics_service.agent_facts(
            session=session, periods=list(periods), metrics=metrics
        ):
            yield (
                row.period,
                Fact(row.agent_id, row.metric_id, row.value, row.sample_size, self.name),
            )

    def stale_inputs(
        self, *, session: Session, settings: Settings, period: str
    ) -> list[StaleInput]:
        """ACD imports and identity mappings newer than the period's stored metric values."""
        return [
            replace(item, source=self.name)
            for item in metrics_service.stale_inputs(
                session=session, settings=settings, period=period
            )
        ]


class ExternalEvidenceProvider:
    """Results imported from other tools (QA scores, fatal errors, exams, knowledge)."""

    name = "external"

    def facts(
        self, *, session: Session, periods: Sequence[str], metrics: Collection[str] | None
    ) -> Iterable[tuple[str, Fact]]:
        by_period = external.external_facts_between(
            session=session, periods=list(periods), metrics=metrics
        )
        for period, rows in by_period.items():
            for row in rows:
                yield (
                    period,
                    Fact(row.agent_id, row.metric_id, row.value, row.sample_size, row.source),
                )

    def stale_inputs(
        self, *, session: Session, settings: Settings, period: str
    ) -> list[StaleInput]:
        """Nothing: the imported facts are read as they are, nothing is precomputed."""
        return []


PROVIDERS: tuple[EvidenceProvider, ...] = (ServiceStatisticsProvider(), ExternalEvidenceProvider())


def gather_facts(
    *,
    session: Session,
    periods: Sequence[str],
    metrics: Collection[str] | None = None,
    providers: Sequence[EvidenceProvider] = PROVIDERS,
) -> PeriodFacts:
    """Every provider's facts (of every metric, or of the metrics named) for these periods, by
    period, agent and metric."""
    gathered: PeriodFacts = {period: {} for period in periods}
    for provider in providers:
        for period, fact in provider.facts(session=session, periods=periods, metrics=metrics):
            gathered.setdefault(period, {}).setdefault(fact.agent_id, {})[fact.metric_id] = fact
    return gathered


def stale_inputs(
    *,
    session: Session,
    settings: Settings,
    period: str,
    providers: Sequence[EvidenceProvider] = PROVIDERS,
) -> list[StaleInput]:
    """Every provider's stale inputs for the period (the ladder refuses to decide on them)."""
    return [
        item
        for provider in providers
        for item in provider.stale_inputs(session=session, settings=settings, period=period)
    ]
