"""When digests are due: 19:00 Amsterdam time (Mondays for weekly), the same across DST."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

PERIODS = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
DIGEST_TIME = time(19, 0)  # Europe/Amsterdam; Mondays for weekly digests
_AT = f"{DIGEST_TIME.minute} {DIGEST_TIME.hour}"
CRON = {"daily": f"{_AT} * * *", "weekly": f"{_AT} * * mon"}
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SLOT_SKEW = timedelta(minutes=1)


def slot(cadence: str, now: datetime) -> datetime:
    """The latest scheduled digest time (19:00 Amsterdam, Mondays for weekly) at `now`.

    A run that fires a little early (clock skew) still counts for the time it fired for.
    """
    local = (now + SLOT_SKEW).astimezone(AMSTERDAM)
    day = local.date()
    if cadence == "weekly":
        day -= timedelta(days=local.weekday())
    if datetime.combine(day, DIGEST_TIME, tzinfo=AMSTERDAM) > local:
        day -= PERIODS[cadence]  # by the calendar: 19:00 stays 19:00 across DST
    return datetime.combine(day, DIGEST_TIME, tzinfo=AMSTERDAM).astimezone(UTC)


def due_before(cadence: str, now: datetime) -> datetime:
    """Due: whose last digest is older than this (the latest scheduled time, less the skew
    an early run may have stamped)."""
    return slot(cadence, now) - SLOT_SKEW


def since_of(last: datetime | None, now: datetime, period: timedelta) -> datetime:
    """From the last digest; never further back than two periods (after a long pause)."""
    return max(last or now - period, now - 2 * period)
