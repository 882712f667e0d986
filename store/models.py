"""Tables of the project database. Rasa's tracker store owns `events`; nothing here uses it."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    """Declarative base of all project tables."""


class JobSeeker(Base):
    """One person on one channel (`telegram:123`, `web:abc`)."""

    __tablename__ = "job_seekers"
    __table_args__ = (UniqueConstraint("channel", "channel_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    channel_user_id: Mapped[str] = mapped_column(String(128))
    language: Mapped[str] = mapped_column(String(8), default="nl")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
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
