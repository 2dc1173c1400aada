"""AGs can be closed and deleted (with a grace period in which they can be restored).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("working_groups") as batch:
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("delete_after", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_working_groups_delete_after", "working_groups", ["delete_after"])


def downgrade() -> None:
    op.drop_index("ix_working_groups_delete_after", table_name="working_groups")
    with op.batch_alter_table("working_groups") as batch:
        batch.drop_column("delete_after")
        batch.drop_column("closed_at")
