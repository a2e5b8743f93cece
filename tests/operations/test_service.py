"""Backups and restores on real databases: the demo centre comes back with the same decisions
and metric values (SQLite, or PostgreSQL when AGENTLADDER_TEST_DATABASE_URL is set), bad
archives and newer schemas are refused before anything is written, an older schema is
migrated."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import MetaData, create_engine, insert, select, text
from sqlalchemy.engine import make_url

from agentladder.config import CACHE_DIR, Settings
from agentladder.db import (
    alembic_config,
    current_revision,
    get_engine,
    head_revision,
    session_scope,
    upgrade_schema,
)
from agentladder.demo import service as demo_service
from agentladder.errors import Conflict, InvalidInput
from agentladder.ladder.models import LadderDecision
from agentladder.metrics.models import MetricValue
from agentladder.operations import service as operations_service
from agentladder.operations.archive import MANIFEST
from tests.conftest import PG_URL_ENV, fresh_database_url, make_settings

TODAY = date(2026, 11, 23)
OLDER_REVISION = "0005"


@pytest.fixture
def scratch_urls(tmp_path: Path) -> Iterator[list[str]]:
    """Fresh databases made by a test (`test_restore_<pid>_<n>` on PostgreSQL), dropped after."""
    made: list[str] = []
    yield made
    for url in made:
        get_engine(url).dispose()
        if make_url(url).get_backend_name() != "postgresql":
            continue
        admin = create_engine(os.environ[PG_URL_ENV], isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}"'))
        admin.dispose()


def _scratch(tmp_path: Path, scratch_urls: list[str], name: str) -> Settings:
    url = fresh_database_url(tmp_path, f"restore_{os.getpid()}_{len(scratch_urls)}")
    scratch_urls.append(url)
    return make_settings(tmp_path / name, url)


def _build_demo(settings: Settings) -> None:
    with session_scope(settings) as session:
        demo_service.build_demo(
            session=session,
            settings=settings,
            agents=12,
            seed=5,
            today=TODAY,
            call_months=1,
            period_kinds=("month",),
        )


def _rows(settings: Settings, model: type[Any]) -> list[dict[str, object]]:
    """Every row of a table, every column, in id order."""
    columns = model.__table__.columns
    with session_scope(settings) as session:
        found = session.scalars(select(model).order_by(model.id)).all()
        return [{column.key: getattr(row, column.key) for column in columns} for row in found]


def _data_files(settings: Settings) -> dict[str, str]:
    """The data directory's files (the SQLite database and what the product rebuilds by itself
    aside) and their SHA-256."""
    root = settings.data_dir
    skipped = {"agentladder.db", "agentladder.db-wal", "agentladder.db-shm"}
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
        and path.name not in skipped
        and path.relative_to(root).parts[0] != CACHE_DIR
    }


def _rewrite(source: Path, target: Path, **replace: bytes) -> None:
    """A copy of an archive with some members' bytes replaced (a damaged or forged backup)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            new.writestr(info, replace.get(info.filename, old.read(info.filename)))


def _manifest(archive: Path) -> dict[str, Any]:
    with zipfile.ZipFile(archive) as opened:
        manifest: dict[str, Any] = json.loads(opened.read(MANIFEST))
        return manifest


def test_a_restored_demo_has_the_same_decisions_metrics_and_files(
    settings: Settings, tmp_path: Path, scratch_urls: list[str]
) -> None:
    _build_demo(settings)
    decisions, values = _rows(settings, LadderDecision), _rows(settings, MetricValue)
    files = _data_files(settings)
    assert decisions
    assert values
    assert any(name.startswith("events/") and name.endswith(".parquet") for name in files)
    for portable in (False, True):
        archive = tmp_path / f"backup-{portable}.zip"
        manifest = operations_service.create_backup(
            settings=settings, out=archive, portable=portable
        )
        assert manifest.alembic_revision == head_revision()
        as_file = manifest.database_kind == "sqlite" and not portable
        assert manifest.database_format == ("sqlite-file" if as_file else "rows")
        target = _scratch(tmp_path, scratch_urls, f"data-{portable}")
        report = operations_service.restore_backup(settings=target, archive_path=archive)
        assert report.schema_revision == head_revision()
        assert _rows(target, LadderDecision) == decisions
        assert _rows(target, MetricValue) == values
        assert _data_files(target) == files
        assert not (target.data_dir / operations_service.RESTORE_STAGING).exists()


@pytest.mark.skipif(PG_URL_ENV not in os.environ, reason="moving to PostgreSQL needs one")
def test_a_sqlite_backup_moves_the_centre_to_postgresql(
    tmp_path: Path, scratch_urls: list[str]
) -> None:
    source = make_settings(tmp_path / "sqlite-data", f"sqlite:///{tmp_path / 'centre.db'}")
    upgrade_schema(source)
    _build_demo(source)
    archive = tmp_path / "centre.zip"
    assert (
        operations_service.create_backup(settings=source, out=archive).database_format
        == "sqlite-file"
    )
    target = _scratch(tmp_path, scratch_urls, "pg-data")
    operations_service.restore_backup(settings=target, archive_path=archive)
    assert _rows(target, LadderDecision) == _rows(source, LadderDecision)
    assert _rows(target, MetricValue) == _rows(source, MetricValue)
    get_engine(source.resolved_database_url).dispose()


def test_the_manifest_lists_every_file_and_no_secret(settings: Settings, tmp_path: Path) -> None:
    (settings.data_dir / "events").mkdir(parents=True)
    (settings.data_dir / "events" / "note.txt").write_text("九月", encoding="utf-8")
    # What the product rebuilds by itself (compiled queries) stays out.
    (settings.data_dir / CACHE_DIR / "kpi-queries").mkdir(parents=True)
    (settings.data_dir / CACHE_DIR / "kpi-queries" / "frames-1.json").write_text("{}")
    archive = tmp_path / "b.zip"
    before = datetime.now(UTC)
    manifest = _manifest_of(operations_service.create_backup(settings=settings, out=archive))
    assert manifest["format_version"] == 1
    assert manifest["alembic_revision"] == head_revision()
    assert datetime.fromisoformat(manifest["created_at"]) >= before.replace(microsecond=0)
    paths = {entry["path"] for entry in manifest["files"]}
    assert "data/events/note.txt" in paths
    assert not [path for path in paths if path.startswith(f"data/{CACHE_DIR}/")]
    with zipfile.ZipFile(archive) as opened:
        assert set(opened.namelist()) == paths | {MANIFEST}
    assert "secret_key" not in manifest["settings"]
    assert settings.secret_key not in json.dumps(manifest)
    assert manifest["settings"]["timezone"] == settings.timezone
    assert not list(tmp_path.glob("b.zip.*")), "no side files left"


def _manifest_of(manifest: operations_service.BackupManifest) -> dict[str, Any]:
    return json.loads(manifest.model_dump_json())


def test_damaged_and_foreign_archives_are_refused_before_writing(
    settings: Settings, tmp_path: Path, scratch_urls: list[str]
) -> None:
    (settings.data_dir / "events").mkdir(parents=True)
    (settings.data_dir / "events" / "a.parquet").write_bytes(b"PAR1 not really")
    archive = tmp_path / "good.zip"
    operations_service.create_backup(settings=settings, out=archive)
    target = _scratch(tmp_path, scratch_urls, "target")

    def refused(path: Path, *words: str) -> None:
        with pytest.raises(InvalidInput) as caught:
            operations_service.restore_backup(settings=target, archive_path=path)
        for word in words:
            assert word in str(caught.value)
        assert current_revision(target.resolved_database_url) is None
        assert not target.data_dir.exists() or not any(target.data_dir.iterdir())

    damaged = tmp_path / "damaged.zip"
    _rewrite(archive, damaged, **{"data/events/a.parquet": b"PAR1 changed"})
    refused(damaged, "data/events/a.parquet", "checksum")
    extra = tmp_path / "extra.zip"
    _rewrite(archive, extra)
    with zipfile.ZipFile(extra, "a") as opened:
        opened.writestr("data/smuggled.txt", "x")
    refused(extra, "data/smuggled.txt", "not in the manifest")
    outside = tmp_path / "outside.zip"
    manifest = _manifest(archive)
    manifest["files"][0]["path"] = "../escape"
    _rewrite(archive, outside, **{MANIFEST: json.dumps(manifest).encode()})
    refused(outside, "../escape")
    not_zip = tmp_path / "notes.zip"
    not_zip.write_text("just text", encoding="utf-8")
    refused(not_zip, "not an agentladder backup")
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(archive.read_bytes()[:-300])
    refused(truncated, "truncated.zip")
    no_manifest = tmp_path / "no-manifest.zip"
    with zipfile.ZipFile(no_manifest, "w") as opened:
        opened.writestr("hello.txt", "hi")
    refused(no_manifest, "manifest.json")
    refused(tmp_path / "missing.zip", "no backup file")


def test_a_newer_schema_or_format_is_refused(
    settings: Settings, tmp_path: Path, scratch_urls: list[str]
) -> None:
    archive = tmp_path / "now.zip"
    operations_service.create_backup(settings=settings, out=archive)
    target = _scratch(tmp_path, scratch_urls, "target")
    manifest = _manifest(archive)
    manifest["alembic_revision"] = "0099_from_the_future"
    future = tmp_path / "future.zip"
    _rewrite(archive, future, **{MANIFEST: json.dumps(manifest).encode()})
    with pytest.raises(Conflict, match="0099_from_the_future"):
        operations_service.restore_backup(settings=target, archive_path=future)
    manifest = _manifest(archive)
    manifest["format_version"] = 2
    newer_format = tmp_path / "format.zip"
    _rewrite(archive, newer_format, **{MANIFEST: json.dumps(manifest).encode()})
    with pytest.raises(InvalidInput, match="backup format 2"):
        operations_service.restore_backup(settings=target, archive_path=newer_format)
    assert current_revision(target.resolved_database_url) is None


def test_an_older_schema_is_migrated_after_its_rows_are_loaded(
    tmp_path: Path, scratch_urls: list[str]
) -> None:
    source = _scratch(tmp_path, scratch_urls, "old")
    command.upgrade(alembic_config(source.resolved_database_url), OLDER_REVISION)
    with get_engine(source.resolved_database_url).begin() as connection:
        tables = MetaData()
        tables.reflect(connection, only=["teams"])
        connection.execute(
            insert(tables.tables["teams"]),
            {"id": 7, "code": "T07", "name": "夜班", "created_at": datetime.now(UTC)},
        )
    for portable in (False, True):
        archive = tmp_path / f"old-{portable}.zip"
        manifest = operations_service.create_backup(settings=source, out=archive, portable=portable)
        assert manifest.alembic_revision == OLDER_REVISION
        target = _scratch(tmp_path, scratch_urls, f"new-{portable}")
        report = operations_service.restore_backup(settings=target, archive_path=archive)
        assert report.backup_revision == OLDER_REVISION
        assert report.schema_revision == head_revision()
        with get_engine(target.resolved_database_url).connect() as connection:
            teams = connection.execute(text("SELECT id, code, name FROM teams")).all()
            assert [tuple(team) for team in teams] == [(7, "T07", "夜班")]
            # the migrations after the backup's revision ran: their table exists
            connection.execute(text("SELECT count(*) FROM api_tokens"))


def test_a_target_holding_data_needs_force(
    settings: Settings, tmp_path: Path, scratch_urls: list[str]
) -> None:
    (settings.data_dir / "events").mkdir(parents=True)
    (settings.data_dir / "events" / "kept.txt").write_text("from the backup", encoding="utf-8")
    archive = tmp_path / "b.zip"
    operations_service.create_backup(settings=settings, out=archive)
    target = _scratch(tmp_path, scratch_urls, "target")
    upgrade_schema(target)
    with get_engine(target.resolved_database_url).begin() as connection:
        connection.execute(
            text("INSERT INTO teams (id, code, name, created_at) VALUES (1, 'X', 'x', :now)"),
            {"now": datetime.now(UTC)},
        )
    (target.data_dir / "uploads").mkdir(parents=True)
    (target.data_dir / "uploads" / "stale.csv").write_text("a", encoding="utf-8")
    with pytest.raises(Conflict, match="--force"):
        operations_service.restore_backup(settings=target, archive_path=archive)
    assert (target.data_dir / "uploads" / "stale.csv").exists()
    operations_service.restore_backup(settings=target, archive_path=archive, force=True)
    with get_engine(target.resolved_database_url).connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM teams")).scalar() == 0
    assert not (target.data_dir / "uploads").exists()
    assert (target.data_dir / "events" / "kept.txt").read_text(encoding="utf-8") == (
        "from the backup"
    )


def test_the_settings_snapshot_leaves_secrets_out(tmp_path: Path) -> None:
    url = "postgresql+psycopg://agentladder:hunter2@db.internal/agentladder"
    snapshot = operations_service.settings_snapshot(make_settings(tmp_path, url))
    assert "hunter2" not in json.dumps(snapshot)
    assert (
        snapshot["database_url"] == "postgresql+psycopg://agentladder:***@db.internal/agentladder"
    )
    assert "secret_key" not in snapshot
    assert snapshot["argon2_memory_kib"] == 64


def test_a_backup_needs_a_database(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", f"sqlite:///{tmp_path / 'none.db'}")
    with pytest.raises(InvalidInput, match="no database"):
        operations_service.create_backup(settings=settings, out=tmp_path / "b.zip")
    assert not (tmp_path / "none.db").exists()
    assert not (tmp_path / "b.zip").exists()
