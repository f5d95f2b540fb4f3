"""The real bot (App + TelegramAdapter over HTTP) against the Bot API stand-in on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

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


class Crash(BaseException):
    """The process dies here (a power cut, a kill): no handler, no clean-up of ours runs."""


class RunningBot:
    """Starts and stops the bot like a process would, on one database.

    In webhook mode the stand-in plays Telegram's side: it POSTs each update to the port the
    bot listens on and keeps it until the bot answers 2xx.
    """

    def __init__(self, api: BotApiStandIn, settings: Settings, clock: FrozenClock) -> None:
        self.api = api
        self.settings = settings
        self.clock = clock
        self.app: App | None = None
        self.adapter: TelegramAdapter | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, dies_at: int | None = None) -> None:
        """`dies_at`: the process dies when it begins to handle its n-th event."""
        self.app = App(self.settings, clock=self.clock)
        self.adapter = TelegramAdapter(
            self.settings, self.app.adapter_store, poll_timeout=1, menu=self.app.menu
        )
        self.app.add(self.adapter)
        if dies_at is not None:
            _die_at(self.app, dies_at)
        self._task = asyncio.create_task(
            self.adapter.start(self.app.dispatcher.feed_for(self.adapter))
        )
        if self.settings.telegram_webhook_url:
            await _listening(self.settings.telegram_webhook_port)
            self.api.deliver_webhooks(
                f"http://127.0.0.1:{self.settings.telegram_webhook_port}/telegram"
            )
        else:
            await self.api.wait_until_polling(timeout=10)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def died(self, within: float = 5.0) -> None:
        assert self._task is not None
        with contextlib.suppress(Crash):
            await asyncio.wait_for(self._task, within)

    async def stop(self) -> None:
        if self.adapter is not None and self._task is not None:
            await self.adapter.stop()
            try:
                await asyncio.wait_for(self._task, timeout=5)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            except Crash:
                pass
        if self.app is not None:
            await self.app.db.dispose()
        self.app = self.adapter = self._task = None

    async def replies(self, chat_id: int, count: int = 1, within: float = 30.0) -> list[SentRecord]:
        """The next `count` messages to the chat. The wait is generous: the test is that the
        bot answers, and a loaded CI machine (two passes side by side) can take seconds."""
        return await self.api.wait_for_sent(
            lambda r: r.chat_id == chat_id, count=count, timeout=within
        )


def _die_at(app: App, n: int) -> None:
    handle = app.dispatcher.handle
    calls = 0

    async def dying(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == n:
            raise Crash
        await handle(*args, **kwargs)

    app.dispatcher.handle = dying  # type: ignore[method-assign]


async def _listening(port: int, within: float = 10.0) -> None:
    """The webhook server accepts connections (it starts a moment after the adapter)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


@pytest.fixture
async def tg_webhook(
    api: BotApiStandIn, db_url: str, tmp_path: Path, clock: FrozenClock
) -> AsyncIterator[RunningBot]:
    """The bot in webhook mode; the stand-in delivers each update to it as Telegram does."""
    settings = Settings(
        database_url=db_url, data_dir=tmp_path, telegram_token=TOKEN,  # type: ignore[arg-type]
        telegram_base_url=api.base_url, telegram_base_file_url=api.base_file_url,
        telegram_webhook_url="https://wijkbot.invalid/telegram", telegram_webhook_port=free_port(),
        telegram_webhook_secret="s3cret-for-tests",  # type: ignore[arg-type]
    )  # fmt: skip
    setup = App(settings, clock=clock)
    await apply_setup(setup.db, ROOT / "wijkbot.example.toml")
    await setup.db.dispose()
    running = RunningBot(api, settings, clock)
    await running.start()
    yield running
    await running.stop()
