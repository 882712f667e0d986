"""AiohttpRequest: python-telegram-bot's Bot over aiohttp, against the fake Bot API server."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.channels.telegram.request import AiohttpRequest
from tests.support.fake_telegram import FakeBotApi


async def test_a_message_with_buttons_goes_out_as_a_form_and_comes_back_as_a_message() -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="/affirm")]])
    with FakeBotApi() as fake:
        async with Bot(fake.token, base_url=fake.base_url, request=AiohttpRequest()) as bot:
            sent = await bot.send_message(7, 'Hoi Anna "é" & 😀', reply_markup=markup)
        call = fake.sent_messages(7)[0]

    assert sent.text == 'Hoi Anna "é" & 😀' and sent.chat.id == 7
    assert call.params["text"] == 'Hoi Anna "é" & 😀'
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "/affirm"


async def test_a_document_goes_out_as_multipart_with_its_name_and_bytes() -> None:
    content = json.dumps({"naam": "Anna", "wensen": ["zorg"]}).encode()
    document = InputFile(content, filename='mijn "gegevens" é.json')
    with FakeBotApi() as fake:
        async with Bot(fake.token, base_url=fake.base_url, request=AiohttpRequest()) as bot:
            sent = await bot.send_document(7, document, caption="Je gegevens")
        params = fake.calls_to("sendDocument")[0].params

    assert params["document"] == {"filename": 'mijn "gegevens" é.json', "content": content}
    assert params["caption"] == "Je gegevens"
    assert sent.document is not None and sent.document.file_name == 'mijn "gegevens" é.json'


async def test_a_bot_api_error_is_python_telegram_bots_own() -> None:
    with FakeBotApi() as fake:
        fake.fail_next("sendMessage", status=400, description="Bad Request: chat not found")
        async with Bot(fake.token, base_url=fake.base_url, request=AiohttpRequest()) as bot:
            with pytest.raises(BadRequest, match="Chat not found"):
                await bot.send_message(7, "Hoi")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_server_is_a_network_error_without_the_token() -> None:
    token = "123:geheim-token"
    request = AiohttpRequest(connect_timeout=2)
    bot = Bot(token, base_url=f"http://127.0.0.1:{_closed_port()}/bot", request=request)
    try:
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(7, "Hoi")
    finally:
        await request.shutdown()

    assert "aiohttp.ClientConnectorError" in str(caught.value)
    assert "geheim" not in str(caught.value)


async def test_a_server_that_does_not_answer_in_time_is_a_timeout() -> None:
    answered = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await reader.read(65536)
        await answered.wait()  # never, while the client waits

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    request = AiohttpRequest(read_timeout=0.2)
    try:
        with pytest.raises(TimedOut):
            await request.post(f"http://127.0.0.1:{port}/bot123:abc/getMe")
    finally:
        await request.shutdown()
        answered.set()
        for writer in writers:
            writer.close()
            await writer.wait_closed()
        server.close()
        await server.wait_closed()


async def test_after_shutdown_initialize_opens_a_new_session() -> None:
    request = AiohttpRequest()
    with FakeBotApi() as fake:
        bot = Bot(fake.token, base_url=fake.base_url, request=request)
        async with bot:
            await bot.get_me()
        async with bot:
            me = await bot.get_me()

    assert me.username == fake.bot_username
