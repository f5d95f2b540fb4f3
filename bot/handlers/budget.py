"""Neighbourhood budgets ("Wijk aan Zet"): one router for proposals, voting and management."""

from __future__ import annotations

from bot.handlers import budget_manage, budget_propose, budget_vote
from bot.router import Router

router = Router("budget")
router.include(budget_propose.router, budget_vote.router, budget_manage.router)
