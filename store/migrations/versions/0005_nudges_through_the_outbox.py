"""Nudges go out through the outbox: a channel identity can be marked unreachable (blocked),
and the outbox finds its due rows in order from one index (100,000 queued nudges).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channel_identities") as batch:
        batch.add_column(sa.Column("blocked_at", sa.DateTime(timezone=True)))
    op.drop_index("ix_outbox_status_next_attempt", table_name="outbox")
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at", "id"])
    op.create_index("ix_nudge_log_status", "nudge_log", ["status"])


def downgrade() -> None:
    op.drop_index("ix_nudge_log_status", table_name="nudge_log")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.create_index("ix_outbox_status_next_attempt", "outbox", ["status", "next_attempt_at"])
    with op.batch_alter_table("channel_identities") as batch:
        batch.drop_column("blocked_at")
