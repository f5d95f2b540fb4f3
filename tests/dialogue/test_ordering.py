"""The next statement: only unseen ones, Pol.is's priority among them."""

from __future__ import annotations

from bot.services.dialogue.ordering import Seen, next_statement, priority


def test_only_unseen_statements_and_none_when_all_are_seen() -> None:
    counts = {1: Seen(), 2: Seen(), 3: Seen()}
    assert next_statement(counts, voted={1, 3}) == 2
    assert next_statement(counts, voted={1, 2, 3}) is None


def test_new_and_agreed_before_much_passed_and_separating_first() -> None:
    counts = {1: Seen(agree=1, disagree=1, passed=8), 2: Seen(), 3: Seen(agree=5, disagree=5)}
    assert next_statement(counts, voted=()) == 2  # new statements get a boost
    assert next_statement(counts, voted={2}) == 3  # passed by most: last
    same = {1: Seen(agree=3, disagree=3), 2: Seen(agree=3, disagree=3)}
    assert next_statement(same, voted=()) == 1  # a tie: the oldest
    assert next_statement(same, voted=(), extremity={2: 0.8}) == 2  # separates groups
    assert priority(Seen(), 1.0) > priority(Seen(), 0.0)
