"""The inbox: events a platform handed us, kept until they are handled (bot/core/inbox.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exists, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
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
    dialect = postgresql if _postgres(session) else sqlite
    stmt = dialect.insert(InboxEntry).on_conflict_do_nothing(index_elements=["source", "key"])
    await session.exec(stmt, params=rows)


async def waiting(session: AsyncSession, source: str, limit: int) -> list[InboxEntry]:
    """Kept and not yet handled, in the order they came (one process handles them in turn)."""
    stmt = (
        select(InboxEntry)
        .where(col(InboxEntry.source) == source, col(InboxEntry.handled_at).is_(None))
        .order_by(col(InboxEntry.id))
        .limit(limit)
    )
    return list((await session.exec(stmt)).all())


async def heads(session: AsyncSession, source: str, limit: int) -> list[InboxEntry]:
    """The oldest waiting entry of each chat, oldest first: what any of several workers may
    handle now. On PostgreSQL an entry another worker is handling (its claim holds the row)
    is left out, and so its chat: that chat's next entry waits until that worker is done."""
    oldest = (
        select(func.min(InboxEntry.id).label("id"))
        .where(col(InboxEntry.source) == source, col(InboxEntry.handled_at).is_(None))
        .group_by(col(InboxEntry.chat_id))
        .order_by(func.min(InboxEntry.id))
        .limit(limit)
        .subquery()
    )
    stmt = (
        select(InboxEntry)
        .join(oldest, col(InboxEntry.id) == oldest.c.id)
        .where(col(InboxEntry.handled_at).is_(None))  # checked again once the row is locked
        .order_by(col(InboxEntry.id))
    )
    if _postgres(session):
        stmt = stmt.with_for_update(read=True, skip_locked=True, of=InboxEntry)
    return list((await session.exec(stmt)).all())


async def claim(session: AsyncSession, entry_id: int, now: datetime) -> bool:
    """Mark it handled, inside the transaction that handles it; False if it was handled
    already, if an older entry of its chat still waits, or (PostgreSQL) if another worker is
    handling its chat now. So each entry is handled once, and a chat's entries one at a time,
    oldest first, whichever worker kept them.

    On PostgreSQL the transaction holds its chat's advisory lock (`_chat_lock`) until it ends,
    and the row too: a worker that dies mid-way rolls back, and another takes the entry."""
    if _postgres(session) and not await _chat_lock(session, entry_id, wait=False):
        return False
    older = aliased(InboxEntry)
    earlier_waits = exists().where(
        col(older.source) == InboxEntry.source,
        col(older.chat_id) == InboxEntry.chat_id,
        col(older.handled_at).is_(None),
        col(older.id) < InboxEntry.id,
    )
    stmt = (
        update(InboxEntry)
        .where(
            col(InboxEntry.id) == entry_id,
            col(InboxEntry.handled_at).is_(None),
            ~earlier_waits,
        )
        .values(handled_at=now, event={})  # the message itself is not kept once handled
    )
    result = await session.exec(stmt)
    return bool(result.rowcount == 1)


async def hold_chat(session: AsyncSession, entry_id: int) -> None:
    """Hold this entry's chat again after an early commit (`UnitOfWork.commit_now`) ended the
    transaction that held it: the chat's next entry waits until the handler is done. Waits
    if another worker took the chat meanwhile. Nothing to do on SQLite (one process)."""
    if _postgres(session):
        await _chat_lock(session, entry_id, wait=True)


# Advisory locks of two 32-bit keys (pg_locks.objsubid 2) never meet the roles' 64-bit ones.
CHAT_LOCK_CLASS = 0x77696A6B  # "wijk"


async def _chat_lock(session: AsyncSession, entry_id: int, wait: bool) -> bool:
    """The advisory lock of the entry's chat (source and chat id hashed), until the
    transaction ends. False if another transaction holds it (or the entry is gone)."""
    name = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    fn = getattr(func, name)
    key = func.hashtext(InboxEntry.source + " " + InboxEntry.chat_id)
    stmt = select(fn(CHAT_LOCK_CLASS, key)).where(col(InboxEntry.id) == entry_id)
    got = (await session.exec(stmt)).first()
    return wait or bool(got)


def _postgres(session: AsyncSession) -> bool:
    return bool(session.get_bind().dialect.name == "postgresql")


async def purge_handled(session: AsyncSession, before: datetime) -> int:
    """Forget the keys of entries handled before `before` (platforms stop resending by then)."""
    stmt = delete(InboxEntry).where(col(InboxEntry.handled_at) < before)
    result = await session.exec(stmt)
    return int(result.rowcount or 0)
