"""The ledger of file imports: one row per file applied or refused, whatever its importer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from agentladder.db import Base, UtcDateTime, utcnow


class FileImport(Base):
    """One imported (or refused) file: its hash, counts and the problems of its rows."""

    __tablename__ = "file_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)  # the importer: roster, ...
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    encoding: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))  # applied | refused
    rows_read: Mapped[int] = mapped_column(Integer)
    created: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)  # rows with an error
    # The rejected rows' problems and the warnings, as ImportIssue dicts.
    issues: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    imported_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


__all__ = ["FileImport"]
