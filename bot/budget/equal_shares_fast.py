"""Method of Equal Shares for approval ballots in floating point, certified or refused.

This is the same algorithm as :mod:`bot.budget.equal_shares`, but voter budgets are floats kept
in one list and a project is priced by sorting its supporters' budgets (C-speed ``sorted``,
``accumulate`` and a binary search). It is 20-40 times faster than exact arithmetic on large
elections.

Floats are only trusted where they cannot change a decision. Every decision the run makes is
checked against a relative margin :data:`TOLERANCE` far above the rounding error:

* which project is cheapest in a round (if two are within the margin, the tie is settled
  exactly when both prices are known exactly, see below, and otherwise refused);
* whether a project is affordable at all;
* whether a supporter pays in full or is capped (no budget may lie within the margin of the
  price, so "spent to zero" is exact and zero budgets are exact).

A price is known exactly when no supporter with money is capped: it is then ``1 / payers``
(cost utility), so the common ties between equally supported projects are settled exactly.
When a decision is too close to call, :meth:`FastEqualShares.run` returns ``None`` and the
caller repeats that run with exact arithmetic.
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

STATS: dict = {"retry": 0, "ratio": []}
GUESS = 2.0
TOLERANCE = 1e-9
"""Relative margin within which two float results count as too close to call."""

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
    """The equal payment for ``cost``: returns (zero budgets, capped payers, payment).

    ``low`` holds the sorted budgets below some bound that the payment is known to stay
    under; the other ``supporters - len(low)`` budgets are all above it.
    """
    zeros = bisect_right(low, 0.0)
    payers = supporters - zeros
    prefix = list(accumulate(low[zeros:], initial=0.0))
    lo, hi = zeros, len(low)
    # Smallest k such that the k poorest payers are capped and the next pays the share.
    while lo < hi:
        mid = (lo + hi) // 2
        if cost - prefix[mid - zeros] <= low[mid] * (supporters - mid):
            hi = mid
        else:
            lo = mid + 1
    capped = lo - zeros
    return zeros, capped, (cost - prefix[capped]) / (payers - capped)


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


class _Price:
    """A project's price in one round: ``rho`` (float) and, when known, its exact value."""

    __slots__ = ("exact", "payment", "rho", "sorted_budgets")

    def __init__(self, rho: float, payment: float, exact: Fraction | None, budgets: list[float]):
        self.rho = rho
        self.payment = payment
        self.exact = exact
        self.sorted_budgets = budgets


class _Run:
    def __init__(self, engine: FastEqualShares, per_voter: float) -> None:
        self.engine = engine
        self.budget = [per_voter] * engine.profile.n_voters
        self.getters = dict(engine.getters)
        self.live = {p: engine.profile.supporters[p] for p in engine.pool}
        self.payments: dict[int, float] = {}

    def price(self, p: int) -> _Price | None:
        """Price project ``p`` against the current budgets; ``None`` if unaffordable."""
        values = self.getters[p](self.budget)
        cost = self.engine.costs[p]
        total = sum(values)
        if total < cost * (1 - TOLERANCE):
            return None
        if total <= cost * (1 + TOLERANCE):
            raise _Refused
        # Only budgets below a bound ``cap`` on the payment can be capped: sort just those.
        cap = max(self.payments.get(p, 0.0), cost / len(values)) * GUESS
        while True:
            low = [v for v in values if v < cap]
            if sum(low) + cap * (len(values) - len(low)) > cost:
                low.sort()
                zeros, capped, payment = _solve(low, len(values), cost)
                if payment * (1 + 2 * TOLERANCE) < cap:
                    break
            STATS["retry"] += 1
            cap *= 4
        payers = len(values) - zeros
        if zeros * 4 > len(values) > 16:
            # Drop supporters who have run out of money: they never pay again this run.
            self.live[p] = live = tuple(compress(self.live[p], values))
            self.getters[p] = _getter(live)
        STATS["ratio"].append(payment / cap)
        self.payments[p] = payment
        exact = None
        if capped == 0 and (zeros == len(low) or low[zeros] > payment * (1 + TOLERANCE)):
            exact = Fraction(1, payers)
        return _Price(payment / cost, payment, exact, low)

    def buy_all(self) -> list[int]:
        profile = self.engine.profile
        ids = profile.ids
        remaining = set(self.engine.pool)
        lower = {p: 1.0 / len(profile.supporters[p]) for p in remaining}
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
            if len(close) == 1:
                chosen = close[0]
            else:
                exact = {p: priced[p].exact for p in close}
                if any(v is None for v in exact.values()):
                    raise _Refused
                chosen = min(close, key=lambda p: (exact[p], ids[p]))
            selected.append(chosen)
            remaining.discard(chosen)
            self.pay(chosen, priced[chosen])

    def pay(self, p: int, price: _Price) -> None:
        payment = price.payment
        budgets = price.sorted_budgets
        low = bisect_left(budgets, payment * (1 - TOLERANCE))
        if low < len(budgets) and budgets[low] <= payment * (1 + TOLERANCE):
            raise _Refused  # someone's budget is (nearly) exactly the payment
        budget = self.budget
        for voter in self.live[p]:
            left = budget[voter] - payment
            budget[voter] = left if left > 0.0 else 0.0
