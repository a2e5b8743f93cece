"""Ladder tables: policy versions, decisions with their overrides and appeals."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agentladder.db import Base, UtcDateTime, utcnow

DECISIONS = ("promote", "hold", "demote", "insufficient_evidence")
# final: nothing to approve (holds); pending: waits for a manager; approved/applied: the level
# changed (approved by a manager, or applied automatically); rejected: a manager said no.
DECISION_STATUSES = ("final", "pending", "approved", "applied", "rejected")


class PolicyVersion(Base):
    """One version of the ladder policy, identified by its content hash."""

    __tablename__ = "ladder_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    yaml_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # When it became the policy in force (the latest applied one is); null: only stored.
    applied_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    applied_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    note: Mapped[str] = mapped_column(Text, default="")


class LadderDecision(Base):
    """The ladder's decision for one agent and period, with everything that explains it."""

    __tablename__ = "ladder_decisions"
    __table_args__ = (
        UniqueConstraint("agent_id", "period"),
        CheckConstraint(
            "decision IN ('promote', 'hold', 'demote', 'insufficient_evidence')", name="decision"
        ),
        CheckConstraint(
            "status IN ('final', 'pending', 'approved', 'applied', 'rejected')", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(12), index=True)
    policy_hash: Mapped[str] = mapped_column(String(64))
    from_level: Mapped[str] = mapped_column(String(40))
    to_level: Mapped[str] = mapped_column(String(40))
    decision: Mapped[str] = mapped_column(String(24))
    composite: Mapped[float | None] = mapped_column(Float)
    # Streaks carried to the next period: periods in a row qualifying for the next level, and
    # below the current level's floor.
    qualify_streak: Mapped[int] = mapped_column(Integer, default=0)
    floor_streak: Mapped[int] = mapped_column(Integer, default=0)
    # JSON: components, metrics, gates, reasons, gaps (see ladder.decisions.Decision).
    detail: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    reviewed_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    review_reason: Mapped[str] = mapped_column(Text, default="")

    overrides: Mapped[list[DecisionOverride]] = relationship(
        cascade="all, delete-orphan", order_by="DecisionOverride.id"
    )
    appeals: Mapped[list[Appeal]] = relationship(cascade="all, delete-orphan", order_by="Appeal.id")


class DecisionOverride(Base):
    """A manager's manual decision, kept beside the automatic one (never instead of it)."""

    __tablename__ = "ladder_overrides"
    __table_args__ = (
        CheckConstraint("decision IN ('promote', 'hold', 'demote')", name="decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(
        ForeignKey("ladder_decisions.id", ondelete="CASCADE"), index=True
    )
    decision: Mapped[str] = mapped_column(String(24))
    to_level: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class Appeal(Base):
    """An agent's appeal against a decision and how a manager resolved it."""

    __tablename__ = "ladder_appeals"
    __table_args__ = (CheckConstraint("status IN ('open', 'upheld', 'denied')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(
        ForeignKey("ladder_decisions.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    response: Mapped[str] = mapped_column(Text, default="")
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
