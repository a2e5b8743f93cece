"""Results imported from other tools, one row per agent, period and metric."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agentladder.db import Base, UtcDateTime, utcnow


class ExternalEvidence(Base):
    """A per-agent, per-period fact brought from another tool (QA, exams, knowledge base)."""

    __tablename__ = "external_evidence"
    __table_args__ = (UniqueConstraint("agent_id", "period", "metric_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(12), index=True)  # 2026-10, 2026-Q4
    metric_id: Mapped[str] = mapped_column(String(40))
    value: Mapped[float] = mapped_column(Float)
    sample_size: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(255))  # the file it came from
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    imported_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
