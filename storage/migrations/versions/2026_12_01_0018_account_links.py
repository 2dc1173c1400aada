"""Accounts of one person on several platforms can be linked (``/konto verknuepfen``).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("identity_id", sa.Integer(), nullable=True))
    op.create_index("ix_people_identity_id", "people", ["identity_id"])
    op.create_table(
        "account_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_account_codes_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_account_codes_code_hash")),
    )
    op.create_index("ix_account_codes_person_id", "account_codes", ["person_id"])
    op.create_index("ix_account_codes_expires_at", "account_codes", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_account_codes_expires_at", table_name="account_codes")
    op.drop_index("ix_account_codes_person_id", table_name="account_codes")
    op.drop_table("account_codes")
    op.drop_index("ix_people_identity_id", table_name="people")
    with op.batch_alter_table("people") as batch:
        batch.drop_column("identity_id")
