"""The digest run as it was before it streamed (main at 38c08e6), kept to compare with.

Everything due is read into memory, each digest is assembled one by one from the same
`Items`, `resident_digest`, `group_digest` and `render`; nothing is claimed or written. A
test fills a database, asks this for the messages, then runs `queue_digests` and checks the
outbox holds the same texts and buttons for the same chats.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.i18n import _, use_locale
from bot.services.digests.items import MAX_SEEKING, SOON, Items, group_digest, resident_digest
from bot.services.digests.render import heading_for, render
from bot.services.digests.slots import PERIODS, due_before, since_of
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
from storage.repo import digest_network as network
from storage.repo import digests as repo
from storage.repo.digests import Due, Resident

Message = tuple[str, str, str, str, Any]  # platform, chat, kind, text, buttons


def _reachable_direct() -> ColumnElement[bool]:
    return exists().where(
        col(Channel.person_id) == col(Person.id),
        col(Channel.kind) == "direct",
        col(Channel.reachable),
    )


def _due_people(due: Due) -> Any:
    return (
        select(Person.id)
        .outerjoin(Preference, col(Preference.person_id) == col(Person.id))
        .where(
            func.coalesce(Preference.digest, "weekly") == due.cadence,
            due.last_is_old(col(Preference.last_digest_at)),
            _reachable_direct(),
        )
    )


async def _due_residents(session: AsyncSession, due: Due) -> list[Resident]:
    stmt = (
        select(Person.id, Person.locale, Preference.last_digest_at, Preference.broadcasts)
        .join(Channel, col(Channel.person_id) == col(Person.id))
        .outerjoin(Preference, col(Preference.person_id) == col(Person.id))
        .add_columns(Channel.platform, Channel.chat_id)
        .where(
            col(Channel.kind) == "direct",
            col(Channel.reachable),
            func.coalesce(Preference.digest, "weekly") == due.cadence,
            due.last_is_old(col(Preference.last_digest_at)),
        )
        .order_by(col(Person.id), col(Channel.id).desc())
    )
    out: list[Resident] = []
    for pid, locale, last, broadcasts, platform, chat_id in (await session.exec(stmt)).all():
        if out and out[-1].person_id == pid:
            continue
        out.append(Resident(pid, locale, platform, chat_id, last, broadcasts is not False))
    return out


async def _pairs(session: AsyncSession, stmt: Any) -> dict[int, set[int]]:
    found: dict[int, set[int]] = defaultdict(set)
    for pid, other in (await session.exec(stmt)).all():
        found[pid].add(other)
    return found


async def reference_messages(
    session: AsyncSession, now: datetime, cadence: str, group_locale: str = "nl"
) -> list[Message]:
    """The messages the run at `now` would write, computed the old way."""
    period = PERIODS[cadence]
    due = Due(cadence, due_before(cadence, now))
    groups_before = due_before("weekly", now)
    residents = await _due_residents(session, due)
    groups = await repo.due_groups(session, groups_before, False) if cadence == "weekly" else []
    if not residents and not groups:
        return []
    lasts = [r.last_digest_at for r in residents] + [g.last_digest_at for g in groups]
    window = min(since_of(last, now, period) for last in lasts)
    items = Items(
        await repo.new_ideas(session, window),
        await repo.changed_signals(session, window),
        await repo.polls(session, now, now + SOON, window),
        await repo.themes(session),
        offers=await network.new_offers(session, window),
        seeking=await network.ideas_seeking_helpers(session, 2 * MAX_SEEKING),
        initiatives=await network.initiative_news(session, window),
    )
    people = _due_people(due)
    hoods = await _pairs(session, select(Membership.person_id, Membership.neighbourhood_id)
                         .where(col(Membership.person_id).in_(people)))  # fmt: skip
    themes = await _pairs(session, select(ThemeFollow.person_id, ThemeFollow.theme_id)
                          .where(col(ThemeFollow.person_id).in_(people)))  # fmt: skip
    changed = select(SignalUpdate.signal_id).where(col(SignalUpdate.created_at) > window)
    following = await _pairs(session, select(SignalFollower.person_id, SignalFollower.signal_id)
                             .where(col(SignalFollower.signal_id).in_(changed),
                                    col(SignalFollower.person_id).in_(people)))  # fmt: skip
    closing = [p.id for p in items.closing]
    voted = await _pairs(session, select(PollVote.person_id, PollVote.poll_id)
                         .where(col(PollVote.poll_id).in_(closing),
                                col(PollVote.person_id).in_(people)))  # fmt: skip
    done = [i.idea_id for i in items.initiative.values() if i.status == "done"]
    supported = await _pairs(session, select(IdeaSupport.person_id, IdeaSupport.idea_id)
                             .where(col(IdeaSupport.idea_id).in_(done),
                                    col(IdeaSupport.person_id).in_(people)))  # fmt: skip
    out: list[Message] = []
    for r in residents:
        me = r.person_id
        d = resident_digest(
            items, r, since_of(r.last_digest_at, now, period), hoods[me], themes[me],
            following[me], voted[me], supported[me],
        )  # fmt: skip
        if d.empty:
            continue
        with use_locale(r.locale):
            footer = _("Get this more or less often: /overzicht")
            text, buttons = render(d, heading_for(cadence), items.themes, footer)
        out.append((r.platform, r.chat_id, "direct", text, [[b.to_row()] for b in buttons]))
    names = await repo.neighbourhood_names(session)
    for g in groups:
        d = group_digest(items, g, since_of(g.last_digest_at, now, PERIODS["weekly"]))
        if d.empty:
            continue
        with use_locale(group_locale):
            name = names.get(g.neighbourhood_id, "")
            theme = items.themes.get(g.theme_id) if g.theme_id is not None else None
            if theme is not None:
                name = f"{name}, {theme.name_in(group_locale)}"
            text, buttons = render(d, _("This week in {name}").format(name=name), items.themes)
        out.append((g.platform, g.chat_id, "group", text, [[b.to_row()] for b in buttons]))
    return out
