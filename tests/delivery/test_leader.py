"""Roles by advisory lock: one worker at a time polls, syncs and fires the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from bot.app import App
from bot.cli import main
from bot.config import Settings
from bot.delivery.leader import SCHEDULER, Roles
from bot.delivery.outbox import worker_name
from bot.delivery.scheduler import Job
from storage.locks import AdvisoryLocks, conninfo
from storage.repo.outbox import WORKER_PREFIX

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


@pytest.mark.postgres
async def test_scheduled_jobs_fire_in_one_worker_and_move_when_it_stops(
    db_url: str, tmp_path: Path
) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only")
    runs: dict[str, int] = {"a": 0, "b": 0}

    def worker(name: str) -> App:
        app = App(Settings(database_url=db_url, data_dir=tmp_path / name))
        app.roles.interval = 0.2

        async def tick() -> int:
            runs[name] += 1
            return 0

        app.jobs = [Job("tick", timedelta(seconds=0.2), tick)]
        return app

    first = asyncio.create_task(worker("a").run())
    await until(lambda: runs["a"] > 0)
    second = asyncio.create_task(worker("b").run())
    await asyncio.sleep(1.5)
    assert runs["a"] >= 3 and runs["b"] == 0  # one worker fires the jobs, not both

    first.cancel()  # the first worker stops: its roles are freed, the second takes over
    with contextlib.suppress(asyncio.CancelledError):
        await first
    before = runs["a"]
    await until(lambda: runs["b"] > 0, within=3.0)
    await asyncio.sleep(0.5)
    assert runs["a"] == before
    second.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await second


def test_run_worker_on_sqlite_says_it_needs_postgresql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WIJKBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'wijkbot.db'}")
    monkeypatch.setenv("WIJKBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WIJKBOT_TELEGRAM_TOKEN", "123456789:AAF-wijkbot_worker_token")
    monkeypatch.delenv("WIJKBOT_CONFIG", raising=False)
    assert main(["db", "upgrade"]) == 0
    assert main(["run", "--worker"]) != 0  # two processes on SQLite would send twice
    err = capsys.readouterr().err
    assert "--worker needs PostgreSQL" in err and "Traceback" not in err


@pytest.mark.postgres
async def test_a_worker_on_a_long_host_name_is_seen_alive(db_url: str) -> None:
    """Other workers find a live worker by its connection's name: it must arrive whole
    (PostgreSQL keeps 63 bytes), or every lease of that worker looks dead and is taken."""
    if db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only")
    name = WORKER_PREFIX + worker_name("h" * 253, 4_194_304, "abcdef12")  # the longest
    locks = AdvisoryLocks(db_url, name)
    assert await locks.try_lock("outbox-telegram")
    with psycopg.connect(conninfo(db_url), autocommit=True) as admin:
        live = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (name,)
        ).fetchone()
    assert live == (1,)
    await locks.close()
    with pytest.raises(ValueError, match="63 bytes"):
        AdvisoryLocks(db_url, WORKER_PREFIX + "h" * 60)
