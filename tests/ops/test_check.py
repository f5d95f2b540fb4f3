"""`wijkbot check`: ready only when the database answers, every role is held and the
outbox keeps up; a plain line per check, and an exit code a health check can use."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import App
from bot.cli import main
from bot.core.clock import FrozenClock
from bot.delivery.leader import SCHEDULER, Roles
from bot.ops.readiness import readiness
from storage.repo import outbox


async def queue_one(app: App) -> None:
    async with app.db.transaction() as session:
        await outbox.enqueue(session, "fake", "dm:anna", "Buurtfeest zaterdag!")


async def test_an_old_unsent_message_makes_it_not_ready(app: App, clock: FrozenClock) -> None:
    await queue_one(app)
    lines: list[str] = []
    clock.advance(timedelta(minutes=10))
    holder = Roles.for_database([SCHEDULER], app.db.url, interval=0.1, worker="w1:1:abc")
    held = asyncio.create_task(holder.run())
    try:
        await asyncio.wait_for(holder.wait_for(SCHEDULER), 5)
        assert await readiness(app.settings, lines.append, clock=clock)
        assert "ok    database answers" in lines
        assert any(line.startswith("ok    outbox fake: 1 waiting") for line in lines), lines
        if app.db.is_sqlite:
            assert "ok    roles: SQLite, one process holds them all" in lines
        else:
            assert f"ok    role {SCHEDULER}: held by w1:1:abc" in lines

        clock.advance(timedelta(minutes=10))  # 20 minutes: longer than 15
        lines.clear()
        assert not await readiness(app.settings, lines.append, clock=clock)
        assert "FAIL  outbox fake: 1 waiting, the oldest due for 1200 s (at most 900 s)" in lines
        lines.clear()
        limit = timedelta(minutes=30)
        assert await readiness(app.settings, lines.append, max_age=limit, clock=clock)
    finally:
        held.cancel()
        await asyncio.gather(held, return_exceptions=True)


async def test_a_role_nobody_holds_makes_it_not_ready(app: App, clock: FrozenClock) -> None:
    if app.db.is_sqlite:
        pytest.skip("PostgreSQL only: on SQLite the one process holds every role")
    lines: list[str] = []
    assert not await readiness(app.settings, lines.append, clock=clock)
    assert f"FAIL  role {SCHEDULER}: held by no worker (is a worker running?)" in lines


def test_the_command_says_each_check_and_exits_zero_when_ready(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite: nobody else holds the roles here")
    monkeypatch.setenv("WIJKBOT_DATABASE_URL", db_url)
    monkeypatch.setenv("WIJKBOT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("WIJKBOT_CONFIG", raising=False)
    assert main(["check"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "ok    database answers"
    assert out[-1] == "ok    outbox: nothing waiting"


def test_a_database_never_upgraded_is_not_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WIJKBOT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("WIJKBOT_DATABASE_URL", raising=False)
    monkeypatch.delenv("WIJKBOT_CONFIG", raising=False)
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "ok    database answers" in out and "wijkbot db upgrade" in out
