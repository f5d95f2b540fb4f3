"""Conversations (gesprekken): a coordinator opens one, residents vote on statements one at
a time and add their own; coordinators approve them when the conversation asks for it.

`compose` opens a conversation, `vote` shows and takes votes, `statements` takes a
resident's own statement and its review.
"""

from __future__ import annotations

from bot.core.router import Router
from bot.handlers.dialogue import compose, statements, vote

router = Router("dialogue")
router.include(compose.router, vote.router, statements.router)
