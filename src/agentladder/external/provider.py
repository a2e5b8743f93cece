"""The external results provider: per-agent, per-period results brought from other tools (a
QA system, an LMS, a knowledge base) as facts for the ladder, under the names of the metrics the
product's subsystems declare; where both have a result the subsystem's (a later provider) wins."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING

from agentladder.external import service as external_service
from agentladder.metrics.schemas import Fact, MetricDefinition, ProviderBase

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agentladder.periods import Period


class ExternalResultsProvider(ProviderBase):
    """The results stored by `agentladder ladder evidence import` (or the Evidence page)."""

    name = "external"

    def metrics(self) -> Sequence[MetricDefinition]:
        """None of its own: every metric it reads is declared by the subsystem that measures it
        (results imported under a subsystem metric's name are read too, by `facts`)."""
        return []

    def facts(
        self, *, session: Session, periods: Sequence[Period], metrics: Collection[str] | None
    ) -> Iterable[tuple[str, Fact]]:
        """Every stored result of these periods (a quarter's results are the quarter's)."""
        labels = list(dict.fromkeys(p.label for p in periods))
        rows = external_service.external_fact_rows(session=session, periods=labels, metrics=metrics)
        # Straight from the rows: a run reads hundreds of thousands, and an object in between
        # cost as much as the read.
        for period, agent_id, metric_id, value, sample_size, source in rows:
            yield period, Fact(agent_id, metric_id, value, sample_size, source)


PROVIDER = ExternalResultsProvider()
