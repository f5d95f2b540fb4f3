"""Method of Equal Shares (MES), exact arithmetic, pabutools semantics.

Every voter starts with ``per_voter`` money. In each round the project with the smallest
*affordability* ``rho`` is bought: the least ``rho`` such that its supporters, each paying
``min(budget, rho * utility)``, cover its cost. Ties go to the smaller project id as text. A
project whose supporters together have less money than its cost is dropped. The run ends when no
project is affordable. This mirrors ``pabutools.rules.method_of_equal_shares`` (1.2.3),
including its lazy re-evaluation: affordabilities only grow, so a project whose last known
value already exceeds the round's best need not be recomputed.

Voters are grouped into *budget classes*: voters with equal remaining money share one class id,
so a payment is computed once per class and a project is evaluated over a histogram of
classes instead of over its voters.
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

from bot.services.budget.counting.amounts import Number
from bot.services.budget.counting.profile import Profile


def preselected(profile: Profile) -> list[int]:
    """Projects MES takes before any round: cost 0 but positive total utility.

    With cost utilities (approval) a cost-0 project has utility 0, so this is only ever
    non-empty for points ballots.
    """
    if profile.approval:
        return []
    return [p for p, c in enumerate(profile.costs) if c == 0 and profile.supporters[p]]


def candidates(profile: Profile) -> list[int]:
    """Projects MES can buy in rounds: positive cost and at least one supporter."""
    return [p for p, c in enumerate(profile.costs) if c > 0 and profile.supporters[p]]


def initial_affordability(profile: Profile, p: int) -> Fraction:
    """``cost / total utility``: the affordability before anybody has spent anything."""
    return Fraction(profile.costs[p]) / sum(profile.utilities_of(p), 0)


class _Budgets:
    """Exact voter budgets stored as one class id per voter (class 0 means no money)."""

    def __init__(self, n_voters: int, per_voter: Number) -> None:
        self.values: list[Number] = [0]
        self.floats: list[float] = [0.0]
        self.index: dict[Number, int] = {0: 0}
        self.of_voter = [self.class_of(per_voter)] * n_voters

    def class_of(self, value: Number) -> int:
        cid = self.index.get(value)
        if cid is None:
            cid = self.index[value] = len(self.values)
            self.values.append(value)
            self.floats.append(float(value))
        return cid

    def order_key(self, cid: int) -> tuple[float, Number]:
        # float() is monotone, so this sorts exactly while mostly comparing floats.
        return (self.floats[cid], self.values[cid])


def _afford_approval(
    budgets: _Budgets, supporters: tuple[int, ...], cost: Number
) -> Fraction | None:
    hist = Counter(map(budgets.of_voter.__getitem__, supporters))
    hist.pop(0, None)
    values = budgets.values
    if sum(values[k] * n for k, n in hist.items()) < cost:
        return None
    remaining: Number = cost
    payers = sum(hist.values())
    for k in sorted(hist, key=budgets.order_key):
        if remaining <= values[k] * payers:
            return Fraction(remaining) / (payers * cost)
        remaining -= values[k] * hist[k]
        payers -= hist[k]
    raise AssertionError("affordable project without a price")  # pragma: no cover


def _afford_points(
    budgets: _Budgets, supporters: tuple[int, ...], utilities: tuple[Number, ...], cost: Number
) -> Fraction | None:
    hist = Counter(zip(map(budgets.of_voter.__getitem__, supporters), utilities, strict=True))
    values = budgets.values
    items = [(Fraction(values[k]) / u, k, u, n) for (k, u), n in hist.items() if k != 0]
    if sum(values[k] * n for _, k, _, n in items) < cost:
        return None
    items.sort(key=lambda item: item[0])
    remaining: Number = cost
    weight: Number = sum(u * n for _, _, u, n in items)
    for ratio, k, u, n in items:
        if remaining <= ratio * weight:
            return Fraction(remaining) / weight
        remaining -= values[k] * n
        weight -= u * n
    raise AssertionError("affordable project without a price")  # pragma: no cover


def _pay(budgets: _Budgets, profile: Profile, project: int, rho: Fraction) -> None:
    """Charge every supporter of ``project`` ``min(budget, rho * utility)``."""
    of_voter = budgets.of_voter
    values = budgets.values
    moved: dict[tuple[int, Number], int] = {}
    for voter, utility in zip(
        profile.supporters[project], profile.utilities_of(project), strict=True
    ):
        old = of_voter[voter]
        if old == 0:
            continue
        new = moved.get((old, utility))
        if new is None:
            price = rho * utility
            new = budgets.class_of(values[old] - price if values[old] > price else 0)
            moved[(old, utility)] = new
        of_voter[voter] = new


def equal_shares(profile: Profile, per_voter: Number) -> list[int]:
    """Run MES with ``per_voter`` starting money; return project indices in buying order."""
    if profile.n_voters == 0:
        return []
    budgets = _Budgets(profile.n_voters, per_voter)
    selected = preselected(profile)
    remaining = set(candidates(profile))
    lower = {p: initial_affordability(profile, p) for p in remaining}
    while True:
        best: Fraction | None = None
        tied: list[int] = []
        for p in sorted(remaining, key=lower.__getitem__):
            if best is not None and lower[p] > best:
                break
            if profile.utilities is None:
                rho = _afford_approval(budgets, profile.supporters[p], profile.costs[p])
            else:
                rho = _afford_points(
                    budgets, profile.supporters[p], profile.utilities[p], profile.costs[p]
                )
            if rho is None:
                remaining.discard(p)
                continue
            lower[p] = rho
            if best is None or rho < best:
                best, tied = rho, [p]
            elif rho == best:
                tied.append(p)
        if best is None:
            return selected
        chosen = min(tied, key=profile.ids.__getitem__)
        selected.append(chosen)
        remaining.discard(chosen)
        _pay(budgets, profile, chosen, best)
