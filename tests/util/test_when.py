"""One parser for the moments people type: day words in Dutch and English, Amsterdam time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.i18n import TIMEZONE
from bot.util.when import parse_moment

NOW = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)  # Thursday 26 November, 19:00 in Amsterdam


def _local(text: str, now: datetime = NOW) -> tuple[date, time] | None:
    moment = parse_moment(text, now)
    if moment is None:
        return None
    here = moment.astimezone(TIMEZONE)
    return here.date(), here.time()


@pytest.mark.parametrize(
    ("typed", "day", "clock"),
    [
        ("morgen 10:00", date(2026, 11, 27), time(10, 0)),
        ("Morgen om 10.00 uur", date(2026, 11, 27), time(10, 0)),
        ("tomorrow 10:00", date(2026, 11, 27), time(10, 0)),
        ("tomorrow at 2pm", date(2026, 11, 27), time(14, 0)),
        ("vandaag 20:00", date(2026, 11, 26), time(20, 0)),
        ("today 20:00", date(2026, 11, 26), time(20, 0)),
        ("overmorgen 9:30", date(2026, 11, 28), time(9, 30)),
        ("the day after tomorrow 9:30", date(2026, 11, 28), time(9, 30)),
        ("zaterdag 14:00", date(2026, 11, 28), time(14, 0)),
        ("za 14u30", date(2026, 11, 28), time(14, 30)),
        ("saturday 2pm", date(2026, 11, 28), time(14, 0)),
        ("Sat 2:30 PM", date(2026, 11, 28), time(14, 30)),
        ("aanstaande maandag 9u", date(2026, 11, 30), time(9, 0)),
        ("donderdag 21:00", date(2026, 11, 26), time(21, 0)),  # today, still ahead
        ("donderdag 10:00", date(2026, 12, 3), time(10, 0)),  # today's has passed: next week
        ("morgen", date(2026, 11, 27), time(20, 0)),  # a day alone: the evening
        ("12-12 20:00", date(2026, 12, 12), time(20, 0)),
        ("12-12 8pm", date(2026, 12, 12), time(20, 0)),
        # The other languages of the bot: the words come from Babel's CLDR data.
        ("yarın saat 10:00", date(2026, 11, 27), time(10, 0)),
        ("Cumartesi 14:00", date(2026, 11, 28), time(14, 0)),
        ("jutro o 10:00", date(2026, 11, 27), time(10, 0)),
        ("pojutrze 9:30", date(2026, 11, 28), time(9, 30)),
        ("sobota 14:00", date(2026, 11, 28), time(14, 0)),
        ("Завтра о 10:00", date(2026, 11, 27), time(10, 0)),
        ("пʼятниця 18:00", date(2026, 11, 27), time(18, 0)),
        ("غدًا 10:00", date(2026, 11, 27), time(10, 0)),
        ("غدا الساعة 10:00", date(2026, 11, 27), time(10, 0)),  # typed without vowel marks
        ("السبت 14:00", date(2026, 11, 28), time(14, 0)),
        ("١٢-١٢ ٢٠:٠٠", date(2026, 12, 12), time(20, 0)),  # Arabic-Indic digits
    ],
)
def test_day_words_and_times(typed: str, day: date, clock: time) -> None:
    assert _local(typed) == (day, clock)


@pytest.mark.parametrize(
    "typed",
    ["morgenavond", "morgen 25:00", "saturday 13pm", "gisteren 10:00", "blauw 10:00",
     "morgen 10:00 of 11:00", "0pm", "", "zaterdag zondag"],
)  # fmt: skip
def test_what_is_not_a_moment(typed: str) -> None:
    assert parse_moment(typed, NOW) is None


def test_a_time_earlier_today_is_in_the_past() -> None:
    moment = parse_moment("vandaag 9:00", NOW)
    assert moment is not None and moment < NOW


def test_daylight_saving_time_is_followed() -> None:
    saturday = datetime(2027, 3, 27, 12, 0, tzinfo=UTC)  # clocks go forward that night
    assert parse_moment("morgen 10:00", saturday) == datetime(2027, 3, 28, 8, 0, tzinfo=UTC)
    assert parse_moment("vandaag 10:00", datetime(2027, 3, 27, 6, 0, tzinfo=UTC)) == datetime(
        2027, 3, 27, 9, 0, tzinfo=UTC
    )


LOW = datetime(2020, 1, 1, tzinfo=UTC).replace(tzinfo=None)  # hypothesis wants naive bounds
HIGH = datetime(2035, 1, 1, tzinfo=UTC).replace(tzinfo=None)
WORDS = {"vandaag": 0, "today": 0, "morgen": 1, "tomorrow": 1, "overmorgen": 2}


@given(
    now=st.datetimes(min_value=LOW, max_value=HIGH),
    word=st.sampled_from(sorted(WORDS)),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
)
def test_any_day_word_gives_that_wall_clock_time(
    now: datetime, word: str, hour: int, minute: int
) -> None:
    aware = now.replace(tzinfo=UTC)
    got = _local(f"{word} {hour}:{minute:02d}", aware)
    expected_day = aware.astimezone(TIMEZONE).date() + timedelta(days=WORDS[word])
    assert got is not None and got[0] == expected_day
    if not (expected_day.month == 3 and hour == 2):  # 02:xx does not exist when DST starts
        assert got[1] == time(hour, minute)


@given(
    now=st.datetimes(min_value=LOW, max_value=HIGH),
    day=st.sampled_from(["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag",
                         "zondag", "monday", "tuesday", "wednesday", "thursday", "friday",
                         "saturday", "sunday"]),
)  # fmt: skip
def test_a_weekday_is_the_next_one_within_a_week(now: datetime, day: str) -> None:
    aware = now.replace(tzinfo=UTC)
    moment = parse_moment(f"{day} 12:00", aware)
    assert moment is not None and aware < moment <= aware + timedelta(days=7)


def test_next_weeks_weekday_keeps_its_wall_clock_time_across_dst() -> None:
    sunday_noon = datetime(2027, 3, 21, 12, 0, tzinfo=UTC)  # 13:00 in Amsterdam, winter time
    assert _local("zondag 10:00", sunday_noon) == (date(2027, 3, 28), time(10, 0))
