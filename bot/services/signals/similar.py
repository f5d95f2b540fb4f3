"""Is a new report one we already have? Pure rules, tested without a database."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from bot.core.i18n import fold
from bot.util.geo import distance_m

NEARBY_M = 100.0
SIMILAR_TEXT = 0.6


@dataclass(frozen=True)
class Known:
    id: int
    category: str
    text: str
    lat: float | None
    lon: float | None
    address: str | None = None


@dataclass(frozen=True)
class Match:
    known: Known
    metres: float | None
    similarity: float


def likely_same(
    text: str,
    category: str | None,
    lat: float | None,
    lon: float | None,
    address: str | None,
    known: list[Known],
    limit: int = 3,
) -> list[Match]:
    """Open reports that may be the same problem: same kind within ~100 m, or alike in words."""
    wanted = fold(text)
    where = fold(address or "")
    found: list[Match] = []
    for k in known:
        metres = None
        if lat is not None and lon is not None and k.lat is not None and k.lon is not None:
            metres = distance_m(lat, lon, k.lat, k.lon)
        similarity = difflib.SequenceMatcher(None, wanted, fold(k.text)).ratio()
        same_kind = category is None or category == "other" or k.category in (category, "other")
        near = metres is not None and metres <= NEARBY_M
        same_street = bool(where) and where == fold(k.address or "")
        if (same_kind and (near or same_street)) or similarity >= SIMILAR_TEXT:
            found.append(Match(k, metres, similarity))
    found.sort(key=lambda m: (m.metres if m.metres is not None else NEARBY_M, -m.similarity))
    return found[:limit]
