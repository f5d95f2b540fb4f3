"""The inbox across workers: one chat's events one at a time, oldest first, each once.

Several workers on one PostgreSQL each handle what any of them kept (Telegram's webhook
reaches whichever worker the load balancer picks). A user would notice two answers to one
message, answers in another order than the messages, or a message never answered because
a worker died while handling it. Each worker here is a session of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from bot.core.clock import FrozenClock
from bot.core.unit_of_work import UnitOfWork
from storage.db import Database
from storage.repo import inbox

SOURCE = "telegram.1"


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    yield database
    await database.dispose()


async def keep(db: Database, clock: FrozenClock, *entries: tuple[str, str]) -> dict[str, int]:
    """Keep (key, chat) entries in this order; their inbox ids by key."""
    async with db.transaction() as s:
        rows = [(key, chat, {"text": key}) for key, chat in entries]
        await inbox.keep(s, SOURCE, rows, clock.now())
    async with db.transaction() as s:
        waiting = await inbox.waiting(s, SOURCE, 100)
    return {e.key: e.id for e in waiting if e.id is not None}


async def heads(db: Database) -> list[str]:
    async with db.transaction() as s:
        return [e.key for e in await inbox.heads(s, SOURCE, 100)]


async def claim(db: Database, entry: int, clock: FrozenClock) -> bool:
    async with db.transaction() as s:
        return await inbox.claim(s, entry, clock.now())


async def test_a_chats_later_message_is_not_handled_before_an_earlier_one(
    db: Database, clock: FrozenClock
) -> None:
    ids = await keep(db, clock, ("a1", "A"), ("a2", "A"), ("b1", "B"), ("a3", "A"))
    # Asked for a2 first (a forged or stale entry id): refused while a1 waits.
    assert not await claim(db, ids["a2"], clock)
    assert await heads(db) == ["a1", "b1"]  # only the oldest of each chat is offered
    assert await claim(db, ids["a1"], clock)
    assert not await claim(db, ids["a1"], clock)  # and only once
    assert not await claim(db, ids["a3"], clock)
    assert await heads(db) == ["a2", "b1"]
    assert await claim(db, ids["a2"], clock) and await claim(db, ids["a3"], clock)
    assert await heads(db) == ["b1"]


async def test_another_source_or_chat_is_not_held_up(db: Database, clock: FrozenClock) -> None:
    ids = await keep(db, clock, ("a1", "A"), ("b1", "B"))
    async with db.transaction() as s:
        await inbox.keep(s, "matrix", [("m1", "A", {})], clock.now())
    assert await claim(db, ids["b1"], clock)  # chat B does not wait for chat A
    async with db.transaction() as s:
        [matrix] = await inbox.waiting(s, "matrix", 10)
    assert matrix.id is not None and await claim(db, matrix.id, clock)


def postgres_only(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("PostgreSQL only: on SQLite one process handles everything in turn")


async def test_while_one_worker_handles_a_chat_no_other_worker_touches_it(
    db: Database, clock: FrozenClock
) -> None:
    postgres_only(db)
    ids = await keep(db, clock, ("a1", "A"), ("a2", "A"), ("b1", "B"))
    async with db.transaction() as first:  # worker 1 handles a1: its transaction is open
        assert await inbox.claim(first, ids["a1"], clock.now())
        # Worker 2 is offered only chat B, and may take neither of A's messages.
        assert await heads(db) == ["b1"]
        assert not await claim(db, ids["a1"], clock)
        assert not await claim(db, ids["a2"], clock)
        assert await claim(db, ids["b1"], clock)
    assert await heads(db) == ["a2"]  # worker 1 is done with a1: a2 is next, for anyone
    assert await claim(db, ids["a2"], clock)


async def test_a_worker_that_dies_while_handling_leaves_the_message_to_another(
    db: Database, clock: FrozenClock
) -> None:
    postgres_only(db)
    ids = await keep(db, clock, ("a1", "A"), ("a2", "A"))
    dying = db.session()
    assert await inbox.claim(dying, ids["a1"], clock.now())
    pid = (await dying.exec(text("SELECT pg_backend_pid()"))).one()[0]  # type: ignore[call-overload]
    async with db.transaction() as s:  # kill -9: its connection is gone, nothing committed
        await s.exec(text(f"SELECT pg_terminate_backend({int(pid)})"))  # type: ignore[call-overload]
    with pytest.raises(Exception):  # noqa: B017 (whatever the driver raises for a dead link)
        await dying.commit()
    await dying.close()
    assert await heads(db) == ["a1"]
    assert not await claim(db, ids["a2"], clock)
    assert await claim(db, ids["a1"], clock) and await claim(db, ids["a2"], clock)


class _Dialog:
    async def save(self) -> None:
        return None


async def test_a_handler_that_commits_early_still_holds_its_chat_to_the_end(
    db: Database, clock: FrozenClock
) -> None:
    """The ballot is cast after an early commit (`commit_now`): the voter's next message
    waits until that handler is done, also in another worker."""
    postgres_only(db)
    ids = await keep(db, clock, ("a1", "A"), ("a2", "A"))
    async with db.transaction() as first:
        assert await inbox.claim(first, ids["a1"], clock.now())
        uow = UnitOfWork(first, _Dialog(), inbox_id=ids["a1"])  # type: ignore[arg-type]
        await uow.commit_now()  # a1 is handled now, for everyone
        assert await heads(db) == ["a2"]
        assert not await claim(db, ids["a2"], clock)  # but chat A is still this handler's
    assert await claim(db, ids["a2"], clock)
