"""Several senders in one process, each a worker of its own on one PostgreSQL.

Each keeps a connection named after itself open, as a running worker does (its leases
count while it lives); all run on one simulated clock (tests/support/outbox_sim.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from bot.app import App
from bot.core.events import ChatRef, MessageRef, Reply
from bot.delivery.limits import RateLimits
from bot.delivery.outbox import OutboxSender
from bot.delivery.send_budget import SharedBudget
from storage.locks import AdvisoryLocks
from storage.repo import outbox
from storage.repo.outbox import WORKER_PREFIX
from tests.support.fake import FakeAdapter
from tests.support.outbox_sim import SharedTime, SimClock

LISTED = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :n")
FAR = datetime(2100, 1, 1, tzinfo=UTC)  # everything is due by then, retries included


@dataclass
class Log:
    """What reached 'Telegram', from every sender: (simulated time, chat, text, sender)."""

    time: SharedTime
    sends: list[tuple[float, str, str, str]] = field(default_factory=list)

    def times(self, chat: str | None = None) -> list[float]:
        return [t for t, c, _text, _who in self.sends if chat is None or c == chat]


@dataclass
class LoggingAdapter(FakeAdapter):
    record: Log | None = None
    name: str = ""

    async def send(self, chat: ChatRef, reply: Reply) -> MessageRef:
        assert self.record is not None
        self.record.sends.append((self.record.time.now(), chat.id, reply.text, self.name))
        await asyncio.sleep(0)  # on its way
        return await super().send(chat, reply)


class Workers:
    """Two senders on one database and one simulated clock, each alive by its connection."""

    def __init__(
        self,
        app: App,
        time: SharedTime,
        adapters: list[Any],
        batch: int,
        limits: RateLimits | None = None,
    ) -> None:
        self.time = time
        shared = SharedBudget(app.db, at=time.moment)
        lifted = {"telegram": limits} if limits else None
        self.senders = [
            OutboxSender(app.db, {"telegram": a}, SimClock(time), monotonic=time.now,
                         sleep=time.sleep, batch=batch, shared=shared, limits=lifted)
            for a in adapters
        ]  # fmt: skip
        self.alive = [AdvisoryLocks(app.db.url, WORKER_PREFIX + s.worker) for s in self.senders]
        self.app = app

    async def __aenter__(self) -> Workers:
        for locks, sender in zip(self.alive, self.senders, strict=True):
            assert await locks.try_lock(f"alive {sender.worker}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        for locks in self.alive:
            await locks.close()

    async def stop(self, i: int) -> None:
        """Worker `i` stops (is killed): its connection closes. PostgreSQL lists it until
        its backend has exited, a moment later; a worker started after the kill comes
        later still, so wait until the database no longer shows it."""
        await self.alive[i].close()
        name = WORKER_PREFIX + self.senders[i].worker
        for _ in range(200):
            async with self.app.db.session() as s:
                conn = await s.connection()
                seen = await conn.execute(LISTED, {"n": name})
                if not seen.scalar_one():
                    return
            await asyncio.sleep(0.05)
        raise AssertionError(f"PostgreSQL still lists {name} 10 s after it closed")

    async def drain(self) -> list[int]:
        """Both send until nothing waits; how many each sent."""
        sent = [0, 0]
        for _round in range(100):
            done = await asyncio.gather(*(self._flush(s) for s in self.senders))
            sent = [a + b for a, b in zip(sent, done, strict=True)]
            if not await waiting(self.app):
                return sent
            if not any(done):  # what waits is held for a moment (a chat just sent to)
                await self.time.sleep(0.5)
        raise AssertionError("the senders never finished")

    async def _flush(self, sender: OutboxSender) -> int:
        async with self.time.at_work():
            return await sender.flush()


async def waiting(app: App) -> int:
    async with app.db.session() as s:
        return len(await outbox.pending(s, "telegram", FAR, limit=10_000))
