"""The MES engines: float engine vs exact engine, refusals, ties, medium random elections."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from bot.services.budget.counting.amounts import Number
from bot.services.budget.counting.election import Ballot, Election, Project
from bot.services.budget.counting.equal_shares import _afford_approval, _Budgets, _pay, equal_shares
from bot.services.budget.counting.equal_shares_fast import FastEqualShares
from bot.services.budget.counting.equal_shares_np import NumpyEqualShares
from bot.services.budget.counting.equal_shares_points import FastPointsEqualShares
from bot.services.budget.counting.float_mes import Refused
from bot.services.budget.counting.profile import build_profile
from bot.services.budget.counting.rules import count
from tests.budget.counting.strategies import NOT_MONOTONE


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


@pytest.mark.parametrize("engine", [FastEqualShares, NumpyEqualShares])
@pytest.mark.parametrize("reorder", [False, True])
def test_float_engine_equals_exact_engine(
    reorder: bool, engine: type[FastEqualShares | NumpyEqualShares]
) -> None:
    rng = random.Random(20240601)
    used = 0
    for _ in range(40):
        election = random_approval(rng, rng.randint(10, 800), rng.randint(2, 25))
        profile = build_profile(election)
        fast = engine(profile, reorder=reorder)
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


@pytest.mark.parametrize("engine", [FastEqualShares, NumpyEqualShares])
def test_exact_ties_go_to_the_smaller_id_as_text(
    engine: type[FastEqualShares | NumpyEqualShares],
) -> None:
    # Equal support, different costs: both priced at exactly 1/2; "10" < "9" as text.
    election = _election({"9": 30, "10": 50}, [["9", "10"], ["9", "10"]], 100)
    profile = build_profile(election)
    assert engine(profile).run(Fraction(50)) == [1, 0]
    assert count(election, "mes").selected == ("10", "9")


@pytest.mark.parametrize("engine", [FastEqualShares, NumpyEqualShares])
def test_float_engine_refuses_when_a_budget_equals_the_payment(
    engine: type[FastEqualShares | NumpyEqualShares],
) -> None:
    # Each voter has 10 and project "a" costs 20 with 2 supporters: payment == budget.
    election = _election({"a": 20, "b": 10}, [["a"], ["a", "b"], ["b"]], 30)
    profile = build_profile(election)
    assert engine(profile).run(Fraction(10)) is None
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


@pytest.mark.parametrize("engine", [FastEqualShares, NumpyEqualShares])
def test_a_wrong_order_hint_changes_nothing(
    engine: type[FastEqualShares | NumpyEqualShares],
) -> None:
    # Each run prices the previous run's choices first; a misleading guess only costs time.
    rng = random.Random(11)
    for _ in range(20):
        profile = build_profile(random_approval(rng, rng.randint(10, 300), rng.randint(2, 15)))
        per_voter = Fraction(profile.budget, profile.n_voters)
        plain = engine(profile)
        misled = engine(profile)
        for extra in range(4):
            expected = plain.run(per_voter + extra)
            plain.last = ()
            misled.last = tuple(reversed(range(len(profile.ids)))) + (0,) * 3
            assert misled.run(per_voter + extra) == expected


@pytest.mark.parametrize("engine", [FastEqualShares, NumpyEqualShares])
def test_float_engines_charge_what_the_exact_engine_charges(
    engine: type[FastEqualShares | NumpyEqualShares],
) -> None:
    # Same choices are not enough: each voter must be left with the exact engine's money.
    rng = random.Random(5)
    compared = 0
    for _ in range(40):
        profile = build_profile(random_approval(rng, rng.randint(10, 400), rng.randint(2, 20)))
        per_voter = Fraction(profile.budget, profile.n_voters) + rng.choice([0, 3])
        run = engine(profile).new_run(float(per_voter))
        try:
            chosen = run.buy_all([])
        except Refused:
            continue
        exact = _Budgets(profile.n_voters, per_voter)
        for p in chosen:
            rho = _afford_approval(exact, profile.supporters[p], profile.costs[p])
            assert rho is not None
            _pay(exact, profile, p, rho)
        left = [float(exact.values[c]) for c in exact.of_voter]
        assert list(run.budget) == pytest.approx(left, rel=1e-9, abs=1e-6)
        compared += 1
    assert compared > 30


@pytest.mark.parametrize("engine", [FastEqualShares, NumpyEqualShares])
def test_float_prices_are_the_exact_prices(
    engine: type[FastEqualShares | NumpyEqualShares],
) -> None:
    # One project, supporters with random money (some none, some capped); each price equals
    # the exact one, and when the engine says it knows the price exactly, it does.
    rng = random.Random(3)
    known = 0
    for _ in range(300):
        n = rng.randint(1, 60)
        money = [rng.choice([0, 0, 1, 2, 5, 10, rng.randint(1, 40)]) for _ in range(n)]
        cost = rng.randint(1, max(1, sum(money)))
        election = _election({"p": cost}, [["p"]] * n, sum(money))
        profile = build_profile(election)
        run = engine(profile).new_run(1.0)
        for voter, value in enumerate(money):
            run.budget[voter] = float(value)
        budgets = _Budgets(n, 0)
        budgets.of_voter = [budgets.class_of(value) for value in money]
        exact = _afford_approval(budgets, profile.supporters[0], cost)
        try:
            price = run.price(0, None)
        except Refused:
            continue
        if exact is None:
            assert price is None
            continue
        assert price is not None and not isinstance(price, float)
        assert price.rho == pytest.approx(float(exact), rel=1e-12)
        if price.exact is not None:
            assert price.exact == exact
            known += 1
    assert known > 30


@pytest.mark.parametrize("engine", [FastEqualShares, NumpyEqualShares])
def test_paying_refuses_when_a_budget_equals_the_payment(
    engine: type[FastEqualShares | NumpyEqualShares],
) -> None:
    # 5, 10 and 10 for a cost of 15: the first pays exactly all it has. Capped or not is the
    # same here, but floats cannot tell "exactly" from "nearly", so the run is refused.
    profile = build_profile(_election({"p": 15}, [["p"]] * 3, 25))
    run = engine(profile).new_run(10.0)
    run.budget[0] = 5.0
    price = run.price(0, None)
    assert price is not None and not isinstance(price, float)
    with pytest.raises(Refused):
        run.pay(price)


@pytest.mark.parametrize("engine", [FastEqualShares, NumpyEqualShares])
def test_steps_reusing_the_previous_order_equal_independent_counts(
    engine: type[FastEqualShares | NumpyEqualShares],
) -> None:
    # mes-add1 reuses one engine, so each step starts from the previous step's buying order.
    # On the election where equal shares is not monotone in the budget (the count stops at
    # step 3, goes on at 4, stops at 5), every step still equals a count of its own.
    profile = build_profile(NOT_MONOTONE)
    start = Fraction(profile.budget, profile.n_voters)
    reused = engine(profile, reorder=True)
    for step in range(12):
        alone = engine(profile, reorder=True).run(start + step)
        assert reused.run(start + step) == alone
        assert alone is None or alone == equal_shares(profile, start + step)
