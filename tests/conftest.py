"""Shared fixtures: a real database (SQLite file, or PostgreSQL when
AGENTLADDER_TEST_DATABASE_URL is set) built by the migrations, emptied after every test."""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from agentladder.config import Settings, get_settings
from agentladder.db import get_engine, session_scope, upgrade_schema
from agentladder.tables import metadata

# Speed is measured in benchmarks/, never in tests: no per-example deadline (a loaded CI machine
# made property tests fail on time alone).
hypothesis_settings.register_profile("agentladder", deadline=None)
hypothesis_settings.load_profile("agentladder")

PG_URL_ENV = "AGENTLADDER_TEST_DATABASE_URL"
REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS = REPO_ROOT.parent / "shared" / "corpus"


def fresh_database_url(tmp_dir: Path, name: str) -> str:
    """A new, empty database: a SQLite file, or a freshly created PostgreSQL database."""
    base = os.environ.get(PG_URL_ENV)
    if not base:
        return f"sqlite:///{tmp_dir / (name + '.db')}"
    url = make_url(base)
    return _created_database(url, f"{url.database}_{name}")


def copy_database_url(template_url: str, tmp_dir: Path, name: str) -> str:
    """A new database holding a copy of the template's rows: much cheaper than building them
    again. The template must have no open connections (dispose its engine first)."""
    url = make_url(template_url)
    if url.get_backend_name() == "sqlite":
        target = tmp_dir / (name + ".db")
        # The backup API copies what the write-ahead log holds too.
        with sqlite3.connect(str(url.database)) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        source.close()
        copy.close()
        return f"sqlite:///{target}"
    return _created_database(url, name, template=url.database)


def _created_database(url: URL, name: str, template: str | None = None) -> str:
    """The URL of a PostgreSQL database made anew under this name (dropped first if it exists),
    empty or a copy of `template`."""
    database = re.sub(r"\W", "_", name)[:60]
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        # Nobody may be connected to the database dropped, nor to the template copied.
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname IN (:name, :template) AND pid <> pg_backend_pid()"
            ),
            {"name": database, "template": template or database},
        )
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}"'))
        copied = f' TEMPLATE "{template}"' if template else ""
        connection.execute(text(f'CREATE DATABASE "{database}"{copied}'))
        # A test database need not survive a crash: a commit that waits for the disk (~2 ms
        # here, against 0.2 ms) only slows the suite down.
        connection.execute(text(f'ALTER DATABASE "{database}" SET synchronous_commit = off'))
    admin.dispose()
    return url.set(database=database).render_as_string(hide_password=False)


def make_settings(data_dir: Path, database_url: str, **overrides: object) -> Settings:
    """Settings for tests: cheap argon2 (the real cost is tested separately), a fixed secret."""
    values: dict[str, object] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "secret_key": "test-secret-key-not-for-production",
        "argon2_time_cost": 1,
        "argon2_memory_kib": 64,
        "default_language": "zh_Hans",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def worker_name(request: pytest.FixtureRequest) -> str:
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    return f"t_{worker}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, worker_name: str) -> str:
    url = fresh_database_url(tmp_path_factory.mktemp("db"), worker_name)
    upgrade_schema(make_settings(tmp_path_factory.mktemp("migrate"), url))
    return url


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Iterator[Settings]:
    yield make_settings(tmp_path / "data", database_url)
    _empty_all_tables(database_url)


# The id sequences used since they were last reset, with their tables.
_USED_SEQUENCES = text(
    """
    SELECT s.relname, t.relname
    FROM pg_class s
    JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')
    JOIN pg_class t ON t.oid = d.refobjid
    JOIN pg_sequences q ON q.schemaname = current_schema() AND q.sequencename = s.relname
    WHERE s.relkind = 'S' AND q.last_value IS NOT NULL
    """
)


def _empty_all_tables(url: str) -> None:
    """Delete every row a test left and reset the id sequences it used. On PostgreSQL only the
    tables it wrote to: TRUNCATE of all of them cost ~80 ms a test, whatever it touched."""
    engine = get_engine(url)
    tables = metadata.sorted_tables
    with engine.begin() as connection:
        sequences: list[tuple[str, str]] = []
        if engine.dialect.name == "postgresql":
            sequences = [(seq, table) for seq, table in connection.execute(_USED_SEQUENCES)]
            holding = connection.execute(
                text("SELECT " + ", ".join(f'EXISTS (SELECT 1 FROM "{t.name}")' for t in tables))
            ).one()
            touched = {t.name for t, has_rows in zip(tables, holding, strict=True) if has_rows}
            tables = [t for t in tables if t.name in touched]
        for table in reversed(tables):
            # ON DELETE RESTRICT is checked row by row: a tree (question categories) loses its
            # parent links before its rows.
            for column in table.columns:
                if any(key.column.table is table for key in column.foreign_keys):
                    connection.execute(table.update().values({column.name: None}))
            connection.execute(delete(table))
        for sequence, _table in sequences:
            connection.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))


@pytest.fixture
def session(settings: Settings) -> Iterator[Session]:
    """A session for arranging and checking data; commits when the test ends cleanly."""
    with session_scope(settings) as db_session:
        yield db_session


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Point the CLI's process settings at the test database and data directory."""
    monkeypatch.setenv("AGENTLADDER_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("AGENTLADDER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("AGENTLADDER_SECRET_KEY", "test-secret-key-not-for-production")
    monkeypatch.setenv("AGENTLADDER_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("AGENTLADDER_ARGON2_MEMORY_KIB", "64")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def corpus_path(*parts: str) -> Path:
    """A file of the shared real-world corpus; the test is skipped when it is absent."""
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"corpus file {path} is not available")
    return path
