"""Reopen guard: hints given, coordinators' feedback as labelled examples, per-AG settings;
the event an outbox message answers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 11:32:57.267653
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reopen_hints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=255), nullable=False),
        sa.Column("item_kind", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("item_number", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("message_text", sa.Text(), nullable=False),
        sa.Column("sender_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("wrong_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wrong_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["working_groups.id"],
            name=op.f("fk_reopen_hints_group_id_working_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"], ["people.id"], name=op.f("fk_reopen_hints_sender_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["wrong_by_id"],
            ["people.id"],
            name=op.f("fk_reopen_hints_wrong_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reopen_hints")),
    )
    with op.batch_alter_table("reopen_hints", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reopen_hints_chat_item",
            ["platform", "chat_id", "item_kind", "item_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_reopen_hints_group_id"), ["group_id"], unique=False)

    op.create_table(
        "reopen_examples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("item_kind", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("reopens", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("hint_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["people.id"],
            name=op.f("fk_reopen_examples_created_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["working_groups.id"],
            name=op.f("fk_reopen_examples_group_id_working_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["hint_id"],
            ["reopen_hints.id"],
            name=op.f("fk_reopen_examples_hint_id_reopen_hints"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reopen_examples")),
    )
    with op.batch_alter_table("reopen_examples", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reopen_examples_group_id"), ["group_id"], unique=False)

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_source"), ["source"], unique=False)

    with op.batch_alter_table("working_groups", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hints_enabled", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("hint_sensitivity", sa.String(length=16), server_default="normal", nullable=False)
        )
        batch_op.add_column(sa.Column("hint_cooldown_days", sa.Integer(), server_default="7", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_source"))
        batch_op.drop_column("source")

    with op.batch_alter_table("working_groups", schema=None) as batch_op:
        batch_op.drop_column("hint_cooldown_days")
        batch_op.drop_column("hint_sensitivity")
        batch_op.drop_column("hints_enabled")

    with op.batch_alter_table("reopen_examples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reopen_examples_group_id"))

    op.drop_table("reopen_examples")
    with op.batch_alter_table("reopen_hints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reopen_hints_group_id"))
        batch_op.drop_index("ix_reopen_hints_chat_item")

    op.drop_table("reopen_hints")
