"""Onboarding: welcome text and switches per AG, important decisions, briefed and acknowledged members.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 10:06:23.466074
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("important", sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("briefed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("working_groups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("welcome_text", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("onboarding_enabled", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("absence_days", sa.Integer(), server_default="30", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("working_groups", schema=None) as batch_op:
        batch_op.drop_column("absence_days")
        batch_op.drop_column("onboarding_enabled")
        batch_op.drop_column("welcome_text")

    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("acknowledged_at")
        batch_op.drop_column("briefed_at")

    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_column("important")
