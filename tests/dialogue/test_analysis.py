"""The opinion-group analysis on small crafted conversations with obvious groups."""

from __future__ import annotations

import random

from bot.services.dialogue.analysis import (
    Analysis,
    StatementStats,
    analyse,
    next_statement,
)


def two_camps(n: int = 40, statements: int = 12, seed: int = 1) -> list[tuple[int, int, int]]:
    """Camp A agrees with statements 0..5 and disagrees with 6..11; camp B the opposite.
    Statement 12 everybody agrees with; a few votes are missing or flipped."""
    rng = random.Random(seed)
    votes = []
    for p in range(n):
        camp = 1 if p < n // 2 else -1
        for s in range(statements):
            if rng.random() < 0.15:
                continue  # not seen
            side = camp if s < statements // 2 else -camp
            vote = side if rng.random() > 0.1 else 0
            votes.append((p, s, vote))
        votes.append((p, 99, 1))
    return votes


def test_two_camps_become_two_groups_and_the_shared_statement_is_common_ground() -> None:
    result = analyse(two_camps())
    assert result.n_groups == 2
    assert sorted(result.group_sizes) == [20, 20]
    camp_a = {result.groups[p] for p in range(20)}
    camp_b = {result.groups[p] for p in range(20, 40)}
    assert len(camp_a) == 1 and len(camp_b) == 1 and camp_a != camp_b
    assert result.consensus[0].statement == 99
    assert result.consensus[0].agree_pct == 100
    group_a = camp_a.pop()
    reps = result.repness[group_a]
    assert reps, "every group gets its representative statements"
    for rep in reps:  # camp A agrees with 0..5 and disagrees with 6..11
        assert (rep.repful_for == "agree") == (int(rep.statement) < 6)


def test_same_votes_give_the_same_groups_in_any_order() -> None:
    votes = two_camps(seed=3)
    first = analyse(votes)
    shuffled = list(votes)
    random.Random(9).shuffle(shuffled)
    second = analyse(shuffled)
    assert first.groups == second.groups
    assert first.consensus == second.consensus


def test_people_with_too_few_votes_are_not_placed_but_are_on_the_map() -> None:
    votes = two_camps()
    votes += [(500, 0, 1), (500, 1, 1)]  # two votes: fewer than 7
    result = analyse(votes)
    assert 500 not in result.groups
    assert 500 in result.projection


def test_a_moderated_out_statement_is_never_shown_as_consensus_or_representative() -> None:
    result = analyse(two_camps(), moderated_out={99, 0})
    shown = {c.statement for c in result.consensus}
    shown |= {r.statement for reps in result.repness.values() for r in reps}
    assert not shown & {99, 0}
    assert 99 not in result.extremity and 99 not in result.stats
    assert result.n_groups == 2


def test_a_later_vote_replaces_the_earlier_one() -> None:
    votes = [*two_camps(), (0, 99, -1)]
    assert analyse(votes).stats[99] == StatementStats(agree=39, disagree=1, passed=0)


def three_camps() -> list[tuple[int, int, int]]:
    rng = random.Random(5)
    votes = []
    for p in range(90):
        camp = p // 30
        for s in range(15):
            if rng.random() < 0.1:
                continue
            votes.append((p, s, 1 if s // 5 == camp else -1))
    return votes


def test_k_smoothing_keeps_the_number_of_groups_until_a_new_one_wins_four_times() -> None:
    two = analyse(two_camps(n=90, statements=15))
    assert two.n_groups == 2
    history: list[Analysis] = [two]
    for _ in range(4):
        history.append(analyse(three_camps(), previous=history[-1]))
    assert [a.n_groups for a in history] == [2, 2, 2, 2, 3]
    assert analyse(three_camps()).n_groups == 3  # without history it switches at once


def test_next_statement_shows_unseen_statements_and_prefers_new_ones() -> None:
    stats = {
        1: StatementStats(agree=30, disagree=30, passed=0),
        2: StatementStats(agree=0, disagree=0, passed=0),  # brand new
        3: StatementStats(agree=1, disagree=0, passed=40),  # everybody passes
    }
    assert next_statement({}, stats) == 2
    assert next_statement({2: 1}, stats) == 1
    assert next_statement({1: 1, 2: 0, 3: -1}, stats) is None


def test_next_statement_prefers_the_divisive_statement_when_counts_are_equal() -> None:
    result = analyse(two_camps())
    stats = dict.fromkeys([0, 99], StatementStats(agree=10, disagree=10, passed=0))
    assert result.extremity[0] > result.extremity[99]
    assert next_statement({}, stats, result) == 0


def test_text_ids_work_as_well_as_numbers() -> None:
    votes = [(f"p{p}", f"s{s}", v) for p, s, v in two_camps()]
    result = analyse(votes)
    assert result.n_groups == 2
    assert result.consensus[0].statement == "s99"


def test_tiny_conversations_do_not_break() -> None:
    assert analyse([]).n_groups == 0
    one = analyse([(1, 1, 1)])
    assert set(one.groups) <= {1}
    assert next_statement({}, one.stats, one) == 1
    few = analyse([(1, 1, 1), (2, 1, -1), (3, 2, 0)], moderated_out={2})
    assert 2 not in few.stats
