"""Migrations: empty -> head -> base -> head on the test database kind; models match them."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from agentladder.db import alembic_config, get_engine, head_revision, upgrade_schema
from agentladder.tables import metadata
from tests.conftest import fresh_database_url, make_settings


def test_upgrade_from_empty_to_head_and_models_match(tmp_path: Path) -> None:
    url = fresh_database_url(tmp_path, "migrations")
    settings = make_settings(tmp_path / "data", url)
    before, after = upgrade_schema(settings)
    assert before is None
    assert after == head_revision()
    tables = set(inspect(get_engine(url)).get_table_names())
    assert {table.name for table in metadata.sorted_tables} <= tables

    with get_engine(url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []

    # Upgrading again is a no-op; downgrading to nothing and back works.
    assert upgrade_schema(settings) == (after, after)
    command.downgrade(alembic_config(url), "base")
    assert set(inspect(get_engine(url).connect()).get_table_names()) <= {"alembic_version"}
    command.upgrade(alembic_config(url), "head")
    assert upgrade_schema(settings) == (after, after)


def test_upgrading_keeps_the_rows_that_reference_a_rebuilt_table(tmp_path: Path) -> None:
    """SQLite rebuilds a table to alter it (users, in 0007): with foreign keys on, dropping
    the old copy deleted every user's roles and tokens (ON DELETE CASCADE)."""
    url = fresh_database_url(tmp_path, "roles_kept")
    command.upgrade(alembic_config(url), "0006")
    with get_engine(url).begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO users (id, username, password_hash, display_name, is_active, language,"
            " created_at) VALUES (1, 'admin', 'x', 'Admin', true, NULL, '2026-12-01 00:00:00')"
        )
        connection.exec_driver_sql("INSERT INTO user_roles (user_id, role) VALUES (1, 'admin')")
    upgrade_schema(make_settings(tmp_path / "data", url))
    with get_engine(url).connect() as connection:
        roles = connection.exec_driver_sql("SELECT user_id, role FROM user_roles").all()
        if url.startswith("sqlite"):  # back on for the connections that follow
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert [tuple(row) for row in roles] == [(1, "admin")]
