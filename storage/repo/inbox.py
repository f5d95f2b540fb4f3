"""The inbox: events a platform handed us, kept until they are handled (bot/core/inbox.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import InboxEntry


async def keep(
    session: AsyncSession,
    source: str,
    entries: list[tuple[str, str, dict[str, Any]]],
    now: datetime,
) -> None:
    """Keep each (key, chat_id, event) once per source; a key kept before stays as it was
    (the platform sent it again: it is handled, or waiting, already)."""
    if not entries:
        return
    rows = [
        {"source": source, "key": key, "chat_id": chat_id, "event": event, "received_at": now}
        for key, chat_id, event in entries
    ]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(InboxEntry).on_conflict_do_nothing(index_elements=["source", "key"])
    await session.exec(stmt, params=rows)


async def waiting(session: AsyncSession, source: str, limit: int) -> list[InboxEntry]:
    """Kept and not yet handled, in the order they came."""
    stmt = (
        select(InboxEntry)
        .where(col(InboxEntry.source) == source, col(InboxEntry.handled_at).is_(None))
        .order_by(col(InboxEntry.id))
        .limit(limit)
    )
    return list((await session.exec(stmt)).all())


async def claim(session: AsyncSession, entry_id: int, now: datetime) -> bool:
    """Mark it handled, inside the transaction that handles it; False if it was handled
    already. On PostgreSQL the row stays locked until that transaction ends, so a second
    handler of the same entry waits here and then finds it taken."""
    stmt = (
        update(InboxEntry)
        .where(col(InboxEntry.id) == entry_id, col(InboxEntry.handled_at).is_(None))
        .values(handled_at=now, event={})  # the message itself is not kept once handled
    )
    result = await session.exec(stmt)
    return bool(result.rowcount == 1)


async def purge_handled(session: AsyncSession, before: datetime) -> int:
    """Forget the keys of entries handled before `before` (platforms stop resending by then)."""
    stmt = delete(InboxEntry).where(col(InboxEntry.handled_at) < before)
    result = await session.exec(stmt)
    return int(result.rowcount or 0)
