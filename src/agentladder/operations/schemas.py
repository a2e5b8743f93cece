"""What a backup archive says about itself (its manifest), and what a restore reports."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

# Raised when the archive's layout changes; a restore refuses a format it does not know.
FORMAT_VERSION = 1

DatabaseKind = Literal["sqlite", "postgresql"]
# "sqlite-file": SQLite's own online backup of the database file; "rows": every table's rows as
# JSON lines, portable to any database the code supports.
DatabaseFormat = Literal["sqlite-file", "rows"]
# How a column's values are written in the rows format, so they read back as the same type.
ColumnKind = Literal["plain", "datetime", "date", "time", "decimal", "bytes", "json", "interval"]


class ArchivedFile(BaseModel):
    """One file in the archive, with what it must hash to."""

    path: str
    size_bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class DumpedTable(BaseModel):
    """A table in the rows format: its file, its row count and how each column is written."""

    name: str
    path: str
    rows: int = Field(ge=0)
    columns: dict[str, ColumnKind]


class BackupManifest(BaseModel):
    """manifest.json: everything a restore checks before it writes anything."""

    format_version: int
    product_version: str
    alembic_revision: str | None
    database_kind: DatabaseKind
    database_format: DatabaseFormat
    created_at: datetime
    files: list[ArchivedFile]
    tables: list[DumpedTable] = Field(default_factory=list)
    settings: dict[str, object] = Field(default_factory=dict)


class RestoreReport(BaseModel):
    """What a restore did."""

    archive: str
    backup_revision: str | None
    schema_revision: str | None
    database_kind: DatabaseKind
    rows: int
    data_files: int
