"""The public page names a report's street, never a house number or a typed description."""

from __future__ import annotations

import pytest

from bot.util.address import street_of


@pytest.mark.parametrize(
    ("typed", "street"),
    [
        ("Kennemerplein 12", "Kennemerplein"),
        ("amsterdamstraat 30a", "amsterdamstraat"),
        ("bij de Van Oosten de Bruynstraat 4-b", "Van Oosten de Bruynstraat"),
        ("2035 AB", None),  # a postcode points at a few houses
        ("achter het huis van Piet de Vries", None),
        ("", None),
        (None, None),
    ],
)
def test_only_the_street(typed: str | None, street: str | None) -> None:
    assert street_of(typed) == street
