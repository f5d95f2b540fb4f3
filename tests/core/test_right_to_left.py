"""Arabic messages laid out by an independent Unicode Bidirectional Algorithm
(tests/support/bidi.py): what the bot fills in keeps its own order. The same messages
without isolation come out broken, so the check in tests/e2e/*/test_rtl* can fail."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import bot.core.i18n
from bot.core.i18n import _, use_locale, when
from bot.handlers.budget.common import project_line
from bot.handlers.help import resident_help
from bot.services.budget.text import euros
from storage.models import BudgetProject
from tests.support.bidi import layouts, out_of_order

REPORTED = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)


def messages() -> tuple[list[str], str]:
    """What an Arabic-speaking resident is sent, built by the bot's own code; and the date."""
    with use_locale("ar"):
        date = when(REPORTED)
        garden = BudgetProject(round_id=1, code="A", title="حديقة الحي", cost=12000)
        return [
            _(
                "Thank you! Your report has number {ref}. We will let you know what happens with it."
            ).format(ref="M-1001"),
            _("Your reports:")
            + "\n"
            + _("{ref} ({date}): {status}").format(ref="M-1001", date=date, status=_("new")),
            _("In your basket: {spent} of {budget}").format(
                spent=euros(12000), budget=euros(70000)
            ),
            "\n".join([_("Voting is open until {when}.").format(when=date), project_line(garden)]),
            resident_help(),
        ], date


def shown(message: str) -> list[str]:
    return [s for line in layouts(message) for s in line]


def test_what_is_filled_in_keeps_its_order() -> None:
    sent, date = messages()
    assert [w for m in sent for w in out_of_order(m, (date,))] == []
    thanks, _mine, basket, _listing, help_text = sent
    assert all("M-1001" in s for s in shown(thanks))
    assert [s for s in shown(help_text) if "/melding" in s]
    with use_locale("ar"):
        assert all(euros(12000) in s for s in shown(basket))  # "12,000 €", in one piece


def test_without_isolation_the_order_breaks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.core.i18n, "isolate", lambda value: value)
    monkeypatch.setattr(bot.core.i18n, "RLM", "")
    sent, date = messages()
    _thanks, _mine, basket, listing, help_text = sent
    broken = {i: out_of_order(m, (date,)) for i, m in enumerate(sent)}
    # The command: "melding/" in the help, once the message reads right to left.
    assert broken[4] and [s for s in shown(help_text) if "melding/" in s]
    # The amount: the euro sign leaves its number ("€ 12,000" for "12,000 €").
    with use_locale("ar"):
        amount = euros(12000)
    assert broken[2] and amount in basket and [s for s in shown(basket) if amount not in s]
    assert broken[3] and [s for s in shown(listing) if "€\xa012,000" in s]
    # The date after a reference: its day goes with "M-1001 (26", away from its month.
    assert broken[1] and f"'{date}' not intact" in broken[1][0]
    # The reference itself happens to survive: its digits follow the Latin letter before them.
    assert not broken[0]
