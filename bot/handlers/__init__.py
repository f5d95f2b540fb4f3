"""All handler routers, in the order they are tried."""

from __future__ import annotations

from bot.router import Router


def build_router() -> Router:
    from bot.handlers import (
        announce,
        budget,
        contribute,
        coordinator,
        digest,
        groups,
        help,
        ideas,
        polls,
        privacy,
        signals,
        start,
        themes,
        triage,
    )

    root = Router("root")
    root.include(
        start.router,
        help.router,
        themes.router,
        digest.router,
        ideas.router,
        budget.router,
        signals.router,
        coordinator.router,
        groups.router,
        triage.router,
        polls.router,
        announce.router,
        privacy.router,
        contribute.router,
    )
    return root
