"""/vergeetmij takes one name out of a named poll's results; the other names stay exact.

Names may hold spaces and commas, two voters may share a name, and only the first 20
names are listed: the line is read as known names, never split on commas.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.i18n import use_locale
from bot.services.polls import results_text, without_name
from storage.models import Poll
from storage.repo.polls import Tally

POLL = Poll(
    id=7, neighbourhood_id=1, question="Welke dag? Zondag!", options=["Ja", "Ja, graag", "Nee"],
    named=True, closes_at=datetime(2026, 12, 1, 18, 0, tzinfo=UTC), recipients=40, groups=1,
)  # fmt: skip


def _text(names: list[list[str]], locale: str = "en") -> str:
    with use_locale(locale):
        tally = Tally(counts=[len(n) for n in names], voters=9, names=names)
        return results_text(POLL, tally, closed=True)


def _counted(names: list[list[str]], kept: list[list[str]], locale: str = "en") -> str:
    """The results as counted at closing (with her), listing only the names in `kept`."""
    with use_locale(locale):
        tally = Tally(counts=[len(n) for n in names], voters=9, names=kept)
        return results_text(POLL, tally, closed=True)


@pytest.mark.parametrize(
    ("names", "chosen", "kept"),
    [
        # A name that begins another, and one with a comma in it.
        ([["Anna", "Anna Zwaan", "Berg, Anna"], [], []], {0}, [["Anna Zwaan", "Berg, Anna"], [], []]),
        ([["Anna Zwaan", "Berg, Anna", "Anna"], [], []], {0}, [["Anna Zwaan", "Berg, Anna"], [], []]),
        # Two voters called Anna: one stays.
        ([["Anna", "Bob", "Anna"], [], []], {0}, [["Bob", "Anna"], [], []]),
        # Another Anna chose "Ja, graag", this one "Ja" and "Nee".
        ([["Anna"], ["Anna"], ["Cor", "Anna"]], {0, 2}, [[], ["Anna"], ["Cor"]]),
        # The question says "Zondag!", an option name is inside another: nothing else changes.
        ([["Bob"], ["Anna", "Bob"], []], {1}, [["Bob"], ["Bob"], []]),
    ],
)  # fmt: skip
@pytest.mark.parametrize("locale", ["en", "nl"])
def test_one_name_leaves_the_results(
    names: list[list[str]], chosen: set[int], kept: list[list[str]], locale: str
) -> None:
    after = without_name(_text(names, locale), POLL, names, chosen, "Anna")
    assert after == _counted(names, kept, locale)  # the counts stay as they were counted


def test_only_the_first_twenty_names_are_listed() -> None:
    names = [[f"Buur {n:02}" for n in range(1, 24)], [], []]
    names[0][4] = "Anna"
    before = _text(names)
    assert "Anna" in before and "and 3 more" in before
    after = without_name(before, POLL, names, {0}, "Anna")
    listed = [n for n in names[0][:20] if n != "Anna"]
    assert "  " + ", ".join(listed) + " and 3 more\n" in after  # 19 names: nobody moves up
    late = [[f"Buur {n:02}" for n in range(1, 22)] + ["Anna"], [], []]
    assert without_name(_text(late), POLL, late, {0}, "Anna") == _text(late)  # never listed


def test_a_text_that_is_not_these_results_stays() -> None:
    names = [["Anna", "Bob"], [], []]
    other = "Results: Iets anders\n\n• Ja: 2 (100%)\n  Anna, Bobby\n• Nee: 0 (0%)"
    assert without_name(other, POLL, names, {0}, "Anna") == other  # "Bobby" is no voter here
