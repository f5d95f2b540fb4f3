"""Who a broadcast reaches: the linked groups of a target and its residents' direct chats."""

from __future__ import annotations

from sqlmodel import col, exists, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Channel, Membership, Person, Preference, Theme, ThemeFollow


async def groups_of(
    session: AsyncSession, neighbourhood_id: int, theme_id: int | None
) -> list[Channel]:
    """Reachable groups linked to the neighbourhood; for a theme, only that theme's groups."""
    stmt = select(Channel).where(
        col(Channel.kind) == "group",
        col(Channel.reachable),
        col(Channel.neighbourhood_id) == neighbourhood_id,
    )
    if theme_id is not None:
        stmt = stmt.where(col(Channel.theme_id) == theme_id)
    return list((await session.exec(stmt.order_by(col(Channel.id)))).all())


async def residents_of(
    session: AsyncSession, neighbourhood_id: int, theme_id: int | None
) -> list[tuple[Person, Channel]]:
    """Residents to reach by direct message, with their direct chat, in one query.

    A theme target reaches its followers; a neighbourhood target its members. People who
    turned broadcasts off, or whose chat is unreachable, are left out.
    """
    members = select(Membership.person_id).where(
        col(Membership.neighbourhood_id) == neighbourhood_id
    )
    who = members
    if theme_id is not None:
        # A theme of this neighbourhood reaches all its followers; a city-wide theme only
        # those of its followers who belong to this neighbourhood.
        local_theme = select(Theme.id).where(
            col(Theme.id) == theme_id, col(Theme.neighbourhood_id) == neighbourhood_id
        )
        who = select(ThemeFollow.person_id).where(
            col(ThemeFollow.theme_id) == theme_id,
            or_(exists(local_theme), col(ThemeFollow.person_id).in_(members)),
        )
    stmt = (
        select(Person, Channel)
        .join(Channel, col(Channel.person_id) == col(Person.id))
        .outerjoin(Preference, col(Preference.person_id) == col(Person.id))
        .where(
            col(Person.id).in_(who),
            col(Channel.kind) == "direct",
            col(Channel.reachable),
            col(Preference.broadcasts).is_not(False),
        )
        .order_by(col(Person.id), col(Channel.id).desc())
    )
    seen: set[int] = set()
    out: list[tuple[Person, Channel]] = []
    for person, chat in (await session.exec(stmt)).all():
        assert person.id is not None
        if person.id not in seen:  # one chat per person: the latest, as in tell()
            seen.add(person.id)
            out.append((person, chat))
    return out
