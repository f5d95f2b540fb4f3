"""Sync positions per platform (Telegram's last update_id, Matrix's next_batch)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import SyncCursor, utcnow


async def get(session: AsyncSession, key: str, newer_than: datetime | None = None) -> str | None:
    """The stored position; None if there is none, or it is older than `newer_than`."""
    row = await session.get(SyncCursor, key)
    if row is None:
        return None
    if newer_than is not None and row.updated_at < newer_than:
        return None
    return row.value


async def put(session: AsyncSession, key: str, value: str) -> None:
    row = await session.get(SyncCursor, key)
    if row is None:
        row = SyncCursor(key=key, value=value)
    row.value = value
    row.updated_at = utcnow()
    session.add(row)
