"""Cleaning what people type: one place for length limits and odd unicode."""

from __future__ import annotations

import re
import unicodedata

MAX_TEXT = 4000
MAX_TITLE = 120
MAX_NAME = 64  # a display name as we store and show it (platforms allow far longer ones)

# Bidirectional overrides and isolates can make text display differently than it reads;
# right-to-left scripts themselves are kept.
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def clean(text: str) -> str:
    """NFC-normalise, drop control characters (not newlines) and bidi overrides, trim."""
    text = unicodedata.normalize("NFC", text).translate(_BIDI_CONTROLS)
    kept = [
        ch
        for ch in text
        if ch in "\n\t"
        or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")
        or ch == "\u200d"  # zero-width joiner keeps emoji sequences intact
    ]
    lines = ["".join(line).rstrip() for line in "".join(kept).split("\n")]
    return "\n".join(lines).strip()


def clean_name(name: str | None) -> str | None:
    """A display name on one line, without control characters, at most MAX_NAME long."""
    if name is None:
        return None
    flat = " ".join(clean(name).split())
    if len(flat) > MAX_NAME:
        flat = flat[: MAX_NAME - 1].rstrip() + "…"
    return flat or None


def has_words(text: str, minimum: int = 2) -> bool:
    """At least `minimum` letters or digits, in any script (so not only emoji or dots)."""
    return sum(1 for ch in text if unicodedata.category(ch)[0] in "LN") >= minimum


def first_line(text: str, limit: int = MAX_TITLE) -> str:
    line = text.strip().split("\n", 1)[0].strip()
    if len(line) <= limit:
        return line
    cut = line[: limit - 1].rsplit(" ", 1)[0]
    return (cut or line[: limit - 1]) + "…"


MAX_WHOLE = 2**31 - 1  # the largest id (or count) the databases hold


def whole_number(text: str, at_most: int = MAX_WHOLE) -> int | None:
    """A whole number typed with decimal digits of any script ("3", "٣", "３"), or None.

    `str.isdigit` also accepts "²", which `int()` refuses, and `int()` refuses more than
    4,300 digits: a number typed or pressed by anyone goes through here instead.
    """
    if not (0 < len(text) <= len(str(at_most)) and text.isdecimal()):
        return None
    value = int(text)
    return value if value <= at_most else None


# A comma as people type it: Latin, Arabic (U+060C), ideographic and full-width.
_LIST_SEPARATORS = re.compile("[,\u060c\u3001\uff0c]")


def listed(text: str) -> list[str]:
    """The items of a typed list ("Noord, Zuid" or "الشمال، الجنوب"), cleaned, each once."""
    return list(dict.fromkeys(item for item in map(clean, _LIST_SEPARATORS.split(text)) if item))
