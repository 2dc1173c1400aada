"""Link attempts counted per person and overall; outbox rows that carry a secret.

The link limits no longer look up attempts per chat but per person and by time, so the chat
index gives way to two others. ``outbox.secret`` marks rows whose payload holds a plain link
code; it is redacted when the row is sent or fails. Rows written before this revision carry no
mark: finished ones that show a code are redacted here, pending ones are marked.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 15:44:31
"""

import json
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Copies, not imports: a migration must keep meaning what it meant when it was written.
_REDACTED_PAYLOAD = {"markup": [], "redacted": 1}
_CODE = re.compile(r"\b[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}\b")
# Both catalogs' code message names the command that redeems it.
_MARKERS = ("%verknuepfen%", "%group link%")


def upgrade() -> None:
    with op.batch_alter_table("link_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_link_attempts_chat_id_created_at"))
        batch_op.create_index("ix_link_attempts_created_at", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_link_attempts_person_id_created_at", ["person_id", "created_at"], unique=False
        )

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret", sa.Boolean(), server_default=sa.false(), nullable=False))

    _scrub_codes()


def _scrub_codes() -> None:
    """Redact finished rows that show a link code; mark pending ones to be redacted once sent."""
    outbox = sa.table(
        "outbox",
        sa.column("id", sa.Integer),
        sa.column("payload", sa.JSON),
        sa.column("status", sa.String),
        sa.column("secret", sa.Boolean),
    )
    connection = op.get_bind()
    text = sa.cast(outbox.c.payload, sa.Text)
    rows = connection.execute(
        sa.select(outbox.c.id, outbox.c.payload, outbox.c.status).where(
            sa.or_(*(text.like(marker) for marker in _MARKERS))
        )
    ).all()
    for row_id, payload, status in rows:
        if not _CODE.search(json.dumps(payload, ensure_ascii=False)):
            continue
        values = {"secret": True} if status == "pending" else {"payload": _REDACTED_PAYLOAD}
        connection.execute(sa.update(outbox).where(outbox.c.id == row_id).values(**values))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("secret")

    with op.batch_alter_table("link_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_link_attempts_person_id_created_at")
        batch_op.drop_index("ix_link_attempts_created_at")
        batch_op.create_index(
            batch_op.f("ix_link_attempts_chat_id_created_at"), ["chat_id", "created_at"], unique=False
        )
