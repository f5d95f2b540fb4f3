"""The pool, the draw, invitations and replacements, and erasure at the end.

The coordinator sees the panel's composition (counts per category); the pool's answers per
person are never shown, and are deleted when the forum ends (`sweep`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.callbacks import CallbackData
from bot.core.clock import Clock
from bot.core.events import Button
from bot.core.i18n import N_, _, day, ngettext
from bot.delivery.notify import tell
from bot.services.forum import draw as drawing
from bot.services.forum.features import (
    Quotas,
    feature_name,
    features_of,
    quota_problem,
    value_label,
)
from storage.db import Database
from storage.forum_models import CONFIRMED, DECLINED, INVITED, POOL, Forum, ForumMember
from storage.models import Person
from storage.repo import audit, forums, people

log = logging.getLogger(__name__)


class ForumError(Exception):
    """Why a forum cannot be opened or drawn, in words for the operator or coordinator."""


class Invitation(CallbackData, prefix="fi", hint=N_("Type /wijkforum to see your forums.")):
    """Yes or No to a seat: `fi:yes:{forum}`."""

    verb: Literal["yes", "no"]
    forum: int


class LeavePool(CallbackData, prefix="flv", hint=N_("Type /wijkforum to see your forums.")):
    """ "Leave the pool" under `/wijkforum`: withdraw consent without erasing everything."""

    forum: int


async def leave(session: AsyncSession, forum_id: int, person_id: int) -> bool:
    """Someone leaves a forum's pool: their answers go; a seat they held is refilled by the
    job, as after a decline. False when they were not in it."""
    await forums.lock(session, forum_id)
    return await forums.remove_member(session, forum_id, person_id)


def invitation_buttons(forum_id: int) -> list[Button]:
    return [
        Button(_("Yes, I take part"), Invitation("yes", forum_id).pack()),
        Button(_("No, thank you"), Invitation("no", forum_id).pack()),
    ]


def _as_tuples(quotas: Quotas) -> drawing.Quotas:
    return {
        f: {v: (int(mm[0]), int(mm[1])) for v, mm in values.items()} for f, values in quotas.items()
    }


async def open_forum(session: AsyncSession, forum: Forum) -> Forum:
    problem = quota_problem(forum.quotas, forum.seats)
    if problem is not None:
        raise ForumError(problem)
    return await forums.add_forum(session, forum)


def _pool(rows: list[ForumMember]) -> dict[int, dict[str, str]]:
    return {m.number: {k: str(v) for k, v in m.answers.items()} for m in rows}


def _invite_text(forum: Forum, deadline: datetime) -> str:
    return _(
        "You were drawn by lot for the neighbourhood forum “{purpose}”. Do you take part? "
        "Please answer before {deadline}."
    ).format(purpose=forum.purpose, deadline=day(deadline))


async def _invite(
    session: AsyncSession, forum: Forum, rows: list[ForumMember], clock: Clock
) -> None:
    assert forum.id is not None
    forum_id, deadline = forum.id, clock.now() + timedelta(days=forum.confirm_days)
    for row in rows:
        row.state, row.invited_at = INVITED, clock.now()
        session.add(row)
        person = await session.get(Person, row.person_id)
        if person is not None:
            await tell(
                session,
                person,
                lambda: _invite_text(forum, deadline),
                lambda: invitation_buttons(forum_id),
            )


@dataclass(frozen=True)
class _Pool:
    """What a draw is computed from, read in a short transaction; the result is written
    only while the members' states are still these (`_still`)."""

    forum: Forum
    members: list[ForumMember]

    @property
    def key(self) -> tuple[tuple[int, str], ...]:
        return tuple((m.number, m.state) for m in self.members)

    def of(self, *states: str) -> list[ForumMember]:
        return [m for m in self.members if m.state in states]


async def _read(db: Database, forum_id: int) -> _Pool:
    async with db.session() as session:
        forum = await forums.forum(session, forum_id)
        if forum is None:
            raise ForumError(f"unknown forum {forum_id}")
        return _Pool(forum, await forums.members(session, forum_id))


async def _still(session: AsyncSession, read: _Pool) -> Forum | None:
    """The forum, locked, if nothing changed since `read`; None if something did."""
    assert read.forum.id is not None
    forum = await forums.lock(session, read.forum.id)
    if forum is None or forum.seed != read.forum.seed or forum.erased_at is not None:
        return None
    now = _Pool(forum, await forums.members(session, read.forum.id))
    return forum if now.key == read.key else None


async def run_draw(
    db: Database, forum_id: int, seed: int, clock: Clock, algorithm: str = "maximin"
) -> drawing.Draw:
    """Draw the panel from the pool and invite it; nothing changes when the quotas fail.
    The solver runs outside any transaction; the result is written only if the pool is
    still as it was read (otherwise: ForumError, draw again)."""
    read = await _read(db, forum_id)
    if read.forum.seed is not None:
        raise ForumError(f"forum {forum_id} was drawn already (seed {read.forum.seed})")
    rows = read.of(POOL)
    try:
        result = await drawing.draw_aside(
            _pool(rows), _as_tuples(read.forum.quotas), read.forum.seats, seed, algorithm
        )
    except drawing.DrawError as exc:
        raise ForumError(f"nothing was drawn: {exc}") from None
    async with db.transaction() as session:
        forum = await _still(session, read)
        if forum is None:
            raise ForumError(f"forum {forum_id} changed during the draw; nothing was drawn")
        forum.seed = seed
        forum.probabilities = {str(n): p for n, p in result.probabilities.items()}
        forum.composition = result.composition
        session.add(forum)
        await _record(session, forum_id, "forum.draw", result, len(rows))
        chosen = set(result.panel)
        await _invite(session, forum, [m for m in rows if m.number in chosen], clock)
    return result


async def _record(
    session: AsyncSession, forum_id: int, action: str, result: drawing.Draw, pool: int
) -> None:
    """Enough to recount a draw or a replacement: algorithm, library, seed, who was asked."""
    await audit.record(
        session,
        None,
        action,
        "forum",
        forum_id,
        algorithm=result.algorithm,
        library=result.library,
        seed=result.seed,
        pool=pool,
        drawn=result.panel,
    )


# Forums whose replacement found nobody within the quotas, with the pool as it was then:
# not tried again (every sweep) until something changes.
_no_replacement: dict[tuple[str, int], tuple[tuple[int, str], ...]] = {}


async def refill(db: Database, forum_id: int, clock: Clock) -> list[int]:
    """Fill the open seats (after declines, late answers or someone erasing their data)
    from the rest of the pool, keeping the quotas. The seed of each replacement is the
    published seed plus the number of people asked so far (it is recorded in the audit).
    Returns the pool numbers invited."""
    for _attempt in range(3):
        read = await _read(db, forum_id)
        forum = read.forum
        if forum.seed is None or forum.erased_at is not None or forum.ends_at <= clock.now():
            return []
        taken = read.of(INVITED, CONFIRMED)
        rest = read.of(POOL)
        open_seats = forum.seats - len(taken)
        if open_seats <= 0 or _no_replacement.get((str(db.url), forum_id)) == read.key:
            return []
        asked = len(read.of(INVITED, CONFIRMED, DECLINED))
        result = await _replacement(forum, taken, rest, open_seats, asked)
        if result is None:
            _no_replacement[str(db.url), forum_id] = read.key
            await _tell_empty(db, forum, open_seats)
            return []
        quotas = _as_tuples(forum.quotas)
        async with db.transaction() as session:
            locked = await _still(session, read)
            if locked is None:
                continue  # someone answered meanwhile: read again
            chosen = [m for m in rest if m.number in set(result.panel)]
            await _invite(session, locked, chosen, clock)
            locked.composition = drawing.composition(
                _pool(taken + chosen), [m.number for m in taken + chosen], quotas
            )
            session.add(locked)
            await _record(session, forum_id, "forum.replace", result, len(rest))
            return result.panel
    return []


async def _replacement(
    forum: Forum, taken: list[ForumMember], rest: list[ForumMember], open_seats: int, asked: int
) -> drawing.Draw | None:
    """Who from the rest of the pool fills the open seats within the quotas; None if nobody."""
    if not rest:
        return None
    quotas = _as_tuples(forum.quotas)
    counts = drawing.composition(_pool(taken), [m.number for m in taken], quotas)
    seed = (forum.seed or 0) + asked
    try:
        return await drawing.draw_aside(
            _pool(rest), drawing.remaining_quotas(quotas, counts), open_seats, seed
        )
    except drawing.DrawError as exc:
        log.warning("forum %s: no replacement within the quotas: %s", forum.id, exc)
        return None


async def _tell_empty(db: Database, forum: Forum, open_seats: int) -> None:
    """The neighbourhood's coordinators hear once that seats stay empty (the caller
    remembers it, so the sweep does not say it again)."""

    def render() -> str:
        return ngettext(
            "{n} seat of the forum “{purpose}” stays empty: nobody in the pool fits the quotas.",
            "{n} seats of the forum “{purpose}” stay empty: nobody in the pool fits the quotas.",
            open_seats,
        ).format(n=open_seats, purpose=forum.purpose)

    async with db.transaction() as session:
        for coordinator in await people.coordinators_of(session, forum.neighbourhood_id):
            await tell(session, coordinator, render)


async def answer(
    session: AsyncSession, forum_id: int, member_id: int, yes: bool, clock: Clock
) -> bool:
    """An invited member's yes or no; False when the invitation is no longer open (answered
    already, run out, or the forum ended). A seat left open is filled by `refill` (job)."""
    forum = await forums.lock(session, forum_id)
    if forum is None or forum.erased_at is not None or forum.ends_at <= clock.now():
        return False
    cutoff = clock.now() - timedelta(days=forum.confirm_days)
    return await forums.answer_invitation(
        session, member_id, CONFIRMED if yes else DECLINED, cutoff
    )


async def composition_lines(session: AsyncSession, forum: Forum) -> list[str]:
    """The panel per category (confirmed and invited), without any person."""
    assert forum.id is not None
    rows = await forums.members(session, forum.id, (INVITED, CONFIRMED))
    lines = []
    for feature in features_of(forum.quotas):
        parts = []
        for value, (lo, hi) in forum.quotas[feature].items():
            n = sum(1 for m in rows if m.answers.get(feature) == value)
            parts.append(f"{value_label(value)} {n} ({lo}–{hi})")
        lines.append(f"{feature_name(feature)}: " + ", ".join(parts))
    confirmed = sum(1 for m in rows if m.state == CONFIRMED)
    lines.append(
        _("{confirmed} of {seats} seats confirmed, {waiting} waiting for an answer.").format(
            confirmed=confirmed, seats=forum.seats, waiting=len(rows) - confirmed
        )
    )
    return lines


async def sweep(db: Database, clock: Clock) -> int:
    """Forums past their end lose all balancing data first, each in its own transaction;
    then, per forum still running, invitations past their deadline count as a decline and
    open seats are refilled. One forum failing stops no other. Returns how many changed."""
    changed = 0
    async with db.session() as session:
        ended = [f.id for f in await forums.ended_not_erased(session, clock.now())]
        running = [f.id for f in await forums.drawn_forums(session) if f.ends_at > clock.now()]
    for forum_id in ended:
        assert forum_id is not None
        async with db.transaction() as session:
            forum = await forums.lock(session, forum_id)
            if forum is None or forum.erased_at is not None:
                continue
            await forums.erase_pool(session, forum_id)
            forum.erased_at = clock.now()
            session.add(forum)
            changed += 1
    for forum_id in running:
        assert forum_id is not None
        try:
            changed += await _late_and_open(db, forum_id, clock)
        except Exception:
            log.exception("forum %s: late invitations or replacements failed", forum_id)
    return changed


async def _late_and_open(db: Database, forum_id: int, clock: Clock) -> int:
    changed = 0
    async with db.transaction() as session:
        forum = await forums.lock(session, forum_id)
        if forum is None:
            return 0
        cutoff = clock.now() - timedelta(days=forum.confirm_days)
        for row in await forums.overdue_invitations(session, forum_id, cutoff):
            assert row.id is not None
            changed += await forums.answer_invitation(session, row.id, DECLINED)
    return changed + len(await refill(db, forum_id, clock))
