"""The handover summary: every section in plain text, Telegram HTML and e-mail HTML, no health."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from core.privacy import mentions_health
from core.texts import load_texts, phrases
from store.summary import (
    Link,
    Summary,
    build_summary,
    reach,
)

LANGUAGES = ("nl", "en")
# The summary's labels as written in the catalogue, fields not yet filled in.
LABELS = {
    language: {
        key.rsplit(".", 1)[1]: text.versions[language]
        for key, text in load_texts()[0].items()
        if key.startswith("recruiter.summary.")
    }
    for language in LANGUAGES
}
PATHWAY_NAMES = {language: phrases("person.pathway", language) for language in LANGUAGES}
TELEGRAM_ID = "123456789"
HEALTH_WORDS = ("kanker", "borstkanker", "chemo", "chemokuur", "bestraling", "burn-out")


def full_profile(**changes: Any) -> dict[str, Any]:
    """A profile with every field filled in, keyed as store.export.profile_dict returns it."""
    profile: dict[str, Any] = {
        "name": "Noor",
        "talents": ["plannen", "goed met mensen"],
        "development_points": ["Excel"],
        "roles": ["kok"],
        "sectors": ["horeca"],
        "place": "Zwolle",
        "max_travel_minutes": 30,
        "hours_min": 20,
        "hours_max": 24,
        "pathways": ["trial_placement", "regular_job"],
        "start": "per direct",
        "support_needs": ["vaste werkplek"],
        "contact_preference": "bellen op 06-12345678 of mail noor@example.nl",
    }
    profile.update(changes)
    return profile


def empty_profile() -> dict[str, Any]:
    """A profile with nothing filled in."""
    return {
        "name": None,
        "talents": [],
        "development_points": [],
        "roles": [],
        "sectors": [],
        "place": None,
        "max_travel_minutes": None,
        "hours_min": None,
        "hours_max": None,
        "pathways": [],
        "start": None,
        "support_needs": [],
        "contact_preference": None,
    }


def summary(
    profile: dict[str, Any],
    *,
    language: str = "nl",
    share_support_needs: bool = True,
    own_words: str | None = "Ik ben er altijd op tijd",
    identities: list[tuple[str, str]] | None = None,
) -> Summary:
    """The summary of handover 7 for `profile`."""
    return build_summary(
        handover_id=7,
        language=language,
        profile=profile,
        identities=[("telegram", TELEGRAM_ID)] if identities is None else identities,
        share_support_needs=share_support_needs,
        own_words=own_words,
    )


def renderings(result: Summary) -> dict[str, str]:
    """The three renderings of a summary, by name."""
    return {
        "plain_text": result.plain_text(),
        "telegram_html": result.telegram_html(),
        "email_html": result.email_html(),
    }


def rows(language: str) -> list[tuple[str, str, str]]:
    """(label, plain value, HTML value) of every line of the full profile's summary."""
    words = LABELS[language]
    pathways = PATHWAY_NAMES[language]
    return [
        (words["strengths"], "plannen, goed met mensen", "plannen, goed met mensen"),
        (words["development"], "Excel", "Excel"),
        (words["work"], "kok, horeca", "kok, horeca"),
        (words["hours"], "20-24", "20-24"),
        (
            words["region"],
            f"Zwolle, {words['travel'].format(minutes=30)}",
            f"Zwolle, {words['travel'].format(minutes=30)}",
        ),
        (
            words["pathways"],
            f"{pathways['trial_placement']}, {pathways['regular_job']}",
            f"{pathways['trial_placement']}, {pathways['regular_job']}",
        ),
        (words["start"], "per direct", "per direct"),
        (words["support"], "vaste werkplek", "vaste werkplek"),
        (
            words["contact"],
            "bellen op 06-12345678 of mail noor@example.nl",
            "bellen op 06-12345678 of mail noor@example.nl",
        ),
        (
            words["reach"],
            "06-12345678 <tel:0612345678>, noor@example.nl <mailto:noor@example.nl>, Telegram",
            '<a href="tel:0612345678">06-12345678</a>, '
            '<a href="mailto:noor@example.nl">noor@example.nl</a>, '
            f'<a href="tg://user?id={TELEGRAM_ID}">Telegram</a>',
        ),
        (words["own_words"], "“Ik ben er altijd op tijd”", "“Ik ben er altijd op tijd”"),
    ]


def plain_line(result: Summary, key: str) -> str | None:
    """The plain-text line of one label, or None when the summary has no such line."""
    label = LABELS[result.language][key]
    found = [line for line in result.plain_text().splitlines() if line.startswith(f"{label}: ")]
    assert len(found) <= 1
    return found[0] if found else None


class TagCollector(HTMLParser):
    """The start tags of an HTML text, with their attributes."""

    def __init__(self) -> None:
        """Start with no tags seen."""
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.closed: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Keep a start tag."""
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        """Keep an end tag."""
        self.closed.append(tag)


# --- every section, in every rendering ------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_plain_text_holds_every_section(language: str) -> None:
    """The plain text is the title, the intro, one line per section and the footer."""
    words = LABELS[language]
    result = summary(full_profile(), language=language)
    assert result.plain_text() == "\n".join(
        [
            words["title"].format(id=7, name="Noor"),
            "",
            words["intro"].format(name="Noor"),
            "",
            *(f"{label}: {plain}" for label, plain, _ in rows(language)),
            "",
            words["footer"].format(name="Noor"),
        ]
    )
    assert result.subject == words["subject"].format(id=7, name="Noor")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_telegram_html_holds_every_section(language: str) -> None:
    """Telegram gets the same lines with bold labels; the chat mention is its only link."""
    words = LABELS[language]
    result = summary(full_profile(), language=language)
    # Telegram links the number and the address itself; it takes no tel: or mailto: links.
    reach = f'06-12345678, noor@example.nl, <a href="tg://user?id={TELEGRAM_ID}">Telegram</a>'
    lines = [
        (label, reach if label == words["reach"] else value) for label, _, value in rows(language)
    ]
    assert result.telegram_html() == "\n".join(
        [
            f"<b>{html.escape(words['title'].format(id=7, name='Noor'))}</b>",
            "",
            html.escape(words["intro"].format(name="Noor")),
            "",
            *(f"<b>{html.escape(label)}:</b> {value}" for label, value in lines),
            "",
            html.escape(words["footer"].format(name="Noor")),
        ]
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_email_html_holds_every_section(language: str) -> None:
    """The e-mail's HTML part is a table with one row per section."""
    words = LABELS[language]
    result = summary(full_profile(), language=language)
    email = result.email_html()
    assert email.startswith(f'<!doctype html>\n<html lang="{language}">')
    assert re.findall(
        r'<tr><th align="left" valign="top">(.*?)</th><td>(.*?)</td></tr>', email
    ) == [(html.escape(label), value) for label, _, value in rows(language)]
    title = html.escape(words["title"].format(id=7, name="Noor"))
    assert f"<title>{title}</title>" in email and f"<h2>{title}</h2>" in email
    assert f"<p>{html.escape(words['intro'].format(name='Noor'))}</p>" in email
    assert f"<p>{html.escape(words['footer_email'].format(name='Noor'))}</p>" in email


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_empty_profile_says_what_is_not_filled_in(language: str) -> None:
    """Every section is there, marked as not filled in; reaching the person is the webchat."""
    words = LABELS[language]
    result = summary(empty_profile(), language=language, own_words=None, identities=[])
    name = "de kandidaat" if language == "nl" else "the candidate"
    keys = (
        "strengths", "development", "work", "hours", "region", "pathways", "start", "support",
        "contact",
    )  # fmt: skip
    assert result.plain_text() == "\n".join(
        [
            words["title"].format(id=7, name=name),
            "",
            words["intro"].format(name=name),
            "",
            *(f"{words[key]}: {words['none']}" for key in keys),
            f"{words['reach']}: {words['webchat']}",
            "",
            words["footer"].format(name=name),
        ]
    )
    assert words["own_words"] not in result.telegram_html()
    assert words["own_words"] not in result.email_html()


@pytest.mark.parametrize(
    ("low", "high", "shown"),
    [(20, 24, "20-24"), (24, 24, "24"), (16, None, "16"), (0, 8, "0-8")],
)
def test_hours_are_a_range_or_one_number(low: int, high: int | None, shown: str) -> None:
    """A range shows both ends; equal ends or a missing maximum show one number."""
    result = summary(full_profile(hours_min=low, hours_max=high))
    assert plain_line(result, "hours") == f"Uren per week: {shown}"


def test_travel_time_alone_is_the_region() -> None:
    """Without a place the region line still gives the travel time."""
    result = summary(full_profile(place=None, max_travel_minutes=45))
    assert plain_line(result, "region") == "Regio: max. 45 min reizen"


def test_an_unknown_pathway_is_shown_as_stored() -> None:
    """A pathway without a name is shown as it is stored."""
    result = summary(full_profile(pathways=["volunteering", "iets_anders"]), language="en")
    assert plain_line(result, "pathways") == "Pathways: volunteering, iets_anders"


# --- support needs --------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_support_needs_appear_only_when_the_person_shares_them(language: str) -> None:
    """Without consent for this handover neither the label nor the needs are in the summary."""
    label = LABELS[language]["support"]
    hidden = summary(full_profile(), language=language, share_support_needs=False)
    for name, text in renderings(hidden).items():
        assert label not in text, name
        assert "vaste werkplek" not in text, name
    shared = summary(full_profile(), language=language, share_support_needs=True)
    for name, text in renderings(shared).items():
        assert html.escape(label) in text, name
        assert "vaste werkplek" in text, name
    assert plain_line(shared, "support") == f"{label}: vaste werkplek"


def test_shared_support_needs_that_are_empty_say_so() -> None:
    """Sharing with nothing listed shows the section as not filled in."""
    result = summary(full_profile(support_needs=[]), share_support_needs=True)
    assert plain_line(result, "support") == (
        "Wat helpt (gedeeld met toestemming): nog niet ingevuld"
    )


# --- never a diagnosis ----------------------------------------------------------------------


def health_profile() -> dict[str, Any]:
    """A person who mentioned their diagnosis in every free-text field."""
    return full_profile(
        talents=["goed met mensen, ondanks mijn borstkanker", "plannen"],
        development_points=["omgaan met chemo", "Excel"],
        start="na mijn chemokuur",
        contact_preference="bellen op 06-12345678, niet tijdens mijn bestraling",
        support_needs=["rustig werk vanwege mijn burn-out", "vaste werkplek"],
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_health_word_reaches_the_recruiter(language: str) -> None:
    """Items that mention health are left out and sentences lose the health words."""
    result = summary(
        health_profile(),
        language=language,
        share_support_needs=True,
        own_words="sinds mijn kanker ben ik sterker",
    )
    for name, text in renderings(result).items():
        assert not mentions_health(text), name
        for word in HEALTH_WORDS:
            assert word not in text.lower(), (name, word)
        for kept in ("plannen", "Excel", "kok", "horeca", "Zwolle", "vaste werkplek"):
            assert kept in text, (name, kept)
        assert "06-12345678" in text, name
        assert "ben ik sterker" in text, name
    words = LABELS[language]
    assert plain_line(result, "strengths") == f"{words['strengths']}: plannen"
    assert plain_line(result, "development") == f"{words['development']}: Excel"
    assert plain_line(result, "start") == f"{words['start']}: na mijn […]"
    assert plain_line(result, "contact") == (
        f"{words['contact']}: bellen op 06-12345678, niet tijdens mijn […]"
    )
    assert plain_line(result, "support") == f"{words['support']}: vaste werkplek"
    assert plain_line(result, "own_words") == (
        f"{words['own_words']}: “sinds mijn […] ben ik sterker”"
    )
    assert plain_line(result, "reach") == (
        f"{words['reach']}: 06-12345678 <tel:0612345678>, Telegram"
    )


def test_a_field_that_is_only_a_diagnosis_is_not_filled_in() -> None:
    """A start date that is nothing but a health word leaves the section empty."""
    result = summary(full_profile(start="chemo", contact_preference="kanker"), own_words="chemo")
    assert plain_line(result, "start") == "Kan beginnen: nog niet ingevuld"
    assert plain_line(result, "contact") == "Contactvoorkeur: nog niet ingevuld"
    assert plain_line(result, "own_words") is None
    for name, text in renderings(result).items():
        assert not mentions_health(text), name


# --- HTML ------------------------------------------------------------------------------------


def test_values_are_escaped_in_html_and_raw_in_plain_text() -> None:
    """A talent with markup shows escaped in both HTML renderings and as typed in plain text."""
    result = summary(full_profile(talents=['<b>&"'], name="Noor & Co"))
    assert plain_line(result, "strengths") == 'Sterke punten: <b>&"'
    assert result.plain_text().startswith("Overdracht #7: Noor & Co\n")
    telegram = result.telegram_html()
    assert "<b>Sterke punten:</b> &lt;b&gt;&amp;&quot;\n" in telegram
    assert "<b>Overdracht #7: Noor &amp; Co</b>" in telegram
    assert '<b>&"' not in telegram
    email = result.email_html()
    assert "<td>&lt;b&gt;&amp;&#34;</td>" in email  # Jinja2 writes a quote as &#34;
    assert "<h2>Overdracht #7: Noor &amp; Co</h2>" in email
    assert '<b>&"' not in email


def test_telegram_gets_only_bold_and_the_mention_link() -> None:
    """Telegram's HTML parse mode gets the tags b and a, each closed, and nothing else.

    Telegram links phone numbers and addresses itself and takes only web and tg:// link
    targets, so the only link is the mention that opens the person's chat.
    """
    result = summary(full_profile(talents=["<i>x</i> & <code>y</code>"]))
    parser = TagCollector()
    parser.feed(result.telegram_html())
    parser.close()
    assert {tag for tag, _ in parser.tags} == {"b", "a"}
    assert sorted(tag for tag, _ in parser.tags) == sorted(parser.closed)
    links = [attributes for tag, attributes in parser.tags if tag == "a"]
    assert links == [{"href": f"tg://user?id={TELEGRAM_ID}"}]
    assert "06-12345678" in result.telegram_html()
    assert "noor@example.nl" in result.telegram_html()


# --- reaching the person ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("contact", "found"),
    [
        ("bel 06-12345678", [Link("06-12345678", "tel:0612345678")]),
        ("+31 6 1234 5678 na 17 uur", [Link("+31 6 1234 5678", "tel:+31612345678")]),
        ("0612345678", [Link("0612345678", "tel:0612345678")]),
        (
            "mail naar noor.de-vries@example.nl.",
            [Link("noor.de-vries@example.nl", "mailto:noor.de-vries@example.nl")],
        ),
        (
            "06-12345678 of noor@example.nl",
            [
                Link("06-12345678", "tel:0612345678"),
                Link("noor@example.nl", "mailto:noor@example.nl"),
            ],
        ),
    ],
)
def test_reach_finds_phone_numbers_and_email_addresses(contact: str, found: list[Link]) -> None:
    """A Dutch mobile number or an e-mail address in the contact preference becomes a link."""
    assert reach([], contact, "nl") == found


def test_reach_gives_a_telegram_mention_after_what_the_person_wrote() -> None:
    """A Telegram identity is a tg:// mention link, after the number the person gave."""
    assert reach([("web", "abc"), ("telegram", "987654321")], "bel 06-12345678", "en") == [
        Link("06-12345678", "tel:0612345678"),
        Link("Telegram", "tg://user?id=987654321"),
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_reach_is_the_webchat_when_nothing_is_known(language: str) -> None:
    """No number, no address and no Telegram chat: only the webchat."""
    webchat = LABELS[language]["webchat"]
    assert reach([], None, language) == [webchat]
    assert reach([("web", "abc")], "bellen tussen 9 en 17 uur", language) == [webchat]
    assert reach([("telegram", "not-a-number")], "", language) == [webchat]
