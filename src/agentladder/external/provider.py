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

QA_EVALUATIONS_GAP = N_plural("{count} more QA evaluation", "{count} more QA evaluations")
ADOPTED_GAP = N_plural(
    "{count} more adopted knowledge contribution", "{count} more adopted knowledge contributions"
)
# Gap sentences decisions stored before the plural forms hold: kept translated.
STORED_ONLY_SENTENCES = (
    N_("{count} more QA evaluations"),
    N_("{count} more adopted knowledge contributions"),
)

QA_SCORE = MetricDefinition(
    "qa_score",
    "质检得分",
    "QA score",
    "score",
    "up",
    "external",
    sample="evaluations",
    bounds=(0, 100),
    evaluator_scored=True,
    policy_keys=(
        PolicyKey(
            "evidence",
            "min_qa_evaluations",
            "min_samples",
            gate="min_qa_evaluations",
            label=N_("QA evaluations"),
            gap=QA_EVALUATIONS_GAP[0],
            gap_plural=QA_EVALUATIONS_GAP[1],
            default=0,
        ),
        PolicyKey(
            "entry",
            "min_qa_score",
            "min_value",
            gate="qa_score",
            label=N_("QA score"),
            gap=N_("QA score {needed} (now {actual})"),
        ),
    ),
)
QA_FATAL_ERRORS = MetricDefinition(
    "qa_fatal_errors",
    "致命错误",
    "Fatal errors",
    "count",
    "down",
    "external",
    sample="evaluations",
    bounds=(0, None),
    policy_keys=(
        PolicyKey(
            "entry",
            "no_fatal_months",
            "no_events",
            gate="fatal_errors",
            label=N_("Fatal errors in the window"),
            gap=N_("no fatal errors in the gate's window (now {count})"),
        ),
        PolicyKey(
            "demotion",
            "on_fatal_compliance",
            "trigger",
            gate="fatal_errors",
            label=N_("Fatal errors"),
            default="review",
            review_reason=N_("A compliance-critical fatal error this period: a review is open."),
            demote_reason=N_("A compliance-critical fatal error this period: demoted one level."),
        ),
    ),
)
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
        """The quality and knowledge metrics no subsystem of the product measures yet."""
        return [QA_SCORE, QA_FATAL_ERRORS, KB_CONTRIBUTION_POINTS, KB_ADOPTED]

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
