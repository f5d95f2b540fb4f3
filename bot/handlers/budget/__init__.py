"""Neighbourhood budgets ("Wijk aan Zet"): one router for proposals, voting and management."""

from __future__ import annotations

from bot.core.router import Router
from bot.handlers.budget import manage as budget_manage
from bot.handlers.budget import propose as budget_propose
from bot.handlers.budget import vote as budget_vote

router = Router("budget")
router.include(budget_propose.router, budget_vote.router, budget_manage.router)
