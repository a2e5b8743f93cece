"""The external results provider: per-agent, per-period results brought from other tools (a
QA system, an LMS, a knowledge base) as facts for the ladder. It declares the quality and
knowledge metrics until the product's own subsystems measure them (they take the
declarations over; their facts then come from both, the later provider winning)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING

from agentladder.external import service as external_service
from agentladder.i18n import N_, N_plural
from agentladder.metrics.schemas import Fact, MetricDefinition, PolicyKey, ProviderBase

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agentladder.periods import Period

ADOPTED_GAP = N_plural(
    "{count} more adopted knowledge contribution", "{count} more adopted knowledge contributions"
)
# Gap sentences decisions stored before the plural forms hold: kept translated.
STORED_ONLY_SENTENCES = (N_("{count} more adopted knowledge contributions"),)

KB_CONTRIBUTION_POINTS = MetricDefinition(
    "kb_contribution_points",
    "知识贡献积分",
    "Knowledge contribution points",
    "count",
    "up",
    "external",
    sample="contributions",
    bounds=(0, None),
)
KB_ADOPTED = MetricDefinition(
    "kb_adopted",
    "被采纳的知识贡献",
    "Adopted knowledge contributions",
    "count",
    "up",
    "external",
    sample="contributions",
    bounds=(0, None),
    window_months=12,
    policy_keys=(
        PolicyKey(
            "entry",
            "min_kb_adopted",
            "min_window",
            gate="kb_adopted",
            label=N_("Adopted knowledge contributions"),
            gap=ADOPTED_GAP[0],
            gap_plural=ADOPTED_GAP[1],
        ),
    ),
)


class ExternalResultsProvider(ProviderBase):
    """The results stored by `agentladder ladder evidence import` (or the Evidence page)."""

    name = "external"

    def metrics(self) -> Sequence[MetricDefinition]:
        """The knowledge metrics no subsystem of the product measures yet (QA results imported
        under the quality metrics' names are read too: their facts come from `facts`)."""
        return [KB_CONTRIBUTION_POINTS, KB_ADOPTED]

    def facts(
        self, *, session: Session, periods: Sequence[Period], metrics: Collection[str] | None
    ) -> Iterable[tuple[str, Fact]]:
        """Every stored result of these periods (a quarter's results are the quarter's)."""
        by_period = external_service.external_facts_between(
            session=session, periods=[p.label for p in periods], metrics=metrics
        )
        for period, rows in by_period.items():
            for row in rows:
                yield (
                    period,
                    Fact(row.agent_id, row.metric_id, row.value, row.sample_size, row.source),
                )


PROVIDER = ExternalResultsProvider()
