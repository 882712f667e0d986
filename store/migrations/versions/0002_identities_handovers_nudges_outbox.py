"""Channel identities, recruiters, handovers, nudge settings and log, outbox, deletion log.

A person can now be known on several channels: the channel columns of `job_seekers` move to
`channel_identities`, one row per existing job seeker.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _when(name: str, *, nullable: bool = True) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _job_seeker(*, nullable: bool = False, primary_key: bool = False) -> sa.Column[int]:
    return sa.Column(
        "job_seeker_id",
        sa.Integer(),
        sa.ForeignKey("job_seekers.id", ondelete="CASCADE"),
        nullable=nullable,
        primary_key=primary_key,
    )


def upgrade() -> None:
    op.create_table(
        "channel_identities",
        sa.Column("id", sa.Integer(), primary_key=True),
        _job_seeker(),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("channel_user_id", sa.String(128), nullable=False),
        _when("created_at", nullable=False),
        sa.UniqueConstraint("channel", "channel_user_id"),
    )
    op.create_index("ix_channel_identities_job_seeker_id", "channel_identities", ["job_seeker_id"])
    op.execute(
        "INSERT INTO channel_identities (job_seeker_id, channel, channel_user_id, created_at) "
        "SELECT id, channel, channel_user_id, created_at FROM job_seekers"
    )
    with op.batch_alter_table("job_seekers") as batch:
        batch.drop_column("channel")
        batch.drop_column("channel_user_id")

    op.create_table(
        "recruiters",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("organisation", sa.String(100), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("sectors", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("telegram_chat_id", sa.String(64)),
        sa.Column("email", sa.String(254)),
        sa.Column("capacity_per_week", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _when("created_at", nullable=False),
    )
    op.create_table(
        "handovers",
        sa.Column("id", sa.Integer(), primary_key=True),
        _job_seeker(),
        sa.Column(
            "recruiter_id", sa.Integer(), sa.ForeignKey("recruiters.id", ondelete="SET NULL")
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("share_support_needs", sa.Boolean(), nullable=False),
        _when("created_at", nullable=False),
        _when("updated_at", nullable=False),
        _when("closed_at"),
    )
    op.create_index("ix_handovers_job_seeker_id", "handovers", ["job_seeker_id"])
    op.create_index("ix_handovers_recruiter_id", "handovers", ["recruiter_id"])
    op.create_index("ix_handovers_status", "handovers", ["status"])
    op.create_table(
        "nudge_settings",
        _job_seeker(primary_key=True),
        sa.Column("frequency", sa.String(16), nullable=False),
        _when("paused_until"),
        _when("updated_at", nullable=False),
    )
    op.create_table(
        "nudge_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        _job_seeker(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("module_id", sa.String(64)),
        _when("completed_at"),
        _when("at", nullable=False),
    )
    op.create_index("ix_nudge_log_job_seeker_id", "nudge_log", ["job_seeker_id"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("idempotency_key", sa.String(128), nullable=False, unique=True),
        _job_seeker(nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("next_attempt_at", nullable=False),
        sa.Column("last_error", sa.Text()),
        _when("created_at", nullable=False),
        _when("sent_at"),
    )
    op.create_index("ix_outbox_job_seeker_id", "outbox", ["job_seeker_id"])
    op.create_index("ix_outbox_status_next_attempt", "outbox", ["status", "next_attempt_at"])
    op.create_table(
        "deletion_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reason", sa.String(32), nullable=False),
        _when("at", nullable=False),
    )


def downgrade() -> None:
    for table in (
        "deletion_log",
        "outbox",
        "nudge_log",
        "nudge_settings",
        "handovers",
        "recruiters",
    ):
        op.drop_table(table)
    with op.batch_alter_table("job_seekers") as batch:
        batch.add_column(sa.Column("channel", sa.String(32), nullable=True))
        batch.add_column(sa.Column("channel_user_id", sa.String(128), nullable=True))
    # A person linked on several channels keeps the first identity.
    op.execute(
        "UPDATE job_seekers SET "
        "channel = (SELECT channel FROM channel_identities c WHERE c.job_seeker_id = "
        "job_seekers.id ORDER BY c.id LIMIT 1), "
        "channel_user_id = (SELECT channel_user_id FROM channel_identities c WHERE "
        "c.job_seeker_id = job_seekers.id ORDER BY c.id LIMIT 1)"
    )
    with op.batch_alter_table("job_seekers") as batch:
        batch.alter_column("channel", nullable=False, existing_type=sa.String(32))
        batch.alter_column("channel_user_id", nullable=False, existing_type=sa.String(128))
        batch.create_unique_constraint(
            "job_seekers_channel_channel_user_id_key", ["channel", "channel_user_id"]
        )
    op.drop_table("channel_identities")
