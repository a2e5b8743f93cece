"""The service statistics provider: the KPIs the metrics engine stored, as facts for the ladder
(ACD/CTI statistics, CSAT, complaints, tickets, leads, attendance)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from agentladder.i18n import N_, N_plural
from agentladder.metrics import freshness
from agentladder.metrics import service as metrics_service
from agentladder.metrics.catalog import CATALOG
from agentladder.metrics.schemas import Fact, MetricDefinition, PolicyKey, ProviderBase

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agentladder.config import Settings
    from agentladder.freshness import StaleInput
    from agentladder.periods import Period

HANDLED_CALLS_GAP = N_plural("{count} more handled call", "{count} more handled calls")
SURVEYS_GAP = N_plural("{count} more survey answer", "{count} more survey answers")
# Gap sentences decisions stored before the plural forms hold: kept translated.
STORED_ONLY_SENTENCES = (N_("{count} more handled calls"), N_("{count} more survey answers"))

# The policy's sufficiency minimums that count KPI samples.
SAMPLE_KEYS = {
    "handled_calls": PolicyKey(
        "evidence",
        "min_handled_calls",
        "min_samples",
        gate="min_handled_calls",
        label=N_("Handled calls"),
        gap=HANDLED_CALLS_GAP[0],
        gap_plural=HANDLED_CALLS_GAP[1],
        default=0,
    ),
    "csat_rate": PolicyKey(
        "evidence",
        "min_surveys",
        "min_samples",
        gate="min_surveys",
        label=N_("Survey answers"),
        gap=SURVEYS_GAP[0],
        gap_plural=SURVEYS_GAP[1],
        default=0,
    ),
}


class ServiceStatisticsProvider(ProviderBase):
    """The KPIs the metrics engine stored for mapped agents."""

    name = metrics_service.KPI_SUBSYSTEM

    def metrics(self) -> Sequence[MetricDefinition]:
        """Every agent KPI of the catalog."""
        return [
            replace(d, policy_keys=(SAMPLE_KEYS[d.id],)) if d.id in SAMPLE_KEYS else d
            for d in metrics_service.kpi_definitions(CATALOG, self.name)
        ]

    def facts(
        self, *, session: Session, periods: Sequence[Period], metrics: Collection[str] | None
    ) -> Iterable[tuple[str, Fact]]:
        """The stored values of these periods."""
        for row in metrics_service.agent_facts(
            session=session, periods=[p.label for p in periods], metrics=metrics
        ):
            yield (
                row.period,
                Fact(row.agent_id, row.metric_id, row.value, row.sample_size, self.name),
            )

    def stale_inputs(
        self, *, session: Session, settings: Settings, period: Period
    ) -> list[StaleInput]:
        """ACD imports and identity mappings newer than the period's stored metric values."""
        return freshness.stale_inputs(session=session, settings=settings, period=period)


PROVIDER = ServiceStatisticsProvider()
