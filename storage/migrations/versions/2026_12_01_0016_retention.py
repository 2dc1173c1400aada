"""Data protection: indexes for the retention job and the pseudonymisation mark of people.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("pseudonymised_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_people_last_seen", "people", ["last_seen"])
    op.create_index("ix_outbox_status_sent_at", "outbox", ["status", "sent_at"])
    op.create_index("ix_outbox_status_created_at", "outbox", ["status", "created_at"])
    op.create_index("ix_reopen_hints_created_at", "reopen_hints", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_reopen_hints_created_at", table_name="reopen_hints")
    op.drop_index("ix_outbox_status_created_at", table_name="outbox")
    op.drop_index("ix_outbox_status_sent_at", table_name="outbox")
    op.drop_index("ix_people_last_seen", table_name="people")
    with op.batch_alter_table("people") as batch:
        batch.drop_column("pseudonymised_at")
