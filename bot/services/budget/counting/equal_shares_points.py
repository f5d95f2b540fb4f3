"""Method of Equal Shares for points ballots (cumulative, scoring) in floating point.

With points as utilities a supporter giving ``u`` points to a project pays ``rho * u`` (or all
their money, if less). A voter is capped when their *ratio* budget / points is below ``rho``, so
a project is priced by sorting the ratios below a bound on ``rho``. See
:mod:`bot.services.budget.counting.float_mes` for how float results are certified.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from fractions import Fraction
from itertools import accumulate, compress
from operator import not_, truediv

from bot.services.budget.counting.amounts import Number
from bot.services.budget.counting.equal_shares import preselected
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


class _Supporters:
    """A project's supporters with money left: voter ids, utilities (float and exact)."""

    __slots__ = ("exact", "get", "utilities", "voters", "weight")

    def __init__(
        self, voters: Sequence[int], utilities: Sequence[float], exact: Sequence[Number]
    ) -> None:
        self.voters = voters
        self.utilities = utilities
        self.exact = exact
        self.weight = sum(utilities)
        self.get: Getter = getter(voters)

    def keep(self, selectors: Sequence[float]) -> _Supporters:
        return _Supporters(
            tuple(compress(self.voters, selectors)),
            tuple(compress(self.utilities, selectors)),
            tuple(compress(self.exact, selectors)),
        )


def _solve(
    low: list[tuple[float, float, float]], weight: float, cost: float
) -> tuple[list[float], int, int, float]:
    """The price ``rho`` covering ``cost``: returns (ratios, zero budgets, capped, rho).

    ``low`` holds (ratio, budget, utility) sorted by ratio, for the supporters whose ratio is
    below a bound that ``rho`` is known to stay under; ``weight`` is the total utility.
    """
    ratios = [r for r, _, _ in low]
    paid = list(accumulate((b for _, b, _ in low), initial=0.0))
    used = list(accumulate((u for _, _, u in low), initial=0.0))
    zeros = bisect_right(ratios, 0.0)
    lo, hi = zeros, len(low)
    # Smallest k such that the k lowest ratios are capped and supporter k pays rho * utility.
    while lo < hi:
        mid = (lo + hi) // 2
        if cost - paid[mid] <= ratios[mid] * (weight - used[mid]):
            hi = mid
        else:
            lo = mid + 1
    return ratios, zeros, lo - zeros, (cost - paid[lo]) / (weight - used[lo])


def _split(
    ratios: list[float], values: Sequence[float], utilities: Sequence[float], bound: float
) -> tuple[list[bool], float, float]:
    """Which ratios are below ``bound``, their budgets' sum, and the others' utility sum."""
    capped = [r < bound for r in ratios]
    below = sum(compress(values, capped))
    above = sum(compress(utilities, map(not_, capped)))
    return capped, below, above


class _Price(FloatPrice):
    __slots__ = ("ratios", "supporters", "values")

    def __init__(
        self,
        rho: float,
        exact: Fraction | None,
        ratios: list[float],
        supporters: _Supporters,
        values: Sequence[float],
    ) -> None:
        super().__init__(rho, exact)
        self.ratios = ratios
        self.supporters = supporters
        self.values = values


class FastPointsEqualShares(FloatEngine):
    """Float MES for a points profile (points as utilities)."""

    def __init__(self, profile: Profile, *, reorder: bool = False) -> None:
        super().__init__(profile, reorder=reorder)
        self.exact_costs = profile.costs
        self.start: dict[int, _Supporters] = {}
        for p in self.pool:
            exact = profile.utilities_of(p)
            pairs = sorted(zip(self.supporters(p), exact, strict=True))
            self.start[p] = _Supporters(
                tuple(v for v, _ in pairs),
                tuple(float(u) for _, u in pairs),
                tuple(u for _, u in pairs),
            )

    @staticmethod
    def suitable(profile: Profile) -> bool:
        return not profile.approval and profile.n_voters > 0

    def first_selected(self) -> list[int]:
        return preselected(self.profile)

    def new_run(self, per_voter: float) -> _Run:
        return _Run(self, per_voter)


class _Run(FloatRun[_Price]):
    def __init__(self, engine: FastPointsEqualShares, per_voter: float) -> None:
        super().__init__(engine.profile, engine.pool, per_voter)
        self.costs = engine.costs
        self.exact_costs = engine.exact_costs
        self.live = dict(engine.start)
        self.rates: dict[int, float] = {}

    def first_lower_bound(self, p: int) -> float:
        return self.costs[p] / self.live[p].weight

    def price(self, p: int, best: float | None) -> _Price | float | None:
        supporters = self.live[p]
        values = supporters.get(self.budget)
        cost = self.costs[p]
        total = sum(values)
        if total < cost * (1 - TOLERANCE):
            return None
        if total <= cost * (1 + TOLERANCE):
            raise Refused
        ratios = list(map(truediv, values, supporters.utilities))
        # rho only grows during a run, so the last value is a lower bound.
        bound = max(self.rates.get(p, 0.0), cost / supporters.weight) * GUESS
        if best is not None:
            bound = best * (1 + 4 * TOLERANCE)
        capped, below, above = _split(ratios, values, supporters.utilities, bound)
        if best is not None and above and below + bound * above < cost * (1 - TOLERANCE):
            # A price a bit above ``best`` would not raise the cost, so ``p`` is dearer, and
            # cost <= below + rho * above bounds its price from below.
            self._forget_spent(p, supporters, values)
            self.rates[p] = rate = (cost - below) / above
            return rate
        while True:
            if below + bound * above > cost:
                low = sorted(
                    zip(
                        compress(ratios, capped),
                        compress(values, capped),
                        compress(supporters.utilities, capped),
                        strict=True,
                    )
                )
                sorted_ratios, zeros, n_capped, rho = _solve(low, supporters.weight, cost)
                if rho * (1 + 2 * TOLERANCE) < bound:
                    break
            bound *= 4
            capped, below, above = _split(ratios, values, supporters.utilities, bound)
        self._forget_spent(p, supporters, values)
        self.rates[p] = rho
        exact = None
        first = sorted_ratios[zeros] if zeros < len(sorted_ratios) else None
        if n_capped == 0 and (first is None or first > rho * (1 + TOLERANCE)):
            payers = sum(compress(supporters.exact, values), Fraction(0))
            exact = Fraction(self.exact_costs[p]) / payers
        return _Price(rho, exact, sorted_ratios, supporters, values)

    def _forget_spent(self, p: int, supporters: _Supporters, values: Sequence[float]) -> None:
        """Drop supporters without money from ``p``: they never pay again in this run."""
        if len(values) > 16 and values.count(0.0) * 8 > len(values):
            self.live[p] = supporters.keep(values)

    def pay(self, price: _Price) -> None:
        """Charge every supporter ``min(budget, rho * utility)``."""
        rho = price.rho
        near = bisect_left(price.ratios, rho * (1 - TOLERANCE))
        if near < len(price.ratios) and price.ratios[near] <= rho * (1 + TOLERANCE):
            raise Refused  # a budget (nearly) equals the charge: capped or not is unclear
        budget = self.budget
        supporters = price.supporters
        for voter, value, utility in zip(
            supporters.voters, price.values, supporters.utilities, strict=True
        ):
            charge = rho * utility
            budget[voter] = value - charge if value > charge else 0.0
