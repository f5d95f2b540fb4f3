"""The compact, index-based view of an election that the counting rules work on.

Projects and voters become list indices. Each project keeps the indices of its supporters
(voters giving it positive utility) and, for points ballots, the matching utilities.

Utilities follow pabutools: an approval ballot gives a project its cost (``Cost_Sat``), a
cumulative or scoring ballot gives it its points (``Additive_Cardinal_Sat``).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.budget.counting.amounts import Number
from bot.services.budget.counting.election import Election


@dataclass(frozen=True, slots=True)
class Profile:
    """Index-based election data, built once per count by :func:`build_profile`."""

    ids: tuple[str, ...]
    costs: tuple[Number, ...]
    budget: Number
    n_voters: int
    supporters: tuple[tuple[int, ...], ...]
    """Per project, the voters with positive utility for it (ascending)."""
    utilities: tuple[tuple[Number, ...], ...] | None
    """Per project, the supporters' utilities; ``None`` for approval (utility = cost)."""
    support: tuple[Number, ...]
    """Per project, the number of approvals or the total points (the greedy score)."""

    @property
    def approval(self) -> bool:
        return self.utilities is None

    def utilities_of(self, project: int) -> tuple[Number, ...]:
        """The supporters' utilities for ``project`` (cost for each approver)."""
        if self.utilities is None:
            return (self.costs[project],) * len(self.supporters[project])
        return self.utilities[project]

    def total_cost(self, projects: list[int]) -> Number:
        return sum((self.costs[p] for p in projects), 0)


def build_profile(election: Election) -> Profile:
    """Index the election: supporters and utilities per project."""
    ids = tuple(p.project_id for p in election.projects)
    index = {pid: i for i, pid in enumerate(ids)}
    voters: list[list[int]] = [[] for _ in ids]
    points: list[list[Number]] = [[] for _ in ids]
    if election.uses_points:
        for v, ballot in enumerate(election.ballots):
            for pid, pts in zip(ballot.projects, ballot.points or (), strict=True):
                if pts > 0:
                    i = index[pid]
                    voters[i].append(v)
                    points[i].append(pts)
        support: tuple[Number, ...] = tuple(sum(p, 0) for p in points)
        utilities: tuple[tuple[Number, ...], ...] | None = tuple(tuple(p) for p in points)
    else:
        appends = [lst.append for lst in voters]
        for v, ballot in enumerate(election.ballots):
            for pid in ballot.projects:
                appends[index[pid]](v)
        support = tuple(len(v) for v in voters)
        utilities = None
    return Profile(
        ids=ids,
        costs=tuple(p.cost for p in election.projects),
        budget=election.budget,
        n_voters=len(election.ballots),
        supporters=tuple(tuple(v) for v in voters),
        utilities=utilities,
        support=support,
    )
