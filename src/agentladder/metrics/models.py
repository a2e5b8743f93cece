"""Computed metric values: per agent or queue, per period, with numerator, denominator and
sample size (the ladder needs sample sizes to judge evidence)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agentladder.db import Base, UtcDateTime, utcnow


class MetricValue(Base):
    """One metric for one subject in one period."""

    __tablename__ = "metric_values"
    __table_args__ = (UniqueConstraint("period_kind", "period", "scope", "subject", "metric_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_kind: Mapped[str] = mapped_column(String(10))
    period: Mapped[str] = mapped_column(String(12), index=True)
    scope: Mapped[str] = mapped_column(String(10))  # agent | queue
    # The employee number, or the source identity while it is unmapped; or the queue name.
    subject: Mapped[str] = mapped_column(String(200))
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), index=True
    )
    metric_id: Mapped[str] = mapped_column(String(40))
    value: Mapped[float | None] = mapped_column(Float)
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    sample_size: Mapped[int] = mapped_column(Integer)
    engine: Mapped[str] = mapped_column(String(10))
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
