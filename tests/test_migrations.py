"""Migrations: empty -> head -> base -> head on the test database kind; models match them."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from agentladder.db import alembic_config, get_engine, head_revision, upgrade_schema
from agentladder.tables import metadata
from tests.conftest import fresh_database_url, make_settings


def test_the_schema_head_the_commands_check_is_alembics() -> None:
    # A new migration must move the constant along, or every command refuses the new schema.
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert scripts.get_current_head() == head_revision()


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


def test_0011_gives_single_group_agents_their_group_as_primary(tmp_path: Path) -> None:
    """Existing agents: the only group becomes the primary; with several or none, NULL."""
    url = fresh_database_url(tmp_path, "primary_group")
    command.upgrade(alembic_config(url), "0010_quality_workflow")
    with get_engine(url).begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO skill_groups (id, code, name) VALUES (1, 'general', 'g'), (2, 'vip', 'v')"
        )
        for agent_id in (1, 2, 3):
            connection.exec_driver_sql(
                "INSERT INTO agents (id, employee_no, name, hire_date, current_level,"
                " level_since, status, created_at, updated_at) VALUES"
                f" ({agent_id}, 'A{agent_id}', 'n', '2024-01-01', 'basic_fresh', '2024-01-01',"
                " 'active', '2026-12-01 00:00:00', '2026-12-01 00:00:00')"
            )
        connection.exec_driver_sql(
            "INSERT INTO agent_skill_groups (agent_id, skill_group_id)"
            " VALUES (1, 2), (2, 1), (2, 2)"
        )
    command.upgrade(alembic_config(url), "0011_primary_skill_group")
    with get_engine(url).connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT id, primary_skill_group_id FROM agents ORDER BY id"
        ).all()
        memberships = connection.exec_driver_sql("SELECT COUNT(*) FROM agent_skill_groups").scalar()
    assert [tuple(row) for row in rows] == [(1, 2), (2, None), (3, None)]
    assert memberships == 3  # rebuilding agents on SQLite kept the rows that reference it
    command.downgrade(alembic_config(url), "0010_quality_workflow")
    command.upgrade(alembic_config(url), "head")
