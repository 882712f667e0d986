"""ValidateIntakeForm: every question accepted, skipped, refused for health, or asked again."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.intake import ASK_ACTIONS, ValidateIntakeForm
from actions.intake_reading import FIELDS
from tests.support.actions import domain, entity, form_step, load_tracker, responses

TEXT_SLOTS = ["first_name", "work_wish", "hours", "place", "max_travel", "start"]
TEXT_SLOTS += ["contact_preference"]
LIST_SLOTS = ["talents", "development_points", "pathways", "support_needs"]
FORM_SLOTS = list(FIELDS)


def validate(
    slot: str,
    value: Any,
    dispatcher: CollectingDispatcher,
    tracker: Tracker | None = None,
) -> dict[str, Any]:
    """Run the validation as the form does after `value` answered `slot`; the slots it sets."""
    tracker = tracker or form_step(slot, value)
    events = asyncio.run(ValidateIntakeForm().run(dispatcher, tracker, domain()))
    return {event["name"]: event["value"] for event in events}


def as_slot_value(slot: str, text: str) -> Any:
    """A list slot filled from text holds the text as its one element."""
    return [text] if slot in LIST_SLOTS else text


def test_the_form_asks_every_question_of_the_full_intake() -> None:
    assert domain()["forms"]["intake_form"]["required_slots"] == FORM_SLOTS
    assert sorted(TEXT_SLOTS + LIST_SLOTS) == sorted(FORM_SLOTS)
    for slot in FORM_SLOTS:
        assert f"action_ask_{slot}" in domain()["actions"], slot


# --- accepted ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slot", "value", "expected"),
    [
        ("first_name", "ik heet anna", {"first_name": "Anna"}),
        ("first_name", "my name is Jan-Willem", {"first_name": "Jan-Willem"}),
        (
            "talents",
            ["ik ben goed met mensen, plannen"],
            {"talents": ["ik ben goed met mensen", "plannen"]},
        ),
        ("talents", "  geduldig ", {"talents": ["geduldig"]}),
        (
            "development_points",
            ["Excel; heftruck rijden"],
            {"development_points": ["Excel", "heftruck rijden"]},
        ),
        (
            "work_wish",
            "iets met mensen",
            {"work_wish": "iets met mensen", "roles": ["iets met mensen"], "sectors": []},
        ),
        ("hours", "20 à 24", {"hours": "20 à 24", "hours_min": 20.0, "hours_max": 24.0}),
        ("hours", "3 dagen", {"hours": "3 dagen", "hours_min": 24.0, "hours_max": 24.0}),
        ("hours", "fulltime", {"hours": "fulltime", "hours_min": 36.0, "hours_max": 40.0}),
        ("place", "ik woon in utrecht", {"place": "Utrecht"}),
        ("place", "1234ab", {"place": "1234 AB"}),
        (
            "max_travel",
            "een half uur",
            {"max_travel": "een half uur", "max_travel_minutes": 30.0},
        ),
        ("max_travel", "max 20 km", {"max_travel": "max 20 km", "max_travel_minutes": 40.0}),
        (
            "pathways",
            ["een vaste baan of vrijwilligerswerk"],
            {"pathways": ["regular_job", "volunteering"]},
        ),
        ("start", "over twee weken", {"start": "over twee weken"}),
        (
            "support_needs",
            ["een vaste werkplek, korte werkdagen"],
            {"support_needs": ["een vaste werkplek", "korte werkdagen"]},
        ),
        ("support_needs", ["nee"], {"support_needs": []}),
        ("support_needs", "niets", {"support_needs": []}),
        ("contact_preference", "bel me maar", {"contact_preference": "bel me maar"}),
    ],
)
def test_an_answer_is_accepted(slot: str, value: Any, expected: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()

    assert validate(slot, value, dispatcher) == expected
    assert dispatcher.messages == []


# --- skipped ----------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["sla over", "weet ik niet", "skip", "geen idee"])
@pytest.mark.parametrize("slot", FORM_SLOTS)
def test_a_skipped_question_counts_as_answered_and_empty(slot: str, answer: str) -> None:
    dispatcher = CollectingDispatcher()

    result = validate(slot, as_slot_value(slot, answer), dispatcher)

    if slot in LIST_SLOTS:
        assert result == {slot: []}
    else:
        assert result == {slot: ""}
    assert dispatcher.messages == []


# --- health -----------------------------------------------------------------------------

# Per question: an answer with a health part and a practical part; only the practical part
# is kept, and the person hears that nothing about health is written down.
HEALTH_ANSWERS = {
    "first_name": ("ik ben Anna en ik heb ms", "Anna"),
    "talents": ("doorzetten, dat leerde ik van de borstkanker", ["doorzetten"]),
    "development_points": ("na mijn burn-out, wil ik leren plannen", ["wil ik leren plannen"]),
    "work_wish": ("iets in de administratie, door mijn depressie", "iets in de administratie"),
    "hours": ("20 uur, door de chemo niet meer", "20 uur"),
    "place": ("Utrecht, dicht bij het ziekenhuis van mijn behandeling", "Utrecht"),
    "max_travel": ("een half uur, vanwege mijn rolstoel", "een half uur"),
    "pathways": ("leren en werken, ik heb autisme", ["learn_work_track"]),
    "start": ("volgende maand, na mijn operatie", "volgende maand"),
    "support_needs": ("aangepast werk, vanwege reuma", ["aangepast werk"]),
    "contact_preference": ("mail, bellen lukt niet door mijn hersenletsel", "mail"),
}


@pytest.mark.parametrize("slot", FORM_SLOTS)
def test_the_health_part_of_an_answer_is_left_out_and_the_rest_kept(slot: str) -> None:
    dispatcher = CollectingDispatcher()
    text, kept = HEALTH_ANSWERS[slot]

    result = validate(slot, text, dispatcher)

    assert result[slot] == kept
    assert responses(dispatcher) == ["utter_health_left_out"]


@pytest.mark.parametrize(
    "text", ["ik heb borstkanker", "I'm partly deaf", "ik ben snel moe door de chemo"]
)
@pytest.mark.parametrize("slot", ["talents", "support_needs", "hours"])
def test_an_answer_that_is_only_about_health_keeps_nothing(slot: str, text: str) -> None:
    dispatcher = CollectingDispatcher()

    assert validate(slot, text, dispatcher) == {slot: None}
    assert responses(dispatcher) == ["utter_health_not_stored"]


# --- nonsense ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slot", "value", "response"),
    [
        ("first_name", "12345", "utter_invalid_first_name"),
        ("first_name", "ik ben op zoek naar werk in de buurt", "utter_invalid_first_name"),
        ("talents", ["!!!"], "utter_invalid_free_text"),
        ("development_points", ["???"], "utter_invalid_free_text"),
        ("work_wish", "...", "utter_invalid_free_text"),
        ("hours", "200", "utter_invalid_hours"),
        ("hours", "veel", "utter_no_hours"),
        ("hours", "0", "utter_invalid_hours"),
        ("place", "12345", "utter_invalid_place"),
        ("max_travel", "geen", "utter_invalid_max_travel"),
        ("max_travel", "500 km", "utter_invalid_max_travel"),
        ("pathways", ["iets leuks"], "utter_invalid_pathways"),
        ("start", "!!!", "utter_invalid_start"),
        ("start", "morgen " * 20, "utter_invalid_start"),
        ("support_needs", ["!!!"], "utter_invalid_free_text"),
        ("contact_preference", "?", "utter_invalid_contact_preference"),
        ("contact_preference", "ja", "utter_invalid_contact_preference"),
    ],
)
def test_a_nonsense_answer_is_asked_again(slot: str, value: Any, response: str) -> None:
    dispatcher = CollectingDispatcher()

    assert validate(slot, value, dispatcher) == {slot: None}
    assert responses(dispatcher) == [response]


# --- entities ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "entities", "roles", "sectors"),
    [
        (
            "ik wil kok worden in de horeca",
            [("role", "kok"), ("sector", "horeca")],
            ["kok"],
            ["horeca"],
        ),
        ("iets in de zorg", [("sector", "zorg")], [], ["zorg"]),
        (
            "administratief medewerker of receptionist",
            [("role", "administratief medewerker"), ("role", "receptionist")],
            ["administratief medewerker", "receptionist"],
            [],
        ),
    ],
)
def test_work_wish_takes_roles_and_sectors_from_the_entities(
    text: str, entities: list[tuple[str, str]], roles: list[str], sectors: list[str]
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = form_step("work_wish", text, entities=[entity(n, v, text) for n, v in entities])

    result = validate("work_wish", text, dispatcher, tracker)

    assert result == {"work_wish": text, "roles": roles, "sectors": sectors}
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    ("text", "place_entity", "expected"),
    [
        ("ik woon in Oegstgeest vlakbij Leiden", "oegstgeest", "Oegstgeest"),
        ("3511 ab", "3511 ab", "3511 AB"),
        # An entity that is no place does not stop the answer itself from counting.
        ("in Leiden", "12", "Leiden"),
    ],
)
def test_place_prefers_the_place_entity(text: str, place_entity: str, expected: str) -> None:
    dispatcher = CollectingDispatcher()
    tracker = form_step("place", text, entities=[entity("place", place_entity, text)])

    assert validate("place", text, dispatcher, tracker) == {"place": expected}
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("dat laatste", ["volunteering"], ["volunteering"]),
        ("proefplaatsing", ["learn_work_track"], ["trial_placement", "learn_work_track"]),
        ("de eerste", ["regular_job", "unknown"], ["regular_job"]),
    ],
)
def test_pathways_uses_the_pathway_entities(
    text: str, values: list[str], expected: list[str]
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = form_step("pathways", [text], entities=[entity("pathway", v) for v in values])

    assert validate("pathways", [text], dispatcher, tracker) == {"pathways": expected}
    assert dispatcher.messages == []


def asked_as(tracker: Tracker, intent: str, key: str | None = None) -> Tracker:
    """The same tracker, with the latest message classified as `intent` (and FAQ `key`)."""
    tracker.latest_message["intent"] = {"name": intent, "confidence": 0.9}
    if key is not None:
        tracker.latest_message["response_selector"] = {
            "faq": {"response": {"intent_response_key": key}}
        }
    return tracker


@pytest.mark.parametrize("slot", ["pathways", "support_needs", "talents", "start"])
def test_a_real_faq_question_is_left_to_the_rules(slot: str) -> None:
    # No slot is set, so the form steps aside: the FAQ rule answers and the form asks again.
    dispatcher = CollectingDispatcher()
    text = "wat is een proefplaatsing eigenlijk?"
    tracker = asked_as(form_step(slot, [text]), "faq", "faq/trial_placement")

    assert validate(slot, [text], dispatcher, tracker) == {}
    assert dispatcher.messages == []


def test_an_answer_that_sounds_like_an_faq_topic_is_an_answer() -> None:
    dispatcher = CollectingDispatcher()
    tracker = asked_as(form_step("support_needs", ["reiskosten"]), "faq", "faq/travel_costs")

    assert validate("support_needs", ["reiskosten"], dispatcher, tracker) == {
        "support_needs": ["reiskosten"]
    }
    assert dispatcher.messages == []


def test_a_bot_question_instead_of_an_answer_is_left_to_the_rules() -> None:
    dispatcher = CollectingDispatcher()
    text = "ben jij eigenlijk een robot?"
    tracker = asked_as(form_step("pathways", [text]), "bot_challenge")

    assert validate("pathways", [text], dispatcher, tracker) == {}


def test_a_learning_wish_that_sounds_like_a_bot_question_is_a_learning_wish() -> None:
    dispatcher = CollectingDispatcher()
    tracker = asked_as(form_step("development_points", "computer"), "bot_challenge")

    assert validate("development_points", "computer", dispatcher, tracker) == {
        "development_points": ["computer"]
    }


def test_a_contact_answer_that_sounds_like_asking_for_a_person_is_an_answer() -> None:
    dispatcher = CollectingDispatcher()
    tracker = asked_as(form_step("contact_preference", "bel me maar"), "request_human")

    assert validate("contact_preference", "bel me maar", dispatcher, tracker) == {
        "contact_preference": "bel me maar"
    }
    assert dispatcher.messages == []


# --- the validation action as the form runs it ------------------------------------------


async def test_the_validation_action_cleans_the_first_name() -> None:
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("intake_first_name")

    events = await ValidateIntakeForm().run(dispatcher, tracker, domain())

    assert events == [SlotSet("first_name", "Anna")]
    assert dispatcher.messages == []


async def test_the_validation_action_sets_the_derived_hour_slots() -> None:
    dispatcher = CollectingDispatcher()

    events = await ValidateIntakeForm().run(
        dispatcher, form_step("hours", "tussen de 20 en 24 uur"), domain()
    )

    assert events == [
        SlotSet("hours", "tussen de 20 en 24 uur"),
        SlotSet("hours_min", 20.0),
        SlotSet("hours_max", 24.0),
    ]
    assert dispatcher.messages == []


async def test_the_validation_action_keeps_only_the_practical_part_of_a_health_answer() -> None:
    dispatcher = CollectingDispatcher()
    tracker = form_step("support_needs", ["niet te lang staan door mijn borstkanker"])

    events = await ValidateIntakeForm().run(dispatcher, tracker, domain())

    assert events == [SlotSet("support_needs", ["niet te lang staan"])]
    assert responses(dispatcher) == ["utter_health_left_out"]


async def test_the_validation_action_refuses_an_answer_that_is_only_health() -> None:
    dispatcher = CollectingDispatcher()
    tracker = form_step("support_needs", ["door mijn borstkanker"])

    events = await ValidateIntakeForm().run(dispatcher, tracker, domain())

    assert events == [SlotSet("support_needs", None)]
    assert responses(dispatcher) == ["utter_health_not_stored"]


def test_every_slot_the_validation_sets_is_in_the_domain() -> None:
    slots = set(domain()["slots"])
    answers = {
        "work_wish": "kok",
        "hours": "24",
        "max_travel": "45 minuten",
        "pathways": ["vaste baan"],
        "contact_preference": "bellen",
    }
    for slot in FORM_SLOTS:
        value = answers.get(slot, as_slot_value(slot, "Anna"))
        result = validate(slot, value, CollectingDispatcher())
        assert set(result) <= slots, slot
        assert result[slot] not in (None, "", []), slot


# --- following the person: interruptions, loops and a name to confirm -------------------


@pytest.mark.parametrize(
    ("text", "intent", "asked", "elsewhere"),
    [
        ("kan ik met een recruiter praten?", "request_recruiter", "max_travel", True),
        ("ik wil met een mens praten", "request_human", "talents", True),
        ("kunnen we in het Engels verder?", "change_language", "talents", True),
        ("English please", "change_language", "hours", True),
        ("ik spreek vier talen", "change_language", "talents", False),
        ("beter Nederlands leren", "change_language", "development_points", False),
        ("Dutch!", "change_language", "development_points", False),
        ("Nederlands graag", "change_language", "talents", True),
        ("english please", "change_language", "development_points", True),
        ("een Engelstalig team", "change_language", "work_wish", False),
        ("full time", "nudges_stop", "hours", False),
        ("full time", "nudges_stop", "work_wish", False),
        ("stop", "nudges_stop", "hours", True),
        ("via deze chat", "request_human", "contact_preference", False),
        ("bel me maar", "request_human", "contact_preference", False),
        ("verwijder mijn gegevens", "request_data_deletion", "talents", True),
    ],
)
def test_only_a_plain_request_leaves_the_intake(
    text: str, intent: str, asked: str, elsewhere: bool
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = form_step(asked, text, intent=intent, confidence=0.8)

    result = validate(asked, text, dispatcher, tracker)

    assert (result == {}) is elsewhere, result


@pytest.mark.parametrize(
    ("text", "intent"), [("ik zoek werk", "start_intake"), ("hoi", "greet"), ("ja", "affirm")]
)
@pytest.mark.parametrize("asked", ["first_name", "talents", "start"])
def test_something_said_in_passing_is_not_kept_as_an_answer(
    text: str, intent: str, asked: str
) -> None:
    dispatcher = CollectingDispatcher()

    result = validate(asked, text, dispatcher, form_step(asked, text, intent=intent))

    assert result == {asked: None}
    assert len(responses(dispatcher)) == 1


def test_a_fact_given_ahead_is_noted_in_the_persons_own_words() -> None:
    dispatcher = CollectingDispatcher()

    result = validate("max_travel", "per direct", dispatcher)

    assert result == {"start": "per direct", "max_travel": None}
    assert dispatcher.messages[0]["response"] == "utter_noted"
    assert dispatcher.messages[0]["noted"] == "per direct"


def test_talents_given_later_are_added_to_those_given_before() -> None:
    dispatcher = CollectingDispatcher()
    tracker = form_step(
        "hours", "ik ben ook goed met computers", slots={"talents": ["ik kan goed plannen"]}
    )

    result = validate("hours", "", dispatcher, tracker)

    assert result["talents"] == ["ik kan goed plannen", "ik ben ook goed met computers"]


def test_an_unsure_name_is_confirmed_before_it_is_kept() -> None:
    dispatcher = CollectingDispatcher()

    first = validate("first_name", "jan de vries", dispatcher)
    assert first == {"first_name_candidate": "Jan de Vries", "first_name": None}

    confirm = form_step("first_name", "/affirm", intent="affirm", slots=first)
    assert validate("first_name", "", dispatcher, confirm) == {
        "first_name": "Jan de Vries",
        "first_name_candidate": None,
    }
    refuse = form_step("first_name", "nee", intent="deny", slots=first)
    assert validate("first_name", "", dispatcher, refuse) == {
        "first_name_candidate": None,
        "first_name": None,
    }


async def ask(slot: str, slots: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """Run the asking action for `slot`; what it said and the slots it set."""
    dispatcher = CollectingDispatcher()
    action = next(a() for a in ASK_ACTIONS if a.slot == slot)
    events = await action.run(dispatcher, form_step(slot, "", slots=slots), domain())
    return responses(dispatcher), {event["name"]: event["value"] for event in events}


async def test_the_same_question_never_comes_three_times_in_a_row() -> None:
    slots: dict[str, Any] = {}
    said: list[str] = []
    for _ in range(4):
        response, set_slots = await ask("hours", slots)
        said += response
        slots.update(set_slots)
    assert said == ["utter_ask_hours", "utter_ask_hours", "utter_way_out_hours",
                    "utter_way_out_hours"]  # fmt: skip
    # Another question starts the count again, and so does the same one in another language.
    assert (await ask("place", slots))[0] == ["utter_ask_place"]
    assert (await ask("place", {**slots, "language": "en"}))[0] == ["utter_ask_place"]


def test_the_way_out_offers_skip_later_a_person_and_an_example() -> None:
    for slot in FORM_SLOTS:
        for variation in domain()["responses"][f"utter_way_out_{slot}"]:
            payloads = [button["payload"] for button in variation["buttons"]]
            assert payloads == ["/skip", "/goodbye", "/request_human"]
            assert "“" in variation["text"], slot


def test_after_the_way_out_an_answer_that_still_does_not_fit_skips_the_question() -> None:
    dispatcher = CollectingDispatcher()
    slots = {"intake_last_question": "hours nl", "intake_times_asked": 3.0}

    result = validate("hours", "", dispatcher, form_step("hours", "veel", slots=slots))

    assert result == {"hours": ""}
    assert responses(dispatcher) == ["utter_question_skipped"]


async def test_a_name_to_confirm_is_asked_as_a_yes_or_no() -> None:
    said, set_slots = await ask("first_name", {"first_name_candidate": "Jan de Vries"})

    assert said == ["utter_ask_first_name_confirm"]
    assert set_slots["intake_last_question"] == "first_name_confirm"


@pytest.mark.parametrize(
    ("text", "intent"), [("morgen al", "greet"), ("office work", "start_intake")]
)
def test_an_answer_that_reads_like_small_talk_is_still_an_answer(text: str, intent: str) -> None:
    asked = "start" if text == "morgen al" else "work_wish"
    dispatcher = CollectingDispatcher()

    result = validate(asked, text, dispatcher, form_step(asked, text, intent=intent))

    assert result[asked] == text
    assert dispatcher.messages == []
