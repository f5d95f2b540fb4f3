"""The pool, the draw, invitations and replacements, and erasure at the end.

The coordinator sees the panel's composition (counts per category); the pool's answers per
person are never shown, and are deleted when the forum ends (`sweep`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.callbacks import CallbackData
from bot.core.clock import Clock
from bot.core.events import Button
from bot.core.i18n import N_, _, day
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
from storage.repo import forums


class ForumError(Exception):
    """Why a forum cannot be opened or drawn, in words for the operator or coordinator."""


class Invitation(CallbackData, prefix="fi", hint=N_("Type /wijkforum to see your forums.")):
    """Yes or No to a seat: `fi:yes:{forum}`."""

    verb: Literal["yes", "no"]
    forum: int


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


async def run_draw(
    session: AsyncSession, forum: Forum, seed: int, clock: Clock, algorithm: str = "maximin"
) -> drawing.Draw:
    """Draw the panel from the pool and invite it; nothing changes when the quotas fail."""
    assert forum.id is not None
    if forum.seed is not None:
        raise ForumError(f"forum {forum.id} was drawn already (seed {forum.seed})")
    rows = await forums.members(session, forum.id, (POOL,))
    try:
        result = drawing.draw(_pool(rows), _as_tuples(forum.quotas), forum.seats, seed, algorithm)
    except drawing.DrawError as exc:
        raise ForumError(f"nothing was drawn: {exc}") from None
    forum.seed = seed
    forum.probabilities = {str(n): p for n, p in result.probabilities.items()}
    forum.composition = result.composition
    session.add(forum)
    chosen = set(result.panel)
    await _invite(session, forum, [m for m in rows if m.number in chosen], clock)
    return result


async def replace(session: AsyncSession, forum: Forum, clock: Clock) -> list[int]:
    """Fill seats left by a decline from the rest of the pool, keeping the quotas; the seed
    for each replacement is the published seed plus the number of people asked so far."""
    assert forum.id is not None and forum.seed is not None
    taken = await forums.members(session, forum.id, (INVITED, CONFIRMED))
    open_seats = forum.seats - len(taken)
    if open_seats <= 0:
        return []
    quotas = _as_tuples(forum.quotas)
    counts = drawing.composition(_pool(taken), [m.number for m in taken], quotas)
    rest = await forums.members(session, forum.id, (POOL,))
    asked = len(await forums.members(session, forum.id, (INVITED, CONFIRMED, DECLINED)))
    try:
        result = drawing.draw(
            _pool(rest), drawing.remaining_quotas(quotas, counts), open_seats, forum.seed + asked
        )
    except drawing.DrawError:
        return []  # the pool cannot fill it within the quotas; the coordinator sees the gap
    chosen = set(result.panel)
    await _invite(session, forum, [m for m in rest if m.number in chosen], clock)
    forum.composition = drawing.composition(
        _pool(taken + [m for m in rest if m.number in chosen]),
        [m.number for m in taken] + result.panel,
        quotas,
    )
    session.add(forum)
    return result.panel


async def answer(
    session: AsyncSession, forum: Forum, member: ForumMember, yes: bool, clock: Clock
) -> None:
    member.state = CONFIRMED if yes else DECLINED
    session.add(member)
    await session.flush()
    if not yes:
        await replace(session, forum, clock)


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
    """Invitations past their deadline count as a decline (and are replaced); forums past
    their end lose all balancing data. Returns how many things changed."""
    changed = 0
    async with db.transaction() as session:
        for forum in await forums.drawn_forums(session):
            assert forum.id is not None
            late = await forums.overdue_invitations(
                session, forum.id, clock.now() - timedelta(days=forum.confirm_days)
            )
            for row in late:
                await answer(session, forum, row, False, clock)
                changed += 1
        for forum in await forums.ended_not_erased(session, clock.now()):
            assert forum.id is not None
            await forums.erase_pool(session, forum.id)
            forum.erased_at = clock.now()
            session.add(forum)
            changed += 1
    return changed
