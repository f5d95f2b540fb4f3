"""The real bot (App + TelegramAdapter over HTTP) against the Bot API stand-in on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.telegram.adapter import TelegramAdapter
from bot.app import App
from bot.config import Settings
from bot.core.clock import FrozenClock
from bot.ops.setup_data import apply_setup
from tests.standins.telegram_botapi import BotApiStandIn
from tests.standins.telegram_records import SentRecord

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "123456789:AAF-wijkbot_e2e_token"
BOT_NAME = "WijkbotTestBot"


class RunningBot:
    """Starts and stops the bot like a process would, on one database."""

    def __init__(self, api: BotApiStandIn, settings: Settings, clock: FrozenClock) -> None:
        self.api = api
        self.settings = settings
        self.clock = clock
        self.app: App | None = None
        self.adapter: TelegramAdapter | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.app = App(self.settings, clock=self.clock)
        self.adapter = TelegramAdapter(
            self.settings, self.app.adapter_store, poll_timeout=1, menu=self.app.menu
        )
        self.app.add(self.adapter)
        self._task = asyncio.create_task(
            self.adapter.start(self.app.dispatcher.feed_for(self.adapter))
        )
        await self.api.wait_until_polling(timeout=10)

    async def stop(self) -> None:
        if self.adapter is not None and self._task is not None:
            await self.adapter.stop()
            try:
                await asyncio.wait_for(self._task, timeout=5)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        if self.app is not None:
            await self.app.db.dispose()
        self.app = self.adapter = self._task = None

    async def replies(self, chat_id: int, count: int = 1, within: float = 5.0) -> list[SentRecord]:
        return await self.api.wait_for_sent(
            lambda r: r.chat_id == chat_id, count=count, timeout=within
        )


@pytest.fixture
async def api() -> AsyncIterator[BotApiStandIn]:
    async with BotApiStandIn(token=TOKEN, bot_username=BOT_NAME) as stand_in:
        yield stand_in
        assert stand_in.server_errors == []


@pytest.fixture
async def tg(
    api: BotApiStandIn, db_url: str, tmp_path: Path, clock: FrozenClock
) -> AsyncIterator[RunningBot]:
    settings = Settings(
        database_url=db_url, data_dir=tmp_path, telegram_token=TOKEN,  # type: ignore[arg-type]
        telegram_base_url=api.base_url, telegram_base_file_url=api.base_file_url,
    )  # fmt: skip
    setup = App(settings, clock=clock)
    await apply_setup(setup.db, ROOT / "wijkbot.example.toml")
    await setup.db.dispose()
    running = RunningBot(api, settings, clock)
    await running.start()
    yield running
    await running.stop()
