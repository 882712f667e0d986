"""The gateway's ASGI application: Telegram webhook, web chat and health, in one web server."""

from __future__ import annotations

import asyncio
import gc
import hmac
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.channels import Channel
from bot.channels.email.sender import EmailSender
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.nudge_buttons import NudgeButtons
from bot.channels.telegram.recruiter_chat import RecruiterChat
from bot.channels.web.chat import WebChat
from bot.channels.web.sender import WebSender
from bot.conversation import Conversations
from bot.data_rights import DataRights
from bot.delivery.handover_jobs import schedule_rerouting
from bot.delivery.nudges import NudgeScheduler
from bot.delivery.outbox import OutboxWorker
from bot.delivery.retention import schedule_retention
from bot.delivery.scheduler import Scheduler
from bot.pages.recruiter import RecruiterPage
from bot.rasa_client import RasaClient
from core.db import database_engine
from core.logs import configure_logging
from core.settings import Settings, get_settings
from store.channels import NUDGE_CHANNELS

logger = logging.getLogger(__name__)

MAX_UPDATE_BYTES = 1_000_000


class Gateway:
    """Holds the channels and routes requests to them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rasa = RasaClient(settings.rasa_url, timeout=settings.rasa_timeout_seconds)
        self.conversations = Conversations(
            self.rasa, DataRights(settings.database_url), on_turn=self._wake_outbox_after_turn
        )
        self.webchat = WebChat(self.conversations, engine=lambda: database_engine(settings))
        self.recruiter_page = RecruiterPage(settings, wake=self.wake_outbox)
        self.telegram = (
            TelegramChannel(
                settings,
                self.conversations,
                RecruiterChat(settings, lambda: database_engine(settings), self.wake_outbox),
                NudgeButtons(lambda: database_engine(settings)),
            )
            if settings.telegram_enabled
            else None
        )
        # What the gateway sends, it sends through these (bot/channels/__init__.py).
        self.channels = self._channels()
        self.outbox = OutboxWorker(
            settings, engine=lambda: database_engine(settings), channels=self.channels.values()
        )
        # One scheduler: the nudge jobs and the periodic ones (bot/delivery/scheduler.py).
        self.scheduler = Scheduler()
        # Nudges are pushed: only by a gateway with a channel that reaches people unasked.
        self.nudges = (
            NudgeScheduler(settings, wake=self._wake_outbox_from_thread, scheduler=self.scheduler)
            if settings.nudges_enabled and not self.channels.keys().isdisjoint(NUDGE_CHANNELS)
            else None
        )
        self._loop: asyncio.AbstractEventLoop | None = None

    def _channels(self) -> dict[str, Channel]:
        """The channels this gateway sends on, by name."""
        channels: list[Channel] = []
        if self.telegram is not None:
            channels.append(self.telegram.sender)
        if self.settings.email_enabled:
            channels.append(EmailSender(self.settings))
        channels.append(WebSender())
        return {channel.name: channel for channel in channels}

    def wake_outbox(self) -> None:
        """Deliver what a turn or a button may have queued, now rather than at the next poll."""
        self.outbox.wake()

    def _wake_outbox_after_turn(self) -> None:
        # A turn mostly queues nothing: one lane looks, a moment later and once for all the
        # turns of that moment, and calls one more lane in while it finds more due.
        self.outbox.wake_soon()

    def _wake_outbox_from_thread(self) -> None:
        # The scheduler's jobs run in its threads; the outbox lives on the event loop. One
        # nudge queued, or handovers re-routed: one lane looks (and calls more in while it
        # finds rows).
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.outbox.wake_one)

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        """Start and stop the channels with the web server."""
        self._loop = asyncio.get_running_loop()
        if self.settings.retention_enabled:
            schedule_retention(self.scheduler, self.settings)
        schedule_rerouting(self.scheduler, self.settings, self._wake_outbox_from_thread)
        if self.telegram is not None:
            await self.telegram.start()
        self.outbox.start()
        if self.nudges is not None:
            await self.nudges.start()  # the scheduler starts with the nudges
        else:
            self.scheduler.start()
        try:
            yield
        finally:
            if self.nudges is not None:
                await self.nudges.stop()  # and stops with them
            await self.outbox.stop()
            self.scheduler.stop()
            if self.telegram is not None:
                await self.telegram.stop()
            await self.rasa.aclose()

    async def telegram_webhook(self, request: Request) -> Response:
        """Receive one update from Telegram; only Telegram knows the secret."""
        if self.telegram is None or self.telegram.polling:
            return JSONResponse({"error": "The Telegram webhook is not enabled."}, 404)
        secret = self.settings.telegram_webhook_secret
        assert secret is not None
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), secret.get_secret_value().encode()):
            return JSONResponse({"error": "Forbidden."}, 403)
        if not self.telegram.ready.is_set():
            # Telegram retries non-2xx answers, so nothing is lost while we connect.
            return JSONResponse({"error": "Not ready yet."}, 503)
        body = await request.body()
        if len(body) > MAX_UPDATE_BYTES:
            return JSONResponse({"error": "Update too large."}, 413)
        try:
            data: Any = json.loads(body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("no update_id")
            await self.telegram.receive(data)
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "Not a Telegram update."}, 400)
        return JSONResponse({"ok": True})

    async def healthz(self, request: Request) -> Response:
        """Liveness, with the state of each channel."""
        telegram = "off"
        if self.telegram is not None:
            mode = "polling" if self.telegram.polling else "webhook"
            telegram = mode if self.telegram.ready.is_set() else "connecting"
        return JSONResponse({"status": "ok", "telegram": telegram, "webchat": "on"})

    async def root(self, request: Request) -> Response:
        """Send visitors to the chat."""
        return RedirectResponse("/chat")

    def app(self) -> Starlette:
        """The ASGI application."""
        return Starlette(
            routes=[
                Route("/", self.root),
                Route("/healthz", self.healthz),
                Route("/telegram/webhook", self.telegram_webhook, methods=["POST"]),
                Route("/chat", self.webchat.page_view),
                Route("/chat/messages", self.webchat.message_view, methods=["POST"]),
                *self.recruiter_page.routes(),
            ],
            lifespan=self.lifespan,
        )


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the gateway for `settings` (the environment's when not given)."""
    return Gateway(settings or get_settings()).app()


def main() -> None:
    """Serve the gateway with uvicorn on GATEWAY_HOST:GATEWAY_PORT."""
    settings = get_settings()
    configure_logging(settings.log_level)
    # Everything imported so far lives as long as the process: keep it out of the garbage
    # collector's full passes, which otherwise stall the event loop ~40 ms every few seconds
    # under load (long enough to bunch paced Telegram sends together).
    gc.collect()
    gc.freeze()
    uvicorn.run(
        create_app(settings),
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_level="warning",
        access_log=False,
        proxy_headers=True,
        ws="none",  # no websockets; the websockets release rasa-sdk pins is too old for uvicorn
    )


if __name__ == "__main__":
    main()
