"""Finding a Dutch address in what someone typed, so a report that names one is not asked
"Where is it?" again ("Losse tegel bij Kennemerplein 12").

Deliberately careful: a capitalised street name ("Europaweg"), a lower-case one with a house
number ("amsterdamstraat 30") or a postcode ("2035 AB"). Ordinary words that end like a
street ("fietspad", "de weg") are not addresses.
"""

from __future__ import annotations

import re

STREET_ENDINGS = (
    "straat|laan|weg|plein|kade|gracht|singel|dijk|pad|steeg|hof|dreef|baan|markt"
    "|plantsoen|wal|dam|boulevard|park|erf|dwarsstraat|vaart|burg|oord|zijde"
)
_NUMBER = r"\s+\d{1,5}(?:\s?-?[a-zA-Z](?![a-zA-Z]))?"
_PARTICLES = r"(?:(?:[A-Z][\w'.-]*|van|de|der|den|het|ter|ten|la|le)\s+){0,3}"
_STREET = re.compile(
    rf"\b(?P<street>{_PARTICLES}[A-Z][\w'-]*?(?:{STREET_ENDINGS})(?:{_NUMBER})?"
    rf"|[a-z][\w'-]*?(?:{STREET_ENDINGS}){_NUMBER})\b"
)
_POSTCODE = re.compile(r"\b[1-9]\d{3}\s?[A-Z]{2}\b")
# Words that start a sentence or a place but are no part of a street's name.
_NOT_PART = {"bij", "op", "in", "aan", "voor", "naast", "achter", "tegenover", "langs", "near",
             "at", "on", "by", "de", "het"}  # fmt: skip


def address_in(text: str) -> str | None:
    """The first address-like part of `text`, or None."""
    m = _STREET.search(text)
    if m is not None:
        words = m["street"].split()
        while len(words) > 1 and words[0].lower() in _NOT_PART:
            words = words[1:]
        return " ".join(words)
    m = _POSTCODE.search(text)
    return m.group(0) if m is not None else None


_HOUSE_NUMBER = re.compile(rf"(?:{_NUMBER})$")


def street_of(address: str | None) -> str | None:
    """Only the street's name of an address someone typed ("Kennemerplein 12" → "Kennemerplein"),
    or None when it names no street (a postcode, a description, a name)."""
    if not address:
        return None
    m = _STREET.search(address)
    if m is None:
        return None
    words = _HOUSE_NUMBER.sub("", m["street"]).split()
    while len(words) > 1 and words[0].lower() in _NOT_PART:
        words = words[1:]
    return " ".join(words) or None
