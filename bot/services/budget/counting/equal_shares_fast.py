"""Method of Equal Shares for approval ballots in floating point, certified or refused.

With cost utilities every supporter of a project pays the same amount (the cost divided by the
number of payers, unless capped by a smaller budget), so a project is priced from its
supporters' budgets alone: only the budgets below a bound on the payment (the voters who may
be capped) get sorted. See :mod:`bot.services.budget.counting.float_mes` for how float results are certified.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from fractions import Fraction
from itertools import accumulate, compress

from bot.services.budget.counting.float_mes import (
    GUESS,
    TOLERANCE,
    FloatEngine,
    FloatPrice,
    FloatRun,
    Getter,
    Refused,
    getter,
)
from bot.services.budget.counting.profile import Profile


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


class _Price(FloatPrice):
    """A project's price in one round, with what paying it needs."""

    __slots__ = ("low", "payment", "values", "voters")

    def __init__(
        self,
        payment: float,
        cost: float,
        exact: Fraction | None,
        low: list[float],
        voters: Sequence[int],
        values: Sequence[float],
    ) -> None:
        super().__init__(payment / cost, exact)
        self.payment = payment
        self.low = low
        self.voters = voters
        self.values = values


class FastEqualShares(FloatEngine):
    """Float MES for an approval profile (cost utilities)."""

    def __init__(self, profile: Profile, *, reorder: bool = False) -> None:
        super().__init__(profile, reorder=reorder)
        self.voters = {p: tuple(sorted(self.supporters(p))) for p in self.pool}
        self.getters = {p: getter(self.voters[p]) for p in self.pool}

    @staticmethod
    def suitable(profile: Profile) -> bool:
        return profile.approval and profile.n_voters > 0

    def new_run(self, per_voter: float) -> _Run:
        return _Run(self, per_voter)


class _Run(FloatRun[_Price]):
    def __init__(self, engine: FastEqualShares, per_voter: float) -> None:
        super().__init__(engine.profile, engine.pool, per_voter)
        self.costs = engine.costs
        self.getters: dict[int, Getter] = dict(engine.getters)
        self.live: dict[int, Sequence[int]] = dict(engine.voters)
        self.payments: dict[int, float] = {}

    def first_lower_bound(self, p: int) -> float:
        return 1.0 / len(self.live[p])

    def price(self, p: int, best: float | None) -> _Price | float | None:
        voters = self.live[p]
        values = self.getters[p](self.budget)
        cost = self.costs[p]
        total = sum(values)
        if total < cost * (1 - TOLERANCE):
            return None
        if total <= cost * (1 + TOLERANCE):
            raise Refused
        # The payment only grows during a run, so the last one is a lower bound.
        bound = max(self.payments.get(p, 0.0), cost / len(values)) * GUESS
        if best is not None:
            # Would a payment a bit above ``best`` raise the cost? If not, ``p`` is dearer, and
            # its payment q satisfies cost <= below + q * above: a lower bound for q.
            bound = best * cost * (1 + 4 * TOLERANCE)
            low = [v for v in values if v < bound]
            below = sum(low)
            above = len(values) - len(low)
            if above and below + bound * above < cost * (1 - TOLERANCE):
                self._forget_spent(p, voters, values, low.count(0.0))
                payment = (cost - below) / above
                self.payments[p] = payment
                return payment / cost
        else:
            low = [v for v in values if v < bound]
        while True:
            if sum(low) + bound * (len(values) - len(low)) > cost:
                low.sort()
                zeros, capped, payment = _solve(low, len(values), cost)
                if payment * (1 + 2 * TOLERANCE) < bound:
                    break
            bound *= 4
            low = [v for v in values if v < bound]
        self._forget_spent(p, voters, values, zeros)
        self.payments[p] = payment
        exact = None
        if capped == 0 and (zeros == len(low) or low[zeros] > payment * (1 + TOLERANCE)):
            exact = Fraction(1, len(values) - zeros)
        return _Price(payment, cost, exact, low, voters, values)

    def _forget_spent(
        self, p: int, voters: Sequence[int], values: Sequence[float], zeros: int
    ) -> None:
        """Drop supporters without money from ``p``: they never pay again in this run."""
        if zeros * 8 > len(values) > 16:
            self.live[p] = live = tuple(compress(voters, values))
            self.getters[p] = getter(live)

    def pay(self, price: _Price) -> None:
        """Charge every supporter ``min(budget, payment)``."""
        payment = price.payment
        low = price.low
        near = bisect_left(low, payment * (1 - TOLERANCE))
        if near < len(low) and low[near] <= payment * (1 + TOLERANCE):
            raise Refused  # a budget (nearly) equals the payment: capped or not is unclear
        budget = self.budget
        for voter, value in zip(price.voters, price.values, strict=True):
            budget[voter] = value - payment if value > payment else 0.0
