"""The outbox: feedback survives an outage; unreachable chats are given up."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.core.events import ChatRef, MessageRef, Reply
from bot.core.ports import Unreachable
from storage.models import OutboxMessage
from storage.repo import outbox
from tests.support.fake import FakeAdapter


class FlakyAdapter(FakeAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.down = True
        self.blocked: set[str] = set()

    async def send(self, chat: ChatRef, reply: Reply) -> MessageRef:
        if chat.id in self.blocked:
            raise Unreachable("bot was blocked by the user")
        if self.down:
            raise ConnectionError("network is unreachable")
        return await super().send(chat, reply)


async def test_feedback_survives_an_outage(app: App, clock: FrozenClock) -> None:
    flaky = FlakyAdapter()
    app.add(flaky)  # type: ignore[arg-type]
    async with app.db.transaction() as s:
        await outbox.enqueue(s, "fake", "dm:anna", "Nieuws over je melding M-1001")
    for _ in range(10):  # many flushes during the outage cost one attempt each backoff
        await app.flush_outbox()
    async with app.db.session() as s:
        row = (await s.exec(select(OutboxMessage))).one()
        assert row.attempts == 1 and not row.failed and row.sent_at is None
    clock.advance(timedelta(hours=2))
    await app.flush_outbox()  # still down: another attempt, later again
    flaky.down = False
    await app.flush_outbox()  # not due yet
    assert flaky.sent == []
    clock.advance(timedelta(hours=2))
    await app.flush_outbox()
    assert [m.text for m in flaky.sent] == ["Nieuws over je melding M-1001"]
    async with app.db.session() as s:
        row = (await s.exec(select(OutboxMessage))).one()
        assert row.sent_at is not None and row.attempts == 2


async def test_unreachable_chat_is_given_up_and_others_still_sent(app: App) -> None:
    flaky = FlakyAdapter()
    flaky.down = False
    flaky.blocked = {"dm:anna"}
    app.add(flaky)  # type: ignore[arg-type]
    async with app.db.transaction() as s:
        await outbox.enqueue(s, "fake", "dm:anna", "voor anna")
        await outbox.enqueue(s, "fake", "dm:bob", "voor bob")
    await app.flush_outbox()
    assert [m.text for m in flaky.sent] == ["voor bob"]
    async with app.db.session() as s:
        anna = (await s.exec(select(OutboxMessage).where(OutboxMessage.chat_id == "dm:anna"))).one()
        assert anna.failed and "unreachable" in (anna.last_error or "")


async def test_gives_up_after_a_day(app: App, clock: FrozenClock) -> None:
    flaky = FlakyAdapter()
    app.add(flaky)  # type: ignore[arg-type]
    async with app.db.transaction() as s:
        await outbox.enqueue(s, "fake", "dm:anna", "te laat")
    for _ in range(30):
        clock.advance(timedelta(hours=1))
        await app.flush_outbox()
    async with app.db.session() as s:
        row = (await s.exec(select(OutboxMessage))).one()
        assert row.failed and row.sent_at is None
