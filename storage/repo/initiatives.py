"""Initiatives (an idea with a team, then done): reads and writes only."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Account, IdeaOffer, IdeaSupport, Initiative


async def of_idea(session: AsyncSession, idea_id: int) -> Initiative | None:
    stmt = select(Initiative).where(col(Initiative.idea_id) == idea_id)
    return (await session.exec(stmt)).first()


async def of_ideas(session: AsyncSession, idea_ids: Sequence[int]) -> dict[int, Initiative]:
    if not idea_ids:
        return {}
    stmt = select(Initiative).where(col(Initiative.idea_id).in_(list(idea_ids)))
    return {i.idea_id: i for i in (await session.exec(stmt)).all()}


async def of_chat(session: AsyncSession, platform: str, chat_id: str) -> Initiative | None:
    stmt = select(Initiative).where(
        col(Initiative.platform) == platform, col(Initiative.chat_id) == chat_id
    )
    return (await session.exec(stmt)).first()


async def start(session: AsyncSession, idea_id: int) -> Initiative:
    found = Initiative(idea_id=idea_id)
    session.add(found)
    await session.flush()
    return found


async def team(session: AsyncSession, idea_id: int) -> list[int]:
    """The people in the team: whose offer the initiator accepted."""
    stmt = (
        select(IdeaOffer.person_id)
        .where(col(IdeaOffer.idea_id) == idea_id, col(IdeaOffer.status) == "accepted")
        .order_by(col(IdeaOffer.id))
    )
    return list((await session.exec(stmt)).all())


async def team_sizes(session: AsyncSession, idea_ids: Sequence[int]) -> dict[int, int]:
    if not idea_ids:
        return {}
    stmt = (
        select(IdeaOffer.idea_id, func.count())
        .where(col(IdeaOffer.idea_id).in_(list(idea_ids)), col(IdeaOffer.status) == "accepted")
        .group_by(col(IdeaOffer.idea_id))
    )
    return {idea_id: n for idea_id, n in (await session.exec(stmt)).all()}


async def supporters(session: AsyncSession, idea_id: int) -> list[int]:
    stmt = select(IdeaSupport.person_id).where(
        col(IdeaSupport.idea_id) == idea_id, col(IdeaSupport.person_id).is_not(None)
    )
    return [pid for pid in (await session.exec(stmt)).all() if pid is not None]


async def account_on(session: AsyncSession, person_id: int, platform: str) -> str | None:
    """The person's account id on `platform`, if they have one there."""
    stmt = select(Account.platform_user_id).where(
        col(Account.person_id) == person_id, col(Account.platform) == platform
    )
    return (await session.exec(stmt)).first()


async def in_teams(session: AsyncSession, person_id: int) -> list[int]:
    """The ideas whose initiative has this person in the team."""
    stmt = (
        select(Initiative.idea_id)
        .join(IdeaOffer, col(IdeaOffer.idea_id) == col(Initiative.idea_id))
        .where(col(IdeaOffer.person_id) == person_id, col(IdeaOffer.status) == "accepted")
        .order_by(col(Initiative.idea_id))
    )
    return list((await session.exec(stmt)).all())
