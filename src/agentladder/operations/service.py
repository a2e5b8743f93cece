"""Backups and restores of an installation: the database and the data directory (the Parquet
event store, the secret key, uploads waiting to be applied) in one zip with a manifest.

How the database is copied and built back is in `databases.py`. A restore checks everything
before writing anything (the manifest, every file's checksum, a schema revision this version
knows, an empty target unless forced), then builds the database aside and swaps it in; the
data directory's entries are unpacked beside it and moved in once the database is committed.
"""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from pathlib import Path

from sqlalchemy.engine import make_url

from agentladder import __version__
from agentladder.config import CACHE_DIR, Settings
from agentladder.db import (
    current_revision,
    database_missing,
    get_engine,
    head_revision,
    known_revisions,
    utcnow,
)
from agentladder.errors import Conflict, InvalidInput
from agentladder.operations import archive as zip_archive
from agentladder.operations import databases, rows
from agentladder.operations.databases import StepProgress
from agentladder.operations.schemas import (
    FORMAT_VERSION,
    BackupManifest,
    RestoreReport,
)

DATA_FOLDER = "data"
# Beside the data directory's own entries while a restore runs; removed when it ends.
RESTORE_STAGING = ".restore-staging"
# Settings whose names say they hold a secret are left out of the manifest.
SECRET_SETTING = re.compile(r"secret|password|token|(^|_)key$")


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
    own) with its side files, what the product rebuilds by itself, a restore's leftovers and
    the archive being written."""
    excluded = {path.resolve() for path in others}
    excluded.add((settings.data_dir / RESTORE_STAGING).resolve())
    excluded.add((settings.data_dir / CACHE_DIR).resolve())
    if databases.database_kind(settings.resolved_database_url) == "sqlite":
        database = databases.sqlite_path(settings.resolved_database_url)
        excluded.add(database)
        excluded.update(Path(f"{database}{suffix}") for suffix in databases.SQLITE_SIDE_FILES)
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


def create_backup(
    *,
    settings: Settings,
    out: Path,
    portable: bool = False,
    progress: StepProgress | None = None,
) -> BackupManifest:
    """Write the database and the data directory into one zip at `out`; return its manifest.

    `portable` writes a SQLite database as rows too. The archive appears at `out` only once
    complete (it is written to a side file first).
    """
    report = progress or databases.ignore_progress
    url = settings.resolved_database_url
    kind = databases.database_kind(url)
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
            database = databases.write_database(
                url, archive, staging, portable=portable, report=report
            )
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
    archive: zipfile.ZipFile, archive_path: Path, report: StepProgress
) -> BackupManifest:
    manifest = zip_archive.read_manifest(archive, archive_path)
    _check_revision(manifest, archive_path)
    zip_archive.verify(
        archive, manifest, archive_path, lambda done, total: report("verify", done, total)
    )
    return manifest


def check_backup(*, archive_path: Path, progress: StepProgress | None = None) -> BackupManifest:
    """Check a backup without writing anything: its manifest, a schema this version knows,
    every file's checksum."""
    with zip_archive.open_archive(archive_path) as archive:
        return _checked_manifest(archive, archive_path, progress or databases.ignore_progress)


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
    *,
    settings: Settings,
    archive_path: Path,
    force: bool = False,
    progress: StepProgress | None = None,
) -> RestoreReport:
    """Restore a backup into the configured database and data directory (see the module)."""
    report = progress or databases.ignore_progress
    url = settings.resolved_database_url
    kind = databases.database_kind(url)
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
            restore = databases.restore_sqlite if kind == "sqlite" else databases.restore_postgresql
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
