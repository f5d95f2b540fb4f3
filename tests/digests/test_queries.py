"""The number of SQL statements a digest run sends does not grow with the residents: the
reads are a fixed number, the outbox is written one INSERT per OUTBOX_BATCH digests."""

from __future__ import annotations

import math

import pytest

from bench.digest.bench_digest import add_items, add_places, add_residents, build_once
from bot.services.digests import run
from storage.db import Database
from storage.repo import digest_residents


async def test_query_count_does_not_grow_with_residents(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "OUTBOX_BATCH", 50)
    monkeypatch.setattr(digest_residents, "CHUNK", 30)  # many slices, many fetches
    monkeypatch.setattr(digest_residents, "FETCH", 20)
    db = Database(db_url)
    try:
        await add_places(db)
        await add_residents(db, 1, 40)
        await add_items(db, 40, 300)
        few = await build_once(db)
        await add_residents(db, 41, 400)
        many = await build_once(db)
    finally:
        await db.dispose()
    assert 0 < few.messages < 50 < many.messages
    assert many.reads == few.reads <= 22  # +2: initiative news, their supporters
    assert (few.writes, many.writes) == (1, math.ceil(many.messages / 50))


def test_a_poll_sent_after_the_last_digest_is_shown_even_if_it_closes_within_two_days() -> None:
    """Review: a daily digest missed polls sent after it that close within ~a day."""
    from datetime import UTC, datetime, timedelta

    from bot.services.digests import Items
    from storage.repo.digests import PollRow

    last = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)  # day 1, 19:00 Amsterdam
    poll = PollRow(1, 1, None, "Meer bankjes?", ["Ja", "Nee"],
                   closes_at=last + timedelta(days=1, hours=15), closed_at=None,
                   sent_at=last + timedelta(hours=1))  # fmt: skip
    items = Items([], [], [poll], {})
    assert [p.id for p in items.closing_for({1}, None, last, set())] == [1]
    earlier = PollRow(2, 1, None, "Oud?", ["Ja", "Nee"], closes_at=poll.closes_at,
                      closed_at=None, sent_at=last - timedelta(days=3))  # fmt: skip
    items = Items([], [], [earlier], {})
    assert items.closing_for({1}, None, last, set()) == []  # shown in the earlier digest
