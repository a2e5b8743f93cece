"""The import ledger: every file read, what became of each row, which identities it named."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agentladder.db import Base, UtcDateTime, utcnow


class ImportBatch(Base):
    """One imported file: its hash, adapter and row counts (read = accepted+rejected+ignored)."""

    __tablename__ = "import_batches"
    __table_args__ = (UniqueConstraint("adapter", "file_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    adapter: Mapped[str] = mapped_column(String(40))
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    rows_read: Mapped[int] = mapped_column(Integer)
    rows_accepted: Mapped[int] = mapped_column(Integer)
    rows_rejected: Mapped[int] = mapped_column(Integer)
    rows_ignored: Mapped[int] = mapped_column(Integer)
    # Records already stored by an overlapping earlier file, not stored again.
    rows_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    first_event_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_event_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    details: Mapped[str] = mapped_column(Text, default="{}")  # JSON: notes, unknown verbs...
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    imported_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    rejected: Mapped[list[RejectedRow]] = relationship(
        cascade="all, delete-orphan", order_by="RejectedRow.line_no"
    )
    identities: Mapped[list[SeenIdentity]] = relationship(cascade="all, delete-orphan")


class RejectedRow(Base):
    """A row that could not be used, kept with its line number, field and reason."""

    __tablename__ = "rejected_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("import_batches.id", ondelete="CASCADE"), index=True
    )
    line_no: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(80), default="")
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text, default="")


class SeenIdentity(Base):
    """An agent identity as a file spelled it, and on how many rows."""

    __tablename__ = "seen_identities"

    batch_id: Mapped[int] = mapped_column(
        ForeignKey("import_batches.id", ondelete="CASCADE"), primary_key=True
    )
    identity: Mapped[str] = mapped_column(String(200), primary_key=True)
    rows: Mapped[int] = mapped_column(Integer)


class ImportJob(Base):
    """An uploaded file being imported in the background: what was asked for, which step it is
    at, and the ledger entry (or the problem) it ended with."""

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    upload_token: Mapped[str] = mapped_column(String(64))  # the stashed file's SHA-256
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    adapter_requested: Mapped[str] = mapped_column(String(40))  # an adapter's name, or "auto"
    adapter: Mapped[str | None] = mapped_column(String(40))  # the one that read the file
    # Why "auto" chose the adapter: {"reason": msgid, "params": {...}}.
    detection: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # mapping (the loaded mapping or None), mapping_name, encoding, timezone.
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # running | done | failed
    step: Mapped[str] = mapped_column(String(20), default="queued")
    # What stopped it: {"message": msgid, "params": {...}}.
    problem: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_batches.id", ondelete="SET NULL")
    )
    already_imported: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class WatchedLog(Base):
    """A log followed as it grows (`agentladder ingest watch`): which file is being read, how
    far, and the lines of what was in progress at the last read, which start the next one."""

    __tablename__ = "watched_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(1000), unique=True)
    adapter: Mapped[str] = mapped_column(String(40), default="queue_log")
    # The file at `path` when it was last read (a rename keeps them, a new file changes them).
    device: Mapped[int | None] = mapped_column(BigInteger)
    inode: Mapped[int | None] = mapped_column(BigInteger)
    # SHA-256 of its first bytes: tells a file cut short and written again (copytruncate), and
    # finds its copy among the rotated files.
    head_sha256: Mapped[str | None] = mapped_column(String(64))
    offset_bytes: Mapped[int] = mapped_column(BigInteger, default=0)  # read, whole lines only
    carry: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    lines_read: Mapped[int] = mapped_column(BigInteger, default=0)
    batches: Mapped[int] = mapped_column(Integer, default=0)
    rotations: Mapped[int] = mapped_column(Integer, default=0)
    # Rotations whose rotated file was not found: the rest of it, if any, was not read.
    missed_rotations: Mapped[int] = mapped_column(Integer, default=0)
    last_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_batches.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
