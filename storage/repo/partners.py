"""Partners (organisations), their "we can help" answers, and the news they have not had."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Idea, Partner, PartnerResponse, Signal
from storage.repo.unique import add_once


async def newest_ids(session: AsyncSession) -> tuple[int, int]:
    """The newest idea and report ids: a new partner hears about what comes after."""
    idea = (await session.exec(select(func.max(Idea.id)))).one()
    sig = (await session.exec(select(func.max(Signal.id)))).one()
    return int(idea or 0), int(sig or 0)


async def partner_of(
    session: AsyncSession, person_id: int, neighbourhood_id: int
) -> Partner | None:
    stmt = select(Partner).where(
        col(Partner.person_id) == person_id, col(Partner.neighbourhood_id) == neighbourhood_id
    )
    return (await session.exec(stmt)).first()


async def partners_of_person(session: AsyncSession, person_id: int) -> list[Partner]:
    stmt = select(Partner).where(col(Partner.person_id) == person_id).order_by(col(Partner.id))
    return list((await session.exec(stmt)).all())


async def partners_in(session: AsyncSession, neighbourhood_ids: list[int] | None) -> list[Partner]:
    """Partners of these neighbourhoods (all of them for None), oldest first."""
    stmt = select(Partner).order_by(col(Partner.id))
    if neighbourhood_ids is not None:
        stmt = stmt.where(col(Partner.neighbourhood_id).in_(neighbourhood_ids))
    return list((await session.exec(stmt)).all())


async def new_ideas_for(session: AsyncSession, partner: Partner) -> list[Idea]:
    if not partner.theme_ids:
        return []
    stmt = (
        select(Idea)
        .where(
            col(Idea.id) > partner.told_idea_id,
            col(Idea.neighbourhood_id) == partner.neighbourhood_id,
            col(Idea.theme_id).in_(partner.theme_ids),
        )
        .order_by(col(Idea.id))
    )
    return list((await session.exec(stmt)).all())


async def new_signals_for(session: AsyncSession, partner: Partner) -> list[Signal]:
    if not partner.categories:
        return []
    stmt = (
        select(Signal)
        .where(
            col(Signal.id) > partner.told_signal_id,
            col(Signal.neighbourhood_id) == partner.neighbourhood_id,
            col(Signal.category).in_(partner.categories),
            col(Signal.duplicate_of_id).is_(None),
        )
        .order_by(col(Signal.id))
    )
    return list((await session.exec(stmt)).all())


async def respond(session: AsyncSession, idea_id: int, partner_id: int) -> bool:
    """False if this organisation already said it can help with the idea."""
    return await add_once(session, PartnerResponse(idea_id=idea_id, partner_id=partner_id))


async def helping(session: AsyncSession, idea_ids: list[int]) -> dict[int, list[str]]:
    """The organisations that want to help, per idea (in the order they answered)."""
    if not idea_ids:
        return {}
    stmt = (
        select(PartnerResponse.idea_id, Partner.organisation)
        .join(Partner, col(Partner.id) == col(PartnerResponse.partner_id))
        .where(col(PartnerResponse.idea_id).in_(idea_ids))
        .order_by(col(PartnerResponse.id))
    )
    found: dict[int, list[str]] = {}
    for idea_id, organisation in (await session.exec(stmt)).all():
        found.setdefault(idea_id, []).append(organisation)
    return found


async def responses_by(session: AsyncSession, person_id: int) -> list[tuple[Partner, int]]:
    """Each "we can help" a person gave: (their partner row, the idea id)."""
    stmt = (
        select(Partner, PartnerResponse.idea_id)
        .join(PartnerResponse, col(PartnerResponse.partner_id) == col(Partner.id))
        .where(col(Partner.person_id) == person_id)
        .order_by(col(PartnerResponse.id))
    )
    return [(p, i) for p, i in (await session.exec(stmt)).all()]
