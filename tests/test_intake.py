"""ValidateIntakeForm: every question accepted, skipped, refused for health, or asked again."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.intake import ValidateIntakeForm
from tests.action_support import domain, entity, form_step, load_tracker, responses

TEXT_SLOTS = ["first_name", "work_wish", "hours", "place", "max_travel", "start"]
TEXT_SLOTS += ["contact_preference"]
LIST_SLOTS = ["talents", "development_points", "pathways", "support_needs"]
FORM_SLOTS = [
    "first_name",
    "talents",
    "development_points",
    "work_wish",
    "hours",
    "place",
    "max_travel",
    "pathways",
    "start",
    "support_needs",
    "contact_preference",
]


def validate(
    slot: str,
    value: Any,
    dispatcher: CollectingDispatcher,
    tracker: Tracker | None = None,
) -> dict[str, Any]:
    """Call validate_<slot> the way the form does."""
    method = getattr(ValidateIntakeForm(), f"validate_{slot}")
    result: dict[str, Any] = method(value, dispatcher, tracker or form_step(slot, value), domain())
    return result


def as_slot_value(slot: str, text: str) -> Any:
    """A list slot filled from text holds the text as its one element."""
    return [text] if slot in LIST_SLOTS else text


def test_the_form_asks_every_question_of_the_full_intake() -> None:
    assert domain()["forms"]["intake_form"]["required_slots"] == FORM_SLOTS
    assert sorted(TEXT_SLOTS + LIST_SLOTS) == sorted(FORM_SLOTS)
    for slot in FORM_SLOTS:
        assert callable(getattr(ValidateIntakeForm(), f"validate_{slot}", None)), slot


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

    if slot == "work_wish":
        assert result == {"work_wish": "", "roles": [], "sectors": []}
    elif slot in LIST_SLOTS:
        assert result == {slot: []}
    else:
        assert result == {slot: ""}
    assert dispatcher.messages == []


# --- health -----------------------------------------------------------------------------

HEALTH_ANSWERS = {
    "first_name": "ik ben Anna en ik heb ms",
    "talents": "doorzetten, dat leerde ik van de borstkanker",
    "development_points": "na mijn burn-out wil ik leren plannen",
    "work_wish": "iets rustigs vanwege mijn depressie",
    "hours": "20 uur, door de chemo niet meer",
    "place": "Utrecht, dicht bij het ziekenhuis van mijn behandeling",
    "max_travel": "een half uur, vanwege mijn rolstoel",
    "pathways": "leren en werken, ik heb autisme",
    "start": "na mijn operatie",
    "support_needs": "aangepast werk vanwege reuma",
    "contact_preference": "mail, bellen lukt niet door mijn hersenletsel",
}


@pytest.mark.parametrize("slot", FORM_SLOTS)
def test_a_health_answer_is_not_kept(slot: str) -> None:
    dispatcher = CollectingDispatcher()

    result = validate(slot, as_slot_value(slot, HEALTH_ANSWERS[slot]), dispatcher)

    assert result == {slot: None}
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
        ("hours", "veel", "utter_invalid_hours"),
        ("hours", "0", "utter_invalid_hours"),
        ("place", "12345", "utter_invalid_place"),
        ("max_travel", "geen", "utter_invalid_max_travel"),
        ("max_travel", "500 km", "utter_invalid_max_travel"),
        ("pathways", ["iets leuks"], "utter_invalid_pathways"),
        ("start", "!!!", "utter_invalid_free_text"),
        ("start", "morgen " * 20, "utter_invalid_free_text"),
        ("support_needs", ["!!!"], "utter_invalid_free_text"),
        ("contact_preference", "?", "utter_invalid_free_text"),
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


@pytest.mark.parametrize("slot", ["pathways", "support_needs"])
def test_a_real_faq_question_is_answered_and_the_question_asked_again(slot: str) -> None:
    dispatcher = CollectingDispatcher()
    text = "wat is een proefplaatsing eigenlijk?"
    tracker = asked_as(form_step(slot, [text]), "faq", "faq/trial_placement")

    assert validate(slot, [text], dispatcher, tracker) == {slot: None}
    assert responses(dispatcher) == ["utter_faq/trial_placement"]


def test_an_answer_that_sounds_like_an_faq_topic_is_an_answer() -> None:
    dispatcher = CollectingDispatcher()
    tracker = asked_as(form_step("support_needs", ["reiskosten"]), "faq", "faq/travel_costs")

    assert validate("support_needs", ["reiskosten"], dispatcher, tracker) == {
        "support_needs": ["reiskosten"]
    }
    assert dispatcher.messages == []


def test_a_bot_question_instead_of_an_answer_gets_the_truth() -> None:
    dispatcher = CollectingDispatcher()
    text = "ben jij eigenlijk een robot?"
    tracker = asked_as(form_step("pathways", [text]), "bot_challenge")

    assert validate("pathways", [text], dispatcher, tracker) == {"pathways": None}
    assert responses(dispatcher) == ["utter_iamabot"]


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


async def test_the_validation_action_refuses_a_health_answer() -> None:
    dispatcher = CollectingDispatcher()
    tracker = form_step("support_needs", ["niet te lang staan door mijn borstkanker"])

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
    }
    for slot in FORM_SLOTS:
        value = answers.get(slot, as_slot_value(slot, "Anna"))
        result = validate(slot, value, CollectingDispatcher())
        assert set(result) <= slots, slot
