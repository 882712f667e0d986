"""The handover summary a recruiter receives: one content, rendered for Telegram and e-mail.

The summary holds what the person can and wants, never a diagnosis: every free-text value
that mentions health is left out (a list item) or has the health words removed (a sentence).
Support needs appear only when the person said yes to sharing them, for this handover.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from core.privacy import REDACTED, mentions_health, redact_health
from core.templates import render
from core.texts import phrase, phrases
from store.channels import profile_link

_PHONE = re.compile(r"(?<!\w)(?:\+31|0031|0)[\s-]?(?:\d[\s-]?){8,9}\d?(?!\w)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass(frozen=True)
class Link:
    """A value shown as a link where the medium has them (a Telegram mention, a mailto)."""

    text: str
    href: str


Value = str | Link


@dataclass(frozen=True)
class Summary:
    """The rendered-neutral summary: a title, labelled lines and a footer."""

    handover_id: int
    language: str
    name: str
    lines: tuple[tuple[str, tuple[Value, ...]], ...]

    @property
    def subject(self) -> str:
        """The e-mail subject."""
        return phrase(
            "recruiter.summary.subject", self.language, id=self.handover_id, name=self.name
        )

    def _parts(self, *, by_email: bool = False) -> tuple[str, str, str]:
        # An e-mail has no buttons: it points to the recruiter page instead.
        def say(key: str) -> str:
            return phrase(
                f"recruiter.summary.{key}", self.language, id=self.handover_id, name=self.name
            )

        return say("title"), say("intro"), say("footer_email" if by_email else "footer")

    def plain_text(self, *, by_email: bool = False) -> str:
        """Plain text: the stored summary (shown with buttons) or the e-mail's text part."""
        title, intro, footer = self._parts(by_email=by_email)
        body = [f"{label}: {', '.join(_plain(v) for v in values)}" for label, values in self.lines]
        return "\n".join([title, "", intro, "", *body, "", footer])

    def telegram_html(self) -> str:
        """Telegram's HTML parse mode: only <b> and the tg:// mention link, the rest escaped.

        Telegram links phone numbers and e-mail addresses in a message by itself, and takes
        only web and tg:// addresses as link targets: tel: and mailto: stay plain text.
        """
        title, intro, footer = self._parts()
        body = [
            f"<b>{_esc(label)}:</b> {', '.join(_telegram(v) for v in values)}"
            for label, values in self.lines
        ]
        return "\n".join([f"<b>{_esc(title)}</b>", "", _esc(intro), "", *body, "", _esc(footer)])

    def email_html(self) -> str:
        """The e-mail's HTML part."""
        title, intro, footer = self._parts(by_email=True)
        return render(
            "email/summary.html",
            language=self.language,
            title=title,
            intro=intro,
            lines=self.lines,
            footer=footer,
        )


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _plain(value: Value) -> str:
    if isinstance(value, Link):
        return value.text if value.href.startswith("tg:") else f"{value.text} <{value.href}>"
    return value


def _telegram(value: Value) -> str:
    if isinstance(value, Link):
        if value.href.startswith("tg:"):
            return f'<a href="{_esc(value.href)}">{_esc(value.text)}</a>'
        return _esc(value.text)
    return _esc(value)


def _items(values: list[str]) -> list[str]:
    """List items without any that mention health."""
    return [value for value in values if value and not mentions_health(value)]


def _text(value: str | None) -> str | None:
    """A sentence with health words removed; None when nothing is left to say."""
    if not value:
        return None
    cleaned = redact_health(value).strip() if mentions_health(value) else value.strip()
    # Only the marker left: the whole field was about health, so it says nothing here.
    if not cleaned.replace(REDACTED, "").strip(" \t,.;:!?-'\"()"):
        return None
    return cleaned


def reach(identities: list[tuple[str, str]], contact: str | None, language: str) -> list[Value]:
    """How the recruiter can reach the person: a phone number or e-mail address they gave, and
    their chat where the channel can open it (a Telegram mention link)."""
    found: list[Value] = []
    if contact:
        found += [
            Link(m.group().strip(), "tel:" + re.sub(r"[\s-]", "", m.group()))
            for m in _PHONE.finditer(contact)
        ]
        found += [Link(m.group(), "mailto:" + m.group()) for m in _EMAIL.finditer(contact)]
    for channel, user_id in identities:
        link = profile_link(channel, user_id)
        if link is not None:
            found.append(Link(*link))
    return found or [phrase("recruiter.summary.webchat", language)]


def build_summary(
    *,
    handover_id: int,
    language: str,
    profile: dict[str, Any],
    identities: list[tuple[str, str]],
    share_support_needs: bool,
    own_words: str | None,
) -> Summary:
    """The summary of one handover from the person's profile (store.export.profile_dict)."""
    words = phrases("recruiter.summary", language)
    name = _text(profile.get("name")) or words["candidate"]
    lines: list[tuple[str, tuple[Value, ...]]] = []

    def add(label: str, values: list[Value]) -> None:
        lines.append((words[label], tuple(values) if values else (words["none"],)))

    add("strengths", list(_items(profile["talents"])))
    add("development", list(_items(profile["development_points"])))
    add("work", list(_items(profile["roles"] + profile["sectors"])))
    low, high = profile["hours_min"], profile["hours_max"]
    hours = None if low is None else (f"{low}" if low == high or high is None else f"{low}-{high}")
    add("hours", [hours] if hours else [])
    place = _text(profile["place"])
    region: list[Value] = []
    if place:
        region.append(place)
    if profile["max_travel_minutes"]:
        region.append(
            phrase("recruiter.summary.travel", language, minutes=profile["max_travel_minutes"])
        )
    add("region", region)
    pathway_names = phrases("person.pathway", language)
    add("pathways", [pathway_names.get(p, p) for p in profile["pathways"]])
    start = _text(profile["start"])
    add("start", [start] if start else [])
    if share_support_needs:
        add("support", list(_items(profile["support_needs"])))
    contact = _text(profile["contact_preference"])
    add("contact", [contact] if contact else [])
    lines.append((words["reach"], tuple(reach(identities, contact, language))))
    quote = _text(own_words)
    if quote:
        lines.append((words["own_words"], (f"“{quote}”",)))
    return Summary(handover_id=handover_id, language=language, name=name, lines=tuple(lines))
