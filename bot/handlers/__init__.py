"""All handler routers, in the order they are tried."""

from __future__ import annotations

from bot.core.router import Router
from bot.handlers import (
    announce,
    budget,
    contribute,
    dashboard,
    dialogue,
    digest,
    forum,
    groups,
    help,
    ideas,
    initiatives,
    introductions,
    offers,
    partners,
    polls,
    privacy,
    start,
    theme_groups,
    themes,
)
from bot.handlers.signals import coordinator, mine, triage
from bot.handlers.signals import report as signals


def build_router() -> Router:
    root = Router("root")
    root.include(
        start.router,
        help.router,
        themes.router,
        theme_groups.router,
        digest.router,
        ideas.router,
        offers.router,
        introductions.router,
        initiatives.router,
        budget.router,
        signals.router,
        mine.router,
        coordinator.router,
        dashboard.router,
        groups.router,
        triage.router,
        polls.router,
        dialogue.router,
        forum.router,
        announce.router,
        partners.router,
        privacy.router,
        contribute.router,
    )
    return root
