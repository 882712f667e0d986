"""Tables of the project database.

Rasa's tracker store owns `events` and APScheduler's job store owns `apscheduler_jobs`; both
live in the same database but are created by their owners, never by the migrations here.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from core.time import utcnow


class Base(DeclarativeBase):
    """Declarative base of all project tables."""


class JobSeeker(Base):
    """One person; reachable on one or more channels (see ChannelIdentity)."""

    __tablename__ = "job_seekers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    language: Mapped[str] = mapped_column(String(8), default="nl")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    identities: Mapped[list[ChannelIdentity]] = relationship(
        back_populates="job_seeker", cascade="all, delete-orphan", order_by="ChannelIdentity.id"
    )
    consents: Mapped[list[Consent]] = relationship(
        back_populates="job_seeker", cascade="all, delete-orphan", order_by="Consent.id"
    )
    profile: Mapped[Profile | None] = relationship(
        back_populates="job_seeker", cascade="all, delete-orphan"
    )
    success_moments: Mapped[list[SuccessMoment]] = relationship(
        back_populates="job_seeker", cascade="all, delete-orphan", order_by="SuccessMoment.id"
    )
    items: Mapped[list[ProfileItem]] = relationship(
        back_populates="job_seeker",
        cascade="all, delete-orphan",
        order_by="(ProfileItem.kind, ProfileItem.position)",
    )
    handovers: Mapped[list[Handover]] = relationship(
        back_populates="job_seeker", cascade="all, delete-orphan", order_by="Handover.id"
    )
    nudge_settings: Mapped[NudgeSettings | None] = relationship(
        back_populates="job_seeker", cascade="all, delete-orphan"
    )
    nudges_sent: Mapped[list[NudgeLog]] = relationship(
        back_populates="job_seeker", cascade="all, delete-orphan", order_by="NudgeLog.id"
    )
    outbox: Mapped[list[OutboxMessage]] = relationship(
        back_populates="job_seeker", cascade="all, delete-orphan", order_by="OutboxMessage.id"
    )

    def sender_ids(self) -> list[str]:
        """Rasa's conversation ids of this person, one per channel identity."""
        return [identity.sender_id for identity in self.identities]


class ChannelIdentity(Base):
    """How a person is known on one channel (`telegram` / `123`); unique per channel."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "channel_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_seeker_id: Mapped[int] = mapped_column(
        ForeignKey("job_seekers.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(32))
    channel_user_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # When the channel said the person blocked the bot (Telegram 403): nothing is pushed there.
    blocked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    job_seeker: Mapped[JobSeeker] = relationship(back_populates="identities")

    @property
    def sender_id(self) -> str:
        """The conversation id Rasa knows this identity by."""
        return f"{self.channel}:{self.channel_user_id}"


class Consent(Base):
    """One consent given or withdrawn; the history is kept, the latest row counts."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_seeker_id: Mapped[int] = mapped_column(
        ForeignKey("job_seekers.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(32))
    given: Mapped[bool] = mapped_column(Boolean)
    text_version: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    job_seeker: Mapped[JobSeeker] = relationship(back_populates="consents")


class Profile(Base):
    """The single-valued fields of a person's talent profile."""

    __tablename__ = "profiles"

    job_seeker_id: Mapped[int] = mapped_column(
        ForeignKey("job_seekers.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str | None] = mapped_column(String(100))
    place: Mapped[str | None] = mapped_column(String(100), index=True)
    max_travel_minutes: Mapped[int | None] = mapped_column(Integer)
    hours_min: Mapped[int | None] = mapped_column(Integer)
    hours_max: Mapped[int | None] = mapped_column(Integer)
    start: Mapped[str | None] = mapped_column(String(100))
    contact_preference: Mapped[str | None] = mapped_column(String(100))
    # The intake ran to its end (completed) or the person said the sketch is right (confirmed):
    # either is enough to ask for a recruiter.
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    job_seeker: Mapped[JobSeeker] = relationship(back_populates="profile")


class ProfileItem(Base):
    """One entry of a list field (talent, role, sector, ...), a row each so they can be queried."""

    __tablename__ = "profile_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_seeker_id: Mapped[int] = mapped_column(
        ForeignKey("job_seekers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32), index=True)
    value: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    job_seeker: Mapped[JobSeeker] = relationship(back_populates="items")


class SuccessMoment(Base):
    """Something that went well, in the person's words, kept to encourage them later."""

    __tablename__ = "success_moments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_seeker_id: Mapped[int] = mapped_column(
        ForeignKey("job_seekers.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    job_seeker: Mapped[JobSeeker] = relationship(back_populates="success_moments")


class Recruiter(Base):
    """A recruiter who receives handovers; regions, sectors and languages are lists."""

    __tablename__ = "recruiters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    organisation: Mapped[str] = mapped_column(String(100))
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    sectors: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    telegram_chat_id: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(254))
    capacity_per_week: Mapped[int] = mapped_column(Integer, default=5)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # SHA-256 of the secret in the recruiter's login link; the link itself is never stored.
    login_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    handovers: Mapped[list[Handover]] = relationship(back_populates="recruiter")


HANDOVER_STATUSES = ("requested", "delivered", "accepted", "contacted", "placed", "closed")
OPEN_HANDOVER_STATUSES = ("requested", "delivered", "accepted", "contacted")
_OPEN = text("status IN ('requested', 'delivered', 'accepted', 'contacted')")


class Handover(Base):
    """One request to be contacted by a recruiter, with the summary they were sent."""

    __tablename__ = "handovers"
    __table_args__ = (
        Index("ix_handovers_status", "status"),
        # A second request while one is open must never create a second handover.
        Index(
            "uq_handovers_one_open",
            "job_seeker_id",
            unique=True,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_seeker_id: Mapped[int] = mapped_column(
        ForeignKey("job_seekers.id", ondelete="CASCADE"), index=True
    )
    recruiter_id: Mapped[int | None] = mapped_column(
        ForeignKey("recruiters.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="requested")
    summary: Mapped[str] = mapped_column(Text, default="")
    share_support_needs: Mapped[bool] = mapped_column(Boolean, default=False)
    # Recruiters who had this handover before (declined or let it wait): never routed to again.
    tried_recruiter_ids: Mapped[list[int] | None] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    job_seeker: Mapped[JobSeeker] = relationship(back_populates="handovers")
    recruiter: Mapped[Recruiter | None] = relationship(back_populates="handovers")


NUDGE_FREQUENCIES = ("daily", "weekly", "biweekly", "off")


class NudgeSettings(Base):
    """How often a person wants encouragement and course suggestions, and any pause."""

    __tablename__ = "nudge_settings"

    job_seeker_id: Mapped[int] = mapped_column(
        ForeignKey("job_seekers.id", ondelete="CASCADE"), primary_key=True
    )
    frequency: Mapped[str] = mapped_column(String(16), default="weekly")
    paused_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    job_seeker: Mapped[JobSeeker] = relationship(back_populates="nudge_settings")


# queued: chosen and handed to the outbox (which sends it exactly once); claimed: the same, from
# before the outbox carried nudges; cancelled: stopped or paused before it went out; missed:
# the gateway was down past the grace window; blocked: Telegram 403.
NUDGE_STATUSES = ("queued", "claimed", "sent", "failed", "cancelled", "blocked", "missed")


class NudgeLog(Base):
    """One nudge due to a person: claimed once per due moment, then sent, failed or missed."""

    __tablename__ = "nudge_log"
    # The claim: of several gateways running the same due nudge, only one insert succeeds.
    # Rows from before scheduled nudges have no due_at; NULLs never collide.
    __table_args__ = (
        UniqueConstraint("job_seeker_id", "due_at", name="uq_nudge_log_due"),
        Index("ix_nudge_log_status", "status"),  # the scheduler counts the queued ones
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_seeker_id: Mapped[int] = mapped_column(
        ForeignKey("job_seekers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # encouragement | elearning
    module_id: Mapped[str | None] = mapped_column(String(64))
    encouragement_id: Mapped[str | None] = mapped_column(String(64))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="sent")
    detail: Mapped[str | None] = mapped_column(String(200))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    job_seeker: Mapped[JobSeeker] = relationship(back_populates="nudges_sent")


# sending: claimed by a gateway until `claimed_until`; one found past its lease was cut off
# mid-send and is checked before it is sent again. cancelled: no longer allowed to go out.
AT_ONCE = datetime(2000, 1, 1, tzinfo=timezone.utc)
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "cancelled")


class OutboxMessage(Base):
    """A message to send (to a recruiter or a job seeker), sent at most once per key.

    `job_seeker_id` links rows that carry a person's data, so deleting the person deletes
    them; a notice that holds nothing personal has none.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        # The worker's two questions, both answered from this index in order: which pending
        # rows are due (oldest first), and which sending rows outlived their lease.
        Index("ix_outbox_due", "status", "next_attempt_at", "id"),
        Index("ix_outbox_recipient", "channel", "recipient"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    job_seeker_id: Mapped[int | None] = mapped_column(
        ForeignKey("job_seekers.id", ondelete="CASCADE"), index=True
    )
    handover_id: Mapped[int | None] = mapped_column(Integer, index=True)
    channel: Mapped[str] = mapped_column(String(16))  # telegram | email | web
    recipient: Mapped[str] = mapped_column(String(254))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A new row may go at once, whatever the clock of the worker that picks it up.
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: AT_ONCE
    )
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Telegram's message id once sent, and the newest one known in that chat before the send:
    # together they bound where a send cut off by a crash can have landed.
    provider_message_id: Mapped[str | None] = mapped_column(String(64))
    previous_message_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    job_seeker: Mapped[JobSeeker | None] = relationship(back_populates="outbox")


class DeletionRecord(Base):
    """That a person's data was deleted, when and why; nothing that identifies them."""

    __tablename__ = "deletion_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reason: Mapped[str] = mapped_column(String(32))  # request | retention | no_consent
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
