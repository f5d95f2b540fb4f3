"""Count an :class:`~bot.services.budget.counting.election.Election` with pabutools, the reference we match.

Used by the tests only (pabutools is a ``bench`` extra). The rule names map to pabutools calls
as documented in the data README; ``greedy-stop`` is not in pabutools and is derived from the
order in which pabutools' greedy takes projects when everything fits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gmpy2 import mpq  # type: ignore[import-untyped]
from pabutools.election import (
    AbstractBallot,
    AbstractProfile,
    Additive_Cardinal_Sat,
    ApprovalBallot,
    ApprovalProfile,
    Cost_Sat,
    CumulativeBallot,
    CumulativeProfile,
    Instance,
    Project,
)
from pabutools.election.satisfaction import AdditiveSatisfaction
from pabutools.rules import (
    completion_by_rule_combination,
    greedy_utilitarian_welfare,
    method_of_equal_shares,
)

from bot.services.budget.counting.election import Election


def _points_times_cost(
    instance: Instance, profile: AbstractProfile, ballot: Any, project: Project, pre: dict[str, Any]
) -> Any:
    return ballot.get(project, 0) * project.cost


class PointsTimesCostSat(AdditiveSatisfaction):
    """Cumulative greedy's satisfaction: points x cost (so greedy orders by total points)."""

    def __init__(self, instance: Instance, profile: AbstractProfile, ballot: AbstractBallot):
        super().__init__(instance, profile, ballot, _points_times_cost)


def to_pabutools(election: Election) -> tuple[Instance, AbstractProfile]:
    instance = Instance(budget_limit=mpq(election.budget))
    by_id: dict[str, Project] = {}
    for p in election.projects:
        by_id[p.project_id] = project = Project(p.project_id, mpq(p.cost))
        instance.add(project)
    profile: AbstractProfile
    if election.uses_points:
        profile = CumulativeProfile(
            [
                CumulativeBallot(
                    {by_id[x]: mpq(pts) for x, pts in zip(b.projects, b.points or (), strict=True)}
                )
                for b in election.ballots
            ],
            instance=instance,
        )
    else:
        profile = ApprovalProfile(
            [ApprovalBallot([by_id[x] for x in b.projects]) for b in election.ballots],
            instance=instance,
        )
    return instance, profile


def pabutools_count(election: Election, rule: str) -> list[str]:
    """The project ids pabutools selects, in its selection order."""
    instance, profile = to_pabutools(election)
    mes_sat: type = Additive_Cardinal_Sat if election.uses_points else Cost_Sat
    greedy_sat: type = PointsTimesCostSat if election.uses_points else Cost_Sat
    calls: dict[str, Callable[[], Any]] = {
        "greedy": lambda: greedy_utilitarian_welfare(instance, profile, sat_class=greedy_sat),
        "mes": lambda: method_of_equal_shares(instance, profile, sat_class=mes_sat),
        "mes-add1": lambda: method_of_equal_shares(
            instance, profile, sat_class=mes_sat, voter_budget_increment=1
        ),
        "mes-add1-greedy": lambda: completion_by_rule_combination(
            instance,
            profile,
            [method_of_equal_shares, greedy_utilitarian_welfare],
            [{"sat_class": mes_sat, "voter_budget_increment": 1}, {"sat_class": greedy_sat}],
        ),
    }
    if rule == "greedy-stop":
        limit = instance.budget_limit
        instance.budget_limit = sum(p.cost for p in instance) + 1  # everything fits
        order = list(greedy_utilitarian_welfare(instance, profile, sat_class=greedy_sat))
        instance.budget_limit = limit
        selected, spent = [], mpq(0)
        for project in order:
            if spent + project.cost > limit:
                break
            selected.append(project.name)
            spent += project.cost
        return selected
    return [p.name for p in calls[rule]()]
