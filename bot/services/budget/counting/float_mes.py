"""Shared machinery of the floating-point MES engines: certified decisions or refusal.

The float engines (:mod:`bot.services.budget.counting.equal_shares_fast` for approval ballots,
:mod:`bot.services.budget.counting.equal_shares_points` for points ballots) run the same rounds as the exact
engine in :mod:`bot.services.budget.counting.equal_shares`, with the voters' budgets as floats in one list and
projects priced with C-speed built-ins.

Floats are trusted only where they cannot change a decision. Every decision is checked against
a relative margin :data:`TOLERANCE`, many orders of magnitude above the rounding error:

* which project is cheapest in a round: if two prices are within the margin, the tie is settled
  exactly when both prices are known exactly, and refused otherwise;
* whether a project is affordable at all;
* whether a supporter pays in full or is capped: no budget may lie within the margin of its
  payment, so "spent down to zero" happens exactly when it would in exact arithmetic, and a
  zero budget is exactly zero.

A price is known exactly when no supporter with money left is capped: it is then the cost
divided by the payers' total utility. That settles the frequent ties between projects with
equally many supporters. A refused run returns ``None`` and the caller repeats it exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from operator import itemgetter
from typing import Any, Generic, TypeVar

from bot.services.budget.counting.amounts import Number
from bot.services.budget.counting.equal_shares import candidates
from bot.services.budget.counting.profile import Profile

TOLERANCE = 1e-9
"""Relative margin within which two float results count as too close to call."""
GUESS = 1.5
"""First bound on a price, as a multiple of a known lower bound (tuned on Warsaw 2024)."""

Getter = Callable[[list[float]], Sequence[float]]


class Refused(Exception):
    """A decision was too close to call in floating point."""


def getter(voters: Sequence[int]) -> Getter:
    """A C-speed function returning the budgets of ``voters`` from the budget list."""
    if len(voters) <= 1:
        return lambda budget: tuple(budget[v] for v in voters)
    return itemgetter(*voters)


def locality_order(profile: Profile) -> list[int]:
    """A new index per voter, putting voters with similar ballots next to each other.

    Voters are sorted by their ballots (projects ranked by popularity), so that a project's
    supporters sit close together in the budget list. Purely a speed-up (cache locality, about
    20% on Warsaw 2024): MES does not depend on the order of the voters.
    """
    by_support = sorted(range(len(profile.ids)), key=lambda p: -len(profile.supporters[p]))
    ballots: list[list[int]] = [[] for _ in range(profile.n_voters)]
    for rank, p in enumerate(by_support):
        for voter in profile.supporters[p]:
            ballots[voter].append(rank)
    new_index = [0] * profile.n_voters
    for position, voter in enumerate(sorted(range(profile.n_voters), key=ballots.__getitem__)):
        new_index[voter] = position
    return new_index


class FloatPrice:
    """A project's price in one round: ``rho`` and, when known, its exact value."""

    __slots__ = ("exact", "rho")

    def __init__(self, rho: float, exact: Fraction | None) -> None:
        self.rho = rho
        self.exact = exact


PriceT = TypeVar("PriceT", bound=FloatPrice)


class FloatRun(Generic[PriceT]):
    """One MES run; subclasses price projects and charge their supporters."""

    def __init__(self, profile: Profile, pool: list[int], per_voter: float) -> None:
        self.ids = profile.ids
        self.pool = pool
        self.budget = [per_voter] * profile.n_voters

    def first_lower_bound(self, p: int) -> float:
        """A lower bound on ``p``'s price before anybody pays."""
        raise NotImplementedError

    def price(self, p: int, best: float | None) -> PriceT | float | None:
        """Price ``p``: ``None`` if unaffordable; only a lower bound (a float above ``best``)
        if it is certainly dearer than ``best``; else its full price."""
        raise NotImplementedError

    def pay(self, price: PriceT) -> None:
        """Charge the supporters of the project priced by ``price``."""
        raise NotImplementedError

    def buy_all(self, selected: list[int], hint: Sequence[int] = ()) -> list[int]:
        """Buy projects in MES order after ``selected``; raises :class:`Refused`.

        ``hint`` is a guess of the buying order (another run's). Each round prices the guessed
        project first: when the guess is right, the best price is known at once and the other
        projects mostly need only a bound. A wrong guess costs one pricing; the outcome never
        depends on it (every project that may be cheapest is still priced).
        """
        remaining = set(self.pool)
        lower = {p: self.first_lower_bound(p) for p in remaining}
        while True:
            best: float | None = None
            priced: dict[int, PriceT] = {}
            order = sorted(remaining, key=lower.__getitem__)
            if len(selected) < len(hint) and hint[len(selected)] in remaining:
                order.remove(hint[len(selected)])
                order.insert(0, hint[len(selected)])
            for p in order:
                if best is not None and lower[p] * (1 - TOLERANCE) > best * (1 + TOLERANCE):
                    break  # prices only grow: this one, and all after it, are dearer
                price = self.price(p, best)
                if price is None:
                    remaining.discard(p)
                elif isinstance(price, float):
                    lower[p] = price
                else:
                    priced[p] = price
                    lower[p] = price.rho
                    if best is None or price.rho < best:
                        best = price.rho
            if best is None:
                return selected
            limit = best * (1 + 2 * TOLERANCE)
            close = [p for p, price in priced.items() if price.rho <= limit]
            if len(close) > 1:
                if any(priced[p].exact is None for p in close):
                    raise Refused
                close.sort(key=lambda p: (priced[p].exact, self.ids[p]))
            selected.append(close[0])
            remaining.discard(close[0])
            self.pay(priced[close[0]])


class FloatEngine:
    """A float MES engine for one profile, reusable across runs (e.g. the add1 rounds)."""

    def __init__(self, profile: Profile, *, reorder: bool = False) -> None:
        self.profile = profile
        self.pool = candidates(profile)
        self.costs = [float(c) for c in profile.costs]
        self.order = locality_order(profile) if reorder else None
        self.last: tuple[int, ...] = ()

    def supporters(self, p: int) -> tuple[int, ...]:
        """``p``'s supporters, renumbered if the engine reorders voters."""
        if self.order is None:
            return self.profile.supporters[p]
        order = self.order
        return tuple(order[v] for v in self.profile.supporters[p])

    def new_run(self, per_voter: float) -> FloatRun[Any]:
        raise NotImplementedError

    def first_selected(self) -> list[int]:
        """Projects bought before the first round (free ones with support)."""
        return []

    def run(self, per_voter: Number) -> list[int] | None:
        """Buy projects in MES order, or return ``None`` if a decision was too close.

        Runs with nearby budgets mostly buy in the same order, so each run takes the previous
        run's order as its hint (see :meth:`FloatRun.buy_all`).
        """
        try:
            selected = self.new_run(float(per_voter)).buy_all(self.first_selected(), self.last)
        except Refused:
            return None
        self.last = tuple(selected)
        return selected
