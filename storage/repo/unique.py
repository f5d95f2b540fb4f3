"""Inserting a row that a unique constraint allows only once."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession


async def add_once(session: AsyncSession, row: SQLModel) -> bool:
    """Add `row` in a savepoint; False (and nothing changed) if the database refuses a twin."""
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        return False
    return True
