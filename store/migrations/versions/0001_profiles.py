"""Job seekers, consents, profiles, profile items and success moments.

The schema the first release created without migrations; `store.migrate` stamps such a
database with this revision before upgrading it.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _when(name: str, *, nullable: bool = True) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _job_seeker(*, primary_key: bool = False) -> sa.Column[int]:
    return sa.Column(
        "job_seeker_id",
        sa.Integer(),
        sa.ForeignKey("job_seekers.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
    )


def upgrade() -> None:
    op.create_table(
        "job_seekers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("channel_user_id", sa.String(128), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        _when("created_at", nullable=False),
        _when("updated_at", nullable=False),
        sa.UniqueConstraint("channel", "channel_user_id"),
    )
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), primary_key=True),
        _job_seeker(),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("given", sa.Boolean(), nullable=False),
        sa.Column("text_version", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        _when("at", nullable=False),
    )
    op.create_index("ix_consents_job_seeker_id", "consents", ["job_seeker_id"])
    op.create_table(
        "profiles",
        _job_seeker(primary_key=True),
        sa.Column("name", sa.String(100)),
        sa.Column("place", sa.String(100)),
        sa.Column("max_travel_minutes", sa.Integer()),
        sa.Column("hours_min", sa.Integer()),
        sa.Column("hours_max", sa.Integer()),
        sa.Column("start", sa.String(100)),
        sa.Column("contact_preference", sa.String(100)),
        _when("confirmed_at"),
        _when("updated_at", nullable=False),
    )
    op.create_index("ix_profiles_place", "profiles", ["place"])
    op.create_table(
        "profile_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        _job_seeker(),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _when("created_at", nullable=False),
    )
    op.create_index("ix_profile_items_job_seeker_id", "profile_items", ["job_seeker_id"])
    op.create_index("ix_profile_items_kind", "profile_items", ["kind"])
    op.create_table(
        "success_moments",
        sa.Column("id", sa.Integer(), primary_key=True),
        _job_seeker(),
        sa.Column("text", sa.Text(), nullable=False),
        _when("at", nullable=False),
    )
    op.create_index("ix_success_moments_job_seeker_id", "success_moments", ["job_seeker_id"])


def downgrade() -> None:
    for table in ("success_moments", "profile_items", "profiles", "consents", "job_seekers"):
        op.drop_table(table)
