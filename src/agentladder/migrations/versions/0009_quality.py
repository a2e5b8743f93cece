"""qa forms, versions and evaluations

Revision ID: 0009_quality
Revises: 0008_import_jobs
Create Date: 2026-12-06 22:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import agentladder.db

revision: str = "0009_quality"
down_revision: str | None = "0008_import_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "qa_forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("created_at", agentladder.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_forms")),
        sa.UniqueConstraint("code", name=op.f("uq_qa_forms_code")),
    )
    op.create_table(
        "qa_form_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec_json", sa.Text(), nullable=False),
        sa.Column("spec_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", agentladder.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_qa_form_versions_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["qa_forms.id"],
            name=op.f("fk_qa_form_versions_form_id_qa_forms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_form_versions")),
        sa.UniqueConstraint("form_id", "version", name=op.f("uq_qa_form_versions_form_id_version")),
    )
    with op.batch_alter_table("qa_form_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qa_form_versions_form_id"), ["form_id"], unique=False)

    op.create_table(
        "qa_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_version_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("evaluator_user_id", sa.Integer(), nullable=True),
        sa.Column("call_id", sa.String(length=120), nullable=False),
        sa.Column("call_at", agentladder.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("answers_json", sa.Text(), nullable=False),
        sa.Column("comments_json", sa.Text(), nullable=False),
        sa.Column("overall", sa.Float(), nullable=True),
        sa.Column("compliance", sa.Float(), nullable=True),
        sa.Column("fatal", sa.Boolean(), nullable=False),
        sa.Column("scores_json", sa.Text(), nullable=False),
        sa.Column("created_at", agentladder.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", agentladder.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", agentladder.db.UtcDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('official', 'coaching')", name=op.f("ck_qa_evaluations_kind")),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted')", name=op.f("ck_qa_evaluations_status")
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_qa_evaluations_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["evaluator_user_id"],
            ["users.id"],
            name=op.f("fk_qa_evaluations_evaluator_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["form_version_id"],
            ["qa_form_versions.id"],
            name=op.f("fk_qa_evaluations_form_version_id_qa_form_versions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_evaluations")),
    )
    with op.batch_alter_table("qa_evaluations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qa_evaluations_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_qa_evaluations_call_at"), ["call_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_qa_evaluations_evaluator_user_id"), ["evaluator_user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_qa_evaluations_form_version_id"), ["form_version_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("qa_evaluations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_evaluations_form_version_id"))
        batch_op.drop_index(batch_op.f("ix_qa_evaluations_evaluator_user_id"))
        batch_op.drop_index(batch_op.f("ix_qa_evaluations_call_at"))
        batch_op.drop_index(batch_op.f("ix_qa_evaluations_agent_id"))

    op.drop_table("qa_evaluations")
    with op.batch_alter_table("qa_form_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_form_versions_form_id"))

    op.drop_table("qa_form_versions")
    op.drop_table("qa_forms")
