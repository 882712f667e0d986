"""The person's data as one JSON object in the `werkmaatje.export/1` format of SPEC.md."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy.orm import Session

from core.time import as_utc
from store.conversation import conversation
from store.models import JobSeeker
from store.profiles import find_job_seeker

SCHEMA = "werkmaatje.export/1"

# Export key -> ProfileItem.kind for the list fields of the profile.
_LIST_FIELDS = {
    "talents": "talent",
    "development_points": "development_point",
    "roles": "role",
    "sectors": "sector",
    "pathways": "pathway",
    "support_needs": "support_need",
}


def iso(moment: datetime | None) -> str | None:
    """ISO-8601 in UTC; SQLite hands back naive datetimes that were stored as UTC."""
    if moment is None:
        return None
    return as_utc(moment).astimezone(timezone.utc).isoformat()


def profile_dict(seeker: JobSeeker) -> dict[str, Any]:
    """The profile in the export format."""
    profile = seeker.profile
    result: dict[str, Any] = {
        "name": profile.name if profile else None,
        "talents": [],
        "development_points": [],
        "roles": [],
        "sectors": [],
        "place": profile.place if profile else None,
        "max_travel_minutes": profile.max_travel_minutes if profile else None,
        "hours_min": profile.hours_min if profile else None,
        "hours_max": profile.hours_max if profile else None,
        "pathways": [],
        "start": profile.start if profile else None,
        "support_needs": [],
        "contact_preference": profile.contact_preference if profile else None,
    }
    kind_to_key = {kind: key for key, kind in _LIST_FIELDS.items()}
    for item in sorted(seeker.items, key=lambda item: (item.kind, item.position)):
        result[kind_to_key[item.kind]].append(item.value)
    return result


def export_job_seeker(*, session: Session, channel: str, channel_user_id: str) -> dict[str, Any]:
    """The export object for one channel identity; raises LookupError when nothing is stored."""
    seeker = find_job_seeker(session=session, channel=channel, channel_user_id=channel_user_id)
    if seeker is None:
        raise LookupError(f"no data stored for {channel}:{channel_user_id}")
    settings = seeker.nudge_settings
    return {
        "schema": SCHEMA,
        "job_seeker": {
            "channel": channel,
            "channel_user_id": channel_user_id,
            "language": seeker.language,
            "created_at": iso(seeker.created_at),
            # Added key: every channel this person is known on.
            "identities": [
                {"channel": identity.channel, "channel_user_id": identity.channel_user_id}
                for identity in seeker.identities
            ],
        },
        "consents": [
            {
                "purpose": consent.purpose,
                "given": consent.given,
                "text_version": consent.text_version,
                "at": iso(consent.at),
            }
            for consent in seeker.consents
        ],
        "profile": profile_dict(seeker),
        "handovers": [
            {
                "recruiter": handover.recruiter.name if handover.recruiter else None,
                "status": handover.status,
                "summary": handover.summary,
                "created_at": iso(handover.created_at),
            }
            for handover in seeker.handovers
        ],
        "nudges": {
            "frequency": settings.frequency if settings else None,
            "paused_until": iso(settings.paused_until) if settings else None,
            "sent": [
                {"kind": nudge.kind, "module_id": nudge.module_id, "at": iso(nudge.at)}
                for nudge in seeker.nudges_sent
                if nudge.status == "sent"
            ],
        },
        "success_moments": [
            {"text": moment.text, "at": iso(moment.at)} for moment in seeker.success_moments
        ],
        "conversation": conversation(seeker.sender_ids(), session=session),
    }
