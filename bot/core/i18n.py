"""gettext catalogs from locales/, the current locale in a ContextVar, Babel formatting.

`_` translates into the locale of the event being handled; `use_locale` switches it
for a message to somebody else (feedback to a reporter in their own language).
"""

from __future__ import annotations

import gettext as _gettext
import io
import os
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from bot.config import SUPPORTED_LOCALES

DOMAIN = "wijkbot"
# The repository's locales/ in a checkout; an installed copy (the Docker image) names its own.
LOCALES_DIR = Path(
    os.environ.get("WIJKBOT_LOCALES_DIR") or Path(__file__).resolve().parents[2] / "locales"
)
TIMEZONE = ZoneInfo("Europe/Amsterdam")

_current: ContextVar[str] = ContextVar("wijkbot_locale", default="nl")


@cache
def translations(locale: str) -> _gettext.NullTranslations:
    """Compiled catalog; compiled in memory from the .po when no .mo is present."""
    mo = LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
    po = mo.with_suffix(".po")
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fh:
            return _gettext.GNUTranslations(fh)
    if po.is_file():
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        return _gettext.GNUTranslations(buf)
    return _gettext.NullTranslations()


def current_locale() -> str:
    return _current.get()


def set_locale(locale: str) -> None:
    _current.set(normalise_locale(locale))


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    token = _current.set(normalise_locale(locale))
    try:
        yield
    finally:
        _current.reset(token)


def normalise_locale(code: str | None, default: str = "nl") -> str:
    if not code:
        return default
    short = code.replace("_", "-").split("-")[0].lower()
    return short if short in SUPPORTED_LOCALES else default


def _(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a string for extraction; translate it later with `_`."""
    return message


def number(value: int | float | Decimal) -> str:
    return format_decimal(value, locale=_current.get())


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def when(moment: datetime) -> str:
    return format_datetime(
        _utc(moment).astimezone(TIMEZONE), "d MMMM, HH:mm", locale=_current.get()
    )


def day(moment: datetime) -> str:
    return format_datetime(_utc(moment).astimezone(TIMEZONE), "d MMM", locale=_current.get())


def fold(text: str) -> str:
    """Case- and accent-insensitive form for forgiving matches ('Indische buurt' ~ 'indische')."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.replace("-", " ").split())
