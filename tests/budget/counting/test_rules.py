"""The counting rules on hand-made elections, and the ``count`` entry point."""

from __future__ import annotations

from fractions import Fraction

import pytest

from bot.services.budget.counting.election import Ballot, Election, Project
from bot.services.budget.counting.rules import RULES, Outcome, count


def approval(costs: dict[str, int], ballots: list[str], budget: int) -> Election:
    return Election(
        budget=budget,
        vote_type="approval",
        projects=tuple(Project(p, c) for p, c in costs.items()),
        ballots=tuple(
            Ballot(str(i), tuple(b.split(",")) if b else ()) for i, b in enumerate(ballots)
        ),
    )


def test_unknown_rule_names_the_valid_ones() -> None:
    election = approval({"a": 1}, ["a"], 1)
    with pytest.raises(ValueError, match="mes-add1-greedy") as caught:
        count(election, "borda")
    assert all(rule in str(caught.value) for rule in RULES)


def test_greedy_skips_and_greedy_stop_stops() -> None:
    # Support: a 3, b 2, c 1. b does not fit after a; c still does.
    election = approval({"a": 60, "b": 50, "c": 30}, ["a,b,c", "a,b", "a"], 100)
    assert count(election, "greedy") == Outcome("greedy", ("a", "c"), 90)
    assert count(election, "greedy-stop") == Outcome("greedy-stop", ("a",), 60)


def test_greedy_breaks_ties_by_id_as_text() -> None:
    election = approval({"9": 10, "10": 10}, ["9,10"], 10)
    assert count(election, "greedy").selected == ("10",)


def test_greedy_ranks_unsupported_and_free_projects_last() -> None:
    election = approval({"free": 0, "nobody": 5, "liked": 5}, ["liked,free"], 100)
    assert count(election, "greedy").selected == ("liked", "free", "nobody")


def test_mes_follows_the_equal_shares_example() -> None:
    # 4 voters with 25 each. "small" (20), wanted by all, costs 5 each. "big" (80) is wanted
    # by 3, who hold only 75 (then 60): unaffordable.
    election = approval({"big": 80, "small": 20}, ["big,small"] * 3 + ["small"], 100)
    assert count(election, "mes").selected == ("small",)
    # mes-add1 raises the 25 per voter to 32, where 3 x 27 >= 80 buys "big" too: 100 spent.
    assert count(election, "mes-add1").selected == ("small", "big")


def test_mes_add1_returns_the_last_feasible_outcome() -> None:
    # Two voters with 50 each, each alone wanting a project of 60. Nothing is affordable until
    # 60 per voter; then both are bought at once (120 > 100), so the previous, empty, outcome
    # stands. Greedy completion then takes one of the two (tie: "a" first).
    election = approval({"a": 60, "b": 60}, ["a", "b"], 100)
    assert count(election, "mes").selected == ()
    assert count(election, "mes-add1").selected == ()
    assert count(election, "mes-add1-greedy").selected == ("a",)


def test_mes_add1_stops_at_the_first_exhaustive_outcome() -> None:
    # 50 each: a (90) costs 45 each, b (20) ties at 1/2 and loses by name; 5 + 5 left < 20.
    # Only b could still be added and 90 + 20 > 100: exhaustive at once.
    election = approval({"a": 90, "b": 20}, ["a,b", "a,b"], 100)
    assert count(election, "mes-add1").selected == ("a",)


def test_mes_add1_takes_the_first_step_where_the_count_stops() -> None:
    # MES is not monotone in the budget: here the count stops at step 3 (exhaustive), goes
    # on at step 4 and stops again at 5. pabutools takes step 3; a search by doubling and
    # bisection, which assumes a stop stays a stop, lands on step 5 and picks other
    # projects (found in 41 of 20,000 random small elections), so every step is tried.
    election = approval(
        {"p0": 9, "p1": 52, "p2": 31, "p3": 6, "p4": 2, "p5": 2},
        ["p1,p0,p4,p2,p3", "p4,p0,p1,p3,p2", "p2,p4,p1,p3", "p4", "p0,p4,p3,p1,p5,p2", "p3",
         "p4", "p1,p4,p2,p3,p5,p0"],
        68,
    )  # fmt: skip
    # As pabutools 1.2.3 counts it (the same election is an example in test_against_pabutools).
    assert count(election, "mes-add1").selected == ("p4", "p3", "p2", "p0", "p5")


def test_cumulative_uses_points() -> None:
    election = Election(
        budget=10,
        vote_type="cumulative",
        projects=(Project("x", 6), Project("y", 6)),
        ballots=(Ballot("1", ("x", "y"), (1, 4)), Ballot("2", ("x",), (3,))),
    )
    # Greedy by total points: x 4, y 4 -> tie, "x" first; y no longer fits.
    assert count(election, "greedy").selected == ("x",)
    # MES with points as utilities: x costs 6/4 per point, y 6/4 per point too; x by name.
    assert count(election, "mes").selected == ("x",)


def test_no_voters_and_fractional_costs() -> None:
    empty = Election(budget=10, vote_type="approval", projects=(Project("a", 1),), ballots=())
    assert count(empty, "mes") == Outcome("mes", (), 0)
    assert count(empty, "mes-add1-greedy").selected == ("a",)
    halves = approval({"a": 1, "b": 1}, ["a,b"], 3)
    halves = Election(
        budget=Fraction(5, 2),
        vote_type="approval",
        projects=(Project("a", Fraction(3, 2)), Project("b", 1)),
        ballots=halves.ballots,
    )
    outcome = count(halves, "greedy")
    assert outcome.selected == ("a", "b")
    assert outcome.total_cost == Fraction(5, 2)
