"""Ideas and their supports."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Idea, IdeaSupport
from storage.repo.unique import add_once


async def create_idea(
    session: AsyncSession,
    *,
    neighbourhood_id: int,
    author_id: int,
    title: str,
    body: str,
    theme_id: int | None,
) -> Idea:
    idea = Idea(
        neighbourhood_id=neighbourhood_id,
        author_id=author_id,
        title=title,
        body=body,
        theme_id=theme_id,
    )
    session.add(idea)
    await session.flush()
    return idea


async def idea(session: AsyncSession, idea_id: int) -> Idea | None:
    return await session.get(Idea, idea_id)


async def count_in(session: AsyncSession, neighbourhood_id: int) -> int:
    stmt = (
        select(func.count()).select_from(Idea).where(col(Idea.neighbourhood_id) == neighbourhood_id)
    )
    return int((await session.exec(stmt)).one())


async def recent_ideas(
    session: AsyncSession, neighbourhood_id: int, limit: int = 5, offset: int = 0
) -> list[tuple[Idea, int]]:
    """A neighbourhood's ideas, newest first, with their number of supporters."""
    supports = (
        select(IdeaSupport.idea_id, func.count().label("n"))
        .group_by(col(IdeaSupport.idea_id))
        .subquery()
    )
    stmt = (
        select(Idea, func.coalesce(supports.c.n, 0))
        .outerjoin(supports, supports.c.idea_id == col(Idea.id))
        .where(col(Idea.neighbourhood_id) == neighbourhood_id)
        .order_by(col(Idea.created_at).desc(), col(Idea.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return [(i, int(n)) for i, n in (await session.exec(stmt)).all()]


async def support_count(session: AsyncSession, idea_id: int) -> int:
    stmt = select(func.count()).select_from(IdeaSupport).where(col(IdeaSupport.idea_id) == idea_id)
    return int((await session.exec(stmt)).one())


async def add_support(session: AsyncSession, idea_id: int, person_id: int) -> bool:
    """Support an idea once; False if this person already did (a database constraint)."""
    return await add_once(session, IdeaSupport(idea_id=idea_id, person_id=person_id))


async def ideas_by(session: AsyncSession, person_id: int) -> list[Idea]:
    stmt = select(Idea).where(col(Idea.author_id) == person_id).order_by(col(Idea.id))
    return list((await session.exec(stmt)).all())


async def supported_by(session: AsyncSession, person_id: int) -> list[int]:
    stmt = select(IdeaSupport.idea_id).where(col(IdeaSupport.person_id) == person_id)
    return list((await session.exec(stmt)).all())


@dataclass(frozen=True)
class SupportNews:
    idea: Idea
    new: int
    total: int


async def take_support_news(session: AsyncSession) -> list[SupportNews]:
    """New supports since the author was last told, grouped per idea; marks them told."""
    stmt = (
        select(IdeaSupport)
        .where(col(IdeaSupport.author_notified).is_(False))
        .order_by(col(IdeaSupport.idea_id))
    )
    pending = list((await session.exec(stmt)).all())
    per_idea: dict[int, int] = {}
    for s in pending:
        per_idea[s.idea_id] = per_idea.get(s.idea_id, 0) + 1
        s.author_notified = True
        session.add(s)
    news = []
    for idea_id, new in per_idea.items():
        found = await session.get(Idea, idea_id)
        if found is not None and found.author_id is not None:
            news.append(SupportNews(found, new, await support_count(session, idea_id)))
    await session.flush()
    return news
