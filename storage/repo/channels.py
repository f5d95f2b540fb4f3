"""Group chats linked to a neighbourhood (and optionally a theme); unreachable chats.

A link belongs to the room: it has no person, so erasing the coordinator who made it
(/vergeetmij) leaves the group linked."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Channel


async def channel(session: AsyncSession, platform: str, chat_id: str) -> Channel | None:
    stmt = select(Channel).where(col(Channel.platform) == platform, col(Channel.chat_id) == chat_id)
    return (await session.exec(stmt)).first()


async def channel_by_id(session: AsyncSession, channel_id: int) -> Channel | None:
    return await session.get(Channel, channel_id)


async def link_group(
    session: AsyncSession,
    platform: str,
    chat_id: str,
    neighbourhood_id: int,
    theme_id: int | None,
) -> Channel:
    found = await channel(session, platform, chat_id)
    if found is None:
        found = Channel(platform=platform, chat_id=chat_id, kind="group")
    found.kind = "group"
    found.person_id = None  # the link belongs to the room, not to whoever chatted there
    found.neighbourhood_id = neighbourhood_id
    found.theme_id = theme_id
    found.reachable = True
    session.add(found)
    await session.flush()
    return found


async def unlink_group(session: AsyncSession, platform: str, chat_id: str) -> Channel | None:
    found = await channel(session, platform, chat_id)
    if found is None or found.neighbourhood_id is None:
        return None
    found.neighbourhood_id = None
    found.theme_id = None
    session.add(found)
    await session.flush()
    return found


async def mark_reachable(
    session: AsyncSession, platform: str, chat_id: str, reachable: bool
) -> None:
    found = await channel(session, platform, chat_id)
    if found is not None and found.reachable != reachable:
        found.reachable = reachable
        session.add(found)


async def move_chat(session: AsyncSession, platform: str, old_id: str, new_id: str) -> None:
    """The platform gave the chat a new id (a Telegram group upgraded to a supergroup)."""
    found = await channel(session, platform, old_id)
    if found is not None and await channel(session, platform, new_id) is None:
        found.chat_id = new_id
        session.add(found)
