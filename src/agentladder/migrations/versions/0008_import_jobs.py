"""import jobs: files uploaded on the imports page, imported in the background

Revision ID: 0008_import_jobs
Revises: 0007_ldap
Create Date: 2026-12-06 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import agentladder.db

revision: str = "0008_import_jobs"
down_revision: str | None = "0007_ldap"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("upload_token", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("adapter_requested", sa.String(length=40), nullable=False),
        sa.Column("adapter", sa.String(length=40), nullable=True),
        sa.Column("detection", sa.JSON(), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("problem", sa.JSON(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("already_imported", sa.Boolean(), nullable=False),
        sa.Column("created_at", agentladder.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("started_at", agentladder.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", agentladder.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.id"],
            name=op.f("fk_import_jobs_batch_id_import_batches"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_import_jobs_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_jobs")),
    )


def downgrade() -> None:
    op.drop_table("import_jobs")
