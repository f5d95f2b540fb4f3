"""Greedy counting: most support first (pabutools' ``greedy_utilitarian_welfare``).

pabutools orders projects by total satisfaction divided by cost. With ``Cost_Sat`` (approval)
that is the number of approvals; with a points-times-cost satisfaction (cumulative) it is the
total number of points. A project of cost 0 has satisfaction 0 under both measures and so
scores 0, like a project nobody supports. Ties go to the smaller project id compared as text.
"""

from __future__ import annotations

from collections.abc import Collection

from bot.services.budget.counting.amounts import Number
from bot.services.budget.counting.profile import Profile


def greedy_order(profile: Profile, exclude: Collection[int] = ()) -> list[int]:
    """All projects not in ``exclude``, best score first, ties by id as text."""
    excluded = set(exclude)

    def score(p: int) -> Number:
        return profile.support[p] if profile.costs[p] > 0 else 0

    candidates = [p for p in range(len(profile.ids)) if p not in excluded]
    return sorted(candidates, key=lambda p: (-score(p), profile.ids[p]))


def greedy(profile: Profile, initial: list[int] | None = None) -> list[int]:
    """Take projects in greedy order, skipping any that no longer fits.

    ``initial`` is an allocation to complete (it is kept, first, in the result).
    """
    selected = list(initial or [])
    remaining = profile.budget - profile.total_cost(selected)
    for p in greedy_order(profile, selected):
        if profile.costs[p] <= remaining:
            selected.append(p)
            remaining -= profile.costs[p]
    return selected


def greedy_stop(profile: Profile) -> list[int]:
    """Take projects in greedy order and stop at the first one that does not fit."""
    selected: list[int] = []
    remaining = profile.budget
    for p in greedy_order(profile):
        if profile.costs[p] > remaining:
            break
        selected.append(p)
        remaining -= profile.costs[p]
    return selected
