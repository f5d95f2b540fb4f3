"""Telegram's limits across workers when every worker sends (WIJKBOT_OUTBOX_SENDERS=all).

Each worker's limiter (limits.py) knows only its own sends. With every worker sending, two
more things hold the limits across them (PostgreSQL):

* Overall (30 a second): a token bucket per platform in the database
  (storage/repo/send_budget.py). A worker takes a token before each send, a few at once,
  and waits the time the bucket names when none are left. A bucket lets through at most
  `burst + rate × T` in any T seconds, while Telegram (and our stand-in) count 30 in any
  one second, so `burst + rate` stays under 30, with one burst to spare for a send that
  arrives a little after its token was taken: burst 2, 26 a second. That is 13 % below
  what one sender alone reaches (30 a second): the price of sharing, with limits on.
* Per chat (1 a second, 20 a minute in a group): a chat another worker sent to within the
  last second (a group: the last minute) is not claimed (`recent_since`). A group thus
  stays with one worker while it is busy, and that worker's limiter counts all of its
  sends: exact, not an approximation.

With no limits (Matrix, or limits lifted) neither runs: no budget statement, no extra
condition in the claim.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.delivery.limits import RateLimits, Window
from storage.db import Database
from storage.repo import send_budget

SHORTEST_WAIT = 0.005  # seconds: never ask the database again at once


def bucket(window: Window) -> tuple[float, float]:
    """(tokens a second, most tokens at once) for at most `count` sends in any `span` s."""
    count, span = window
    burst = max(1, count // 15)
    return max(1, count - 2 * burst) / span, float(burst)


def recent_since(limits: RateLimits, now: datetime) -> tuple[datetime, datetime] | None:
    """Since when another worker's send holds a chat: (direct chats, groups); None if never."""
    direct = limits.per_chat[1] if limits.per_chat else 0.0
    group = max(direct, limits.per_group[1] if limits.per_group else 0.0)
    if group <= 0:
        return None
    return now - timedelta(seconds=direct), now - timedelta(seconds=group)


class SharedBudget:
    """The overall limit of each platform, shared by every worker through the database."""

    def __init__(self, db: Database, at: Callable[[], datetime] | None = None) -> None:
        self.db = db
        self.at = at  # a simulated moment (tests); None: the database's clock

    async def take(self, platform: str, window: Window, want: int) -> tuple[int, float]:
        """Take tokens for up to `want` sends: (how many may go now, seconds to wait before
        asking again when that is fewer). One short transaction."""
        rate, burst = bucket(window)
        async with self.db.transaction() as session:
            taken, left = await send_budget.take(
                session, platform, max(1, want), rate, burst, self.at() if self.at else None
            )
        need = min(max(1, want) - taken, burst)
        wait = (need - left) / rate
        if not math.isfinite(wait):
            wait = burst / rate
        return taken, min(max(wait, SHORTEST_WAIT), burst / rate)
