"""Sync positions per platform (Telegram's last update_id, Matrix's next_batch)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import SyncCursor, utcnow


async def get(session: AsyncSession, key: str) -> str | None:
    row = await session.get(SyncCursor, key)
    return row.value if row is not None else None


async def put(session: AsyncSession, key: str, value: str) -> None:
    row = await session.get(SyncCursor, key)
    if row is None:
        row = SyncCursor(key=key, value=value)
    row.value = value
    row.updated_at = utcnow()
    session.add(row)
