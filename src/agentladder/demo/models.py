"""Demo-only tables. The product never reads them: they hold the truth the evidence hides."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from agentladder.db import Base, UtcDateTime, utcnow


class DemoAgentTruth(Base):
    """An agent's latent true skill; later steps generate calls, QA, exams and KB work from it."""

    __tablename__ = "demo_agent_truth"

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    # Standard-normal skill at hire; grows by learning_per_month, capped by ceiling.
    skill_at_hire: Mapped[float] = mapped_column(Float)
    learning_per_month: Mapped[float] = mapped_column(Float)
    ceiling: Mapped[float] = mapped_column(Float)
    # How steady the agent is from day to day (0 calm .. 1 erratic); drives noise in evidence.
    volatility: Mapped[float] = mapped_column(Float)
    archetype: Mapped[str] = mapped_column(String(30))


class DemoRun(Base):
    """One build of the demo centre: what was asked for and when."""

    __tablename__ = "demo_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    seed: Mapped[int] = mapped_column(Integer)
    agents: Mapped[int] = mapped_column(Integer)
    built_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    steps: Mapped[str] = mapped_column(String(400), default="")
