"""Method of Equal Shares for approval ballots on numpy arrays, certified or refused.

The same rounds and the same certified decisions as
:mod:`bot.services.budget.counting.equal_shares_fast`, with the voters' budgets in one float64
array: pricing a project gathers its supporters' budgets with one ``take`` and prices them with
whole-array operations instead of a Python step per voter. Used where many runs share one large
profile (``mes-add1`` on a city-wide election), so that importing numpy pays off.

Floats are trusted only as in :mod:`bot.services.budget.counting.float_mes`: every decision
clears the relative margin ``TOLERANCE``, or the run is refused and repeated exactly. numpy's
sums are pairwise rather than left to right; their rounding error stays far below that margin.
"""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import accumulate, chain, pairwise
from typing import Any

import numpy as np

from bot.services.budget.counting.float_mes import (
    GUESS,
    TOLERANCE,
    FloatEngine,
    FloatPrice,
    FloatRun,
    Refused,
)
from bot.services.budget.counting.profile import Profile

Array = np.ndarray[Any, Any]
_sum = np.add.reduce


def _solve(low: Array, supporters: int, cost: float, down: Array) -> tuple[int, int, float]:
    """The equal payment covering ``cost``: returns (zero budgets, capped payers, payment).

    ``low`` holds the sorted budgets below a bound that the payment is known to stay under;
    the other ``supporters - len(low)`` budgets are all above it. ``down[i] == i`` (floats).
    """
    size = low.size
    zeros = int(low.searchsorted(0.0, "right"))
    if zeros == size:
        return zeros, 0, cost / (supporters - size)
    paying = low[zeros:]
    prefix = paying.cumsum()
    # The k poorest payers are capped when the next one cannot pay the equal share of the rest:
    # the first k with cost - (sum of the k poorest) <= budget of payer k * payers from k on.
    fits = cost - (prefix - paying) <= paying * down[supporters - zeros : supporters - size : -1]
    first = int(fits.argmax())
    capped = first if fits[first] else paying.size
    rest = cost - (float(prefix[capped - 1]) if capped else 0.0)
    return zeros, capped, rest / (supporters - zeros - capped)


def supporter_arrays(profile: Profile) -> list[Array]:
    """Each project's supporters as an array (views into one array built at once)."""
    flat = np.array(list(chain.from_iterable(profile.supporters)), dtype=np.intp)
    bounds = list(accumulate(map(len, profile.supporters), initial=0))
    return [flat[start:end] for start, end in pairwise(bounds)]


def locality_order(profile: Profile, supporters: list[Array]) -> Array:
    """A new index per voter, putting voters with similar ballots next to each other.

    Purely a speed-up (the budgets a project gathers lie close together): voters are sorted by
    the first few projects of their ballot, projects ranked by popularity, as
    :func:`bot.services.budget.counting.float_mes.locality_order` sorts by whole ballots.
    """
    n = profile.n_voters
    by_support = sorted(range(len(supporters)), key=lambda p: -supporters[p].size)
    base = len(supporters) + 2
    depth = min(8, int(62 / math.log2(base)))  # base ** depth < 2 ** 62
    key = np.zeros(n, dtype=np.int64)
    filled = np.zeros(n, dtype=np.int64)
    for rank, p in enumerate(by_support, start=1):
        voters = supporters[p]
        slots = filled.take(voters)
        open_ = slots < depth
        voters, slots = voters.compress(open_), slots.compress(open_)
        key[voters] += rank * base ** (depth - 1 - slots)
        filled[voters] = slots + 1
    new_index = np.empty(n, dtype=np.intp)
    new_index[np.argsort(key, kind="stable")] = np.arange(n)
    return new_index


class _Price(FloatPrice):
    """A project's price in one round, with what paying it needs."""

    __slots__ = ("low", "payment", "values", "voters")

    def __init__(
        self,
        payment: float,
        cost: float,
        exact: Fraction | None,
        low: Array,
        voters: Array,
        values: Array,
    ) -> None:
        super().__init__(payment / cost, exact)
        self.payment = payment
        self.low = low
        self.voters = voters
        self.values = values


class NumpyEqualShares(FloatEngine):
    """Float MES for an approval profile (cost utilities), budgets in a numpy array."""

    def __init__(self, profile: Profile, *, reorder: bool = False) -> None:
        super().__init__(profile)
        supporters = supporter_arrays(profile)
        order = locality_order(profile, supporters) if reorder else None
        self.voters: dict[int, Array] = {}
        for p in self.pool:
            voters = supporters[p]
            self.voters[p] = voters if order is None else np.sort(order.take(voters))
        self.down = np.arange(profile.n_voters + 1, dtype=np.float64)

    @staticmethod
    def suitable(profile: Profile) -> bool:
        return profile.approval and profile.n_voters > 0

    def new_run(self, per_voter: float) -> _Run:
        return _Run(self, per_voter)


class _Run(FloatRun[_Price]):
    def __init__(self, engine: NumpyEqualShares, per_voter: float) -> None:
        self.ids = engine.profile.ids
        self.pool = engine.pool
        self.budget: Array = np.full(engine.profile.n_voters, per_voter)  # type: ignore[assignment]
        self.costs = engine.costs
        self.down = engine.down
        self.live: dict[int, Array] = dict(engine.voters)
        self.payments: dict[int, float] = {}

    def first_lower_bound(self, p: int) -> float:
        return 1.0 / len(self.live[p])

    def price(self, p: int, best: float | None) -> _Price | float | None:
        voters = self.live[p]
        values = self.budget.take(voters)
        cost = self.costs[p]
        size = values.size
        total = float(_sum(values))
        if total < cost * (1 - TOLERANCE):
            return None
        if total <= cost * (1 + TOLERANCE):
            raise Refused
        # The payment only grows during a run, so the last one is a lower bound.
        bound = max(self.payments.get(p, 0.0), cost / size) * GUESS
        if best is not None:
            # Would a payment a bit above ``best`` raise the cost? If not, ``p`` is dearer, and
            # its payment q satisfies cost <= below + q * above: a lower bound for q.
            bound = best * cost * (1 + 4 * TOLERANCE)
        low = values.compress(values < bound)
        below = float(_sum(low))
        above = size - low.size
        if best is not None and above and below + bound * above < cost * (1 - TOLERANCE):
            self._forget_spent(p, voters, values, low.size - int(np.count_nonzero(low)))
            payment = (cost - below) / above
            self.payments[p] = payment
            return payment / cost
        while True:
            if below + bound * (size - low.size) > cost:
                low.sort()
                zeros, capped, payment = _solve(low, size, cost, self.down)
                if payment * (1 + 2 * TOLERANCE) < bound:
                    break
            bound *= 4
            low = values.compress(values < bound)
            below = float(_sum(low))
        self._forget_spent(p, voters, values, zeros)
        self.payments[p] = payment
        exact = None
        if capped == 0 and (zeros == low.size or low[zeros] > payment * (1 + TOLERANCE)):
            exact = Fraction(1, size - zeros)
        return _Price(payment, cost, exact, low, voters, values)

    def _forget_spent(self, p: int, voters: Array, values: Array, zeros: int) -> None:
        """Drop supporters without money from ``p``: they never pay again in this run."""
        if zeros * 8 > voters.size > 16:
            self.live[p] = voters.compress(values != 0.0)

    def pay(self, price: _Price) -> None:
        """Charge every supporter ``min(budget, payment)``."""
        payment = price.payment
        low = price.low
        near = int(low.searchsorted(payment * (1 - TOLERANCE)))
        if near < low.size and low[near] <= payment * (1 + TOLERANCE):
            raise Refused  # a budget (nearly) equals the payment: capped or not is unclear
        left = price.values - payment
        np.maximum(left, 0.0, out=left)
        self.budget[price.voters] = left
