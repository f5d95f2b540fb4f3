"""Hypothesis strategies: small random elections full of ties."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import strategies as st

from bot.services.budget.counting.amounts import Number
from bot.services.budget.counting.election import Ballot, Election, Project

# Ids chosen so that text order and number order disagree ("10" < "9" as text).
ID_POOL = ["1", "2", "3", "9", "10", "11", "20", "a", "b", "c9", "c10"]
# Few distinct costs and budgets, so that equal prices (ties) are common.
COSTS: list[Number] = [0, 1, 2, 3, 5, 10, 10, 20, Fraction(5, 2)]
BUDGETS: list[Number] = [0, 5, 7, 10, 20, 25, 50, Fraction(41, 2)]


@st.composite
def elections(draw: st.DrawFn, vote_type: str, max_voters: int = 12) -> Election:
    ids = draw(st.lists(st.sampled_from(ID_POOL), min_size=1, max_size=6, unique=True))
    costs = draw(st.lists(st.sampled_from(COSTS), min_size=len(ids), max_size=len(ids)))
    ballots = []
    for voter in range(draw(st.integers(0, max_voters))):
        chosen = draw(st.lists(st.sampled_from(ids), unique=True, max_size=len(ids)))
        points = None
        if vote_type == "cumulative":
            size = len(chosen)
            points = tuple(draw(st.lists(st.integers(1, 3), min_size=size, max_size=size)))
        ballots.append(Ballot(f"v{voter}", tuple(chosen), points))
    return Election(
        budget=draw(st.sampled_from(BUDGETS)),
        vote_type=vote_type,
        projects=tuple(Project(pid, cost) for pid, cost in zip(ids, costs, strict=True)),
        ballots=tuple(ballots),
    )


# MES is not monotone in the budget: this count stops at step 3, goes on at 4, stops at 5,
# and mes-add1 must take step 3 as pabutools does (a search that assumed otherwise did not).
NOT_MONOTONE = Election(
    budget=68,
    vote_type="approval",
    projects=tuple(
        Project(p, c) for p, c in {"p0": 9, "p1": 52, "p2": 31, "p3": 6, "p4": 2, "p5": 2}.items()
    ),
    ballots=tuple(
        Ballot(str(i), tuple(b.split(",")))
        for i, b in enumerate(
            [
                "p1,p0,p4,p2,p3",
                "p4,p0,p1,p3,p2",
                "p2,p4,p1,p3",
                "p4",
                "p0,p4,p3,p1,p5,p2",
                "p3",
                "p4",
                "p1,p4,p2,p3,p5,p0",
            ]
        )
    ),
)
