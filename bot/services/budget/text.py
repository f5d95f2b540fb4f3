"""Reading and writing amounts and times for budget rounds, the way people type them.

Pure functions: "€ 70.000", "70000", "70.000,-" and "70,000" are all seventy thousand euros;
"1-12-2026 19:00" is a time in Europe/Amsterdam.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Literal

from babel import Locale
from babel.numbers import format_currency, format_decimal

from bot.core.i18n import current_locale
from bot.util import when

MAX_EUROS = 100_000_000  # more than any neighbourhood budget: a typo, not a plan
MAX_DESCRIPTION = 1000

Problem = Literal["not_a_number", "negative", "zero", "too_large", "cents"]


@dataclass(frozen=True)
class Amount:
    euros: int | None
    problem: Problem | None = None


_GROUPED = re.compile(r"^\d{1,3}([.,\s])\d{3}(?:\1\d{3})*$")
_CENTS = re.compile(r"^(.*?)[.,](\d{1,2}|-{1,2})$")


def parse_euros(typed: str) -> Amount:
    """Whole euros from what someone typed; the problem when it is not usable."""
    text = typed.strip().lower().replace("\u00a0", " ")
    text = re.sub(r"^(€|eur|euro)\s*|\s*(€|eur|euro|euros)$", "", text).strip()
    negative = text.startswith(("-", "−"))
    text = text.lstrip("-−").strip()
    m = _CENTS.match(text)
    if m and not _GROUPED.match(text):
        text, cents = m.group(1), m.group(2)
        if cents.strip("-0"):
            return Amount(None, "cents")
    if _GROUPED.match(text):
        text = re.sub(r"[.,\s]", "", text)
    if not text.isdigit() or not text.isascii():
        return Amount(None, "not_a_number")
    euros = int(text)
    if negative and euros:
        return Amount(None, "negative")
    if euros == 0:
        return Amount(None, "zero")
    if euros > MAX_EUROS:
        return Amount(None, "too_large")
    return Amount(euros)


def parse_count(typed: str, *, low: int, high: int) -> int | None:
    text = typed.strip()
    if not text.isdigit() or not text.isascii():
        return None
    n = int(text)
    return n if low <= n <= high else None


def euros(amount: int) -> str:
    """€42.000 in Dutch, €42,000 in English; other languages by Babel's currency pattern,
    without cents: 42 000 € in Polish."""
    locale = current_locale()
    if locale in ("nl", "en"):
        return "€" + format_decimal(amount, locale=locale)
    pattern = Locale.parse(locale).currency_formats["standard"].pattern.split(";")[0]
    whole = pattern.replace(".00", "").replace("\u200f", "")  # the bidi mark: see i18n.isolate
    return format_currency(amount, "EUR", format=whole, locale=locale, currency_digits=False)


def parse_moment(typed: str, now: datetime) -> datetime | None:
    """A day and time in Europe/Amsterdam: "1-12-2026 19:00", "1-12 19:00", "2026-12-01 19:00".

    Without a year: the next such day. Without a time: midnight at the start of that day.
    """
    return when.parse_moment(typed, now, default_time=time(0, 0))
