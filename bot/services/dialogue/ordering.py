"""Which statement a resident sees next: unseen ones only, the most informative first.

Pol.is's comment priority (polis math, `priority-metric`): a statement is important when
many agree with it (a), few pass (p), and it separates the opinion groups (extremity E);
new statements get a boost that fades after a few votes (S seen):

    a = (A + 1) / (S + 2)      p = (P + 1) / (S + 2)
    importance = (1 - p) · (E + 1) · a
    priority   = (importance · (1 + 8 · 2^(-S/5)))²

Pol.is draws at random, weighted by priority; we take the highest (ties: the oldest) so a
resident's order can be told and tested. Extremity comes from the latest analysis (kept up
to date by the job in `report.py`); before the first one every statement counts as equally
extreme.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Seen:
    """Votes on one statement so far: agree, disagree, pass."""

    agree: int = 0
    disagree: int = 0
    passed: int = 0


def priority(votes: Seen, extremity: float = 0.0) -> float:
    seen = votes.agree + votes.disagree + votes.passed
    a = (votes.agree + 1) / (seen + 2)
    p = (votes.passed + 1) / (seen + 2)
    importance = (1 - p) * (extremity + 1) * a
    return (importance * (1 + 8 * 2 ** (-seen / 5))) ** 2


def next_statement(
    counts: Mapping[int, Seen],
    voted: Collection[int],
    extremity: Mapping[int, float] | None = None,
) -> int | None:
    """The statement to show next, of those this person has not voted on; None: all done."""
    extremity = extremity or {}
    unseen = [s for s in counts if s not in voted]
    if not unseen:
        return None
    return max(sorted(unseen), key=lambda s: priority(counts[s], extremity.get(s, 0.0)))
