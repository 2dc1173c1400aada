"""Reopen guard: embeddings of goals and decisions (and of the seed) stored per model and text, so a
restart does not embed an AG's items again.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 19:48:09.933451
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reopen_embeddings",
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("model", "digest", name=op.f("pk_reopen_embeddings")),
    )


def downgrade() -> None:
    op.drop_table("reopen_embeddings")
