"""Announcements about events: who said "I'm coming", cancelling, what the organiser heard."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Announcement, EventRsvp, Person
from storage.repo.unique import add_once


async def announcement(session: AsyncSession, announcement_id: int) -> Announcement | None:
    return await session.get(Announcement, announcement_id)


async def add_rsvp(session: AsyncSession, announcement_id: int, person_id: int) -> bool:
    """True if they said it now; False if they had said so already."""
    return await add_once(session, EventRsvp(announcement_id=announcement_id, person_id=person_id))


async def remove_rsvp(session: AsyncSession, announcement_id: int, person_id: int) -> bool:
    """True if they had said they would come (and now no longer)."""
    row = (
        await session.exec(
            select(EventRsvp).where(
                col(EventRsvp.announcement_id) == announcement_id,
                col(EventRsvp.person_id) == person_id,
            )
        )
    ).first()
    if row is None:
        return False
    await session.delete(row)
    await session.flush()
    return True


async def rsvp_count(session: AsyncSession, announcement_id: int) -> int:
    stmt = (
        select(func.count())
        .select_from(EventRsvp)
        .where(col(EventRsvp.announcement_id) == announcement_id)
    )
    return int((await session.exec(stmt)).one())


async def coming(session: AsyncSession, announcement_id: int) -> list[tuple[EventRsvp, Person]]:
    """Who said they come, with their row (to remind them or tell them it is off)."""
    stmt = (
        select(EventRsvp, Person)
        .join(Person, col(Person.id) == col(EventRsvp.person_id))
        .where(col(EventRsvp.announcement_id) == announcement_id)
        .order_by(col(EventRsvp.id))
    )
    return [(r, p) for r, p in (await session.exec(stmt)).all()]


async def forget_rsvps(session: AsyncSession, announcement_id: int) -> None:
    await session.exec(delete(EventRsvp).where(col(EventRsvp.announcement_id) == announcement_id))


async def upcoming_by(
    session: AsyncSession, neighbourhood_ids: list[int], now: datetime
) -> list[tuple[Announcement, int]]:
    """Events still to come in these neighbourhoods, soonest first, with how many come."""
    counts = (
        select(EventRsvp.announcement_id, func.count().label("n"))
        .group_by(col(EventRsvp.announcement_id))
        .subquery()
    )
    stmt = (
        select(Announcement, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.announcement_id == col(Announcement.id))
        .where(
            col(Announcement.neighbourhood_id).in_(neighbourhood_ids),
            col(Announcement.event_at) > now,
            col(Announcement.cancelled_at).is_(None),
        )
        .order_by(col(Announcement.event_at), col(Announcement.id))
    )
    return [(a, int(n)) for a, n in (await session.exec(stmt)).all()]


async def with_count_news(session: AsyncSession, now: datetime) -> list[tuple[Announcement, int]]:
    """Upcoming events with an organiser whose count differs from what they last heard."""
    counts = (
        select(EventRsvp.announcement_id, func.count().label("n"))
        .group_by(col(EventRsvp.announcement_id))
        .subquery()
    )
    n = func.coalesce(counts.c.n, 0)
    stmt = (
        select(Announcement, n)
        .outerjoin(counts, counts.c.announcement_id == col(Announcement.id))
        .where(
            col(Announcement.event_at) > now,
            col(Announcement.cancelled_at).is_(None),
            col(Announcement.created_by_id).is_not(None),
            n != col(Announcement.rsvp_told),
        )
        .order_by(col(Announcement.id))
    )
    return [(a, int(c)) for a, c in (await session.exec(stmt)).all()]


async def unreminded(
    session: AsyncSession, due_before: datetime, now: datetime
) -> list[tuple[EventRsvp, Announcement]]:
    """RSVPs whose event starts between now and `due_before`, not reminded yet."""
    stmt = (
        select(EventRsvp, Announcement)
        .join(Announcement, col(Announcement.id) == col(EventRsvp.announcement_id))
        .where(
            col(EventRsvp.reminded).is_(False),
            col(Announcement.cancelled_at).is_(None),
            col(Announcement.event_at) > now,
            col(Announcement.event_at) <= due_before,
        )
        .order_by(col(EventRsvp.id))
    )
    return [(r, a) for r, a in (await session.exec(stmt)).all()]


async def events_of(session: AsyncSession, person_id: int) -> list[Announcement]:
    """The events they said they would come to (for /mijngegevens)."""
    stmt = (
        select(Announcement)
        .join(EventRsvp, col(EventRsvp.announcement_id) == col(Announcement.id))
        .where(col(EventRsvp.person_id) == person_id)
        .order_by(col(Announcement.event_at))
    )
    return list((await session.exec(stmt)).all())
