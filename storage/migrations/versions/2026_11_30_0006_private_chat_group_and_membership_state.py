"""The AG a private chat acts on; members who left; chat admins shown as koordination.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 15:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("current_group_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_chats_current_group_id_working_groups"),
            "working_groups",
            ["current_group_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("left_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("chat_admin", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("chat_admin")
        batch_op.drop_column("left_at")

    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_chats_current_group_id_working_groups"), type_="foreignkey")
        batch_op.drop_column("current_group_id")
