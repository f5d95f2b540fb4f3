from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.digests import Items
from storage.repo.digests import PollRow


def test_daily_misses_poll_closing_within_a_day() -> None:
    day1 = datetime(2026, 11, 2, 18, 0, tzinfo=UTC)   # 19:00 Amsterdam, last digest
    now = day1 + timedelta(days=1)                     # today's digest
    poll = PollRow(7, 1, None, "Q?", ["a", "b"], closes_at=now + timedelta(hours=15), closed_at=None)
    items = Items([], [], [poll], {})
    got = items.closing_for({1}, set(), day1, set())
    print(got)
    assert got == []  # poll sent after the last digest, closes before the next one: never shown
