"""The number of SQL statements a digest run sends does not grow with the residents."""

from __future__ import annotations

from bench.digest.bench_digest import add_items, add_places, add_residents, build_once
from storage.db import Database


async def test_query_count_does_not_grow_with_residents(db_url: str) -> None:
    db = Database(db_url)
    try:
        await add_places(db)
        await add_residents(db, 1, 40)
        await add_items(db, 40, 300)
        few_messages, _s, few_queries, _mb = await build_once(db)
        await add_residents(db, 41, 400)
        many_messages, _s, many_queries, _mb = await build_once(db)
    finally:
        await db.dispose()
    assert 0 < few_messages < many_messages
    assert many_queries == few_queries <= 22  # +2: initiative news, their supporters


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
