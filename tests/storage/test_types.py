"""Moments are stored as UTC and read back timezone-aware, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import StatementError
from sqlmodel import select

from bot.app import App
from storage.models import SyncCursor

AMS = ZoneInfo("Europe/Amsterdam")


async def test_an_amsterdam_time_is_kept_as_the_same_moment(app: App) -> None:
    evening = datetime(2026, 7, 1, 21, 30, tzinfo=AMS)  # 19:30 UTC in summer
    async with app.db.transaction() as s:
        s.add(SyncCursor(key="k", value="1", updated_at=evening))
    async with app.db.session() as s:
        [stored] = (await s.exec(select(SyncCursor.updated_at))).all()
        row = await s.get(SyncCursor, "k")
    assert stored == evening and stored.tzinfo is not None
    assert stored.utcoffset() == UTC.utcoffset(None)
    assert row is not None and row.updated_at == datetime(2026, 7, 1, 19, 30, tzinfo=UTC)


async def test_a_naive_time_is_refused(app: App) -> None:
    with pytest.raises(StatementError, match="timezone-aware"):
        async with app.db.transaction() as s:
            s.add(SyncCursor(key="k", value="1", updated_at=datetime(2026, 7, 1, 21, 30)))  # noqa: DTZ001
