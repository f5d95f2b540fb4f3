"""The residents of a digest run: claimed first, then read as a stream.

The claim stamps `last_digest_at = now` on every due resident and hands
back the stamp it replaced (where their digest starts). The residents, their neighbourhoods,
followed themes, followed reports, votes and supports are then each one query, ordered by
person and read through a server-side cursor (`FETCH` rows at a time), so a run holds one
slice of about `CHUNK` residents at a time, however many there are. The number of
statements does not depend on the number of residents.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, exists, literal, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncResult
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Channel,
    IdeaSupport,
    Membership,
    Person,
    PollVote,
    Preference,
    SignalFollower,
    SignalUpdate,
    ThemeFollow,
)
from storage.repo.digests import DEFAULT_DIGEST, Due, Resident, _reachable_direct, _rows

CHUNK = 1000  # rows of residents and their chats assembled at a time
FETCH = 2000  # rows per round trip of a server-side cursor


def _insert_ignoring_conflicts(session: AsyncSession) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(Preference).on_conflict_do_nothing()
    return sqlite.insert(Preference).on_conflict_do_nothing()


async def claim_residents(
    session: AsyncSession, due: Due, now: datetime
) -> dict[int, datetime | None]:
    """Stamp `last_digest_at = now` on the due residents: {person: their previous stamp}
    for those stamped by this call (read just before: SQLite's RETURNING cannot hand it
    back).

    The stamp is the period's claim: a second run (a double fire, another process waiting on
    the same rows) finds them no longer due and claims nobody, so nobody gets two digests.
    """
    condition = (
        col(Preference.digest) == due.cadence,
        due.last_is_old(col(Preference.last_digest_at)),
        col(Preference.person_id).in_(select(Person.id).where(_reachable_direct())),
    )
    before: dict[int, datetime | None] = {}
    rows = await _stream(session, select(Preference.person_id, Preference.last_digest_at)
                         .where(*condition))  # fmt: skip
    async for part in rows.partitions():
        before.update(part)  # type: ignore[arg-type]
    stamp = (
        update(Preference)
        .where(*condition)
        .values(last_digest_at=now)
        .returning(col(Preference.person_id))
        .execution_options(synchronize_session=False)
    )
    claimed = {pid: before.get(pid) for pid in (await session.exec(stamp)).scalars()}
    if due.cadence == DEFAULT_DIGEST:  # residents who never chose: their row starts now
        no_row = select(
            Person.id, literal(due.cadence), literal(True), literal(now, DateTime(timezone=True))
        ).where(
            ~exists().where(col(Preference.person_id) == col(Person.id)),
            _reachable_direct(),
        )  # fmt: skip
        added = (
            _insert_ignoring_conflicts(session)
            .from_select(["person_id", "digest", "broadcasts", "last_digest_at"], no_row)
            .returning(Preference.__table__.c.person_id)  # type: ignore[attr-defined]
        )
        for pid in (await session.exec(added)).scalars():
            claimed[pid] = None
    return claimed


@dataclass
class Slice:
    """Up to CHUNK residents, and per resident id what their digest is made of."""

    residents: list[Resident]
    hoods: dict[int, set[int]] = field(default_factory=dict)
    themes: dict[int, set[int]] = field(default_factory=dict)
    following: dict[int, set[int]] = field(default_factory=dict)
    voted: dict[int, set[int]] = field(default_factory=dict)
    supported: dict[int, set[int]] = field(default_factory=dict)


class _ByPerson:
    """(person, value) rows in person order, taken a slice at a time."""

    def __init__(self, result: AsyncResult[Any] | None) -> None:
        self.result = result
        self.rows: list[Any] = []
        self.at = 0

    async def upto(self, last: int) -> dict[int, set[int]]:
        """The values of every person up to and including `last` not taken yet."""
        out: dict[int, set[int]] = {}
        while self.result is not None:
            rows, at = self.rows, self.at
            while at < len(rows):
                pid, value = rows[at]
                if pid > last:
                    self.at = at
                    return out
                found = out.get(pid)
                if found is None:
                    out[pid] = {value}
                else:
                    found.add(value)
                at += 1
            self.rows, self.at = list(await self.result.fetchmany(FETCH)), 0
            if not self.rows:
                await self.close()
        return out

    async def close(self) -> None:
        if self.result is not None:
            result, self.result = self.result, None
            await result.close()


async def _stream(session: AsyncSession, stmt: Any) -> AsyncResult[Any]:
    """Rows through a server-side cursor, as plain rows (no ORM: it costs per row)."""
    connection = await session.connection()
    return await connection.stream(stmt.execution_options(yield_per=FETCH))


async def residents(
    session: AsyncSession, claimed: Mapping[int, datetime | None], *, window: datetime,
    closing: list[int], done: list[int],
) -> AsyncIterator[Slice]:  # fmt: skip
    """The claimed residents in person order, a slice at a time, each with their latest
    reachable direct chat; `closing` polls they voted in, `done` ideas they supported.

    The queries read everyone's rows and the ones of residents not claimed are skipped here:
    a condition on the claim would be planned on statistics that do not know the claim
    (made just before, in the same transaction), and PostgreSQL then chose a nested loop that
    took 12 s for 100,000 residents.
    """

    def pairs(person: Any, other: Any, *where: Any) -> Any:
        return select(person, other).where(*where).order_by(col(person))

    chats = (
        _rows(Person.id, Person.locale, Preference.broadcasts, Channel.platform, Channel.chat_id)
        .join(Channel, col(Channel.person_id) == col(Person.id))
        .join(Preference, col(Preference.person_id) == col(Person.id))
        .where(col(Channel.kind) == "direct", col(Channel.reachable))
        .order_by(col(Person.id), col(Channel.id).desc())
    )
    changed = select(SignalUpdate.signal_id).where(col(SignalUpdate.created_at) > window)
    streams = [
        _ByPerson(await _stream(session, pairs(Membership.person_id, Membership.neighbourhood_id))),
        _ByPerson(await _stream(session, pairs(ThemeFollow.person_id, ThemeFollow.theme_id))),
        _ByPerson(await _stream(session, pairs(
            SignalFollower.person_id, SignalFollower.signal_id,
            col(SignalFollower.signal_id).in_(changed),
        ))),
        _ByPerson(await _stream(session, pairs(
            PollVote.person_id, PollVote.poll_id, col(PollVote.poll_id).in_(closing),
        )) if closing else None),
        _ByPerson(await _stream(session, pairs(
            IdeaSupport.person_id, IdeaSupport.idea_id, col(IdeaSupport.idea_id).in_(done),
        )) if done else None),
    ]  # fmt: skip
    rows = await _stream(session, chats)
    try:
        previous = 0
        while batch := await rows.fetchmany(CHUNK):
            found: list[Resident] = []
            for pid, locale, broadcasts, platform, chat_id in batch:
                if pid == previous or pid not in claimed:
                    continue  # one chat per person: the latest, as in notify.tell
                previous = pid
                found.append(Resident(pid, locale, platform, chat_id, claimed[pid],
                                      broadcasts is not False))  # fmt: skip
            if found:
                last = found[-1].person_id
                hoods, themes, following, voted, supported = [await s.upto(last) for s in streams]
                yield Slice(found, hoods, themes, following, voted, supported)
    finally:
        await rows.close()
        for s in streams:
            await s.close()
