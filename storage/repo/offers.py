"""Offers of help on ideas ("I'll help"): reads and writes only."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Idea, IdeaOffer


async def offer(session: AsyncSession, offer_id: int) -> IdeaOffer | None:
    return await session.get(IdeaOffer, offer_id)


async def offer_of(session: AsyncSession, idea_id: int, person_id: int) -> IdeaOffer | None:
    stmt = select(IdeaOffer).where(
        col(IdeaOffer.idea_id) == idea_id, col(IdeaOffer.person_id) == person_id
    )
    return (await session.exec(stmt)).first()


async def save_offer(
    session: AsyncSession, idea_id: int, person_id: int, kind: str, text: str
) -> IdeaOffer:
    """One offer per person per idea: a second one replaces the first, and is news again."""
    found = await offer_of(session, idea_id, person_id)
    if found is None:
        found = IdeaOffer(idea_id=idea_id, person_id=person_id, kind=kind, text=text)
    else:
        found.kind, found.text = kind, text
        found.status, found.author_notified = "open", False
    session.add(found)
    await session.flush()
    return found


async def offers_on(session: AsyncSession, idea_id: int) -> list[IdeaOffer]:
    stmt = select(IdeaOffer).where(col(IdeaOffer.idea_id) == idea_id).order_by(col(IdeaOffer.id))
    return list((await session.exec(stmt)).all())


async def offers_by(session: AsyncSession, person_id: int) -> list[IdeaOffer]:
    stmt = (
        select(IdeaOffer).where(col(IdeaOffer.person_id) == person_id).order_by(col(IdeaOffer.id))
    )
    return list((await session.exec(stmt)).all())


@dataclass(frozen=True)
class OfferNews:
    idea: Idea
    offers: list[IdeaOffer]


async def take_offer_news(session: AsyncSession) -> list[OfferNews]:
    """Open offers the initiator has not heard of, grouped per idea; marks them told."""
    stmt = (
        select(IdeaOffer)
        .where(col(IdeaOffer.author_notified).is_(False))
        .order_by(col(IdeaOffer.idea_id), col(IdeaOffer.id))
    )
    per_idea: dict[int, list[IdeaOffer]] = {}
    for o in (await session.exec(stmt)).all():
        o.author_notified = True
        session.add(o)
        if o.status == "open":
            per_idea.setdefault(o.idea_id, []).append(o)
    news = []
    for idea_id, new in per_idea.items():
        found = await session.get(Idea, idea_id)
        if found is not None and found.author_id is not None:
            news.append(OfferNews(found, new))
    await session.flush()
    return news
