"""Method of Equal Shares for approval ballots in floating point, certified or refused.

Same algorithm as :mod:`bot.budget.equal_shares`, but the voters' budgets are floats in one
list and a project is priced from its supporters' budgets with C-speed built-ins. Only the
budgets below a bound on the payment (the voters who may be capped) get sorted.

Floats are trusted only where they cannot change a decision. Every decision is checked against
a relative margin :data:`TOLERANCE`, many orders of magnitude above the rounding error:

* which project is cheapest in a round: if two prices are within the margin, the tie is settled
  exactly when both prices are known exactly (see below), and refused otherwise;
* whether a project is affordable at all;
* whether a supporter pays in full or is capped: no budget may lie within the margin of the
  payment, so "spent down to zero" happens exactly when it would in exact arithmetic, and a
  zero budget is exactly zero.

A price is known exactly when no supporter with money left is capped: with cost utilities it is
then ``1 / payers``. That settles the frequent ties between projects with equally many
supporters. When a decision is too close to call, :meth:`FastEqualShares.run` returns ``None``
and the caller repeats the run in exact arithmetic.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from fractions import Fraction
from itertools import accumulate, compress
from operator import itemgetter

from bot.budget.amounts import Number
from bot.budget.equal_shares import candidates
from bot.budget.profile import Profile

TOLERANCE = 1e-9
"""Relative margin within which two float results count as too close to call."""
_GUESS = 1.5
"""First bound on a payment, as a multiple of a known lower bound (tuned on Warsaw 2024)."""

_Getter = Callable[[list[float]], Sequence[float]]


class _Refused(Exception):
    """A decision was too close to call in floating point."""


def _getter(voters: Sequence[int]) -> _Getter:
    """A C-speed function returning the budgets of ``voters`` from the budget list."""
    if len(voters) == 1:
        only = voters[0]
        return lambda budget: (budget[only],)
    return itemgetter(*voters)


def _solve(low: list[float], supporters: int, cost: float) -> tuple[int, int, float]:
    """The equal payment covering ``cost``: returns (zero budgets, capped payers, payment).

    ``low`` holds the sorted budgets below a bound that the payment is known to stay under;
    the other ``supporters - len(low)`` budgets are all above it.
    """
    zeros = bisect_right(low, 0.0)
    prefix = list(accumulate(low[zeros:], initial=0.0))
    lo, hi = zeros, len(low)
    # Smallest k such that the k poorest are capped and the next one pays the equal share.
    while lo < hi:
        mid = (lo + hi) // 2
        if cost - prefix[mid - zeros] <= low[mid] * (supporters - mid):
            hi = mid
        else:
            lo = mid + 1
    return zeros, lo - zeros, (cost - prefix[lo - zeros]) / (supporters - lo)


class _Price:
    """A project's price in one round, with what paying it needs."""

    __slots__ = ("exact", "low", "payment", "rho", "values", "voters")

    def __init__(
        self,
        payment: float,
        cost: float,
        exact: Fraction | None,
        low: list[float],
        voters: Sequence[int],
        values: Sequence[float],
    ) -> None:
        self.payment = payment
        self.rho = payment / cost
        self.exact = exact
        self.low = low
        self.voters = voters
        self.values = values


class FastEqualShares:
    """Float MES for one approval profile; reusable across runs (e.g. the add1 rounds)."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.pool = candidates(profile)
        self.costs = [float(c) for c in profile.costs]
        self.getters = {p: _getter(profile.supporters[p]) for p in self.pool}

    @staticmethod
    def suitable(profile: Profile) -> bool:
        """Float pricing is implemented for approval ballots (cost utilities) only."""
        return profile.approval and profile.n_voters > 0

    def run(self, per_voter: Number) -> list[int] | None:
        """Buy projects in MES order, or return ``None`` if a decision was too close."""
        try:
            return _Run(self, float(per_voter)).buy_all()
        except _Refused:
            return None


class _Run:
    def __init__(self, engine: FastEqualShares, per_voter: float) -> None:
        self.engine = engine
        self.budget = [per_voter] * engine.profile.n_voters
        self.getters = dict(engine.getters)
        self.live = {p: engine.profile.supporters[p] for p in engine.pool}
        self.payments: dict[int, float] = {}

    def price(self, p: int) -> _Price | None:
        """Price project ``p`` against the current budgets; ``None`` if unaffordable."""
        voters = self.live[p]
        values = self.getters[p](self.budget)
        cost = self.engine.costs[p]
        total = sum(values)
        if total < cost * (1 - TOLERANCE):
            return None
        if total <= cost * (1 + TOLERANCE):
            raise _Refused
        # The payment only grows during a run, so the last one is a lower bound.
        bound = max(self.payments.get(p, 0.0), cost / len(values)) * _GUESS
        while True:
            low = [v for v in values if v < bound]
            if sum(low) + bound * (len(values) - len(low)) > cost:
                low.sort()
                zeros, capped, payment = _solve(low, len(values), cost)
                if payment * (1 + 2 * TOLERANCE) < bound:
                    break
            bound *= 4
        if zeros * 8 > len(values) > 16:
            # Forget supporters without money: they never pay again in this run.
            self.live[p] = live = tuple(compress(voters, values))
            self.getters[p] = _getter(live)
        self.payments[p] = payment
        exact = None
        if capped == 0 and (zeros == len(low) or low[zeros] > payment * (1 + TOLERANCE)):
            exact = Fraction(1, len(values) - zeros)
        return _Price(payment, cost, exact, low, voters, values)

    def buy_all(self) -> list[int]:
        ids = self.engine.profile.ids
        remaining = set(self.engine.pool)
        lower = {p: 1.0 / len(self.live[p]) for p in remaining}
        selected: list[int] = []
        while True:
            best: float | None = None
            priced: dict[int, _Price] = {}
            for p in sorted(remaining, key=lower.__getitem__):
                if best is not None and lower[p] * (1 - TOLERANCE) > best * (1 + TOLERANCE):
                    break
                price = self.price(p)
                if price is None:
                    remaining.discard(p)
                    continue
                priced[p] = price
                lower[p] = price.rho
                if best is None or price.rho < best:
                    best = price.rho
            if best is None:
                return selected
            limit = best * (1 + 2 * TOLERANCE)
            close = [p for p, price in priced.items() if price.rho <= limit]
            if len(close) > 1:
                exact = [priced[p].exact for p in close]
                if None in exact:
                    raise _Refused
                close.sort(key=lambda p: (priced[p].exact, ids[p]))
            selected.append(close[0])
            remaining.discard(close[0])
            self.pay(priced[close[0]])

    def pay(self, price: _Price) -> None:
        """Charge every supporter ``min(budget, payment)``."""
        payment = price.payment
        low = price.low
        near = bisect_left(low, payment * (1 - TOLERANCE))
        if near < len(low) and low[near] <= payment * (1 + TOLERANCE):
            raise _Refused  # a budget (nearly) equals the payment: capped or not is unclear
        budget = self.budget
        for voter, value in zip(price.voters, price.values, strict=True):
            budget[voter] = value - payment if value > payment else 0.0
