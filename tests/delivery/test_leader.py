"""Roles by advisory lock: one worker at a time polls, syncs and fires the scheduler."""

from __future__ import annotations

import asyncio
import contextlib

import psycopg
import pytest

from bot.delivery.leader import SCHEDULER, Roles
from storage.locks import conninfo

ROLES = ["telegram-poll", "matrix-sync", SCHEDULER]


async def until(check: object, within: float = 5.0) -> float:
    """Seconds until `check()` is true (asyncio's loop time, not the wall clock)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not check():  # type: ignore[operator]
        assert loop.time() - start < within, "not within time"
        await asyncio.sleep(0.05)
    return loop.time() - start


async def test_on_sqlite_every_role_is_held(db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite only")
    roles = Roles.for_database(ROLES, db_url)
    assert all(roles.holds(r) for r in ROLES)
    await asyncio.wait_for(roles.wait_for("outbox-telegram"), 1)


@pytest.mark.postgres
async def test_one_worker_holds_each_role_and_another_takes_over(db_url: str) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only")
    first = Roles.for_database(ROLES, db_url, interval=0.2)
    second = Roles.for_database(ROLES, db_url, interval=0.2)
    t1 = asyncio.create_task(first.run())
    await until(lambda: all(first.holds(r) for r in ROLES))
    t2 = asyncio.create_task(second.run())
    waiting = asyncio.create_task(second.wait_for(SCHEDULER))
    await asyncio.sleep(0.6)
    assert not any(second.holds(r) for r in ROLES) and not waiting.done()

    # The first worker's connection dies (as with kill -9): it notices, the second takes over.
    pid = await first.locks.backend_pid()  # type: ignore[union-attr]
    with psycopg.connect(conninfo(db_url), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    took = await until(lambda: all(second.holds(r) for r in ROLES))
    assert took < 2.0
    await asyncio.wait_for(waiting, 1)
    await until(lambda: first.lost.is_set())
    assert not any(first.holds(r) for r in ROLES)
    for task in (t1, t2):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
