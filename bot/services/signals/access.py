"""Who may act on a report, in one place for every button of a report.

A report is personal: its reporter's words and place. Its neighbourhood sees it (the digest
lists "Reports in the neighbourhood" with an Open button, to residents and linked groups),
and so do the people following it; outsiders do not. Only the reporter answers for it.
Coordinators act on the reports of their own neighbourhood (see `handlers.signals.coordinator`).
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.permissions import Actor
from storage.models import Signal
from storage.repo import audience, signals


async def may_view(session: AsyncSession, sig: Signal, actor: Actor) -> bool:
    """Open the report and follow it: its neighbourhood's residents, coordinators and linked
    groups, its reporter and its followers."""
    hood = sig.neighbourhood_id
    if actor.coordinates(hood):
        return True
    if actor.in_group:
        return await audience.includes_group(
            session, actor.chat.platform, actor.chat.id, hood, None
        )
    pid = actor.person_id
    if pid is None or sig.id is None:
        return False
    return (
        pid == sig.reporter_id
        or pid in await signals.followers(session, sig.id)
        or await audience.includes_person(session, pid, hood, None)
    )


def is_reporter(sig: Signal, actor: Actor) -> bool:
    return actor.person_id is not None and actor.person_id == sig.reporter_id


async def may_answer(session: AsyncSession, sig: Signal, actor: Actor) -> bool:
    """The reporter's Answer button: theirs, once a coordinator asked them something."""
    if not is_reporter(sig, actor) or sig.id is None:
        return False
    return any(u.kind == "question" for u in await signals.history(session, sig.id))
