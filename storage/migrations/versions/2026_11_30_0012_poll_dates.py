"""Date polls: a poll's kind, the start of each date, the place and the chosen date with its
meeting, the frozen answers per date; the answers per date of a vote.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 16:58:07.723396
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("poll_votes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answers", sa.JSON(), nullable=True))

    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum("standard", "dates", name="pollkind", native_enum=False, length=16),
                server_default="standard",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("option_starts", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("location", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("answer_counts", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("chosen_position", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("meeting_number", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.drop_column("meeting_number")
        batch_op.drop_column("chosen_position")
        batch_op.drop_column("answer_counts")
        batch_op.drop_column("location")
        batch_op.drop_column("option_starts")
        batch_op.drop_column("kind")

    with op.batch_alter_table("poll_votes", schema=None) as batch_op:
        batch_op.drop_column("answers")
