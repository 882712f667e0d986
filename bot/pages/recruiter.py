"""The recruiter page: a login link per recruiter, their handovers and the status buttons.

Server-rendered HTML without scripts. The login link's token becomes an HttpOnly,
SameSite=Strict cookie; posts also need a matching Origin, so another site cannot press a
button on a recruiter's behalf.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, TypeVar
from urllib.parse import urlsplit

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from core.db import database_engine, in_thread
from core.languages import language_of
from core.settings import Settings
from core.time import AMSTERDAM, as_utc, utcnow
from store.handovers import (
    RECRUITER_ACTIONS,
    STATUS_NAMES,
    HandoverError,
    apply_action,
    buttons,
    recruiter_handovers,
)
from store.models import OPEN_HANDOVER_STATUSES
from store.recruiters import recruiter_by_token
from store.summary import recruiter_language

logger = logging.getLogger(__name__)

COOKIE = "werkmaatje_recruiter"
COOKIE_MAX_AGE = 60 * 60 * 24 * 30
T = TypeVar("T")
P = ParamSpec("P")

TEXTS = {
    "nl": {
        "title": "Werkmaatje voor recruiters",
        "heading": "Jouw overdrachten",
        "open": "Open",
        "done": "Afgerond",
        "none_open": "Er staan geen open overdrachten voor je klaar.",
        "none_done": "Nog geen afgeronde overdrachten.",
        "handover": "Overdracht #{id}",
        "date": "Aangevraagd",
        "status": "Status",
        "summary": "Samenvatting",
        "no_summary": "(nog geen samenvatting)",
        "actions": "Wat heb je gedaan?",
        "logout": "Uitloggen",
        "bad_link": "Deze link werkt niet (meer). Vraag je beheerder om een nieuwe: "
        "werkmaatje recruiters link <nummer>.",
        "login_needed": "Open de inloglink die je van je beheerder kreeg om je overdrachten te "
        "zien. Werkt hij niet meer? Vraag je beheerder om een nieuwe: "
        "werkmaatje recruiters link <nummer>.",
        "unavailable": "De pagina is even niet bereikbaar, probeer het zo opnieuw.",
        "forbidden": "Dit verzoek kwam niet van deze pagina en is geweigerd.",
        "not_found": "Deze pagina bestaat niet.",
    },
    "en": {
        "title": "Werkmaatje for recruiters",
        "heading": "Your handovers",
        "open": "Open",
        "done": "Finished",
        "none_open": "There are no open handovers waiting for you.",
        "none_done": "No finished handovers yet.",
        "handover": "Handover #{id}",
        "date": "Requested",
        "status": "Status",
        "summary": "Summary",
        "no_summary": "(no summary yet)",
        "actions": "What have you done?",
        "logout": "Log out",
        "bad_link": "This link does not work (any more). Ask your administrator for a new one: "
        "werkmaatje recruiters link <number>.",
        "login_needed": "Open the login link your administrator gave you to see your handovers. "
        "Does it no longer work? Ask your administrator for a new one: "
        "werkmaatje recruiters link <number>.",
        "unavailable": "The page cannot be reached right now, please try again in a moment.",
        "forbidden": "This request did not come from this page and was refused.",
        "not_found": "This page does not exist.",
    },
}

# The only messages a redirect can ask the page to show: a code, never free text, so a
# crafted link cannot put words on the page.
NOTICES = {
    "nl": {
        "passed": "Doorgegeven: een collega krijgt deze overdracht.",
        "not-yours": "Deze overdracht is niet (meer) van jou.",
        "closed": "Deze overdracht is al afgesloten.",
        "not-now": "Dat kan niet (meer) bij de status van deze overdracht.",
        "logged-out": "Je bent uitgelogd.",
    },
    "en": {
        "passed": "Passed on: a colleague gets this handover.",
        "not-yours": "This handover is not (or no longer) yours.",
        "closed": "This handover is already closed.",
        "not-now": "That is not possible (any more) in this handover's status.",
        "logged-out": "You are logged out.",
    },
}
UPDATED = {"nl": "Status bijgewerkt: {status}.", "en": "Status updated: {status}."}
ERRORS = ("not-yours", "closed", "not-now")

CSS = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:50rem;padding:1rem;
line-height:1.5;color:#1a1a1a;background:#fafafa}
header{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:baseline;gap:1rem}
h1{margin:.2rem 0}.who{margin:0;color:#444}
article{background:#fff;border:1px solid #ccc;border-radius:.5rem;padding:1rem;margin:1rem 0}
h3{margin:0 0 .5rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}
dt{font-weight:600}dd{margin:0}
.summary{white-space:pre-wrap;background:#f3f3f3;padding:.75rem;border-radius:.3rem;
margin:.75rem 0}
.actions{display:flex;flex-wrap:wrap;gap:.5rem}form{margin:0}
button{font:inherit;padding:.4rem .9rem;border-radius:.3rem;border:1px solid #1f4e79;
background:#1f4e79;color:#fff;cursor:pointer}
button:focus-visible{outline:3px solid #f0a500;outline-offset:2px}
header button{background:#fff;color:#1f4e79}
.notice{padding:.75rem;border-radius:.3rem;background:#e3f1e3;border:1px solid #2e7d32}
.notice.error{background:#fdecea;border-color:#b3261e}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
"""
_CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # No scripts at all; the one stylesheet is allowed by its hash, forms only post here.
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


@dataclass(frozen=True)
class HandoverView:
    """One handover as the page shows it, read inside the database session."""

    id: int
    created: str
    status: str
    summary: str
    buttons: list[tuple[str, str]]


@dataclass(frozen=True)
class RecruiterView:
    """The logged-in recruiter and their handovers, newest first."""

    name: str
    organisation: str
    language: str
    handovers: list[HandoverView]


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _browser_language(request: Request) -> str:
    """The page language before anyone is logged in: English only when the browser asks."""
    return language_of(request.headers.get("accept-language", "").split(",")[0])


def _document(language: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(TEXTS[language]['title'])}</title><style>{CSS}</style></head>"
        f"<body>{body}</body></html>"
    )


def _page(language: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_document(language, body), status_code=status, headers=HEADERS)


def _message_page(language: str, key: str, status: int, notice: str | None = None) -> Response:
    """A page that only explains something: a bad link, no login, the database away."""
    texts = TEXTS[language]
    extra = f'<p class="notice" role="status">{_esc(notice)}</p>' if notice else ""
    body = f"<main><h1>{_esc(texts['title'])}</h1>{extra}<p>{_esc(texts[key])}</p></main>"
    return _page(language, body, status)


def _redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303, headers=HEADERS)


def _notice_html(language: str, code: str | None) -> str:
    """The message a redirect asked for by its code; nothing for an unknown code."""
    if not code:
        return ""
    if code.startswith("status-") and code[7:] in STATUS_NAMES[language]:
        text = UPDATED[language].format(status=STATUS_NAMES[language][code[7:]])
    elif code in NOTICES[language]:
        text = NOTICES[language][code]
    else:
        return ""
    if code in ERRORS:
        return f'<p class="notice error" role="alert">{_esc(text)}</p>'
    return f'<p class="notice" role="status">{_esc(text)}</p>'


def _handover_html(view: HandoverView, language: str) -> str:
    """One handover: number, date, status, summary and a form per button that fits."""
    texts = TEXTS[language]
    title_id = f"handover-{view.id}-title"
    forms = "".join(
        f'<form method="post" action="/recruiter/handovers/{view.id}/{data.split(":")[1]}">'
        f'<button type="submit" aria-describedby="{title_id}">{_esc(title)}</button></form>'
        for title, data in view.buttons
    )
    actions = (
        f'<div class="actions" role="group" aria-label="{_esc(texts["actions"])}">{forms}</div>'
        if forms
        else ""
    )
    summary = view.summary or texts["no_summary"]
    return (
        f'<article id="handover-{view.id}" aria-labelledby="{title_id}">'
        f'<h3 id="{title_id}">{_esc(texts["handover"].format(id=view.id))}</h3>'
        f"<dl><dt>{_esc(texts['date'])}</dt><dd>{_esc(view.created)}</dd>"
        f"<dt>{_esc(texts['status'])}</dt>"
        f'<dd class="status">{_esc(STATUS_NAMES[language][view.status])}</dd></dl>'
        f'<h4 class="visually-hidden">{_esc(texts["summary"])}</h4>'
        f'<div class="summary">{_esc(summary)}</div>{actions}</article>'
    )


def _section(key: str, empty: str, views: list[HandoverView], language: str) -> str:
    """A headed list of handovers, or a sentence saying there are none."""
    texts = TEXTS[language]
    items = "".join(_handover_html(view, language) for view in views)
    return (
        f'<section aria-labelledby="{key}-heading">'
        f'<h2 id="{key}-heading">{_esc(texts[key])} ({len(views)})</h2>'
        f"{items or f'<p>{_esc(texts[empty])}</p>'}</section>"
    )


def render(view: RecruiterView, notice: str | None) -> str:
    """The recruiter's page body: who they are, their open and finished handovers."""
    language = view.language
    texts = TEXTS[language]
    open_views = [h for h in view.handovers if h.status in OPEN_HANDOVER_STATUSES]
    done_views = [h for h in view.handovers if h.status not in OPEN_HANDOVER_STATUSES]
    return (
        f"<header><div><h1>{_esc(texts['heading'])}</h1>"
        f'<p class="who">{_esc(view.name)}, {_esc(view.organisation)}</p></div>'
        '<form method="post" action="/recruiter/logout">'
        f'<button type="submit">{_esc(texts["logout"])}</button></form></header>'
        f"<main>{_notice_html(language, notice)}"
        f"{_section('open', 'none_open', open_views, language)}"
        f"{_section('done', 'none_done', done_views, language)}</main>"
    )


def _same_origin(request: Request, public_base_url: str) -> bool:
    """Whether a post came from this site's own pages (the check against cross-site posts)."""
    # Sec-Fetch-Site is set by the browser itself; a page cannot fake it.
    site = request.headers.get("sec-fetch-site")
    if site is not None and site != "same-origin":
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True  # an older browser: the SameSite=Strict cookie alone guards the post
    if origin == "null":
        # Referrer-Policy: no-referrer makes Chromium send "null" for our own forms too.
        return site == "same-origin"
    own = f"{request.url.scheme}://{request.url.netloc}".lower()
    public = urlsplit(public_base_url)
    return origin.lower() in (own, f"{public.scheme}://{public.netloc}".lower())


class RecruiterPage:
    """Serves /recruiter: login by link, the handover list and the status buttons."""

    def __init__(self, settings: Settings, wake: Callable[[], None] | None = None) -> None:
        self.settings = settings
        # Called after a status change: the person's message is in the outbox, send it now.
        self._wake = wake
        self.secure_cookie = settings.public_base_url.lower().startswith("https://")

    def routes(self) -> list[Route]:
        """The page's routes, to mount in the gateway."""
        return [
            Route("/recruiter", self.page_view, methods=["GET"]),
            Route("/recruiter/login", self.login_view, methods=["GET"]),
            Route("/recruiter/logout", self.logout_view, methods=["POST"]),
            Route(
                "/recruiter/handovers/{handover_id:int}/{action:str}",
                self.action_view,
                methods=["POST"],
            ),
        ]

    async def _in_database(
        self, work: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run blocking database work off the event loop, in one transaction."""
        return await in_thread(
            database_engine(self.settings), lambda session: work(session, *args, **kwargs)
        )

    async def login_view(self, request: Request) -> Response:
        """Swap the link's token for a cookie and drop it from the address bar."""
        language = _browser_language(request)
        token = request.query_params.get("token", "")
        try:
            recruiter_id = await self._in_database(_recruiter_id, token)
        except SQLAlchemyError as error:
            return self._unavailable(language, error)
        if recruiter_id is None:
            return _message_page(language, "bad_link", 403)
        response = _redirect("/recruiter")
        response.set_cookie(
            COOKIE,
            token,
            max_age=COOKIE_MAX_AGE,
            path="/recruiter",
            secure=self.secure_cookie,
            httponly=True,
            samesite="strict",
        )
        return response

    async def page_view(self, request: Request) -> Response:
        """The logged-in recruiter's handovers, or how to log in."""
        language = _browser_language(request)
        notice = request.query_params.get("msg")
        token = request.cookies.get(COOKIE, "")
        try:
            view = await self._in_database(_load, token) if token else None
        except SQLAlchemyError as error:
            return self._unavailable(language, error)
        if view is None:
            logged_out = NOTICES[language]["logged-out"] if notice == "logged-out" else None
            response = _message_page(language, "login_needed", 401, logged_out)
            if token:
                self._forget(response)  # a link that was replaced or a recruiter disabled
            return response
        return _page(view.language, render(view, notice))

    async def action_view(self, request: Request) -> Response:
        """One status button: apply it and go back to the list with what happened."""
        language = _browser_language(request)
        if not _same_origin(request, self.settings.public_base_url):
            return _message_page(language, "forbidden", 403)
        action = request.path_params["action"]
        if action not in RECRUITER_ACTIONS:
            return _message_page(language, "not_found", 404)
        token = request.cookies.get(COOKIE, "")
        handover_id: int = request.path_params["handover_id"]
        if not token:
            return _message_page(language, "login_needed", 401)
        try:
            code = await self._in_database(self._apply, token, handover_id, action)
            if self._wake is not None:
                self._wake()
        except SQLAlchemyError as error:
            return self._unavailable(language, error)
        if code is None:
            return _message_page(language, "login_needed", 401)
        return _redirect(f"/recruiter?msg={code}#handover-{handover_id}")

    async def logout_view(self, request: Request) -> Response:
        """Forget the cookie in this browser; the link itself keeps working until replaced."""
        if not _same_origin(request, self.settings.public_base_url):
            return _message_page(_browser_language(request), "forbidden", 403)
        response = _redirect("/recruiter?msg=logged-out")
        self._forget(response)
        return response

    def _apply(self, session: Session, token: str, handover_id: int, action: str) -> str | None:
        """The notice code for the result; None when the cookie no longer logs anyone in."""
        recruiter = recruiter_by_token(token, session=session)
        if recruiter is None:
            return None
        try:
            handover = apply_action(
                session=session,
                handover_id=handover_id,
                recruiter_id=recruiter.id,
                action=action,
                now=utcnow(),
                contact_days=self.settings.handover_contact_working_days,
            )
        except HandoverError as error:
            reason = str(error.args[0]) if error.args else ""
            return {"not_yours": "not-yours", "closed": "closed"}.get(reason, "not-now")
        if handover.recruiter_id != recruiter.id:
            return "passed"
        return f"status-{handover.status}"

    def _forget(self, response: Response) -> None:
        """Delete the login cookie in the browser."""
        response.delete_cookie(
            COOKIE, path="/recruiter", secure=self.secure_cookie, httponly=True, samesite="strict"
        )

    def _unavailable(self, language: str, error: SQLAlchemyError) -> Response:
        # The type only: a database message can hold connection details.
        logger.warning("The recruiter page could not reach the database: %s", type(error).__name__)
        return _message_page(language, "unavailable", 503)


def _recruiter_id(session: Session, token: str) -> int | None:
    """The number of the active recruiter the token logs in, if any."""
    recruiter = recruiter_by_token(token, session=session)
    return recruiter.id if recruiter is not None else None


def _load(session: Session, token: str) -> RecruiterView | None:
    """Everything the page shows, read while the session is open."""
    recruiter = recruiter_by_token(token, session=session)
    if recruiter is None:
        return None
    language = recruiter_language(recruiter.languages)
    language = language if language in TEXTS else "nl"
    return RecruiterView(
        name=recruiter.name,
        organisation=recruiter.organisation,
        language=language,
        handovers=[
            HandoverView(
                id=handover.id,
                created=as_utc(handover.created_at)
                .astimezone(AMSTERDAM)
                .strftime("%d-%m-%Y %H:%M"),
                status=handover.status,
                summary=handover.summary or "",
                buttons=buttons(handover.status, language, handover.id),
            )
            for handover in recruiter_handovers(recruiter.id, session=session)
        ],
    )
