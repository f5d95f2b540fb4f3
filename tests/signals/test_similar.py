"""Duplicate detection rules."""

from __future__ import annotations

from bot.services.signals.similar import Known, likely_same
from bot.util.geo import distance_m

TILE = Known(1, "road", "Losliggende stoeptegel", 52.37020, 4.65810)
TREE = Known(2, "greenery", "Boom hangt over het fietspad", 52.37030, 4.65820)
FAR = Known(3, "road", "Gat in de weg", 52.38500, 4.62000)
STREET = Known(4, "waste", "Afval naast de container", None, None, "Europaweg 12")


def test_distance_is_sane() -> None:
    # One thousandth of a degree of latitude is about 111 m.
    assert 110 < distance_m(52.0, 4.6, 52.001, 4.6) < 112


def test_same_kind_nearby_matches_other_kind_does_not() -> None:
    found = likely_same("Tegel ligt los", "road", 52.37025, 4.65815, None, [TILE, TREE, FAR])
    assert [m.known.id for m in found] == [1]
    assert found[0].metres is not None and found[0].metres < 10


def test_similar_words_match_without_location() -> None:
    found = likely_same("losliggende stoeptegel!", None, None, None, None, [TILE, TREE, FAR])
    assert [m.known.id for m in found] == [1]


def test_same_address_matches() -> None:
    found = likely_same("Vuilniszakken", "waste", None, None, "europaweg 12", [STREET, TILE])
    assert [m.known.id for m in found] == [4]


def test_nothing_alike() -> None:
    assert likely_same("Hondenpoep", "waste", 52.40, 4.70, None, [TILE, TREE, FAR]) == []
