"""The database half of a backup: a consistent copy into the archive, and the database built
back from it.

Written the way that needs no outside tool: a SQLite database as SQLite's own online backup (a
consistent copy while the server runs), a PostgreSQL database as every table's rows in the
portable format (`rows.py`) read in one repeatable-read snapshot, so no `pg_dump` of a matching
major version is needed and the rows load into SQLite as well.

Built back aside and swapped in: a SQLite file is built next to the target and renamed over
it; a PostgreSQL database is emptied, loaded and migrated in one transaction. An older schema
is migrated to this version's head after its rows are loaded at their own revision.
"""

from __future__ import annotations

import os
import sqlite3
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, MetaData, create_engine
from sqlalchemy.engine import make_url

from agentladder.db import get_engine, upgrade_connection
from agentladder.errors import InvalidInput
from agentladder.operations import archive as zip_archive
from agentladder.operations import rows
from agentladder.operations.schemas import (
    ArchivedFile,
    BackupManifest,
    DatabaseFormat,
    DatabaseKind,
    DumpedTable,
)

SQLITE_MEMBER = "database/agentladder.sqlite3"
ROWS_FOLDER = "database/rows"
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")

# Called with (step, done, total): steps "database", "files" (backup); "verify", "database",
# "files" (restore).
StepProgress = Callable[[str, int, int], None]


def ignore_progress(step: str, done: int, total: int) -> None:
    return None


def database_kind(url: str) -> DatabaseKind:
    """The kind of database a URL names, or a refusal of one a backup cannot handle."""
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return "sqlite"
    if backend == "postgresql":
        return "postgresql"
    raise InvalidInput("backups handle SQLite and PostgreSQL databases, not {kind}", kind=backend)


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise InvalidInput("an in-memory database cannot be backed up or restored")
    return Path(database).resolve()


def _sqlite_online_backup(source: Path, target: Path, progress: StepProgress) -> None:
    """Copy a live SQLite database page by page (writers may go on meanwhile)."""
    with (
        sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True) as src,
        sqlite3.connect(target) as dest,
    ):
        src.backup(
            dest,
            pages=256,
            progress=lambda _status, remaining, total: progress(
                "database", total - remaining, total
            ),
        )
    # sqlite3's context manager commits but does not close.
    src.close()
    dest.close()


@dataclass
class _WrittenDatabase:
    """The database as written into the archive, and the revision it was copied at."""

    revision: str | None
    database_format: DatabaseFormat
    files: list[ArchivedFile]
    tables: list[DumpedTable]


def _dump_rows(
    connection: Connection, archive: zipfile.ZipFile, staging: Path, report: StepProgress
) -> _WrittenDatabase:
    revision = MigrationContext.configure(connection).get_current_revision()
    tables = rows.dump_tables(
        connection, staging, lambda done, total: report("database", done, total)
    )
    files = []
    for table in tables:
        member = f"{ROWS_FOLDER}/{table.path}"
        files.append(zip_archive.add_file(archive, staging / table.path, member))
        table.path = member
    return _WrittenDatabase(revision, "rows", files, tables)


def write_database(
    url: str, archive: zipfile.ZipFile, staging: Path, *, portable: bool, report: StepProgress
) -> _WrittenDatabase:
    """A consistent copy of the database into the archive: SQLite's file (or its rows when
    `portable`), PostgreSQL's rows read in one snapshot."""
    if database_kind(url) == "postgresql":
        snapshot = get_engine(url).execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
        with snapshot.connect() as connection, connection.begin():
            return _dump_rows(connection, archive, staging, report)
    copy = staging / "agentladder.sqlite3"
    _sqlite_online_backup(sqlite_path(url), copy, report)
    # The rows are read from the copy: one consistent state, as the live file may change.
    engine = create_engine(f"sqlite:///{copy}")
    try:
        with engine.connect() as connection:
            if portable:
                return _dump_rows(connection, archive, staging, report)
            revision = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    return _WrittenDatabase(
        revision, "sqlite-file", [zip_archive.add_file(archive, copy, SQLITE_MEMBER)], []
    )


@contextmanager
def _backup_tables(
    archive: zipfile.ZipFile, manifest: BackupManifest, staging: Path
) -> Iterator[tuple[int, Iterator[rows.TableRows]]]:
    """How many tables the backup holds and their rows in dependency order, whichever way the
    database was written."""
    if manifest.database_format == "rows":
        yield len(manifest.tables), _dumped_tables(archive, manifest)
        return
    copy = staging / "source.sqlite3"
    zip_archive.extract(archive, SQLITE_MEMBER, copy)
    engine = create_engine(f"sqlite:///{copy}")
    try:
        with engine.connect() as connection:
            yield len(rows.reflected_tables(connection)), rows.read_tables(connection)
    finally:
        engine.dispose()


def _dumped_tables(archive: zipfile.ZipFile, manifest: BackupManifest) -> Iterator[rows.TableRows]:
    for table in manifest.tables:
        with zip_archive.member(archive, table.path) as file:
            yield rows.dumped_rows(table, file)


def _load_schema_and_rows(
    connection: Connection,
    archive: zipfile.ZipFile,
    manifest: BackupManifest,
    staging: Path,
    report: StepProgress,
) -> int:
    """In the connection's transaction: the backup's schema revision, its rows, then the
    migrations up to this version's head."""
    if manifest.alembic_revision is not None:
        upgrade_connection(connection, manifest.alembic_revision)
    with _backup_tables(archive, manifest, staging) as (count, tables):
        loaded = rows.load_tables(
            connection,
            tables,
            revision=manifest.alembic_revision,
            progress=lambda done, total: report("database", done, total),
            table_count=count,
        )
    upgrade_connection(connection, "head")
    return loaded


def restore_sqlite(
    url: str,
    archive: zipfile.ZipFile,
    manifest: BackupManifest,
    staging: Path,
    report: StepProgress,
) -> int:
    """Build the database next to the target, migrate it, then rename it over the target."""
    target = sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    building = target.with_name(target.name + ".restoring")
    building.unlink(missing_ok=True)
    try:
        if manifest.database_format == "sqlite-file":
            zip_archive.extract(archive, SQLITE_MEMBER, building)
        engine = create_engine(f"sqlite:///{building}")
        try:
            with engine.connect() as connection, connection.begin():
                if manifest.database_format == "sqlite-file":
                    loaded = rows.row_count(connection)
                    report("database", 1, 1)
                    upgrade_connection(connection, "head")
                else:
                    loaded = _load_schema_and_rows(connection, archive, manifest, staging, report)
        finally:
            engine.dispose()
        # Nothing of this process may hold the old file open, nor its write-ahead log survive
        # it: SQLite would replay the old log into the new file.
        get_engine(url).dispose()
        for suffix in SQLITE_SIDE_FILES:
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(building, target)
    finally:
        building.unlink(missing_ok=True)
    return loaded


def restore_postgresql(
    url: str,
    archive: zipfile.ZipFile,
    manifest: BackupManifest,
    staging: Path,
    report: StepProgress,
) -> int:
    """Empty the database, load and migrate it, in one transaction: all of it or nothing."""
    with get_engine(url).connect() as connection, connection.begin():
        existing = MetaData()
        existing.reflect(connection)
        existing.drop_all(connection)
        return _load_schema_and_rows(connection, archive, manifest, staging, report)
