"""Reading a date and time people type, in Europe/Amsterdam; stored as UTC.

This is the one parser for moments people type (poll closing, announcement events, budget
voting times). It knows numeric dates ("12-12 20:00", "2026-12-12 20:00") and day words in
every language of the bot ("morgen 10:00", "zaterdag 14u", "tomorrow 2pm", "yarın 10:00",
"jutro 10:00", "завтра 10:00", "غدًا 10:00"): the words come from Babel's CLDR data, plus a few
Dutch and English short forms people type.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta

from babel import Locale

from bot.config import SUPPORTED_LOCALES
from bot.core.i18n import TIMEZONE, _, when

DEFAULT_HOUR = time(20, 0)  # a day without a time means the evening

_TIME = (
    r"(?:(?:om|at|saat|o|о|الساعة|في)\s+)?(?P<h>\d{1,2})(?:[:.u](?P<mi>\d{2}))?"
    r"\s*(?P<suffix>uur|u|h|am|pm|a\.m\.|p\.m\.)?"
)
_DATE = re.compile(
    r"^(?:(?P<y1>\d{4})-(?P<m1>\d{1,2})-(?P<d1>\d{1,2})"
    r"|(?P<d2>\d{1,2})[-/.](?P<m2>\d{1,2})(?:[-/.](?P<y2>\d{2,4}))?)"
    rf"(?:(?:,?\s+|T){_TIME})?$",
    re.IGNORECASE,
)
_WORD_DAY = re.compile(
    r"^(?:(?:aanstaande|a\.s\.|komende|deze|this|next|coming)\s+)?"
    rf"(?P<word>[^\W\d_][^\d,]*?)(?:,?\s+{_TIME})?$",
    re.IGNORECASE,
)


def fold_word(text: str) -> str:
    """A typed day word, compared without case, accents, Arabic vowel marks or a final dot."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.replace("ʼ", "'").replace("’", "'").split()).rstrip(".")


def _cldr_words() -> tuple[dict[str, int], dict[str, int]]:
    """Today/tomorrow/the day after, and the weekdays, in every language the bot speaks."""
    relative: dict[str, int] = {}
    weekdays: dict[str, int] = {}
    for code in SUPPORTED_LOCALES:
        locale = Locale.parse(code)
        # Babel has no public accessor for CLDR's relative day names ("tomorrow").
        fields = locale._data["date_fields"].get("day", {}).get("relative", {})
        relative.update({fold_word(word): n for n, word in fields.items() if n >= 0})
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated", "short"):
                names = locale.days[context][width]
                weekdays.update({fold_word(name): day for day, name in names.items()})
    return relative, weekdays


_CLDR_RELATIVE, _CLDR_WEEKDAYS = _cldr_words()
# Days counted from today (CLDR has no "the day after tomorrow" in English).
RELATIVE_DAYS = {**_CLDR_RELATIVE, "day after tomorrow": 2, "the day after tomorrow": 2}
# Monday is 0, as in date.weekday(); CLDR has the short forms too, but not these.
WEEKDAYS = {**_CLDR_WEEKDAYS, "tues": 1, "thur": 3, "thurs": 3}


def local(moment: datetime) -> datetime:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(TIMEZONE)


def at_local(day: date, clock_time: time) -> datetime:
    """A wall-clock moment in Amsterdam as UTC (the zone's DST rules decide the offset)."""
    return datetime.combine(day, clock_time, tzinfo=TIMEZONE).astimezone(UTC)


def in_days(now: datetime, days: int, clock_time: time = DEFAULT_HOUR) -> datetime:
    return at_local(local(now).date() + timedelta(days=days), clock_time)


def _clock_time(g: dict[str, str | None], default_time: time) -> time:
    """Raises ValueError for a time that does not exist (25:00, 13pm)."""
    if g["h"] is None:
        return default_time
    hour, minute = int(g["h"]), int(g["mi"] or 0)
    suffix = (g["suffix"] or "").lower().replace(".", "")
    if suffix in ("am", "pm"):
        if not 1 <= hour <= 12:
            raise ValueError(hour)
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    return time(hour, minute)


def _numeric(m: re.Match[str], now: datetime, default_time: time) -> datetime:
    g = m.groupdict()
    day_n = int(g["d1"] or g["d2"])
    month = int(g["m1"] or g["m2"])
    year_text = g["y1"] or g["y2"]
    clock_time = _clock_time(g, default_time)
    if year_text is None:  # the next such date from now
        today = local(now).date()
        moment = at_local(date(today.year, month, day_n), clock_time)
        if moment <= now:
            moment = at_local(date(today.year + 1, month, day_n), clock_time)
        return moment
    year = int(year_text)
    year += 2000 if year < 100 else 0
    return at_local(date(year, month, day_n), clock_time)


def _worded(m: re.Match[str], now: datetime, default_time: time) -> datetime | None:
    word = fold_word(m["word"])
    clock_time = _clock_time(m.groupdict(), default_time)
    today = local(now).date()
    if word in RELATIVE_DAYS:  # may lie in the past ("vandaag 9:00" in the evening)
        return at_local(today + timedelta(days=RELATIVE_DAYS[word]), clock_time)
    if word not in WEEKDAYS:
        return None
    day = today + timedelta(days=(WEEKDAYS[word] - today.weekday()) % 7)
    moment = at_local(day, clock_time)
    return moment if moment > now else at_local(day + timedelta(days=7), clock_time)


def parse_moment(text: str, now: datetime, default_time: time = DEFAULT_HOUR) -> datetime | None:
    """'morgen 10:00', 'zaterdag 2pm', '12-12 20:00', '12/12/2026 9.30', '2026-12-12 20:00' or
    a day alone (at `default_time`); None if it is not a moment.

    A date without a year is the next such date from now; a weekday is the next one (today if
    the time is still ahead). Today's words may give a moment in the past: callers say so.
    """
    typed = " ".join(text.strip().split())
    try:
        if (m := _DATE.match(typed)) is not None:
            return _numeric(m, now, default_time)
        if (m := _WORD_DAY.match(typed)) is not None:
            return _worded(m, now, default_time)
    except ValueError:  # 31-02, 25:00, 13pm …
        return None
    return None


def passed(now: datetime) -> str:
    """The kind answer to a moment that is already over."""
    return _(
        "That moment has already passed: it is now {now}. "
        "Please type a later moment, like tomorrow 10:00."
    ).format(now=when(now))
