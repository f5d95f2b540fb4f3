"""Our rules against pabutools itself on random small elections with many ties."""

from __future__ import annotations

from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, example, given, settings

from bot.services.budget.counting import rules
from bot.services.budget.counting.election import Election
from bot.services.budget.counting.rules import RULES, count
from tests.budget.counting.strategies import NOT_MONOTONE, elections

pytest.importorskip("pabutools")
from tests.budget.counting.pabutools_reference import pabutools_count

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def _assert_same(election: Election, rule: str) -> None:
    ours = list(count(election, rule).selected)
    theirs = pabutools_count(election, rule)
    assert sorted(ours) == sorted(theirs), rule
    if rule in ("greedy", "greedy-stop", "mes"):
        # Same selection order too, except that pabutools adds cost-0 projects that MES gets
        # for free in set-iteration order.
        costs = election.project_costs()
        assert [p for p in ours if costs[p]] == [p for p in theirs if costs[p]], rule


@pytest.mark.parametrize("rule", list(RULES))
@SETTINGS
@given(election=elections("approval"))
@example(election=NOT_MONOTONE)
def test_approval_matches_pabutools(rule: str, election: Election) -> None:
    _assert_same(election, rule)


@pytest.mark.parametrize("rule", ["mes", "mes-add1", "mes-add1-greedy"])
@SETTINGS
@given(election=elections("approval"))
@example(election=NOT_MONOTONE)
def test_approval_on_numpy_arrays_matches_pabutools(rule: str, election: Election) -> None:
    # Large elections count on numpy arrays; here every election does.
    with patch.multiple(rules, NUMPY_ONE_RUN=0, NUMPY_MORE_RUNS=0):
        _assert_same(election, rule)


@pytest.mark.parametrize("rule", list(RULES))
@SETTINGS
@given(election=elections("cumulative"))
def test_cumulative_matches_pabutools(rule: str, election: Election) -> None:
    _assert_same(election, rule)
