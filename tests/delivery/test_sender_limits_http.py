"""The sender against Telegram's limits as the Bot API stand-in enforces them, over HTTP.

The bot's real TelegramAdapter sends through the stand-in; both the sender's limiter and the
stand-in's flood limits run on one simulated clock. A request takes real time to reach the
stand-in while the simulated clock only moves when the sender waits, so a sender that lets
its wait begin before the sends it started have arrived is caught: the stand-in answers 429.
"""

from __future__ import annotations

from bot.app import App
from bot.delivery.limits import TELEGRAM_LIMITS
from bot.delivery.outbox import OutboxSender
from storage.repo import outbox
from tests.standins.telegram_botapi import BotApiStandIn, FloodLimits
from tests.support.outbox_sim import SimTime
from tests.support.telegram_adapter import standin_adapter

TOKEN = "123456789:AAF-wijkbot_limits_token"
FIRST_CHAT = 70_000
N = 300  # one message each
SECOND = 40  # these chats get a second message (one a second per chat)


async def test_no_429_and_the_floor_for_a_broadcast_over_http(app: App) -> None:
    sim = SimTime()
    async with BotApiStandIn(token=TOKEN) as api:
        for i in range(N):
            api.private_chat(api.user(FIRST_CHAT + i, f"Buur {i}", f"buur{i}"))
        api.enable_flood_limits(FloodLimits(), clock=sim.now)
        adapter = standin_adapter(app.settings, app.db, api, TOKEN)
        await adapter.bot.initialize()
        async with app.db.transaction() as s:
            for i in range(N):
                await outbox.enqueue(s, "telegram", str(FIRST_CHAT + i), f"Hallo buur {i}")
            for i in range(SECOND):
                await outbox.enqueue(s, "telegram", str(FIRST_CHAT + i), f"Nog iets, buur {i}")
        sender = OutboxSender(app.db, {"telegram": adapter}, app.dispatcher.clock,  # type: ignore[dict-item]
                              monotonic=sim.now, sleep=sim.sleep)  # fmt: skip
        assert sender.queue("telegram").limiter.limits == TELEGRAM_LIMITS
        try:
            sent = await sender.flush()
        finally:
            await adapter.bot.shutdown()
        too_many = [r for r in api.request_log if r.status == 429]
        delivered = api.sent
    assert too_many == []
    assert sent == len(delivered) == N + SECOND
    # 340 messages at 30 a second: bursts at 0, 1 … 11 s; the floor is N / 30 s.
    floor = (N + SECOND) / 30
    assert 11.0 < sim.now() <= floor * 1.01
