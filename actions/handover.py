"""Asking for a recruiter: first a finished profile, then a yes to sharing it, then the handover.

`action_request_recruiter` runs when someone asks for a recruiter or a person (or says yes to
the offer of one), and again for the yes or no to each question it asks itself. The slot
`handover_question` holds the question it asked; the rules in stories/rules/handover.yml send the
answer back to it:

- finish_profile: there is no finished profile yet; yes continues the intake (or, without the
  profile consent, the rules welcome the person and ask for it first), no leaves it.
- share_with_recruiter: may the profile go to a recruiter? Asked for every new handover,
  because each one is a new share.
- support_needs: may the recruiter also see the support needs? A separate choice, asked only
  when the profile lists any.

A second request while a handover is open never makes another one: the person hears how the
open one stands. Logged are ids and intents only, never what anyone said.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from actions.common import current_language, identity, in_session
from core.settings import get_settings
from core.time import utcnow
from store.handovers import (
    first_name,
    has_support_needs,
    open_handover,
    profile_ready,
    request_handover,
    status_text,
)
from store.models import Handover, JobSeeker
from store.profiles import consented_job_seeker, has_consent, record_consent

logger = logging.getLogger(__name__)

SLOT = "handover_question"
QUESTIONS = ("finish_profile", "share_with_recruiter", "support_needs")
ANSWERS = {"affirm": True, "deny": False}


@dataclass(frozen=True)
class Reply:
    """What to say (a response and its values) and the question it asks, if any."""

    response: str
    values: dict[str, Any] = field(default_factory=dict)
    question: str | None = None


NEEDS_PROFILE = Reply("utter_handover_needs_profile", question="finish_profile")


def contact_days() -> int:
    """Within how many working days a recruiter contacts the person (HANDOVER_CONTACT_...).
    The action server checked the settings at start-up: it does not start on invalid ones."""
    return get_settings().handover_contact_working_days


def status_reply(handover: Handover | None, language: str, days: int) -> Reply:
    """How the person's handover stands, or that none is open."""
    text = status_text(handover, language, days)
    if text is None:
        return Reply("utter_handover_status_unknown")
    return Reply("utter_handover_status", {"status": text})


def _seeker(session: Session, sender_id: str) -> JobSeeker | None:
    channel, user_id = identity(sender_id)
    return consented_job_seeker(session=session, channel=channel, channel_user_id=user_id)


def ask(session: Session, sender_id: str, language: str, days: int) -> Reply:
    """A request: the profile question, the status of the open handover or the share question."""
    seeker = _seeker(session, sender_id)
    if seeker is None:
        return NEEDS_PROFILE
    existing = open_handover(seeker, session=session)
    if existing is not None:
        logger.info("Handover %s is still open; answering with its status", existing.id)
        return status_reply(existing, language, days)
    if not profile_ready(seeker):
        return NEEDS_PROFILE
    return Reply("utter_ask_share_consent", question="share_with_recruiter")


def create(
    session: Session, seeker: JobSeeker, *, share_support_needs: bool, language: str, days: int
) -> Reply:
    """Make and route the handover; the open one's status when there is one already."""
    try:
        # A savepoint: when another request made the handover just now, the unique index on
        # open handovers refuses this one, and only this insert is undone (not the consents).
        with session.begin_nested():
            requested = request_handover(
                session=session,
                seeker=seeker,
                share_support_needs=share_support_needs,
                now=utcnow(),
            )
    except IntegrityError:
        logger.info("Job seeker %s got a handover from a request at the same time", seeker.id)
        return status_reply(open_handover(seeker, session=session), language, days)
    handover = requested.handover
    if not requested.created:
        logger.info("Handover %s is still open; none was made", handover.id)
        return status_reply(handover, language, days)
    recruiter = requested.recruiter
    if recruiter is None:
        logger.info("Handover %s waits for a free recruiter", handover.id)
        return Reply("utter_handover_searching")
    logger.info("Handover %s went to recruiter %s", handover.id, recruiter.id)
    return Reply(
        "utter_handover_created",
        {
            "recruiter": first_name(recruiter.name),
            "organisation": recruiter.organisation,
            "days": days,
        },
    )


def _answer(session: Session, sender_id: str, purpose: str, given: bool) -> JobSeeker | None:
    """Record the person's yes or no to `purpose`; None when they have no profile to share."""
    seeker = _seeker(session, sender_id)
    if seeker is not None:
        channel, _ = identity(sender_id)
        record_consent(
            session=session, job_seeker=seeker, purpose=purpose, given=given, channel=channel
        )
    return seeker


def answer_share(
    session: Session, sender_id: str, *, given: bool, language: str, days: int
) -> Reply:
    """Yes or no to sharing the profile; a yes asks about support needs or makes the handover."""
    seeker = _answer(session, sender_id, "share_with_recruiter", given)
    if seeker is None:
        return Reply(NEEDS_PROFILE.response)
    if not given:
        return Reply("utter_handover_not_shared")
    if has_support_needs(seeker):
        support = [item.value for item in seeker.items if item.kind == "support_need"]
        return Reply(
            "utter_ask_share_support", {"support": ", ".join(support)}, question="support_needs"
        )
    return create(session, seeker, share_support_needs=False, language=language, days=days)


def answer_support(
    session: Session, sender_id: str, *, given: bool, language: str, days: int
) -> Reply:
    """Yes or no to sharing the support needs too; then the handover is made."""
    seeker = _answer(session, sender_id, "support_needs", given)
    if seeker is None:
        return Reply(NEEDS_PROFILE.response)
    if not has_consent(session=session, job_seeker=seeker, purpose="share_with_recruiter"):
        # Withdrawn between the two questions: nothing is shared.
        return Reply("utter_handover_not_shared")
    return create(session, seeker, share_support_needs=given, language=language, days=days)


class ActionRequestRecruiter(Action):
    """Ask for a recruiter, and the answers to the questions that asking brings."""

    def name(self) -> str:
        """Name used in the domain."""
        return "action_request_recruiter"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Answer the request or the answer, and set `handover_question` to the next question."""
        # The classified intent itself: a consent is never read from a second guess.
        intent = tracker.get_intent_of_latest_message(skip_fallback_intent=False)
        question = tracker.get_slot(SLOT)
        answer = ANSWERS.get(str(intent)) if question in QUESTIONS else None
        logger.info("Recruiter request: intent %s, question %s", intent, question)

        if question == "finish_profile" and answer is not None:
            return self._finish_profile(dispatcher, tracker, answer)
        if answer is None and intent == "deny":
            dispatcher.utter_message(response="utter_ok")
            return [SlotSet(SLOT, None)]

        language = current_language(tracker)
        days = contact_days()
        sender_id = tracker.sender_id

        def work(session: Session) -> Reply:
            if question == "share_with_recruiter" and answer is not None:
                return answer_share(session, sender_id, given=answer, language=language, days=days)
            if question == "support_needs" and answer is not None:
                return answer_support(
                    session, sender_id, given=answer, language=language, days=days
                )
            return ask(session, sender_id, language, days)

        try:
            reply = await in_session(work)
        except SQLAlchemyError:
            logger.error("A recruiter request failed; the database is unavailable")
            dispatcher.utter_message(response="utter_data_unavailable")
            return [SlotSet(SLOT, None)]
        dispatcher.utter_message(response=reply.response, **reply.values)
        return [SlotSet(SLOT, reply.question)]

    @staticmethod
    def _finish_profile(
        dispatcher: CollectingDispatcher, tracker: Tracker, answer: bool
    ) -> list[EventType]:
        """Yes goes on with the intake (after the profile consent when there is none yet)."""
        if not answer:
            dispatcher.utter_message(response="utter_ok")
            return [SlotSet(SLOT, None)]
        if tracker.get_slot("consent_profile") is True:
            return [SlotSet(SLOT, None), FollowupAction("intake_form")]
        # Without the profile consent the rule that follows says, as after a first "hoi", who
        # the bot is and asks for the consent; the consent rules handle the answer.
        return [SlotSet(SLOT, None)]


class ActionHandoverStatus(Action):
    """How the person's request for a recruiter stands."""

    def name(self) -> str:
        """Name used in the domain."""
        return "action_handover_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """The open handover's status, or that there is none."""
        language = current_language(tracker)
        days = contact_days()
        sender_id = tracker.sender_id

        def read(session: Session) -> Reply:
            seeker = _seeker(session, sender_id)
            handover = None if seeker is None else open_handover(seeker, session=session)
            return status_reply(handover, language, days)

        try:
            reply = await in_session(read)
        except SQLAlchemyError:
            logger.error("Reading a handover status failed; the database is unavailable")
            dispatcher.utter_message(response="utter_data_unavailable")
            return []
        dispatcher.utter_message(response=reply.response, **reply.values)
        return []
