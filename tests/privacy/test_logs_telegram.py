"""On Telegram, end to end at DEBUG: neither the bot token nor a resident's words or name
reach the log (python-telegram-bot logs every call at DEBUG; httpx every URL at INFO)."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.core.clock import FrozenClock
from bot.util import logs
from tests.e2e.telegram.conftest import BOT_NAME, ROOT, RunningBot
from tests.privacy.conftest import MARK, everything_logged
from tests.standins.telegram_botapi import BotApiStandIn

pytestmark = pytest.mark.e2e
TOKEN = "987654321:AAH-Qx7-never-in-a-log-0123456789abcdef"
IDEA = f"Buurtbieb {MARK} in het speeltuinhuisje"


async def test_telegram_leaves_no_token_words_or_names_in_the_log(
    settings: Settings, clock: FrozenClock, debug_logs: pytest.LogCaptureFixture
) -> None:
    from bot.app import App
    from bot.ops.setup_data import apply_setup

    async with BotApiStandIn(token=TOKEN, bot_username=BOT_NAME) as api:
        tg_settings = settings.model_copy(
            update={
                "telegram_token": TOKEN,
                "telegram_base_url": api.base_url,
                "telegram_base_file_url": api.base_file_url,
            }
        )
        tg_settings = Settings.model_validate(tg_settings.model_dump())
        logs.configure(tg_settings)  # as `wijkbot run` does
        setup = App(tg_settings, clock=clock)
        await apply_setup(setup.db, ROOT / "wijkbot.example.toml")
        await setup.db.dispose()
        bot = RunningBot(api, tg_settings, clock)
        await bot.start()
        try:
            wubbo = api.user(4242, f"Wubbo {MARK}", language_code="en")
            dm = api.private_chat(wubbo)
            await api.send_text(wubbo, dm, f"/idee {IDEA}")
            [hood] = await bot.replies(dm.id)
            await api.press_button(wubbo, hood, str(hood.button("Molenwijk")["callback_data"]))
            [confirm] = await bot.replies(dm.id)
            assert MARK in confirm.plain_text
        finally:
            await bot.stop()
        assert api.server_errors == []
    logged = everything_logged(debug_logs)
    assert TOKEN not in logged and TOKEN.partition(":")[2] not in logged
    assert MARK not in logged
