"""Certification types and the certifications agents hold."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agentladder.db import Base, UtcDateTime, utcnow


class CertificationType(Base):
    """A kind of certification the centre added to the built-in ones (see
    `training.certifications.service.BUILTIN_TYPES`); the ladder's gates name types by code."""

    __tablename__ = "certification_types"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    zh: Mapped[str] = mapped_column(String(120))
    en: Mapped[str] = mapped_column(String(120))
    # How long a certificate stays valid when its source gives no expiry; null: no expiry.
    validity_months: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Certification(Base):
    """A certificate an agent holds: which type, issued and expiring when, from where."""

    __tablename__ = "certifications"
    __table_args__ = (
        UniqueConstraint("agent_id", "cert_type", "issued_on"),
        CheckConstraint("expires_on IS NULL OR expires_on >= issued_on", name="expiry"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    cert_type: Mapped[str] = mapped_column(String(40))  # a built-in or added type's code
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(200))  # import:<file> | exam:<id> | manual
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    recorded_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
