"""Neighbourhoods and themes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Neighbourhood, Theme, ThemeFollow


async def neighbourhoods(session: AsyncSession) -> list[Neighbourhood]:
    return list((await session.exec(select(Neighbourhood).order_by(col(Neighbourhood.name)))).all())


async def neighbourhood(session: AsyncSession, neighbourhood_id: int) -> Neighbourhood | None:
    return await session.get(Neighbourhood, neighbourhood_id)


async def neighbourhood_by_slug(session: AsyncSession, slug: str) -> Neighbourhood | None:
    stmt = select(Neighbourhood).where(col(Neighbourhood.slug) == slug)
    return (await session.exec(stmt)).first()


async def neighbourhood_names(session: AsyncSession, ids: list[int]) -> dict[int, str]:
    """The names of these neighbourhoods by id, in one query (unknown ids are left out)."""
    stmt = select(Neighbourhood.id, Neighbourhood.name).where(col(Neighbourhood.id).in_(ids))
    return {int(i): name for i, name in (await session.exec(stmt)).all() if i is not None}


async def upsert_neighbourhood(
    session: AsyncSession,
    slug: str,
    name: str,
    forwarding: dict[str, Any] | None = None,
    public_page: bool = False,
) -> Neighbourhood:
    found = await neighbourhood_by_slug(session, slug)
    if found is None:
        found = Neighbourhood(slug=slug, name=name)
    found.name = name
    found.forwarding = dict(forwarding or {})
    found.public_page = public_page
    session.add(found)
    await session.flush()
    return found


async def themes_for(session: AsyncSession, neighbourhood_id: int | None) -> list[Theme]:
    """City-wide themes plus those of the neighbourhood."""
    cond: ColumnElement[bool] = col(Theme.neighbourhood_id).is_(None)
    if neighbourhood_id is not None:
        cond = or_(cond, col(Theme.neighbourhood_id) == neighbourhood_id)
    return list((await session.exec(select(Theme).where(cond).order_by(col(Theme.id)))).all())


async def theme(session: AsyncSession, theme_id: int) -> Theme | None:
    return await session.get(Theme, theme_id)


async def upsert_theme(
    session: AsyncSession, slug: str, names: dict[str, str], neighbourhood_id: int | None
) -> Theme:
    stmt = select(Theme).where(col(Theme.slug) == slug)
    if neighbourhood_id is None:
        stmt = stmt.where(col(Theme.neighbourhood_id).is_(None))
    else:
        stmt = stmt.where(col(Theme.neighbourhood_id) == neighbourhood_id)
    found = (await session.exec(stmt)).first()
    if found is None:
        found = Theme(slug=slug, neighbourhood_id=neighbourhood_id)
    found.names = dict(names)
    session.add(found)
    await session.flush()
    return found


async def followed_theme_ids(session: AsyncSession, person_id: int) -> set[int]:
    stmt = select(ThemeFollow.theme_id).where(col(ThemeFollow.person_id) == person_id)
    return set((await session.exec(stmt)).all())


async def follow(session: AsyncSession, person_id: int, theme_id: int) -> bool:
    """Follow a theme; False if already followed (idempotent)."""
    if theme_id in await followed_theme_ids(session, person_id):
        return False
    session.add(ThemeFollow(person_id=person_id, theme_id=theme_id))
    await session.flush()
    return True


async def unfollow(session: AsyncSession, person_id: int, theme_id: int) -> bool:
    stmt = select(ThemeFollow).where(
        col(ThemeFollow.person_id) == person_id, col(ThemeFollow.theme_id) == theme_id
    )
    row = (await session.exec(stmt)).first()
    if row is None:
        return False
    await session.delete(row)
    await session.flush()
    return True
