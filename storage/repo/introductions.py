"""Introductions between an initiator and an accepted helper: reads and writes only."""

from __future__ import annotations

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Introduction


async def introduction(session: AsyncSession, intro_id: int) -> Introduction | None:
    return await session.get(Introduction, intro_id)


async def open_for_offer(session: AsyncSession, offer_id: int) -> Introduction | None:
    """The introduction of this offer still waiting for answers, if any."""
    stmt = select(Introduction).where(
        col(Introduction.offer_id) == offer_id, col(Introduction.status) == "asked"
    )
    return (await session.exec(stmt)).first()


async def done_for_offer(session: AsyncSession, offer_id: int) -> Introduction | None:
    """The introduction that already happened for this offer, if any."""
    stmt = select(Introduction).where(
        col(Introduction.offer_id) == offer_id, col(Introduction.status) == "done"
    )
    return (await session.exec(stmt)).first()


async def of_person(session: AsyncSession, person_id: int) -> list[Introduction]:
    stmt = (
        select(Introduction)
        .where(
            or_(
                col(Introduction.initiator_id) == person_id,
                col(Introduction.helper_id) == person_id,
            )
        )
        .order_by(col(Introduction.id))
    )
    return list((await session.exec(stmt)).all())
