"""Where a report is, as far as the public may know: the street's name without a house
number, and coordinates rounded — to ~100 m for sensitive categories (safety), where a
neighbour could otherwise point at a front door, and to ~10 m for the rest."""

from __future__ import annotations

from dataclasses import dataclass

from bot.util.address import street_of
from storage.models import Signal

SENSITIVE_CATEGORIES = frozenset({"safety"})
BLURRED, PLAIN = 3, 4  # decimals of a degree: 0.001° ≈ 110 m north-south, 70 m east-west here


@dataclass(frozen=True)
class PublicPlace:
    lat: float | None
    lon: float | None
    street: str | None


def public_place(sig: Signal) -> PublicPlace:
    decimals = BLURRED if sig.category in SENSITIVE_CATEGORIES else PLAIN
    if sig.lat is None or sig.lon is None:
        return PublicPlace(None, None, street_of(sig.address))
    return PublicPlace(round(sig.lat, decimals), round(sig.lon, decimals), street_of(sig.address))
