"""automatic QA: transcripts, rule sets, results

Revision ID: 0012_autoqa
Revises: 0011_primary_skill_group
Create Date: 2026-12-07 05:53:41.871109
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import agentladder.db

revision: str = "0012_autoqa"
down_revision: str | None = "0011_primary_skill_group"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "qa_autoqa_rule_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("yaml_text", sa.Text(), nullable=False),
        sa.Column("created_at", agentladder.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("applied_at", agentladder.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("applied_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["applied_by_user_id"],
            ["users.id"],
            name=op.f("fk_qa_autoqa_rule_sets_applied_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_qa_autoqa_rule_sets_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_autoqa_rule_sets")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_qa_autoqa_rule_sets_content_hash")),
    )
    op.create_table(
        "qa_transcripts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=120), nullable=False),
        sa.Column("agent_identity", sa.String(length=64), nullable=True),
        sa.Column("started_at", agentladder.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("call_at", agentladder.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("hangup_by", sa.String(length=10), nullable=True),
        sa.Column("turns_json", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("file_import_id", sa.Integer(), nullable=True),
        sa.Column("created_at", agentladder.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", agentladder.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_qa_transcripts_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["file_import_id"],
            ["file_imports.id"],
            name=op.f("fk_qa_transcripts_file_import_id_file_imports"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_transcripts")),
        sa.UniqueConstraint("call_id", name=op.f("uq_qa_transcripts_call_id")),
    )
    with op.batch_alter_table("qa_transcripts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qa_transcripts_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_qa_transcripts_call_at"), ["call_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_qa_transcripts_file_import_id"), ["file_import_id"], unique=False
        )

    op.create_table(
        "qa_autoqa_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transcript_id", sa.Integer(), nullable=False),
        sa.Column("rule_set_hash", sa.String(length=64), nullable=False),
        sa.Column("transcript_hash", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("call_at", agentladder.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("verdicts_json", sa.Text(), nullable=False),
        sa.Column("judged_at", agentladder.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("greeting", sa.String(length=4), nullable=False),
        sa.Column("answer_speed", sa.String(length=4), nullable=False),
        sa.Column("late_apology", sa.String(length=4), nullable=False),
        sa.Column("hold_etiquette", sa.String(length=4), nullable=False),
        sa.Column("polite_phrases", sa.String(length=4), nullable=False),
        sa.Column("forbidden_phrases", sa.String(length=4), nullable=False),
        sa.Column("closing_question", sa.String(length=4), nullable=False),
        sa.Column("thanks_goodbye", sa.String(length=4), nullable=False),
        sa.Column("customer_hangs_up_first", sa.String(length=4), nullable=False),
        sa.Column("silence", sa.String(length=4), nullable=False),
        sa.Column("talk_over", sa.String(length=4), nullable=False),
        sa.Column("speaking_rate", sa.String(length=4), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_qa_autoqa_results_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["transcript_id"],
            ["qa_transcripts.id"],
            name=op.f("fk_qa_autoqa_results_transcript_id_qa_transcripts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_autoqa_results")),
        sa.UniqueConstraint("transcript_id", name=op.f("uq_qa_autoqa_results_transcript_id")),
    )
    with op.batch_alter_table("qa_autoqa_results", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_qa_autoqa_results_agent_id"), ["agent_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_qa_autoqa_results_call_at"), ["call_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_qa_autoqa_results_rule_set_hash"), ["rule_set_hash"], unique=False
        )

    with op.batch_alter_table("qa_evaluations", schema=None) as batch_op:
        # Evaluations made before automatic QA had nothing suggested.
        batch_op.add_column(
            sa.Column("suggestions_json", sa.Text(), nullable=False, server_default="{}")
        )


def downgrade() -> None:
    with op.batch_alter_table("qa_evaluations", schema=None) as batch_op:
        batch_op.drop_column("suggestions_json")

    with op.batch_alter_table("qa_autoqa_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_autoqa_results_rule_set_hash"))
        batch_op.drop_index(batch_op.f("ix_qa_autoqa_results_call_at"))
        batch_op.drop_index(batch_op.f("ix_qa_autoqa_results_agent_id"))

    op.drop_table("qa_autoqa_results")
    with op.batch_alter_table("qa_transcripts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_transcripts_file_import_id"))
        batch_op.drop_index(batch_op.f("ix_qa_transcripts_call_at"))
        batch_op.drop_index(batch_op.f("ix_qa_transcripts_agent_id"))

    op.drop_table("qa_transcripts")
    op.drop_table("qa_autoqa_rule_sets")
