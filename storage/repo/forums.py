"""Lottery-drawn forums and their pools: reads and writes only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, delete, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.forum_models import DECLINED, INVITED, Forum, ForumCode, ForumMember, Population


async def add_forum(session: AsyncSession, forum: Forum) -> Forum:
    session.add(forum)
    await session.flush()
    return forum


async def forum(session: AsyncSession, forum_id: int) -> Forum | None:
    return await session.get(Forum, forum_id)


async def open_forums(
    session: AsyncSession, neighbourhood_ids: list[int], now: datetime
) -> list[Forum]:
    """Forums whose pool is still open, in these neighbourhoods."""
    stmt = select(Forum).where(
        col(Forum.neighbourhood_id).in_(neighbourhood_ids),
        col(Forum.pool_closes_at) > now,
        col(Forum.seed).is_(None),
    )
    return list((await session.exec(stmt.order_by(col(Forum.id)))).all())


async def lock(session: AsyncSession, forum_id: int) -> Forum | None:
    """The forum, fresh from the database and locked until the transaction ends (a row lock
    on PostgreSQL; SQLite lets one writer at a time anyway): joins, answers and draws of one
    forum take turns."""
    stmt = (
        select(Forum)
        .where(col(Forum.id) == forum_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.exec(stmt)).first()


async def answer_invitation(
    session: AsyncSession, member_id: int, state: str, invited_after: datetime | None = None
) -> bool:
    """Move an invited member to `state` (confirmed or declined), only while they are still
    invited and their invitation has not run out; False when it changed nothing. A decline
    also drops their answers: they take no further part."""
    values: dict[str, object] = {"state": state}
    if state == DECLINED:
        values["answers"] = {}
    stmt = update(ForumMember).where(
        col(ForumMember.id) == member_id, col(ForumMember.state) == INVITED
    )
    if invited_after is not None:
        stmt = stmt.where(col(ForumMember.invited_at) > invited_after)
    stmt = stmt.values(**values).execution_options(synchronize_session=False)
    result = await session.exec(stmt)
    return int(result.rowcount or 0) == 1


async def claim_code(session: AsyncSession, code_id: int, now: datetime) -> bool:
    """Mark a letter code used; False when it was used already (perhaps a moment ago)."""
    stmt = (
        update(ForumCode)
        .where(col(ForumCode.id) == code_id, col(ForumCode.used_at).is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    result = await session.exec(stmt)
    return int(result.rowcount or 0) == 1


async def member(session: AsyncSession, forum_id: int, person_id: int) -> ForumMember | None:
    stmt = select(ForumMember).where(
        ForumMember.forum_id == forum_id, ForumMember.person_id == person_id
    )
    return (await session.exec(stmt)).first()


async def members(
    session: AsyncSession, forum_id: int, states: tuple[str, ...] = ()
) -> list[ForumMember]:
    stmt = select(ForumMember).where(ForumMember.forum_id == forum_id)
    if states:
        stmt = stmt.where(col(ForumMember.state).in_(states))
    return list((await session.exec(stmt.order_by(col(ForumMember.number)))).all())


async def memberships(session: AsyncSession, person_id: int) -> list[tuple[ForumMember, Forum]]:
    stmt = (
        select(ForumMember, Forum)
        .join(Forum, col(Forum.id) == ForumMember.forum_id)
        .where(ForumMember.person_id == person_id)
    )
    return [(m, f) for m, f in (await session.exec(stmt.order_by(col(ForumMember.id)))).all()]


async def add_member(
    session: AsyncSession, forum_id: int, person_id: int, answers: dict[str, str]
) -> ForumMember:
    """A new pool member with the next pool number (numbers are never reused). The caller
    holds the forum's lock (`lock`), so two joins do not take the same number."""
    last = (
        await session.exec(
            select(func.max(ForumMember.number)).where(ForumMember.forum_id == forum_id)
        )
    ).one()
    row = ForumMember(
        forum_id=forum_id, person_id=person_id, number=(last or 0) + 1, answers=answers
    )
    session.add(row)
    await session.flush()
    return row


async def remove_member(session: AsyncSession, forum_id: int, person_id: int) -> bool:
    """Someone leaves a pool: their row and answers go (a seat they held opens)."""
    result = await session.exec(
        delete(ForumMember).where(
            col(ForumMember.forum_id) == forum_id, col(ForumMember.person_id) == person_id
        )
    )
    return bool(result.rowcount)


async def overdue_invitations(
    session: AsyncSession, forum_id: int, before: datetime
) -> list[ForumMember]:
    stmt = select(ForumMember).where(
        ForumMember.forum_id == forum_id,
        ForumMember.state == INVITED,
        col(ForumMember.invited_at) <= before,
    )
    return list((await session.exec(stmt.order_by(col(ForumMember.number)))).all())


async def drawn_forums(session: AsyncSession) -> list[Forum]:
    """Forums drawn and not yet erased (their invitations may run out)."""
    stmt = select(Forum).where(col(Forum.seed).is_not(None), col(Forum.erased_at).is_(None))
    return list((await session.exec(stmt.order_by(col(Forum.id)))).all())


async def ended_not_erased(session: AsyncSession, now: datetime) -> list[Forum]:
    stmt = select(Forum).where(col(Forum.ends_at) <= now, col(Forum.erased_at).is_(None))
    return list((await session.exec(stmt.order_by(col(Forum.id)))).all())


async def erase_pool(session: AsyncSession, forum_id: int) -> int:
    """Delete every pool member of a forum, with their answers."""
    result = await session.exec(delete(ForumMember).where(col(ForumMember.forum_id) == forum_id))
    return int(result.rowcount or 0)


async def forums_of(session: AsyncSession, neighbourhood_id: int) -> list[Forum]:
    stmt = select(Forum).where(Forum.neighbourhood_id == neighbourhood_id)
    return list((await session.exec(stmt.order_by(col(Forum.id)))).all())


async def opened_by(session: AsyncSession, person_id: int) -> int:
    stmt = select(func.count()).select_from(Forum).where(Forum.created_by_id == person_id)
    return int((await session.exec(stmt)).one())


async def replace_population(
    session: AsyncSession, neighbourhood_id: int, counts: dict[str, int], source: str
) -> None:
    """The figures of one neighbourhood, replacing earlier ones."""
    await session.exec(
        delete(Population).where(col(Population.neighbourhood_id) == neighbourhood_id)
    )
    for band, residents in counts.items():
        session.add(
            Population(
                neighbourhood_id=neighbourhood_id, age_band=band, residents=residents, source=source
            )
        )
    await session.flush()


async def population(session: AsyncSession, neighbourhood_id: int) -> dict[str, int]:
    stmt = select(Population).where(Population.neighbourhood_id == neighbourhood_id)
    return {p.age_band: p.residents for p in (await session.exec(stmt)).all()}


async def populations(
    session: AsyncSession, neighbourhood_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """`population` for several neighbourhoods at once: {hood: {band: residents}}."""
    stmt = select(Population).where(col(Population.neighbourhood_id).in_(neighbourhood_ids))
    found: dict[int, dict[str, int]] = {}
    for p in (await session.exec(stmt)).all():
        found.setdefault(p.neighbourhood_id, {})[p.age_band] = p.residents
    return found


async def add_codes(session: AsyncSession, forum_id: int, hashes: list[str]) -> None:
    session.add_all(ForumCode(forum_id=forum_id, code_hash=h) for h in hashes)
    await session.flush()


async def code(session: AsyncSession, forum_id: int, code_hash: str) -> ForumCode | None:
    stmt = select(ForumCode).where(ForumCode.forum_id == forum_id, ForumCode.code_hash == code_hash)
    return (await session.exec(stmt)).first()


async def all_open_forums(session: AsyncSession, now: datetime) -> list[Forum]:
    stmt = select(Forum).where(col(Forum.pool_closes_at) > now, col(Forum.seed).is_(None))
    return list((await session.exec(stmt.order_by(col(Forum.id)))).all())
