"""Polls: a coordinator writes one (dialog or one line), residents vote wherever they are.

`/peiling Vraag? | Optie A | Optie B` or `/peiling` for the dialog. Both end on one
summary with buttons to change the rules (one or more answers, closing time, who gets it,
live results, names) and Send. Once sent, nothing about the poll can change.

Votes are buttons `pv:{poll}:{option}` (or native poll answers carrying the same ids): one
person, one vote per poll across every group and direct chat; the latest choice counts.

`compose` writes and sends a poll, `vote` takes votes, `results` shows and closes.
"""

from __future__ import annotations

from bot.core.router import Router
from bot.handlers.polls import compose, results, vote

router = Router("polls")
router.include(compose.router, vote.router, results.router)
