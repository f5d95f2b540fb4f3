"""Who a broadcast reaches: the linked groups of a target and its residents' direct chats;
and, by the same rule, whether a person or a group is among them (buttons check this)."""

from __future__ import annotations

from typing import Any

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


def _people_of(neighbourhood_id: int, theme_id: int | None) -> Any:
    """The ids of the people a target is meant for, as a subquery: a neighbourhood's members;
    for a theme of this neighbourhood all its followers, for a city-wide theme only those of
    its followers who belong to this neighbourhood."""
    members = select(Membership.person_id).where(
        col(Membership.neighbourhood_id) == neighbourhood_id
    )
    if theme_id is None:
        return members
    local_theme = select(Theme.id).where(
        col(Theme.id) == theme_id, col(Theme.neighbourhood_id) == neighbourhood_id
    )
    return select(ThemeFollow.person_id).where(
        col(ThemeFollow.theme_id) == theme_id,
        or_(exists(local_theme), col(ThemeFollow.person_id).in_(members)),
    )


async def residents_of(
    session: AsyncSession, neighbourhood_id: int, theme_id: int | None
) -> list[tuple[Person, Channel]]:
    """Residents to reach by direct message, with their direct chat, in one query.

    Who they are is `_people_of`; people who turned broadcasts off, or whose chat is
    unreachable, are left out.
    """
    stmt = (
        select(Person, Channel)
        .join(Channel, col(Channel.person_id) == col(Person.id))
        .outerjoin(Preference, col(Preference.person_id) == col(Person.id))
        .where(
            col(Person.id).in_(_people_of(neighbourhood_id, theme_id)),
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


async def includes_person(
    session: AsyncSession, person_id: int, neighbourhood_id: int, theme_id: int | None
) -> bool:
    """Whether the target is meant for this person (whether or not they get broadcasts:
    someone who turned them off still votes from a digest)."""
    stmt = select(Person.id).where(
        col(Person.id) == person_id, col(Person.id).in_(_people_of(neighbourhood_id, theme_id))
    )
    return (await session.exec(stmt)).first() is not None


async def includes_group(
    session: AsyncSession, platform: str, chat_id: str, neighbourhood_id: int, theme_id: int | None
) -> bool:
    """Whether this group chat is one the target goes to (see `groups_of`)."""
    stmt = select(Channel.id).where(
        col(Channel.platform) == platform,
        col(Channel.chat_id) == chat_id,
        col(Channel.kind) == "group",
        col(Channel.neighbourhood_id) == neighbourhood_id,
    )
    if theme_id is not None:
        stmt = stmt.where(col(Channel.theme_id) == theme_id)
    return (await session.exec(stmt)).first() is not None
