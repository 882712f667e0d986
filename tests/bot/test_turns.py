"""One turn, one message: how Rasa's bubbles of a turn become a channel's messages."""

from __future__ import annotations

import pytest

from bot.rasa_client import Button, Document, Reply
from bot.turns import length, one_message_per_turn, split_text

YES_NO = (Button("Ja", "/affirm"), Button("Nee", "/deny"))
TELEGRAM = 4096


def test_an_acknowledgement_and_the_next_question_become_one_message_with_its_buttons() -> None:
    turn = [Reply(text="Fijn, Sanne!"), Reply(text="Mag ik je profiel maken?", buttons=YES_NO)]
    (message,) = one_message_per_turn(turn, TELEGRAM)
    assert message.text == "Fijn, Sanne!\n\nMag ik je profiel maken?"
    assert message.buttons == YES_NO


def test_three_texts_without_buttons_become_one_message() -> None:
    turn = [Reply(text="Een."), Reply(text="Twee."), Reply(text="Drie?")]
    assert [m.text for m in one_message_per_turn(turn, TELEGRAM)] == ["Een.\n\nTwee.\n\nDrie?"]


def test_buttons_stay_under_the_text_that_asks_for_them() -> None:
    other = (Button("Sla over", "/skip"),)
    turn = [
        Reply(text="Vraag één?", buttons=YES_NO),
        Reply(text="Nog iets."),
        Reply(text="Vraag twee?", buttons=other),
    ]
    messages = one_message_per_turn(turn, TELEGRAM)
    assert [(m.text, m.buttons) for m in messages] == [
        ("Vraag één?", YES_NO),
        ("Nog iets.\n\nVraag twee?", other),
    ]


def test_images_and_documents_stay_messages_of_their_own_in_their_place() -> None:
    export = Document("werkmaatje.json", b"{}")
    turn = [
        Reply(text="Hier zijn je gegevens."),
        Reply(text="Het bestand:", document=export),
        Reply(image="https://example.invalid/a.png"),
        Reply(text="Wil je nog iets?"),
        Reply(text="Zeg het maar."),
    ]
    messages = one_message_per_turn(turn, TELEGRAM)
    assert [(m.text, m.document, m.image) for m in messages] == [
        ("Hier zijn je gegevens.", None, None),
        ("Het bestand:", export, None),
        (None, None, "https://example.invalid/a.png"),
        ("Wil je nog iets?\n\nZeg het maar.", None, None),
    ]


def test_a_caption_too_long_for_the_file_goes_before_it_as_text_with_the_buttons() -> None:
    export = Document("werkmaatje.json", b"{}")
    caption = ("Hier zijn je gegevens. " * 50).strip()  # 1,149 characters
    turn = [Reply(text=caption, document=export, buttons=YES_NO)]
    messages = one_message_per_turn(turn, TELEGRAM, caption_limit=1024)
    assert [(m.text, m.buttons, m.document) for m in messages] == [
        (caption, YES_NO, None),
        (None, (), export),
    ]


def test_a_caption_that_fits_stays_with_its_file() -> None:
    photo = Reply(text="Zo ziet het eruit." * 56, image="https://example.invalid/a.png")
    assert length(photo.text or "") == 1008
    assert one_message_per_turn([photo], TELEGRAM, caption_limit=1024) == [photo]


def test_buttons_without_text_go_under_the_text_before_them() -> None:
    turn = [Reply(text="Kies maar."), Reply(buttons=YES_NO)]
    (message,) = one_message_per_turn(turn, TELEGRAM)
    assert (message.text, message.buttons) == ("Kies maar.", YES_NO)


def test_an_empty_turn_sends_nothing() -> None:
    assert one_message_per_turn([], TELEGRAM) == []
    assert one_message_per_turn([Reply()], TELEGRAM) == []


def test_parts_that_together_pass_the_limit_are_sent_apart_not_cut() -> None:
    first, second = "a" * 60 + ".", "b" * 60 + "?"
    messages = one_message_per_turn([Reply(text=first), Reply(text=second, buttons=YES_NO)], 100)
    assert [(m.text, m.buttons) for m in messages] == [(first, ()), (second, YES_NO)]


def test_a_long_text_is_cut_after_sentences_and_keeps_its_buttons_on_the_last_part() -> None:
    sentence = "Dit is een zin van ongeveer veertig tekens. "
    text = (sentence * 5).strip()
    messages = one_message_per_turn([Reply(text=text, buttons=YES_NO)], 100)
    assert all(length(m.text or "") <= 100 for m in messages)
    assert all((m.text or "").endswith(".") for m in messages)
    assert " ".join(m.text or "" for m in messages) == text
    assert [m.buttons for m in messages] == [()] * (len(messages) - 1) + [YES_NO]


def test_a_sentence_longer_than_the_limit_is_cut_at_a_space() -> None:
    text = "woord " * 30
    parts = split_text(text, 50)
    assert all(length(part) <= 50 for part in parts)
    assert " ".join(parts) == text.strip()


def test_a_word_longer_than_the_limit_is_cut_where_it_must_be() -> None:
    parts = split_text("x" * 25, 10)
    assert parts == ["x" * 10, "x" * 10, "x" * 5]


def test_emoji_count_as_two_like_telegram_counts_them() -> None:
    assert length("👍") == 2
    parts = split_text("👍" * 6, 5)
    assert parts == ["👍👍", "👍👍", "👍👍"]
    assert all(length(part) <= 5 for part in parts)


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        split_text("hoi", 0)
