"""The bot as a process, for the kill test: App + the real TelegramAdapter, run until killed.

Settings come from the environment (WIJKBOT_DATABASE_URL, WIJKBOT_TELEGRAM_TOKEN,
WIJKBOT_TELEGRAM_BASE_URL pointing at the Bot API stand-in on 127.0.0.1).
WIJKBOT_TEST_OUTBOX_PER_SECOND, when set, replaces Telegram's 30 messages a second overall
(one a second per chat stays) so the test is quick.

    python -m tests.support.outbox_kill_child
"""

from __future__ import annotations

import asyncio
import logging
import os

from bot.adapters.telegram.adapter import TelegramAdapter
from bot.app import App
from bot.config import Settings
from bot.delivery.limits import TELEGRAM_LIMITS, RateLimits


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = Settings()
    app = App(settings)
    per_second = os.environ.get("WIJKBOT_TEST_OUTBOX_PER_SECOND")
    if per_second:
        app.outbox.limits["telegram"] = RateLimits(
            overall=(int(per_second), 1.0),
            per_chat=TELEGRAM_LIMITS.per_chat,
            per_group=TELEGRAM_LIMITS.per_group,
        )
    app.add(TelegramAdapter(settings, app.adapter_store, poll_timeout=1))
    await app.run()


if __name__ == "__main__":
    asyncio.run(main())
