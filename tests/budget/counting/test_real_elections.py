"""Every real election x every rule in expected.json gives pabutools' winners."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.services.budget.counting import rules as counting_rules
from bot.services.budget.counting.rules import count
from bot.services.budget.counting.tally_cli import natural_key
from tests.budget.counting.realdata import expected_results, load_election

_SLOW = ("Poland_Warszawa_2024.pb",)


def _cases() -> list[object]:
    cases: list[object] = []
    for name, rules in expected_results().items():
        for rule in rules:
            marks = [pytest.mark.slow] if name in _SLOW and rule.startswith("mes-add1") else []
            cases.append(
                pytest.param(name, rule, id=f"{name.removesuffix('.pb')}-{rule}", marks=marks)
            )
    return cases or [pytest.param("", "", marks=pytest.mark.skip(reason="no Pabulib test data"))]


@pytest.mark.parametrize(("name", "rule"), _cases())
def test_matches_expected(require_data: Path, name: str, rule: str) -> None:
    election = load_election(name)
    outcome = count(election, rule)
    assert sorted(outcome.selected, key=natural_key) == expected_results()[name][rule]
    costs = election.project_costs()
    assert outcome.total_cost == sum(costs[p] for p in outcome.selected)
    assert outcome.total_cost <= election.budget


def _mes_cases() -> list[object]:
    cases = [
        pytest.param(name, rule, id=f"{name.removesuffix('.pb')}-{rule}")
        for name, rules in expected_results().items()
        for rule in rules
        if rule.startswith("mes") and name not in _SLOW  # Warsaw counts on arrays anyway
    ]
    return cases or [pytest.param("", "", marks=pytest.mark.skip(reason="no Pabulib test data"))]


@pytest.mark.parametrize(("name", "rule"), _mes_cases())
def test_matches_expected_on_numpy_arrays(
    require_data: Path, name: str, rule: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only large elections count on numpy arrays; here every approval election does.
    if load_election(name).uses_points:
        pytest.skip("points ballots are not counted on numpy arrays")
    monkeypatch.setattr(counting_rules, "NUMPY_ONE_RUN", 0)
    monkeypatch.setattr(counting_rules, "NUMPY_MORE_RUNS", 0)
    outcome = count(load_election(name), rule)
    assert sorted(outcome.selected, key=natural_key) == expected_results()[name][rule]


def test_expected_json_is_naturally_sorted(require_data: Path) -> None:
    for rules in expected_results().values():
        for winners in rules.values():
            assert winners == sorted(winners, key=natural_key)


SMALL = [
    "Netherlands_Assen_2024.pb",
    "Netherlands_Amsterdam_588.pb",
    "Switzerland_Zurich_D10.pb",
    "Poland_Swiecie_2023.pb",
]


@pytest.mark.parametrize("name", SMALL)
def test_parser_agrees_with_pabutools(require_data: Path, name: str) -> None:
    """Our parser reads the same budget, costs and ballots as pabutools' parser."""
    pabulib = pytest.importorskip("pabutools.election.pabulib")
    instance, profile = pabulib.parse_pabulib(str(require_data / name))
    election = load_election(name)
    assert election.budget == instance.budget_limit
    assert {p.project_id: p.cost for p in election.projects} == {p.name: p.cost for p in instance}
    assert len(election.ballots) == len(profile)
    for ours, theirs in zip(election.ballots, profile, strict=True):
        if ours.points is None:
            assert set(ours.projects) == {p.name for p in theirs}
        else:
            points = dict(zip(ours.projects, ours.points, strict=True))
            assert points == {p.name: v for p, v in theirs.items()}
