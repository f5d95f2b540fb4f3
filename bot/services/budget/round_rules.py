"""A round's rules are checked here, where the counting rules are known; storage keeps them."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.budget.counting.rules import RULES
from storage.models import BudgetRound
from storage.repo import budgets
from storage.repo.budgets import BudgetError

COUNTING_RULES = tuple(RULES)


def check_counting_rule(name: str) -> None:
    if name not in RULES:
        raise BudgetError(f"unknown counting rule {name!r}; valid: {', '.join(RULES)}")


async def create_round(session: AsyncSession, *, counting_rule: str, **rules: Any) -> BudgetRound:
    """A new round (see `storage.repo.budgets.create_round`) with a known counting rule."""
    check_counting_rule(counting_rule)
    return await budgets.create_round(session, counting_rule=counting_rule, **rules)


async def update_rules(
    session: AsyncSession, round_: BudgetRound, *, counting_rule: str | None = None, **rules: Any
) -> None:
    """Change a round's rules (refused once voting has opened) to a known counting rule."""
    if counting_rule is not None:
        check_counting_rule(counting_rule)
    await budgets.update_rules(session, round_, counting_rule=counting_rule, **rules)
