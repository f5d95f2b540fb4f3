"""The MES engines: float engine vs exact engine, refusals, ties, medium random elections."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from bot.services.budget.counting.amounts import Number
from bot.services.budget.counting.election import Ballot, Election, Project
from bot.services.budget.counting.equal_shares import equal_shares
from bot.services.budget.counting.equal_shares_fast import FastEqualShares
from bot.services.budget.counting.equal_shares_points import FastPointsEqualShares
from bot.services.budget.counting.profile import build_profile
from bot.services.budget.counting.rules import count


def random_approval(rng: random.Random, voters: int, projects: int) -> Election:
    ids = [str(i) for i in range(projects)]
    costs = [rng.choice([rng.randint(1, 100) * 100, 1000, 2000, 5000]) for _ in ids]
    popularity = [rng.random() ** 2 for _ in ids]
    ballots = tuple(
        Ballot(str(v), tuple(i for i, w in zip(ids, popularity, strict=True) if rng.random() < w))
        for v in range(voters)
    )
    budget = rng.choice([sum(costs) // 3, sum(costs) // 2, voters * 10, voters * 100])
    return Election(
        budget=budget,
        vote_type="approval",
        projects=tuple(Project(i, c) for i, c in zip(ids, costs, strict=True)),
        ballots=ballots,
    )


@pytest.mark.parametrize("reorder", [False, True])
def test_float_engine_equals_exact_engine(reorder: bool) -> None:
    rng = random.Random(20240601)
    used = 0
    for _ in range(40):
        election = random_approval(rng, rng.randint(10, 800), rng.randint(2, 25))
        profile = build_profile(election)
        fast = FastEqualShares(profile, reorder=reorder)
        for extra in (0, 1, 7):
            per_voter = Fraction(profile.budget, profile.n_voters) + extra
            result = fast.run(per_voter)
            if result is not None:
                used += 1
                assert result == equal_shares(profile, per_voter)
    assert used > 100  # the float engine is not just refusing everything


def random_cumulative(rng: random.Random, voters: int, projects: int) -> Election:
    ids = [str(i) for i in range(projects)]
    options: list[Number] = [0, rng.randint(1, 100) * 100, 1000, Fraction(2501, 2)]
    costs = [rng.choice(options) for _ in ids]
    point_options: list[Number] = [1, 1, 2, 3, 5, Fraction(1, 2)]
    popularity = [rng.random() ** 2 for _ in ids]
    ballots = []
    for v in range(voters):
        chosen = tuple(i for i, w in zip(ids, popularity, strict=True) if rng.random() < w)
        points = tuple(rng.choice(point_options) for _ in chosen)
        ballots.append(Ballot(str(v), chosen, points))
    return Election(
        budget=rng.choice([voters * 10, voters * 100, int(sum(costs, Fraction(0)) // 2)]),
        vote_type="cumulative",
        projects=tuple(Project(i, c) for i, c in zip(ids, costs, strict=True)),
        ballots=tuple(ballots),
    )


@pytest.mark.parametrize("reorder", [False, True])
def test_float_points_engine_equals_exact_engine(reorder: bool) -> None:
    rng = random.Random(7)
    used = 0
    for _ in range(40):
        profile = build_profile(random_cumulative(rng, rng.randint(5, 500), rng.randint(2, 20)))
        fast = FastPointsEqualShares(profile, reorder=reorder)
        for extra in (0, 1, 7):
            per_voter = Fraction(profile.budget, profile.n_voters) + extra
            result = fast.run(per_voter)
            if result is not None:
                used += 1
                assert result == equal_shares(profile, per_voter)
    assert used > 100


def _election(costs: dict[str, int], ballots: list[list[str]], budget: int) -> Election:
    return Election(
        budget=budget,
        vote_type="approval",
        projects=tuple(Project(p, c) for p, c in costs.items()),
        ballots=tuple(Ballot(str(i), tuple(b)) for i, b in enumerate(ballots)),
    )


def test_exact_ties_go_to_the_smaller_id_as_text() -> None:
    # Equal support, different costs: both priced at exactly 1/2; "10" < "9" as text.
    election = _election({"9": 30, "10": 50}, [["9", "10"], ["9", "10"]], 100)
    profile = build_profile(election)
    assert FastEqualShares(profile).run(Fraction(50)) == [1, 0]
    assert count(election, "mes").selected == ("10", "9")


def test_float_engine_refuses_when_a_budget_equals_the_payment() -> None:
    # Each voter has 10 and project "a" costs 20 with 2 supporters: payment == budget.
    election = _election({"a": 20, "b": 10}, [["a"], ["a", "b"], ["b"]], 30)
    profile = build_profile(election)
    assert FastEqualShares(profile).run(Fraction(10)) is None
    # Exact fallback: "a" and "b" tie at 1/2 ("a" wins); the two 10s then exactly pay "b".
    assert count(election, "mes").selected == ("a", "b")


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("vote_type", ["approval", "cumulative"])
def test_medium_random_elections_match_pabutools(seed: int, vote_type: str) -> None:
    pytest.importorskip("pabutools")
    from tests.budget.counting.pabutools_reference import pabutools_count

    rng = random.Random(seed)
    make = random_approval if vote_type == "approval" else random_cumulative
    election = make(rng, rng.randint(30, 90), rng.randint(4, 12))
    for rule in ("greedy", "mes", "mes-add1", "mes-add1-greedy"):
        assert sorted(count(election, rule).selected) == sorted(pabutools_count(election, rule))
