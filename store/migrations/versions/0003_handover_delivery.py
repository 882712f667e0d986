"""Handover delivery: who had a handover and when, outbox leases, recruiter login, completed
profiles, and at most one open handover per person.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OPEN = "status IN ('requested', 'delivered', 'accepted', 'contacted')"


def upgrade() -> None:
    with op.batch_alter_table("profiles") as batch:
        batch.add_column(sa.Column("completed_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("recruiters") as batch:
        batch.add_column(sa.Column("login_token_hash", sa.String(64)))
        batch.create_index("ix_recruiters_login_token_hash", ["login_token_hash"], unique=True)
    with op.batch_alter_table("handovers") as batch:
        batch.add_column(sa.Column("assigned_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("accepted_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("tried_recruiter_ids", sa.JSON()))
    op.create_index(
        "uq_handovers_one_open",
        "handovers",
        ["job_seeker_id"],
        unique=True,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("handover_id", sa.Integer()))
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("provider_message_id", sa.String(64)))
        batch.add_column(sa.Column("previous_message_id", sa.Integer()))
        batch.create_index("ix_outbox_handover_id", ["handover_id"])
        batch.create_index("ix_outbox_recipient", ["channel", "recipient"])


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_recipient")
        batch.drop_index("ix_outbox_handover_id")
        for column in ("previous_message_id", "provider_message_id", "claimed_until"):
            batch.drop_column(column)
        batch.drop_column("handover_id")
    op.drop_index("uq_handovers_one_open", "handovers")
    with op.batch_alter_table("handovers") as batch:
        for column in ("tried_recruiter_ids", "accepted_at", "delivered_at", "assigned_at"):
            batch.drop_column(column)
    with op.batch_alter_table("recruiters") as batch:
        batch.drop_index("ix_recruiters_login_token_hash")
        batch.drop_column("login_token_hash")
    with op.batch_alter_table("profiles") as batch:
        batch.drop_column("completed_at")
