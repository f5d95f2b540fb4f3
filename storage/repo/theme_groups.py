"""Theme groups: the group chat linked to a theme in a neighbourhood, and the yes to a
welcome by first name there (reads and writes only)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Channel, GroupWelcome


async def theme_group(
    session: AsyncSession, platform: str, neighbourhood_id: int, theme_id: int
) -> Channel | None:
    """The reachable group on `platform` linked to this theme in this neighbourhood (the
    latest linked, if a coordinator linked several)."""
    stmt = (
        select(Channel)
        .where(
            col(Channel.platform) == platform,
            col(Channel.kind) == "group",
            col(Channel.reachable).is_(True),
            col(Channel.neighbourhood_id) == neighbourhood_id,
            col(Channel.theme_id) == theme_id,
        )
        .order_by(col(Channel.id).desc())
    )
    return (await session.exec(stmt)).first()


async def want_welcome(session: AsyncSession, person_id: int, channel_id: int, yes: bool) -> None:
    """Keep (or drop) this person's yes to a welcome in this group."""
    await session.exec(
        delete(GroupWelcome).where(
            col(GroupWelcome.person_id) == person_id, col(GroupWelcome.channel_id) == channel_id
        )
    )
    if yes:
        session.add(GroupWelcome(person_id=person_id, channel_id=channel_id))
    await session.flush()


async def take_welcome(
    session: AsyncSession, person_id: int, channel_id: int, not_before: datetime
) -> bool:
    """Use a yes once: True if there was one (given after `not_before`); it is gone after.
    Older yeses of anyone are dropped on the way (nobody joined with them)."""
    await session.exec(delete(GroupWelcome).where(col(GroupWelcome.created_at) < not_before))
    found = (
        await session.exec(
            select(GroupWelcome).where(
                col(GroupWelcome.person_id) == person_id,
                col(GroupWelcome.channel_id) == channel_id,
            )
        )
    ).first()
    if found is None:
        return False
    await session.delete(found)
    await session.flush()
    return True


async def welcomes_of(session: AsyncSession, person_id: int) -> list[Channel]:
    """The groups this person said yes to a welcome in, and has not joined yet."""
    stmt = (
        select(Channel)
        .join(GroupWelcome, col(GroupWelcome.channel_id) == col(Channel.id))
        .where(col(GroupWelcome.person_id) == person_id)
        .order_by(col(GroupWelcome.id))
    )
    return list((await session.exec(stmt)).all())
