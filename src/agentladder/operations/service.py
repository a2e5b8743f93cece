"""Backups and restores of an installation: the database and the data directory (the Parquet
event store, the secret key, uploads waiting to be applied) in one zip with a manifest.

The database is written the way that needs no outside tool: a SQLite database as SQLite's own
online backup (a consistent copy while the server runs), a PostgreSQL database as every table's
rows in the portable format (`rows.py`) read in one repeatable-read transaction, so no
`pg_dump` of a matching major version is needed and the dump loads into SQLite as well.

A restore checks everything before writing anything (the manifest, every file's checksum, a
schema revision this version knows, an empty target unless forced), then builds the database
aside and swaps it in: a SQLite file is built next to the target and renamed over it; a
PostgreSQL database is emptied, loaded and migrated in one transaction. An older schema is
migrated to this version's head after its rows are loaded. The data directory's entries are
unpacked beside it and moved in once the database is committed.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, MetaData, create_engine
from sqlalchemy.engine import make_url

from agentladder import __version__
from agentladder.config import Settings
from agentladder.db import (
    current_revision,
    database_missing,
    get_engine,
    head_revision,
    known_revisions,
    upgrade_connection,
    utcnow,
)
from agentladder.errors import Conflict, InvalidInput
from agentladder.operations import archive as zip_archive
from agentladder.operations import rows
from agentladder.operations.schemas import (
    FORMAT_VERSION,
    ArchivedFile,
    BackupManifest,
    DatabaseFormat,
    DatabaseKind,
    DumpedTable,
    RestoreReport,
)

SQLITE_MEMBER = "database/agentladder.sqlite3"
ROWS_FOLDER = "database/rows"
DATA_FOLDER = "data"
# Beside the data directory's own entries while a restore runs; removed when it ends.
RESTORE_STAGING = ".restore-staging"
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
# Settings whose names say they hold a secret are left out of the manifest.
SECRET_SETTING = re.compile(r"secret|password|token|(^|_)key$")

# Called with (step, done, total): steps "database", "files" (backup); "verify", "database",
# "files" (restore).
Progress = Callable[[str, int, int], None]


def _ignore_progress(step: str, done: int, total: int) -> None:
    return None


def database_kind(url: str) -> DatabaseKind:
    """The kind of database a URL names, or a refusal of one a backup cannot handle."""
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return "sqlite"
    if backend == "postgresql":
        return "postgresql"
    raise InvalidInput("backups handle SQLite and PostgreSQL databases, not {kind}", kind=backend)


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise InvalidInput("an in-memory database cannot be backed up or restored")
    return Path(database).resolve()


def settings_snapshot(settings: Settings) -> dict[str, object]:
    """The settings in force, without secrets (the database URL without its password)."""
    snapshot: dict[str, object] = {}
    for name, value in settings.model_dump(mode="json").items():
        field = type(settings).model_fields[name]
        if SECRET_SETTING.search(name) or not field.repr:
            continue
        snapshot[name] = value
    snapshot["database_url"] = make_url(settings.resolved_database_url).render_as_string(
        hide_password=True
    )
    return snapshot


def _excluded_data_paths(settings: Settings, *others: Path) -> set[Path]:
    """Files of the data directory a backup leaves out: the SQLite database (backed up on its
    own) with its side files, a restore's leftovers and the archive being written."""
    excluded = {path.resolve() for path in others}
    excluded.add((settings.data_dir / RESTORE_STAGING).resolve())
    if database_kind(settings.resolved_database_url) == "sqlite":
        database = _sqlite_path(settings.resolved_database_url)
        excluded.add(database)
        excluded.update(Path(f"{database}{suffix}") for suffix in SQLITE_SIDE_FILES)
    return excluded


def _data_files(settings: Settings, excluded: set[Path]) -> list[Path]:
    """The data directory's regular files, in a stable order, without the excluded ones."""
    root = settings.data_dir
    if not root.is_dir():
        return []
    found: list[Path] = []
    for folder, folders, files in os.walk(root):
        here = Path(folder)
        folders[:] = sorted(name for name in folders if (here / name).resolve() not in excluded)
        for name in sorted(files):
            path = here / name
            if path.is_file() and not path.is_symlink() and path.resolve() not in excluded:
                found.append(path)
    return found


def _sqlite_online_backup(source: Path, target: Path, progress: Progress) -> None:
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
    connection: Connection, archive: zipfile.ZipFile, staging: Path, report: Progress
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


def _write_database(
    url: str, archive: zipfile.ZipFile, staging: Path, *, portable: bool, report: Progress
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
    _sqlite_online_backup(_sqlite_path(url), copy, report)
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


def create_backup(
    *, settings: Settings, out: Path, portable: bool = False, progress: Progress | None = None
) -> BackupManifest:
    """Write the database and the data directory into one zip at `out`; return its manifest.

    `portable` writes a SQLite database as rows too. The archive appears at `out` only once
    complete (it is written to a side file first).
    """
    report = progress or _ignore_progress
    url = settings.resolved_database_url
    kind = database_kind(url)
    if database_missing(url):
        raise InvalidInput(
            "there is no database at {url}: nothing to back up",
            url=make_url(url).render_as_string(hide_password=True),
        )
    out = out.resolve()
    if out.is_dir():
        raise InvalidInput("{path} is a folder: give the backup file's name", path=str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    staging = out.with_name(out.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            database = _write_database(url, archive, staging, portable=portable, report=report)
            files = list(database.files)
            data = _data_files(settings, _excluded_data_paths(settings, out, partial, staging))
            for index, path in enumerate(data):
                member = f"{DATA_FOLDER}/{path.relative_to(settings.data_dir).as_posix()}"
                files.append(zip_archive.add_file(archive, path, member))
                report("files", index + 1, len(data))
            manifest = BackupManifest(
                format_version=FORMAT_VERSION,
                product_version=__version__,
                alembic_revision=database.revision,
                database_kind=kind,
                database_format=database.database_format,
                created_at=utcnow(),
                files=files,
                tables=database.tables,
                settings=settings_snapshot(settings),
            )
            zip_archive.write_manifest(archive, manifest)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _check_revision(manifest: BackupManifest, path: Path) -> None:
    """Refuse a schema this version does not know (made by a newer one)."""
    revision = manifest.alembic_revision
    if revision is not None and revision not in known_revisions():
        raise Conflict(
            "{path} holds schema revision {found}, which this version does not know (it knows "
            "up to {head}): restore it with the agentladder version {version} that made it, "
            "or a newer one",
            path=str(path),
            found=revision,
            head=head_revision() or "-",
            version=manifest.product_version,
        )


def _checked_manifest(
    archive: zipfile.ZipFile, archive_path: Path, report: Progress
) -> BackupManifest:
    manifest = zip_archive.read_manifest(archive, archive_path)
    _check_revision(manifest, archive_path)
    zip_archive.verify(
        archive, manifest, archive_path, lambda done, total: report("verify", done, total)
    )
    return manifest


def check_backup(*, archive_path: Path, progress: Progress | None = None) -> BackupManifest:
    """Check a backup without writing anything: its manifest, a schema this version knows,
    every file's checksum."""
    with zip_archive.open_archive(archive_path) as archive:
        return _checked_manifest(archive, archive_path, progress or _ignore_progress)


def _data_holds_anything(settings: Settings) -> bool:
    """Whether the data directory holds more than a fresh install's (database and key)."""
    excluded = _excluded_data_paths(settings)
    excluded.add((settings.data_dir / "secret_key").resolve())
    return any(
        path.resolve() not in excluded
        for path in (settings.data_dir.iterdir() if settings.data_dir.is_dir() else ())
    )


def _database_holds_rows(url: str) -> bool:
    if database_missing(url):
        return False
    with get_engine(url).connect() as connection:
        return rows.row_count(connection) > 0


def _check_target_empty(settings: Settings) -> None:
    url = settings.resolved_database_url
    if _database_holds_rows(url) or _data_holds_anything(settings):
        raise Conflict(
            "the database at {url} or the data directory {data_dir} already holds data: "
            "restore into an empty installation, or give --force to replace it",
            url=make_url(url).render_as_string(hide_password=True),
            data_dir=str(settings.data_dir),
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
    report: Progress,
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


def _restore_sqlite(
    url: str, archive: zipfile.ZipFile, manifest: BackupManifest, staging: Path, report: Progress
) -> int:
    """Build the database next to the target, migrate it, then rename it over the target."""
    target = _sqlite_path(url)
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


def _restore_postgresql(
    url: str, archive: zipfile.ZipFile, manifest: BackupManifest, staging: Path, report: Progress
) -> int:
    """Empty the database, load and migrate it, in one transaction: all of it or nothing."""
    with get_engine(url).connect() as connection, connection.begin():
        existing = MetaData()
        existing.reflect(connection)
        existing.drop_all(connection)
        return _load_schema_and_rows(connection, archive, manifest, staging, report)


def _swap_data(settings: Settings, unpacked: Path, aside: Path, archive_path: Path) -> None:
    """Move the data directory's entries aside and the backup's in (the database, and the
    archive should it lie there, stay)."""
    root = settings.data_dir
    keep = _excluded_data_paths(settings, archive_path)
    aside.mkdir(parents=True, exist_ok=True)
    for entry in sorted(root.iterdir()):
        if entry.resolve() not in keep and not entry.name.endswith(".restoring"):
            entry.rename(aside / entry.name)
    if unpacked.is_dir():
        for entry in sorted(unpacked.iterdir()):
            entry.rename(root / entry.name)


def restore_backup(
    *, settings: Settings, archive_path: Path, force: bool = False, progress: Progress | None = None
) -> RestoreReport:
    """Restore a backup into the configured database and data directory (see the module)."""
    report = progress or _ignore_progress
    url = settings.resolved_database_url
    kind = database_kind(url)
    with zip_archive.open_archive(archive_path) as archive:
        manifest = _checked_manifest(archive, archive_path, report)
        if not force:
            _check_target_empty(settings)
        root = settings.ensure_data_dir()
        staging = root / RESTORE_STAGING
        shutil.rmtree(staging, ignore_errors=True)
        unpacked = staging / DATA_FOLDER
        try:
            data_members = [e.path for e in manifest.files if e.path.startswith(DATA_FOLDER + "/")]
            for index, name in enumerate(data_members):
                zip_archive.extract(archive, name, unpacked / name.removeprefix(DATA_FOLDER + "/"))
                report("files", index + 1, len(data_members))
            restore = _restore_sqlite if kind == "sqlite" else _restore_postgresql
            loaded = restore(url, archive, manifest, staging, report)
            _swap_data(settings, unpacked, staging / "previous", archive_path)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return RestoreReport(
        archive=str(archive_path),
        backup_revision=manifest.alembic_revision,
        schema_revision=current_revision(url),
        database_kind=kind,
        rows=loaded,
        data_files=len(data_members),
    )
