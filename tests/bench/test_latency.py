"""The latency benchmark's reading of merged Telegram messages and of its options."""

from __future__ import annotations

import argparse

import pytest

from bench.intake import ReplyKinds
from bench.latency import Errors, Sample, _pauses, add_arguments, figures, options_from

RESPONSES = {
    "utter_noted": [{"text": "Genoteerd, {first_name}."}],
    "utter_ask_talents": [{"text": "Waar ben je goed in?"}],
    "utter_sketch": [{"text": "Je profiel:\n\n{sketch}\n\nKlopt dit?"}],
    "utter_ask_consent": [
        {"text": "Mag ik een profiel maken?", "buttons": [{"title": "Ja", "payload": "/affirm"}]}
    ],
}


def test_a_merged_message_is_read_as_the_responses_it_joins() -> None:
    kinds = ReplyKinds(RESPONSES)
    assert kinds.kinds("Genoteerd, Sanne.\n\nWaar ben je goed in?") == (
        "utter_noted#0+utter_ask_talents#0"
    )
    # A response with blank lines of its own, and a slot value with them, stays one part.
    assert (
        kinds.kinds("Je profiel:\n\nNaam: Sanne\n\nPlaats: Ede\n\nKlopt dit?") == "utter_sketch#0"
    )
    assert kinds.kinds("Iets anders.\n\nWaar ben je goed in?") == "other+utter_ask_talents#0"
    assert kinds.kinds(None) == "empty"


def test_rasas_replies_are_compared_as_the_messages_the_gateway_sends() -> None:
    kinds = ReplyKinds(RESPONSES)
    rest = [
        {"recipient_id": "x", "text": "Genoteerd, Sanne."},
        {
            "recipient_id": "x",
            "text": "Mag ik een profiel maken?",
            "buttons": [{"title": "Ja", "payload": "/affirm"}],
        },
        {"recipient_id": "x", "text": "Waar ben je goed in?"},
    ]
    (first, second) = kinds.as_messages(rest, 4096)
    assert (first.kind, first.titles, first.payloads) == (
        "utter_noted#0+utter_ask_consent#0",
        ("Ja",),
        ("/affirm",),
    )
    assert second.kind == "utter_ask_talents#0"
    telegram = [
        {
            "chat_id": 1,
            "text": "Genoteerd, Sanne.\n\nMag ik een profiel maken?",
            "reply_markup": {"inline_keyboard": [[{"text": "Ja", "callback_data": "/affirm"}]]},
        },
        {"chat_id": 1, "text": "Waar ben je goed in?"},
    ]
    assert all(
        a.same_as(b) for a, b in zip(kinds.from_telegram(telegram), [first, second], strict=True)
    )


def test_pauses_are_read_from_the_command_line() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert options_from(parser.parse_args([])).pauses == (0.0, 1.0)
    assert options_from(parser.parse_args(["--pauses", "0.5"])).pauses == (0.5,)
    for wrong in ("", "een", "-1", "0,100"):
        with pytest.raises(argparse.ArgumentTypeError):
            _pauses(wrong)


def test_the_figures_of_a_run_with_a_pause_are_named_after_it() -> None:
    samples = [Sample("hoi", 110.0, 100.0, 112.0, 2.0), Sample("naam", 220.0, 200.0, 224.0, 2.0)]
    quick = figures(samples, Errors(), pause=1.0)
    assert [line["figure"] for line in quick] == [
        "gateway_latency_p50_ratio_pause_1s",
        "gateway_latency_p99_ratio_pause_1s",
        "gateway_latency_errors_pause_1s",
    ]
    # A is timed to the moment the fake Bot API recorded the reply (BENCH.md, decision 0007);
    # the benchmark's own wake-up after it is reported beside it.
    assert quick[0]["value"] == pytest.approx(1.1)
    assert quick[0]["value_woken"] == pytest.approx(1.12)
    assert quick[0]["a_woken"] == pytest.approx(168.0)
    assert figures(samples, Errors())[0]["figure"] == "gateway_latency_p50_ratio"
