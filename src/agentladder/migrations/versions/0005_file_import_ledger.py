"""one ledger for file imports (roster, certificates, external evidence, ...)

The roster's own ledger (`roster_imports`) becomes the `roster` rows of `file_imports`, which
every importer of the import pipeline writes to, applied files and refused ones alike.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 05:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import agentladder.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ledger_columns(table: str) -> list[sa.Column[Any] | sa.Constraint]:
    """The columns both ledgers have."""
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("encoding", sa.String(length=20), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("imported_at", agentladder.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("imported_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["imported_by_user_id"],
            ["users.id"],
            name=op.f(f"fk_{table}_imported_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.create_table(
        "file_imports",
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("issues", sa.JSON(), nullable=False),
        *_ledger_columns("file_imports"),
    )
    with op.batch_alter_table("file_imports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_file_imports_file_sha256"), ["file_sha256"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_file_imports_kind"), ["kind"], unique=False)
    # Every applied roster file, as it was recorded (a refused one was never recorded).
    copy = (
        "INSERT INTO file_imports (kind, status, rejected, issues, file_name, file_sha256, "
        "encoding, rows_read, created, updated, unchanged, imported_at, imported_by_user_id) "
        "SELECT 'roster', 'applied', 0, '[]', file_name, file_sha256, encoding, "
        "rows_read, created, updated, unchanged, imported_at, imported_by_user_id "
        "FROM roster_imports ORDER BY id"
    )
    if op.get_bind().dialect.name == "postgresql":
        copy = copy.replace("'[]'", "CAST('[]' AS JSON)")
    op.execute(copy)
    with op.batch_alter_table("roster_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roster_imports_file_sha256"))
    op.drop_table("roster_imports")


def downgrade() -> None:
    op.create_table("roster_imports", *_ledger_columns("roster_imports"))
    with op.batch_alter_table("roster_imports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_roster_imports_file_sha256"), ["file_sha256"], unique=False
        )
    op.execute(
        "INSERT INTO roster_imports (file_name, file_sha256, encoding, rows_read, created, "
        "updated, unchanged, imported_at, imported_by_user_id) "
        "SELECT file_name, file_sha256, encoding, rows_read, created, updated, unchanged, "
        "imported_at, imported_by_user_id FROM file_imports "
        "WHERE kind = 'roster' AND status = 'applied' ORDER BY id"
    )
    with op.batch_alter_table("file_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_file_imports_kind"))
        batch_op.drop_index(batch_op.f("ix_file_imports_file_sha256"))
    op.drop_table("file_imports")
