"""The sender: limits on simulated time, claim → send → mark, inline flush and wake-up."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from sqlmodel import select

from bot.app import App
from bot.core.events import ChatRef, MessageRef, Reply
from bot.delivery.outbox import CONCURRENCY, OutboxSender
from storage.models import OutboxMessage
from storage.repo import outbox
from tests.support.fake import FakeAdapter
from tests.support.outbox_sim import SimTime


class Killed(BaseException):
    """Stands in for the process dying (not an Exception: nothing catches it)."""


@dataclass
class TimedAdapter(FakeAdapter):
    """A fake Telegram: records when (on simulated time) each message went out."""

    sim: SimTime = field(default_factory=SimTime)
    times: list[float] = field(default_factory=list)
    die_after: int | None = None  # the platform takes this many, then the process dies

    async def send(self, chat: ChatRef, reply: Reply) -> MessageRef:
        ref = await super().send(chat, reply)
        self.times.append(self.sim.now())
        if self.die_after is not None and len(self.sent) >= self.die_after:
            raise Killed  # delivered, but the process dies before marking it sent
        return ref


def sender_for(app: App, adapter: TimedAdapter) -> OutboxSender:
    return OutboxSender(
        app.db, {"telegram": adapter}, app.dispatcher.clock,  # type: ignore[dict-item]
        monotonic=adapter.sim.now, sleep=adapter.sim.sleep,
    )  # fmt: skip


async def enqueue(app: App, chats: list[str], kind: str = "direct") -> None:
    async with app.db.transaction() as s:
        for i, chat in enumerate(chats):
            await outbox.enqueue(s, "telegram", chat, f"bericht {i}", chat_kind=kind)


async def rows(app: App) -> list[OutboxMessage]:
    async with app.db.session() as s:
        return list((await s.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all())


def most_in_window(times: list[float], span: float) -> int:
    return max(sum(1 for u in times if t <= u < t + span) for t in times)


async def test_telegram_limits_on_simulated_time(app: App) -> None:
    adapter = TimedAdapter(platform="telegram")
    await enqueue(app, [str(1000 + i) for i in range(100)] + ["1000", "1000"])
    assert await sender_for(app, adapter).flush() == 102
    assert most_in_window(adapter.times, 1.0) == 30  # 30 a second overall, no more
    assert 3.0 < adapter.times[99] < 3.01  # 100 chats: bursts at 0, 1, 2, 3 s
    first, second, third = [t for s, t in zip(adapter.sent, adapter.times, strict=True)
                            if s.chat.id == "1000"]  # fmt: skip
    assert second - first >= 1.0 and third - second >= 1.0  # one a second per chat
    assert all(r.sent_at is not None and r.claimed_at is not None for r in await rows(app))


async def test_group_chats_get_twenty_a_minute(app: App) -> None:
    adapter = TimedAdapter(platform="telegram")
    await enqueue(app, ["-1001"] * 21, kind="group")
    await sender_for(app, adapter).flush()
    assert adapter.sent[0].chat.kind == "group"
    assert 60.0 <= adapter.times[20] < 60.01 and adapter.times[19] < 20.0


async def test_other_platforms_are_not_paced(app: App) -> None:
    adapter = TimedAdapter(platform="matrix")
    async with app.db.transaction() as s:
        for _ in range(50):
            await outbox.enqueue(s, "matrix", "!room:example.org", "hoi")
    sender = OutboxSender(app.db, {"matrix": adapter}, app.dispatcher.clock,  # type: ignore[dict-item]
                          monotonic=adapter.sim.now, sleep=adapter.sim.sleep)  # fmt: skip
    assert await sender.flush() == 50 and adapter.sim.slept == 0.0


async def test_killed_mid_send_resends_only_the_messages_in_flight(app: App) -> None:
    chats = [str(2000 + i) for i in range(30)]
    await enqueue(app, chats)
    dying = TimedAdapter(platform="telegram", die_after=4)
    with pytest.raises(Killed):
        await sender_for(app, dying).flush()
    async with app.db.session() as s:
        doubt = [m.chat_id for m in await outbox.in_doubt(s)]
    marked = sum(r.sent_at is not None for r in await rows(app))
    assert "2003" in doubt  # claimed, delivered, never marked
    assert 1 <= len(doubt) <= CONCURRENCY and marked + len(doubt) < len(chats)

    restarted = TimedAdapter(platform="telegram")
    assert await sender_for(app, restarted).flush() == len(chats) - marked
    received = [s.chat.id for s in dying.sent + restarted.sent]
    assert sorted(set(received)) == chats  # nobody lost
    assert 1 <= len(received) - len(chats) <= len(doubt)  # only messages in flight came twice
    async with app.db.session() as s:
        assert await outbox.in_doubt(s) == []


async def test_a_failed_attempt_is_not_in_doubt(app: App) -> None:
    class Down(TimedAdapter):
        async def send(self, chat: ChatRef, reply: Reply) -> MessageRef:
            raise ConnectionError("down")

    await enqueue(app, ["1"])
    await sender_for(app, Down(platform="telegram")).flush()
    [row] = await rows(app)
    assert row.attempts == 1 and row.claimed_at is None and row.sent_at is None
    async with app.db.session() as s:
        assert await outbox.in_doubt(s) == []


async def test_inline_flush_sends_a_few_and_wakes_the_background_sender(app: App) -> None:
    adapter = TimedAdapter(platform="telegram")
    sender = sender_for(app, adapter)
    await enqueue(app, [str(3000 + i) for i in range(12)])
    assert await sender.flush_some(5) == 5
    assert sender.queue("telegram").wake.is_set()
    sender.queue("telegram").wake.clear()
    async with sender.queue("telegram").lock:  # a broadcast is being sent
        assert await sender.flush_some(5) == 0  # does not wait for it
    assert sender.queue("telegram").wake.is_set()
    assert await sender.flush() == 7


async def test_the_dispatcher_path_sends_at_most_a_few_inline(app: App) -> None:
    adapter = FakeAdapter()
    app.add(adapter)  # type: ignore[arg-type]
    async with app.db.transaction() as s:
        for i in range(50):
            await outbox.enqueue(s, "fake", f"dm:{i}", "nieuws")
    await app.send_outbox_soon()  # what after_commit runs
    assert len(adapter.sent) == 20
    await app.flush_outbox()
    assert len(adapter.sent) == 50


async def test_background_loop_is_woken_not_polled(app: App) -> None:
    adapter = FakeAdapter()
    app.add(adapter)  # type: ignore[arg-type]
    loop = asyncio.create_task(app.outbox.run_forever(interval=3600))
    try:
        await asyncio.sleep(0.1)  # the first pass found nothing; now it waits an hour
        async with app.db.transaction() as s:
            await outbox.enqueue(s, "fake", "dm:anna", "nieuws")
        app.outbox.wake()
        for _ in range(100):
            if adapter.sent:
                break
            await asyncio.sleep(0.02)
        assert [m.text for m in adapter.sent] == ["nieuws"]
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
