"""Scheduled nudges: each due nudge is claimed once (job seeker + due moment), with its status.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("nudge_log") as batch:
        batch.add_column(sa.Column("encouragement_id", sa.String(64)))
        batch.add_column(sa.Column("due_at", sa.DateTime(timezone=True)))
        # Nullable first: rows logged before this release were all sent.
        batch.add_column(sa.Column("status", sa.String(16)))
        batch.add_column(sa.Column("detail", sa.String(200)))
    op.execute("UPDATE nudge_log SET status = 'sent'")
    with op.batch_alter_table("nudge_log") as batch:
        batch.alter_column("status", existing_type=sa.String(16), nullable=False)
        batch.create_unique_constraint("uq_nudge_log_due", ["job_seeker_id", "due_at"])


def downgrade() -> None:
    with op.batch_alter_table("nudge_log") as batch:
        batch.drop_constraint("uq_nudge_log_due", type_="unique")
        for column in ("detail", "status", "due_at", "encouragement_id"):
            batch.drop_column(column)
