"""Counting rules and the single entry point :func:`count`.

======================  ===============================================================
rule                    meaning (pabutools 1.2.3 semantics, ties by project id as text)
======================  ===============================================================
``greedy``              most support first, skip projects that no longer fit
``greedy-stop``         as greedy, but stop at the first project that does not fit
``mes``                 Method of Equal Shares, no completion
``mes-add1``            MES, each voter's budget raised by 1 per round while the outcome
                        stays feasible and is not exhaustive
``mes-add1-greedy``     ``mes-add1``, then fill what is left with ``greedy``
======================  ===============================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from bot.services.budget.counting.amounts import Number, normalise
from bot.services.budget.counting.election import Election
from bot.services.budget.counting.equal_shares import candidates, equal_shares, preselected
from bot.services.budget.counting.equal_shares_fast import FastEqualShares
from bot.services.budget.counting.equal_shares_points import FastPointsEqualShares
from bot.services.budget.counting.float_mes import FloatEngine
from bot.services.budget.counting.greedy import greedy, greedy_stop
from bot.services.budget.counting.profile import Profile, build_profile


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of a count: project ids in selection order and their total cost."""

    rule: str
    selected: tuple[str, ...]
    total_cost: Number


NUMPY_ONE_RUN = 250_000
NUMPY_MORE_RUNS = 20_000
"""Approvals from which MES counts on numpy arrays, for one run (``mes``) and for more runs
(``mes-add1``): importing numpy takes about 0.1 s, a run in pure Python about 0.3 µs per
approval, a run on arrays a few per cent of that."""


class _MES:
    """MES runs for one profile: the fast float engine with an exact fallback."""

    def __init__(self, profile: Profile, *, runs: int = 1) -> None:
        self.profile = profile
        self.fast: FloatEngine | None = None
        if FastEqualShares.suitable(profile):
            if sum(profile.support) >= (NUMPY_ONE_RUN if runs == 1 else NUMPY_MORE_RUNS):
                from bot.services.budget.counting.equal_shares_np import NumpyEqualShares

                self.fast = NumpyEqualShares(profile, reorder=runs > 1)
            else:
                self.fast = FastEqualShares(profile, reorder=runs > 1)
        elif FastPointsEqualShares.suitable(profile):
            self.fast = FastPointsEqualShares(profile, reorder=runs > 1)

    def run(self, per_voter: Number) -> list[int]:
        if self.fast is not None:
            result = self.fast.run(per_voter)
            if result is not None:
                return result
        return equal_shares(self.profile, per_voter)


def mes(profile: Profile) -> list[int]:
    """Method of Equal Shares with the budget split equally over all voters."""
    if profile.n_voters == 0:
        return []
    return _MES(profile).run(Fraction(profile.budget, profile.n_voters))


def mes_add1(profile: Profile) -> list[int]:
    """MES with per-voter budget raised by 1 until the outcome is infeasible or exhaustive.

    As in pabutools: an infeasible outcome returns the previous round's outcome; an exhaustive
    one (no further *supported* project fits) is returned as is.
    """
    if profile.n_voters == 0:
        return []
    runner = _MES(profile, runs=2)
    start = Fraction(profile.budget, profile.n_voters)
    pool = candidates(profile)
    previous = preselected(profile)
    step = 0
    while True:
        outcome = runner.run(start + step)
        spent = profile.total_cost(outcome)
        if spent > profile.budget:
            return previous
        chosen = set(outcome)
        if all(p in chosen or spent + profile.costs[p] > profile.budget for p in pool):
            return outcome
        previous = outcome
        step += 1


def mes_add1_greedy(profile: Profile) -> list[int]:
    """``mes-add1`` completed by greedy (pabutools' ``completion_by_rule_combination``)."""
    outcome = mes_add1(profile)
    spent = profile.total_cost(outcome)
    chosen = set(outcome)
    exhaustive = all(
        p in chosen or spent + cost > profile.budget for p, cost in enumerate(profile.costs)
    )
    return outcome if exhaustive else greedy(profile, outcome)


def _method(rule: str) -> Callable[[Profile], list[int]]:
    try:
        return RULES[rule]
    except KeyError:
        raise ValueError(
            f"unknown counting rule {rule!r}; valid rules: {', '.join(RULES)}"
        ) from None


RULES: dict[str, Callable[[Profile], list[int]]] = {
    "greedy": greedy,
    "greedy-stop": greedy_stop,
    "mes": mes,
    "mes-add1": mes_add1,
    "mes-add1-greedy": mes_add1_greedy,
}
"""The counting rules by name."""


def count(election: Election, rule: str) -> Outcome:
    """Count ``election`` with ``rule`` (one of :data:`RULES`)."""
    _method(rule)
    return count_profile(build_profile(election), rule)


def count_profile(profile: Profile, rule: str) -> Outcome:
    """Count an indexed election (see :func:`~bot.services.budget.counting.profile.build_profile`
    and :func:`~bot.services.budget.counting.pabulib_fast.read_profile`) with ``rule``."""
    selected = _method(rule)(profile)
    return Outcome(
        rule=rule,
        selected=tuple(profile.ids[p] for p in selected),
        total_cost=normalise(Fraction(profile.total_cost(selected))),
    )
