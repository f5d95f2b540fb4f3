"""Reading a date and time people type, in Europe/Amsterdam; stored as UTC."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from bot.core.i18n import TIMEZONE

DEFAULT_HOUR = time(20, 0)  # a day without a time means the evening
_DATE = re.compile(
    r"^(?:(?P<y1>\d{4})-(?P<m1>\d{1,2})-(?P<d1>\d{1,2})"
    r"|(?P<d2>\d{1,2})[-/.](?P<m2>\d{1,2})(?:[-/.](?P<y2>\d{2,4}))?)"
    r"(?:(?:\s+|T)(?:om\s+|at\s+)?(?P<h>\d{1,2})(?:[:.](?P<mi>\d{2}))?(?:\s*u(?:ur)?)?)?$",
    re.IGNORECASE,
)


def local(moment: datetime) -> datetime:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(TIMEZONE)


def at_local(day: date, clock_time: time) -> datetime:
    """A wall-clock moment in Amsterdam as UTC (the zone's DST rules decide the offset)."""
    return datetime.combine(day, clock_time, tzinfo=TIMEZONE).astimezone(UTC)


def in_days(now: datetime, days: int, clock_time: time = DEFAULT_HOUR) -> datetime:
    return at_local(local(now).date() + timedelta(days=days), clock_time)


def parse_moment(text: str, now: datetime, default_time: time = DEFAULT_HOUR) -> datetime | None:
    """'12-12 20:00', '12/12/2026 9.30', '2026-12-12 20:00' or '12-12' (at `default_time`);
    None if it is not a date.

    A date without a year is the next such date from now.
    """
    m = _DATE.match(" ".join(text.strip().split()))
    if m is None:
        return None
    g = m.groupdict()
    try:
        day_n = int(g["d1"] or g["d2"])
        month = int(g["m1"] or g["m2"])
        year_text = g["y1"] or g["y2"]
        hour = int(g["h"]) if g["h"] is not None else default_time.hour
        minute = int(g["mi"]) if g["mi"] is not None else default_time.minute
        clock_time = time(hour, minute)
        today = local(now).date()
        if year_text is None:
            moment = at_local(date(today.year, month, day_n), clock_time)
            if moment <= now:
                moment = at_local(date(today.year + 1, month, day_n), clock_time)
            return moment
        year = int(year_text)
        year += 2000 if year < 100 else 0
        return at_local(date(year, month, day_n), clock_time)
    except ValueError:  # 31-02, 25:00 …
        return None
