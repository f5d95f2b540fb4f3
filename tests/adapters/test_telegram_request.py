"""python-telegram-bot over aiohttp (bot/adapters/telegram/request.py), against the Bot API
stand-in over HTTP: what a sender in any worker relies on."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp import web
from telegram.error import NetworkError, TimedOut

from bot.adapters.telegram.adapter import TelegramAdapter
from bot.adapters.telegram.request import AiohttpRequest
from bot.config import Settings
from bot.core.events import Button, ChatRef, MessageRef, Reply
from storage.db import Database
from tests.standins.telegram_botapi import BotApiStandIn
from tests.standins.telegram_records import tiny_png
from tests.support.telegram_adapter import standin_adapter

TOKEN = "123456789:AAF-wijkbot_request_token"


def telegram(api: BotApiStandIn, db_url: str, tmp_path: Path) -> TelegramAdapter:
    settings = Settings(database_url=db_url, data_dir=tmp_path)
    return standin_adapter(settings, Database(db_url), api, TOKEN)


async def test_a_worker_that_never_started_telegram_still_sends(
    db_url: str, tmp_path: Path
) -> None:
    """With several workers the outbox may be sent by a worker that does not poll, so PTB
    was never started there: its first send makes the HTTP session (it failed with
    "Unknown error in HTTP implementation: RuntimeError" and was retried for a day)."""
    async with BotApiStandIn(token=TOKEN) as api:
        chat = api.private_chat(api.user(4101, "Anna"))
        adapter = telegram(api, db_url, tmp_path)
        ref = await adapter.send(ChatRef("telegram", str(chat.id), "direct"), Reply("Hallo"))
        [sent] = [r for r in api.sent if r.chat_id == chat.id]
        assert sent.plain_text == "Hallo" and ref.id == str(sent.message_id)
        await adapter.bot.shutdown()
        await adapter.send(ChatRef("telegram", str(chat.id), "direct"), Reply("Weer"))
        assert [r.plain_text for r in api.sent] == ["Hallo", "Weer"]
        await adapter.bot.shutdown()


async def test_text_keyboard_reply_and_long_text_arrive_as_sent(
    db_url: str, tmp_path: Path
) -> None:
    """The broadcast path sends plain JSON: the stand-in sees the text escaped for HTML, the
    buttons under the last part of a long text, and the message it answers."""
    async with BotApiStandIn(token=TOKEN) as api:
        chat = api.private_chat(api.user(4102, "Bram"))
        where = ChatRef("telegram", str(chat.id), "direct")
        adapter = telegram(api, db_url, tmp_path)
        await adapter.bot.initialize()
        first = await adapter.send(where, Reply("a < b & c"))
        long = ("Een lange zin over het park. " * 200).strip()
        buttons = (
            (Button("Ja", "p:1:0"), Button("Nee", "p:1:1")),
            (Button("Site", "", url="https://example.org"),),
        )
        await adapter.send(where, Reply(long, buttons=buttons, reply_to=first))
        sent = [r for r in api.sent if r.chat_id == chat.id]
        assert sent[0].plain_text == "a < b & c" and sent[0].parse_mode == "HTML"
        parts = sent[1:]
        assert len(parts) == 2 and " ".join(p.plain_text for p in parts) == long
        assert parts[0].buttons == []
        assert parts[1].callback_data == ["p:1:0", "p:1:1"]
        assert parts[1].button("Site")["url"] == "https://example.org"
        assert all(p.params["reply_parameters"] == {"message_id": int(first.id)} for p in parts)
        await adapter.bot.shutdown()


async def test_a_picture_goes_as_a_multipart_upload(db_url: str, tmp_path: Path) -> None:
    async with BotApiStandIn(token=TOKEN) as api:
        chat = api.private_chat(api.user(4103, "Cem"))
        where = ChatRef("telegram", str(chat.id), "direct")
        adapter = telegram(api, db_url, tmp_path)
        ref = await adapter.send(where, Reply("Uitslag", image=tiny_png()))
        [sent] = [r for r in api.sent if r.chat_id == chat.id]
        assert sent.method == "sendPhoto" and sent.plain_text == "Uitslag"
        assert isinstance(ref, MessageRef)
        await adapter.bot.shutdown()


async def test_a_slow_or_absent_server_gives_the_errors_the_adapter_retries() -> None:
    """A read that times out is PTB's TimedOut, a refused connection its NetworkError: the
    two `_call` retries with backoff (anything else would fail the message at once)."""

    async def slow(_request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({"ok": True, "result": True})

    server = web.Application()
    server.router.add_post("/slow", slow)
    runner = web.AppRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    request = AiohttpRequest(2)
    try:
        with pytest.raises(TimedOut):
            await request.do_request(f"http://127.0.0.1:{port}/slow", "POST", read_timeout=0.2)
        await runner.cleanup()
        with pytest.raises(NetworkError) as refused:
            await request.do_request(f"http://127.0.0.1:{port}/slow", "POST")
        assert not isinstance(refused.value, TimedOut)
    finally:
        await request.shutdown()
        await runner.cleanup()
