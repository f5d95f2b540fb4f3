"""Who takes part, by shared age band, per neighbourhood ("who is missing"): counts only."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, delete, func, select, union
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.budget_models import VoterRoll
from storage.dialogue_models import StatementVote
from storage.forum_models import AgeBand
from storage.models import Idea, Membership, PollVote, Signal


async def age_band(session: AsyncSession, person_id: int) -> AgeBand | None:
    return (await session.exec(select(AgeBand).where(AgeBand.person_id == person_id))).first()


async def share_age_band(session: AsyncSession, person_id: int, band: str) -> None:
    session.add(AgeBand(person_id=person_id, age_band=band))
    await session.flush()


async def remove_age_band(session: AsyncSession, person_id: int) -> bool:
    result = await session.exec(delete(AgeBand).where(col(AgeBand.person_id) == person_id))
    return bool(result.rowcount)


async def participants_by_band(session: AsyncSession, neighbourhood_id: int) -> dict[str, int]:
    """Residents of the neighbourhood who shared an age band and took part at least once:
    a report, an idea, a poll vote, a vote on a statement, or a budget vote."""
    return (await participants_by_band_in(session, [neighbourhood_id])).get(neighbourhood_id, {})


async def participants_by_band_in(
    session: AsyncSession, neighbourhood_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """`participants_by_band` for several neighbourhoods at once: {hood: {band: people}}."""
    took_part = union(
        select(col(Signal.reporter_id).label("pid")),
        select(col(Idea.author_id).label("pid")),
        select(col(PollVote.person_id).label("pid")),
        select(col(StatementVote.person_id).label("pid")),
        select(col(VoterRoll.person_id).label("pid")),
    ).subquery()
    stmt = (
        select(
            Membership.neighbourhood_id,
            AgeBand.age_band,
            func.count(func.distinct(AgeBand.person_id)),
        )
        .join(Membership, col(Membership.person_id) == AgeBand.person_id)
        .join(took_part, took_part.c.pid == AgeBand.person_id)
        .where(col(Membership.neighbourhood_id).in_(neighbourhood_ids), col(Membership.is_home))
        .group_by(col(Membership.neighbourhood_id), col(AgeBand.age_band))
    )
    found: dict[int, dict[str, int]] = {}
    for hood, band, n in (await session.exec(stmt)).all():
        found.setdefault(hood, {})[band] = int(n)
    return found
