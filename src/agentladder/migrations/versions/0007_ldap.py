"""users remember whether the sign-in directory (LDAP) manages them

Revision ID: 0007_ldap
Revises: 0006
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_ldap"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("auth_source", sa.String(length=10), server_default="local", nullable=False)
        )
        batch_op.create_check_constraint("auth_source", "auth_source IN ('local', 'ldap')")


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("auth_source", type_="check")
        batch_op.drop_column("auth_source")
