"""The training provider: certifications valid on a period's last day (the policy's
certification gates read them) and the exam score the ladder weighs."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from agentladder.metrics.schemas import Fact, MetricDefinition, ProviderBase
from agentladder.training.certifications import service as certifications_service

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agentladder.periods import Period

EXAM_SCORE = MetricDefinition(
    "exam_score",
    "考试成绩",
    "Exam score",
    "score",
    "up",
    "training",
    sample="exams",
    bounds=(0, 100),
)


class TrainingProvider(ProviderBase):
    """Certifications from the training records; exam scores come in through the external
    results import until the product's own exams record them."""

    name = "training"

    def metrics(self) -> Sequence[MetricDefinition]:
        """The exam score (0-100, sample = exams taken)."""
        return [EXAM_SCORE]

    def facts(
        self, *, session: Session, periods: Sequence[Period], metrics: Collection[str] | None
    ) -> Iterable[tuple[str, Fact]]:
        """None yet: exams are not taken in the product."""
        return ()

    def certification_types(self, *, session: Session) -> Collection[str]:
        """The built-in certification types and those the centre added."""
        return certifications_service.known_certification_types(session=session)

    def certification_names(self, *, session: Session) -> Mapping[str, tuple[str, str]]:
        """The built-in and the centre's certification types by their names."""
        return {
            kind.code: (kind.zh, kind.en)
            for kind in certifications_service.list_certification_types(session=session)
        }

    def certifications(
        self, *, session: Session, agent_ids: Collection[int], period: Period
    ) -> dict[int, set[str]]:
        """Certificates valid on the period's last day."""
        return certifications_service.valid_certifications(
            session=session, agent_ids=list(agent_ids), on=period.last_day
        )


PROVIDER = TrainingProvider()
