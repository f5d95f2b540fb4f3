"""A reply outlives the worker that wrote it (#17: the failover test's lost answer).

An incoming message is marked handled in the transaction of its effects. Its replies are
written to the outbox in that transaction, claimed by the worker, sent by it at once after
the commit, and deleted once the platform took them (bot/core/replies.py). A worker killed
between the commit and the send (kill -9, a crash, a deploy) used to leave silence: the
message handled, its answer kept nowhere. The failover test lost one answer of 200 this way
in 2 of 13 runs. Each test here is what a user would notice: an answer missing, twice, out of
order, or kept after it arrived.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools

import pytest
from sqlmodel import select

from bot.app import App
from bot.core.context import Outgoing
from bot.core.events import Button, ChatRef, Document, Incoming, MessageRef, Reply, UserRef
from bot.core.ports import Unreachable
from bot.core.replies import Replies
from bot.delivery.outbox import OutboxSender
from storage.models import OutboxMessage
from storage.repo import inbox
from tests.support.fake import FakeAdapter

ANNA = UserRef("fake", "anna", "Anna", "en")
DM = ChatRef("fake", "dm:anna", "direct")
HELP = "/idea"  # in the answer to /help
LANGUAGE = "From now on I will write to you in English."
_keys = itertools.count(1)


class Killed(BaseException):
    """kill -9: nothing after it runs in that worker."""


class DiesOnSend(FakeAdapter):
    async def send(self, chat: ChatRef, reply: Reply) -> MessageRef:
        raise Killed


class FailsOnce(FakeAdapter):
    """The platform fails a send (after the adapter's own retries), then works again."""

    failed = False

    async def send(self, chat: ChatRef, reply: Reply) -> MessageRef:
        if not self.failed:
            self.failed = True
            raise ConnectionError("Telegram answered 502")
        return await super().send(chat, reply)


class Blocked(FakeAdapter):
    async def send(self, chat: ChatRef, reply: Reply) -> MessageRef:
        raise Unreachable("the bot was blocked")


class Slow(FakeAdapter):
    """A send that takes its time: it finishes when the test lets it."""

    def __init__(self) -> None:
        super().__init__()
        self.started = asyncio.Event()
        self.go_on = asyncio.Event()

    async def send(self, chat: ChatRef, reply: Reply) -> MessageRef:
        self.started.set()
        await asyncio.wait_for(self.go_on.wait(), 10)
        return await super().send(chat, reply)


async def incoming(app: App, text: str) -> Incoming:
    """Anna's message as a platform hands it over: kept in the inbox first."""
    async with app.db.transaction() as s:
        await inbox.keep(s, "fake", [(f"u{next(_keys)}", DM.id, {})], app.dispatcher.clock.now())
    async with app.db.session() as s:
        entry = (await inbox.waiting(s, "fake", 10))[-1]
    command, _sep, args = text.lstrip("/").partition(" ")
    return Incoming("command", ANNA, DM, text=text, command=command, args=args,
                    message=MessageRef(DM, f"in-{entry.id}"), inbox_id=entry.id)  # fmt: skip


async def kept_rows(app: App) -> list[OutboxMessage]:
    async with app.db.session() as s:
        return list((await s.exec(select(OutboxMessage))).all())


def another_worker(app: App, adapter: FakeAdapter) -> OutboxSender:
    """Another worker's outbox sender (or this worker's after a restart)."""
    return OutboxSender(app.db, {"fake": adapter}, app.dispatcher.clock)  # type: ignore[dict-item]


async def test_a_worker_killed_before_it_answers_leaves_the_answer_to_another(
    app: App,
) -> None:
    event = await incoming(app, "/help")
    with pytest.raises(Killed):
        await app.dispatcher.handle(DiesOnSend(), event)
    async with app.db.session() as s:
        assert await inbox.waiting(s, "fake", 10) == []  # handled: it is not done again

    other = FakeAdapter()
    await another_worker(app, other).flush()
    assert [s.chat.id for s in other.sent] == [DM.id]
    assert HELP in other.sent[0].text  # the help Anna asked for
    assert await kept_rows(app) == []  # arrived: not kept


async def test_the_chats_next_message_brings_the_lost_answer_first(app: App) -> None:
    """Anna asks again before any outbox sender came by: she gets both answers, in order."""
    with pytest.raises(Killed):
        await app.dispatcher.handle(DiesOnSend(), await incoming(app, "/help"))
    restarted = App(app.settings, clock=app.dispatcher.clock, db=app.db)  # a new worker
    phone = FakeAdapter()
    await restarted.dispatcher.handle(phone, await incoming(app, "/language en"))  # type: ignore[arg-type]
    assert [HELP in s.text for s in phone.sent] == [True, False]
    assert LANGUAGE in phone.sent[1].text
    await another_worker(app, phone).flush()
    assert len(phone.sent) == 2  # nothing twice
    assert await kept_rows(app) == []


async def test_an_answer_is_not_kept_once_it_arrived(app: App) -> None:
    """/mijngegevens shows all of a person's data: it must not stay behind in the outbox."""
    phone = FakeAdapter()
    await app.dispatcher.handle(phone, await incoming(app, "/mijngegevens"))  # type: ignore[arg-type]
    assert len(phone.sent) >= 1
    assert await kept_rows(app) == []


async def test_a_failed_send_is_tried_again_by_the_outbox(app: App) -> None:
    phone = FailsOnce()
    await app.dispatcher.handle(phone, await incoming(app, "/help"))  # type: ignore[arg-type]
    assert phone.sent == []
    [row] = await kept_rows(app)  # waiting for the outbox, nobody's claim
    assert row.claimed_by is None and row.sent_at is None
    await another_worker(app, phone).flush()
    assert [HELP in s.text for s in phone.sent] == [True]
    assert await kept_rows(app) == []


async def test_an_unreachable_chat_leaves_nothing_to_retry(app: App) -> None:
    await app.dispatcher.handle(Blocked(), await incoming(app, "/help"))  # type: ignore[arg-type]
    assert await kept_rows(app) == []


async def test_the_workers_own_sender_never_sends_an_answer_it_is_sending(app: App) -> None:
    """While the handling worker waits for the platform, its outbox sender passes by (after
    another event, or its timer): it leaves the answer alone, so Anna gets it once."""
    phone = Slow()
    app.add(phone)  # type: ignore[arg-type]
    handling = asyncio.create_task(app.dispatcher.handle(phone, await incoming(app, "/help")))  # type: ignore[arg-type]
    await asyncio.wait_for(phone.started.wait(), 10)
    # The platform answers after this pass; a pass that took the answer would wait for it.
    assert await asyncio.wait_for(app.outbox.flush(), 5) == 0
    phone.go_on.set()
    await asyncio.wait_for(handling, 10)
    assert [HELP in s.text for s in phone.sent] == [True]


async def test_an_answer_comes_back_from_the_outbox_whole(app: App) -> None:
    """An edit, a chart, a file, a link button and unnumbered choices survive the row form."""
    phone = FakeAdapter()
    poll = await phone.send(DM, Reply("Which day?"))
    chart = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    doc = Document("stemmen.pb", b"META\nkey;value\n", "text/csv")
    answers = [
        Outgoing("edit", Reply("Thanks, counted.", ((Button("Undo", "undo:1"),),)), poll),
        Outgoing("send", Reply("The results", image=chart, document=doc, numbered=False,
                               buttons=((Button("Open", "", url="https://t.me/wijkbot"),),))),
    ]  # fmt: skip
    replies = Replies(app.db, "gone-worker")
    async with app.db.transaction() as s:
        await replies.keep(s, DM, answers, app.dispatcher.clock.now())
    await another_worker(app, phone).flush()  # that worker died before sending
    edited, sent = phone.log[1:]
    assert edited.edited and edited.ref == poll and edited.reply == answers[0].reply
    assert sent.reply == answers[1].reply
    assert await kept_rows(app) == []


async def test_answers_after_a_failed_one_wait_for_it(app: App) -> None:
    """Two answers to one message, the first refused: Anna reads them in order, later."""
    replies = Replies(app.db, app.outbox.worker)
    answers = [Outgoing("send", Reply("First")), Outgoing("send", Reply("Second"))]
    async with app.db.transaction() as s:
        kept = await replies.keep(s, DM, answers, app.dispatcher.clock.now())
    phone = FailsOnce()
    assert await replies.send(phone, DM, kept)  # type: ignore[arg-type]
    assert phone.sent == []  # not the second before the first
    await another_worker(app, phone).flush()
    assert [s.text for s in phone.sent] == ["First", "Second"]
    assert await kept_rows(app) == []


async def test_answers_noted_later_when_the_database_was_away(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sent, but the database did not take the note: the answer is neither lost nor sent
    again by anyone while this worker lives, and it is noted with the next answer."""
    from storage.repo import outbox_replies

    real = outbox_replies.settle

    async def away(*args: object) -> None:
        raise ConnectionError("the database is restarting")

    monkeypatch.setattr(outbox_replies, "settle", away)
    phone = FakeAdapter()
    app.add(phone)  # type: ignore[arg-type]
    await app.dispatcher.handle(phone, await incoming(app, "/help"))  # type: ignore[arg-type]
    assert len(phone.sent) == 1
    assert len(await kept_rows(app)) == 1
    assert await app.outbox.flush() == 0  # its own sender leaves it: it was sent
    monkeypatch.setattr(outbox_replies, "settle", real)
    await app.dispatcher.handle(phone, await incoming(app, "/language en"))  # type: ignore[arg-type]
    assert [HELP in s.text for s in phone.sent] == [True, False]
    assert await kept_rows(app) == []


async def test_an_answer_that_cannot_be_kept_still_goes(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault in keeping the apology (the database is there) does not leave the message
    stuck in the inbox, blocking Anna's chat: it is handled, the apology sent directly."""

    async def broken(ctx: object) -> None:
        raise RuntimeError("a bug")

    async def cannot_keep(*args: object) -> None:
        raise RuntimeError("another bug")

    route = app.dispatcher.router.find_command("help")
    assert route is not None
    failing = dataclasses.replace(route, handler=broken)
    monkeypatch.setattr(app.dispatcher.router, "find_command", lambda _name: failing)
    assert app.dispatcher.replies is not None
    monkeypatch.setattr(app.dispatcher.replies, "keep", cannot_keep)
    phone = FakeAdapter()
    await app.dispatcher.handle(phone, await incoming(app, "/help"))  # type: ignore[arg-type]
    assert ["Sorry, something went wrong" in s.text for s in phone.sent] == [True]
    async with app.db.session() as s:
        assert await inbox.waiting(s, "fake", 10) == []
