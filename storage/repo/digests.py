"""Set-based reads and writes for digests: a fixed number of queries whatever the head count.

Who is due is a condition (`Due`), not a list of ids, so claims are one statement; items are
loaded once for the whole run. The residents themselves are read as a stream
(storage/repo/digest_residents.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    distinct,
    exists,
    func,
    or_,
    true,
    update,
)
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from storage.models import (
    Channel,
    Idea,
    IdeaSupport,
    Neighbourhood,
    Person,
    Poll,
    PollVote,
    Preference,
    Signal,
    SignalUpdate,
    Theme,
)

DEFAULT_DIGEST = "weekly"
CHANGE_KINDS = ("status", "municipality")


@dataclass(frozen=True)
class Due:
    """Residents on `cadence` whose last digest is older than `before` (all of them: force)."""

    cadence: str
    before: datetime
    force: bool = False

    def last_is_old(self, column: Any) -> ColumnElement[bool]:
        if self.force:
            return true()
        return or_(column.is_(None), column < self.before)


def _rows(*columns: Any) -> Any:
    """A select of many columns: sqlmodel's `select` is typed for at most four."""
    return Select(*columns)


def _reachable_direct() -> ColumnElement[bool]:
    return exists().where(
        col(Channel.person_id) == col(Person.id),
        col(Channel.kind) == "direct",
        col(Channel.reachable),
    )


@dataclass(frozen=True)
class Resident:
    person_id: int
    locale: str
    platform: str
    chat_id: str
    last_digest_at: datetime | None
    broadcasts: bool


@dataclass(frozen=True)
class Group:
    channel_id: int
    platform: str
    chat_id: str
    neighbourhood_id: int
    theme_id: int | None
    last_digest_at: datetime | None


def _group_due(before: datetime, force: bool) -> list[ColumnElement[bool]]:
    return [
        col(Channel.kind) == "group",
        col(Channel.reachable).is_(True),
        col(Channel.neighbourhood_id).is_not(None),
        Due("weekly", before, force).last_is_old(col(Channel.last_digest_at)),
    ]


async def due_groups(session: AsyncSession, before: datetime, force: bool) -> list[Group]:
    stmt = (
        _rows(
            Channel.id, Channel.platform, Channel.chat_id, Channel.neighbourhood_id,
            Channel.theme_id, Channel.last_digest_at,
        )
        .where(*_group_due(before, force))
        .order_by(col(Channel.id))
    )  # fmt: skip
    return [
        Group(cid, platform, chat_id, int(hood), theme, last)
        for cid, platform, chat_id, hood, theme, last in (await session.exec(stmt)).all()
    ]


# --- Items: loaded once per run --------------------------------------------------------------


@dataclass(frozen=True)
class IdeaRow:
    id: int
    neighbourhood_id: int
    theme_id: int | None
    author_id: int | None
    title: str
    created_at: datetime
    supporters: int


async def new_ideas(session: AsyncSession, since: datetime) -> list[IdeaRow]:
    """Ideas created after `since` with their support count, oldest first."""
    counts = (
        select(IdeaSupport.idea_id, func.count().label("n"))
        .join(Idea, col(Idea.id) == col(IdeaSupport.idea_id))
        .where(col(Idea.created_at) > since)
        .group_by(col(IdeaSupport.idea_id))
        .subquery()
    )
    stmt = (
        _rows(
            Idea.id, Idea.neighbourhood_id, Idea.theme_id, Idea.author_id, Idea.title,
            Idea.created_at, func.coalesce(counts.c.n, 0),
        )
        .outerjoin(counts, counts.c.idea_id == col(Idea.id))
        .where(col(Idea.created_at) > since, col(Idea.status) == "open")
        .order_by(col(Idea.created_at), col(Idea.id))
    )  # fmt: skip
    rows = (await session.exec(stmt)).all()
    return [IdeaRow(i, n, t, a, title, c, int(s)) for i, n, t, a, title, c, s in rows]


@dataclass
class SignalRow:
    id: int
    neighbourhood_id: int
    reporter_id: int | None
    text: str
    status: str
    changes: list[tuple[datetime, int | None]]  # (when, by whom), oldest first

    @property
    def last_change(self) -> datetime:
        return self.changes[-1][0]

    def changed_for(self, person_id: int | None, since: datetime) -> bool:
        """Changed after `since` by somebody other than the person (their own news is old)."""
        return any(
            at > since and (person_id is None or by != person_id)
            for at, by in reversed(self.changes)
        )


async def changed_signals(session: AsyncSession, since: datetime) -> list[SignalRow]:
    """Signals whose status changed after `since` (a new report counts), by last change."""
    stmt = (
        _rows(
            Signal.id, Signal.neighbourhood_id, Signal.reporter_id, Signal.text, Signal.status,
            SignalUpdate.created_at, SignalUpdate.by_person_id,
        )
        .join(SignalUpdate, col(SignalUpdate.signal_id) == col(Signal.id))
        .where(
            col(SignalUpdate.created_at) > since,
            col(SignalUpdate.kind).in_(CHANGE_KINDS),
            col(Signal.duplicate_of_id).is_(None),
        )
        .order_by(col(SignalUpdate.id))
    )  # fmt: skip
    found: dict[int, SignalRow] = {}
    for sid, hood, reporter, text, status, at, by in (await session.exec(stmt)).all():
        row = found.get(sid)
        if row is None:
            row = found[sid] = SignalRow(sid, hood, reporter, text, status, [])
        row.changes.append((at, by))
    return sorted(found.values(), key=lambda r: (r.last_change, r.id))


@dataclass(frozen=True)
class PollRow:
    id: int
    neighbourhood_id: int
    theme_id: int | None
    question: str
    options: list[str]
    closes_at: datetime
    closed_at: datetime | None
    counts: tuple[int, ...] = ()
    voters: int = 0
    sent_at: datetime | None = None


async def polls(
    session: AsyncSession, now: datetime, soon: datetime, since: datetime
) -> list[PollRow]:
    """Polls that are out and close before `soon`, and polls closed after `since`, with
    their counts."""
    stmt = _rows(
        Poll.id, Poll.neighbourhood_id, Poll.theme_id, Poll.question, Poll.options,
        Poll.closes_at, Poll.closed_at, Poll.sent_at,
    ).where(
        col(Poll.sent_at).is_not(None),
        or_(
            and_(col(Poll.closed_at).is_(None), col(Poll.closes_at) > now,
                 col(Poll.closes_at) <= soon),
            col(Poll.closed_at) > since,
        ),
    ).order_by(col(Poll.closes_at), col(Poll.id))  # fmt: skip
    rows = (await session.exec(stmt)).all()
    closed = [r[0] for r in rows if r[6] is not None]
    per_option: dict[int, dict[int, int]] = {}
    voters: dict[int, int] = {}
    if closed:
        tally = (
            select(PollVote.poll_id, PollVote.option, func.count())
            .where(col(PollVote.poll_id).in_(closed))
            .group_by(col(PollVote.poll_id), col(PollVote.option))
        )
        for pid, option, n in (await session.exec(tally)).all():
            per_option.setdefault(pid, {})[option] = int(n)
        people = (
            select(PollVote.poll_id, func.count(distinct(col(PollVote.person_id))))
            .where(col(PollVote.poll_id).in_(closed))
            .group_by(col(PollVote.poll_id))
        )
        voters = {pid: int(n) for pid, n in (await session.exec(people)).all()}
    out = []
    for pid, hood, theme, question, options, closes_at, closed_at, sent_at in rows:
        counts = tuple(per_option.get(pid, {}).get(i, 0) for i in range(len(options)))
        out.append(
            PollRow(pid, hood, theme, question, list(options), closes_at,
                    closed_at, counts, voters.get(pid, 0), sent_at)
        )  # fmt: skip
    return out


async def neighbourhood_names(session: AsyncSession) -> dict[int, str]:
    rows = (await session.exec(select(Neighbourhood.id, Neighbourhood.name))).all()
    return {i: name for i, name in rows if i is not None}


async def themes(session: AsyncSession) -> dict[int, Theme]:
    return {t.id: t for t in (await session.exec(select(Theme))).all() if t.id is not None}


# --- Claims: groups (residents: storage/repo/digest_residents.py) ---------------------------


async def claim_groups(
    session: AsyncSession, before: datetime, force: bool, now: datetime
) -> set[int]:
    stmt = (
        update(Channel)
        .where(*_group_due(before, force))
        .values(last_digest_at=now)
        .returning(col(Channel.id))
        .execution_options(synchronize_session=False)
    )
    return set((await session.exec(stmt)).scalars().all())


# --- A resident's own setting ------------------------------------------------------------------


async def preference(session: AsyncSession, person_id: int) -> Preference:
    """The person's setting (the defaults when they never chose)."""
    found = await session.get(Preference, person_id)
    return found or Preference(person_id=person_id)


async def save_preference(session: AsyncSession, pref: Preference) -> None:
    session.add(pref)
    await session.flush()
