"""The recruiter page: a login link per recruiter, their handovers and the status buttons.

Server-rendered HTML without scripts. The login link's token becomes an HttpOnly,
SameSite=Strict cookie; posts also need a matching Origin, so another site cannot press a
button on a recruiter's behalf.
"""

from __future__ import annotations

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
from core.languages import language_of, reader_language
from core.settings import Settings
from core.templates import render, static
from core.texts import keys, phrase
from core.time import AMSTERDAM, as_utc, utcnow
from store.handovers import (
    RECRUITER_ACTIONS,
    HandoverError,
    apply_action,
    buttons,
    recruiter_handovers,
)
from store.models import OPEN_HANDOVER_STATUSES
from store.recruiters import recruiter_by_token

logger = logging.getLogger(__name__)

COOKIE = "werkmaatje_recruiter"
COOKIE_MAX_AGE = 60 * 60 * 24 * 30
T = TypeVar("T")
P = ParamSpec("P")

# The only messages a redirect can ask the page to show: a code, never free text, so a
# crafted link cannot put words on the page. The errors are announced at once (role=alert).
NOTICES = {
    "passed": "recruiter.page.notice_passed",
    "logged-out": "recruiter.page.notice_logged_out",
    "not-yours": "recruiter.refused.not_yours",
    "closed": "recruiter.refused.closed",
    "not-now": "recruiter.refused.not_now",
}
ERRORS = ("not-yours", "closed", "not-now")
STYLESHEET = "recruiter/page.css"
HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # No scripts at all; the one stylesheet comes from this site, forms only post here.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; form-action 'self'; "
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
    buttons: list[tuple[str, str]]  # (title, action)


@dataclass(frozen=True)
class RecruiterView:
    """The logged-in recruiter and their handovers, newest first."""

    name: str
    organisation: str
    language: str
    handovers: list[HandoverView]


def _browser_language(request: Request) -> str:
    """The page language before anyone is logged in: English only when the browser asks."""
    return language_of(request.headers.get("accept-language", "").split(",")[0])


def _page(html: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _message_page(language: str, key: str, status: int, notice: str | None = None) -> Response:
    """A page that only explains something: a bad link, no login, the database away."""
    message = phrase(f"recruiter.page.{key}", language)
    html = render("recruiter/message.html", language=language, message=message, notice=notice)
    return _page(html, status)


def _redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303, headers=HEADERS)


def notice_text(language: str, code: str | None) -> str | None:
    """The message a redirect asked for by its code; None for no code or an unknown one."""
    if not code:
        return None
    if code.startswith("status-") and code[7:] in keys("recruiter.status"):
        status = phrase(f"recruiter.status.{code[7:]}", language)
        return phrase("recruiter.page.updated", language, status=status)
    if code in NOTICES:
        return phrase(NOTICES[code], language)
    return None


def render_page(view: RecruiterView, notice: str | None) -> str:
    """The recruiter's page: who they are, their open and finished handovers."""
    return render(
        "recruiter/page.html",
        language=view.language,
        name=view.name,
        organisation=view.organisation,
        notice=notice_text(view.language, notice),
        notice_error=notice in ERRORS,
        open_views=[h for h in view.handovers if h.status in OPEN_HANDOVER_STATUSES],
        done_views=[h for h in view.handovers if h.status not in OPEN_HANDOVER_STATUSES],
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
            Route("/recruiter/page.css", self.stylesheet_view, methods=["GET"]),
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

    async def stylesheet_view(self, request: Request) -> Response:
        """The page's one stylesheet (the Content-Security-Policy allows styles from here)."""
        return Response(
            static(STYLESHEET),
            media_type="text/css",
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
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
            logged_out = notice_text(language, notice) if notice == "logged-out" else None
            response = _message_page(language, "login_needed", 401, logged_out)
            if token:
                self._forget(response)  # a link that was replaced or a recruiter disabled
            return response
        return _page(render_page(view, notice))

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
    language = language_of(reader_language(recruiter.languages))
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
                buttons=[
                    (title, data.split(":")[1])
                    for title, data in buttons(handover.status, language, handover.id)
                ],
            )
            for handover in recruiter_handovers(recruiter.id, session=session)
        ],
    )
