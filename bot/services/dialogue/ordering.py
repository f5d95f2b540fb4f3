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

from bot.services.dialogue.analysis import StatementStats as Seen
from bot.services.dialogue.analysis import priority as _polis_priority

__all__ = ["Seen", "next_statement", "priority"]


def priority(votes: Seen, extremity: float = 0.0) -> float:
    """Pol.is's priority of a statement (the one formula, in `analysis`)."""
    return _polis_priority(votes, extremity)


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
