"""an agent's primary skill group (the ladder's cohort)

Revision ID: 0011_primary_skill_group
Revises: 0010_quality_workflow
Create Date: 2026-12-07 03:01:11.176493
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_primary_skill_group"
down_revision: str | None = "0010_quality_workflow"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("primary_skill_group_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_agents_primary_skill_group_id"),
            ["primary_skill_group_id"],
            unique=False,
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_agents_primary_skill_group_id_skill_groups"),
            "skill_groups",
            ["primary_skill_group_id"],
            ["id"],
            ondelete="SET NULL",
        )
    # An agent in exactly one group has that group as primary; with several, nobody can say
    # which one is theirs, so it stays NULL until the roster or a manager sets it.
    op.execute(
        """
        UPDATE agents SET primary_skill_group_id = (
            SELECT MIN(agent_skill_groups.skill_group_id) FROM agent_skill_groups
            WHERE agent_skill_groups.agent_id = agents.id
        )
        WHERE (
            SELECT COUNT(*) FROM agent_skill_groups
            WHERE agent_skill_groups.agent_id = agents.id
        ) = 1
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_agents_primary_skill_group_id_skill_groups"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_agents_primary_skill_group_id"))
        batch_op.drop_column("primary_skill_group_id")
