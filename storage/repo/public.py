"""What a neighbourhood's public page reads: reports without their text, status histories,
ideas, finished initiatives and closed polls. Reads only; what may be shown is decided in
`bot.web.public`."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Idea, Initiative, Poll, Signal, SignalUpdate

SHOWN_UPDATES = ("status", "municipality")  # questions and answers stay between people


def _listed(neighbourhood_id: int) -> tuple[ColumnElement[bool], ...]:
    """Open and solved reports: not closed (refused, a duplicate) and not merged."""
    return (
        col(Signal.neighbourhood_id) == neighbourhood_id,
        col(Signal.status) != "closed",
        col(Signal.duplicate_of_id).is_(None),
    )


async def reports(
    session: AsyncSession, neighbourhood_id: int, limit: int, offset: int
) -> tuple[list[Signal], int]:
    """A page of open and solved reports, the latest change first, and how many in all."""
    where = _listed(neighbourhood_id)
    total = (await session.exec(select(func.count()).select_from(Signal).where(*where))).one()
    stmt = (
        select(Signal)
        .where(*where)
        .order_by(col(Signal.updated_at).desc(), col(Signal.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return list((await session.exec(stmt)).all()), int(total)


async def histories(session: AsyncSession, signal_ids: list[int]) -> dict[int, list[SignalUpdate]]:
    """The status changes of these reports, oldest first (notes are read but not shown)."""
    found: dict[int, list[SignalUpdate]] = defaultdict(list)
    if not signal_ids:
        return found
    stmt = (
        select(SignalUpdate)
        .where(
            col(SignalUpdate.signal_id).in_(signal_ids),
            col(SignalUpdate.kind).in_(SHOWN_UPDATES),
        )
        .order_by(col(SignalUpdate.id))
    )
    for update in (await session.exec(stmt)).all():
        found[update.signal_id].append(update)
    return found


async def solved_since(
    session: AsyncSession, neighbourhood_id: int, since: datetime, limit: int
) -> list[Signal]:
    stmt = (
        select(Signal)
        .where(
            col(Signal.neighbourhood_id) == neighbourhood_id,
            col(Signal.status) == "resolved",
            col(Signal.updated_at) >= since,
        )
        .order_by(col(Signal.updated_at).desc(), col(Signal.id).desc())
        .limit(limit)
    )
    return list((await session.exec(stmt)).all())


async def done_since(
    session: AsyncSession, neighbourhood_id: int, since: datetime, limit: int
) -> list[tuple[Idea, Initiative]]:
    stmt = (
        select(Idea, Initiative)
        .join(Initiative, col(Initiative.idea_id) == col(Idea.id))
        .where(
            col(Idea.neighbourhood_id) == neighbourhood_id,
            col(Initiative.status) == "done",
            col(Initiative.done_at) >= since,
        )
        .order_by(col(Initiative.done_at).desc(), col(Initiative.id).desc())
        .limit(limit)
    )
    return [(idea, ini) for idea, ini in (await session.exec(stmt)).all()]


async def closed_polls(session: AsyncSession, neighbourhood_id: int, limit: int) -> list[Poll]:
    stmt = (
        select(Poll)
        .where(col(Poll.neighbourhood_id) == neighbourhood_id, col(Poll.closed_at).is_not(None))
        .order_by(col(Poll.closed_at).desc(), col(Poll.id).desc())
        .limit(limit)
    )
    return list((await session.exec(stmt)).all())
