"""gettext catalogs from locales/, the current locale in a ContextVar, Babel formatting.

`_` translates into the locale of the event being handled; `use_locale` switches it
for a message to somebody else (feedback to a reporter in their own language).

Right-to-left languages (Arabic): what a message fills in ("M-1001", "€42.000", a date, a
URL, an @name) is wrapped in Unicode bidi isolation (FSI … PDI), so it keeps its own order
inside the right-to-left sentence. That happens here, in `.format()` of what `_` and
`ngettext` return, so no message has to think of it; a line built from parts only (a list
item, a help line) goes through `compose` for the same.
"""

from __future__ import annotations

import gettext as _gettext
import io
import os
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from bot.config import LANGUAGES

DOMAIN = "wijkbot"
# The repository's locales/ in a checkout; an installed copy (the Docker image) names its own.
LOCALES_DIR = Path(
    os.environ.get("WIJKBOT_LOCALES_DIR") or Path(__file__).resolve().parents[2] / "locales"
)
TIMEZONE = ZoneInfo("Europe/Amsterdam")

_current: ContextVar[str] = ContextVar("wijkbot_locale", default="nl")


class _MissRecorder(_gettext.NullTranslations):
    """The last fallback: notes each msgid a catalog lacks (WIJKBOT_I18N_MISSES, for tests)."""

    def __init__(self, locale: str, log: Path) -> None:
        super().__init__()
        self.locale, self.log = locale, log

    def _note(self, msgid: str) -> None:
        with self.log.open("a", encoding="utf-8") as fh:
            fh.write(f"{self.locale}\t{msgid!r}\n")

    def gettext(self, message: str) -> str:
        self._note(message)
        return message

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        self._note(msgid1)
        return msgid1 if n == 1 else msgid2


@cache
def translations(locale: str) -> _gettext.NullTranslations:
    found = _catalog(locale)
    if misses := os.environ.get("WIJKBOT_I18N_MISSES"):
        found.add_fallback(_MissRecorder(locale, Path(misses)))
    return found


def _catalog(locale: str) -> _gettext.NullTranslations:
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
    return short if short in LANGUAGES else default


FSI, PDI = "\u2068", "\u2069"  # first-strong isolate … pop directional isolate
RLM = "\u200f"  # right-to-left mark


@cache
def right_to_left(locale: str) -> bool:
    return bool(Locale.parse(locale).text_direction == "rtl")


def isolate(value: object) -> object:
    """A filled-in text kept in its own direction. Numbers keep their type (a format spec
    like {pct:.0f} needs it), and a block of several lines is left alone."""
    if isinstance(value, str) and value and "\n" not in value and not value.startswith(FSI):
        return FSI + value + PDI
    return value


_SLASHED = re.compile(r"/\{(\w+)\}")


class _RightToLeft(str):
    """A translated right-to-left message whose `.format()` isolates what it fills in."""

    __slots__ = ()

    def format(self, *args: object, **kwargs: object) -> str:
        # "/{command}": the slash goes inside the isolation with the name ("⁨/gesprek⁩"), so
        # it stays in front of it, and Matrix still sees a command to show as "!gesprek".
        slashed = {f"{m}/": f"/{kwargs[m]}" for m in _SLASHED.findall(self) if m in kwargs}
        template = _SLASHED.sub(lambda m: f"{{{m[1]}/}}" if m[1] in kwargs else m[0], self)
        filled = {k: isolate(v) for k, v in {**kwargs, **slashed}.items()}
        return str.format(template, *map(isolate, args), **filled)


def _directed(text: str) -> str:
    return _RightToLeft(text) if right_to_left(_current.get()) else text


def _(message: str) -> str:
    return _directed(translations(_current.get()).gettext(message))


def ngettext(singular: str, plural: str, n: int) -> str:
    return _directed(translations(_current.get()).ngettext(singular, plural, n))


def compose(template: str, **values: object) -> str:
    """A line put together from parts rather than words ("{code} {title} – {cost}"): in a
    right-to-left language each part is isolated, as in a translated message, and a
    right-to-left mark in front makes the line itself read right to left."""
    if not right_to_left(_current.get()):
        return template.format(**values)
    return RLM + _RightToLeft(template).format(**values)


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
