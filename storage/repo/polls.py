"""Polls and their votes: one person's choices per poll, unique in the database."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlmodel import col, delete, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Poll, PollVote
from storage.repo.unique import add_once


@dataclass(frozen=True)
class Tally:
    counts: list[int]  # votes per option, in option order
    voters: int  # people who voted (a multiple-choice voter counts once)
    names: list[list[str]]  # per option, the names shown (named polls only)


async def get(session: AsyncSession, poll_id: int) -> Poll | None:
    return await session.get(Poll, poll_id)


async def get_for_vote(session: AsyncSession, poll_id: int) -> Poll | None:
    """The poll, locked until this transaction ends (PostgreSQL): a vote and a close, or two
    presses of one person, take turns — no vote slips in after the count."""
    stmt = select(Poll).where(col(Poll.id) == poll_id).with_for_update()
    return (await session.exec(stmt)).first()


async def choices_of(session: AsyncSession, poll_id: int, person_id: int) -> set[int]:
    stmt = select(PollVote.option).where(
        col(PollVote.poll_id) == poll_id, col(PollVote.person_id) == person_id
    )
    return set((await session.exec(stmt)).all())


async def choose(
    session: AsyncSession, poll: Poll, person_id: int, option: int, name: str | None
) -> set[int]:
    """Press an option: single choice replaces, multiple choice toggles. The new choices."""
    assert poll.id is not None
    mine = await choices_of(session, poll.id, person_id)
    if poll.multiple and option in mine:
        await _remove(session, poll.id, person_id, {option})
        return mine - {option}
    if not poll.multiple:
        await _remove(session, poll.id, person_id, mine - {option})
    if option not in mine:
        # A twin (the same press arriving twice at once) is refused by the database.
        await add_once(session, PollVote(poll_id=poll.id, person_id=person_id, option=option,
                                         display_name=name if poll.named else None))  # fmt: skip
    return (mine if poll.multiple else set()) | {option}


async def set_choices(
    session: AsyncSession, poll: Poll, person_id: int, options: set[int], name: str | None
) -> set[int]:
    """A native poll answer: the full set of choices (empty: the vote is taken back)."""
    assert poll.id is not None
    if not poll.multiple and len(options) > 1:
        options = {min(options)}
    mine = await choices_of(session, poll.id, person_id)
    await _remove(session, poll.id, person_id, mine - options)
    for option in sorted(options - mine):
        await add_once(session, PollVote(poll_id=poll.id, person_id=person_id, option=option,
                                         display_name=name if poll.named else None))  # fmt: skip
    return options


async def _remove(session: AsyncSession, poll_id: int, person_id: int, options: set[int]) -> None:
    if options:
        await session.exec(
            delete(PollVote).where(
                col(PollVote.poll_id) == poll_id,
                col(PollVote.person_id) == person_id,
                col(PollVote.option).in_(options),
            )
        )


async def tally(session: AsyncSession, poll: Poll) -> Tally:
    assert poll.id is not None
    rows = (
        await session.exec(
            select(PollVote.option, PollVote.person_id, PollVote.display_name)
            .where(col(PollVote.poll_id) == poll.id)
            .order_by(col(PollVote.id))
        )
    ).all()
    counts = Counter(option for option, _p, _n in rows)
    names: list[list[str]] = [[] for _ in poll.options]
    for option, _person, name in rows:
        if poll.named and name and 0 <= option < len(names):
            names[option].append(name)
    return Tally(
        counts=[counts.get(i, 0) for i in range(len(poll.options))],
        voters=len({person for _o, person, _n in rows}),
        names=names,
    )


async def due_to_close(session: AsyncSession, now: datetime) -> list[Poll]:
    stmt = select(Poll).where(
        col(Poll.sent_at).is_not(None), col(Poll.closed_at).is_(None), col(Poll.closes_at) <= now
    )
    return list((await session.exec(stmt.order_by(col(Poll.closes_at)))).all())


def _open(neighbourhood_ids: list[int]) -> tuple[ColumnElement[bool], ...]:
    return (
        col(Poll.neighbourhood_id).in_(neighbourhood_ids),
        col(Poll.sent_at).is_not(None),
        col(Poll.closed_at).is_(None),
    )


async def open_polls(
    session: AsyncSession, neighbourhood_ids: list[int], limit: int | None = None, offset: int = 0
) -> list[Poll]:
    """Sent and not yet closed, the first to close first; a page of them with `limit`."""
    stmt = select(Poll).where(*_open(neighbourhood_ids)).order_by(col(Poll.closes_at), col(Poll.id))
    if limit is not None:
        stmt = stmt.offset(offset).limit(limit)
    return list((await session.exec(stmt)).all())


async def count_open(session: AsyncSession, neighbourhood_ids: list[int]) -> int:
    stmt = select(func.count()).select_from(Poll).where(*_open(neighbourhood_ids))
    return int((await session.exec(stmt)).one())


async def count_votes(session: AsyncSession, poll_id: int) -> int:
    stmt = select(func.count(func.distinct(PollVote.person_id))).where(
        col(PollVote.poll_id) == poll_id
    )
    return int((await session.exec(stmt)).one())


async def claim_close(session: AsyncSession, poll: Poll, now: datetime) -> bool:
    """Mark the poll closed unless it already is (a coordinator and the scheduler at once)."""
    result = await session.exec(
        update(Poll)
        .where(col(Poll.id) == poll.id, col(Poll.closed_at).is_(None))
        .values(closed_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        poll.closed_at = now
    return bool(result.rowcount)


@dataclass(frozen=True)
class MyVote:
    poll: Poll
    options: list[int]
    shown_as: str | None  # named polls: the name shown with the choice


async def votes_of(session: AsyncSession, person_id: int) -> list[MyVote]:
    """A person's choices per poll (for /mijngegevens and /vergeetmij)."""
    rows = (
        await session.exec(
            select(Poll, PollVote.option, PollVote.display_name)
            .join(PollVote, col(PollVote.poll_id) == col(Poll.id))
            .where(col(PollVote.person_id) == person_id)
            .order_by(col(Poll.id), col(PollVote.option))
        )
    ).all()
    out: dict[int, MyVote] = {}
    for poll, option, name in rows:
        assert poll.id is not None
        vote = out.setdefault(poll.id, MyVote(poll, [], name))
        vote.options.append(option)
    return list(out.values())
