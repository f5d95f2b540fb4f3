"""The outbox across workers on one PostgreSQL: batch claims with a lease, SKIP LOCKED."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.core.clock import FrozenClock
from storage.db import Database
from storage.locks import AdvisoryLocks
from storage.repo import outbox
from storage.repo.outbox import WORKER_PREFIX

pytestmark = pytest.mark.postgres
LEASE = timedelta(seconds=30)


@pytest.fixture
async def db(db_url: str) -> Database:
    if db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only: one process on SQLite")
    return Database(db_url)


async def claim(
    db: Database, worker: str, clock: FrozenClock, n: int, send: bool = False
) -> list[str]:
    async with db.transaction() as s:
        now = clock.now()
        rows = await outbox.claim_batch(s, "telegram", now, worker, now + LEASE, n)
    if send:
        async with db.transaction() as s:
            await outbox.mark_sent_many(s, [(r.id, None) for r in rows], now)
    return [r.chat_id for r in rows]


async def test_a_live_workers_rows_and_their_chats_wait_for_its_lease(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as s:
        for chat in ["1", "2", "3", "1", "4"]:
            await outbox.enqueue(s, "telegram", chat, f"bericht voor {chat}")
    alive = AdvisoryLocks(db.url, WORKER_PREFIX + "A")  # worker A lives while this is open
    assert await alive.try_lock("test-a")
    try:
        assert await claim(db, "A", clock, 2) == ["1", "2"]
        # B may not take A's rows, nor chat 1's second message (it must come after the first).
        assert await claim(db, "B", clock, 10) == ["3", "4"]
        async with db.transaction() as s:
            await outbox.mark_sent_many(s, [(3, "m3"), (5, "m5")], clock.now())
        clock.advance(LEASE + timedelta(seconds=1))  # A hangs: its lease ends
        assert await claim(db, "B", clock, 10) == ["1", "2", "1"]
    finally:
        await alive.close()
        await db.dispose()


async def test_a_dead_workers_rows_are_taken_over_at_once(db: Database, clock: FrozenClock) -> None:
    async with db.transaction() as s:
        for chat in ["1", "2"]:
            await outbox.enqueue(s, "telegram", chat, "hoi")
    alive = AdvisoryLocks(db.url, WORKER_PREFIX + "A")
    assert await alive.try_lock("test-a")
    try:
        assert await claim(db, "A", clock, 1) == ["1"]
        await alive.close()  # A dies (its connection closes), well within its lease
        assert await claim(db, "B", clock, 10) == ["1", "2"]
    finally:
        await db.dispose()


async def test_claims_at_the_same_moment_never_share_a_row(
    db: Database, clock: FrozenClock
) -> None:
    chats = [str(i) for i in range(200)]
    async with db.transaction() as s:
        rows = [
            outbox.new_row("telegram", c, "direct", "hoi", [], None, clock.now()) for c in chats
        ]
        await outbox.enqueue_many(s, rows)
    alive = [AdvisoryLocks(db.url, WORKER_PREFIX + w) for w in "ABC"]
    for locks in alive:
        await locks.try_lock("test")
    try:
        got: list[str] = []
        while True:
            batches = await asyncio.gather(*(claim(db, w, clock, 8, send=True) for w in "ABC"))
            if not any(batches):
                break
            for batch in batches:
                got += batch
        assert sorted(got, key=int) == chats  # each exactly once
    finally:
        for locks in alive:
            await locks.close()
        await db.dispose()
