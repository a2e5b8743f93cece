"""Quality tables: forms and their versions, and the evaluations scored on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
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

EVALUATION_KINDS = ("official", "coaching")  # coaching evaluations never count
EVALUATION_STATUSES = ("draft", "submitted")


class QaForm(Base):
    """A QA form by its code; what it asks is in its versions."""

    __tablename__ = "qa_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    versions: Mapped[list[QaFormVersion]] = relationship(
        back_populates="form", order_by="QaFormVersion.version"
    )


class QaFormVersion(Base):
    """One version of a form: its spec as JSON. A version with evaluations never changes;
    editing the form then makes a new version."""

    __tablename__ = "qa_form_versions"
    __table_args__ = (UniqueConstraint("form_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("qa_forms.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    spec_json: Mapped[str] = mapped_column(Text)
    spec_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    form: Mapped[QaForm] = relationship(back_populates="versions")


class QaEvaluation(Base):
    """One call scored on one form version by one evaluator: a draft until submitted, then
    immutable (changed only through a dispute or a regrade)."""

    __tablename__ = "qa_evaluations"
    __table_args__ = (
        CheckConstraint(f"kind IN {EVALUATION_KINDS}", name="kind"),
        CheckConstraint(f"status IN {EVALUATION_STATUSES}", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form_version_id: Mapped[int] = mapped_column(
        ForeignKey("qa_form_versions.id", ondelete="RESTRICT"), index=True
    )
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    evaluator_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    call_id: Mapped[str] = mapped_column(String(120))  # the ingested call's id
    call_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(10), default="official")
    status: Mapped[str] = mapped_column(String(10), default="draft")
    # Answers and per-item comments by item code, as JSON; scores once submitted.
    answers_json: Mapped[str] = mapped_column(Text, default="{}")
    comments_json: Mapped[str] = mapped_column(Text, default="{}")
    overall: Mapped[float | None] = mapped_column(Float)
    compliance: Mapped[float | None] = mapped_column(Float)
    fatal: Mapped[bool] = mapped_column(Boolean, default=False)
    scores_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    form_version: Mapped[QaFormVersion] = relationship()
