"""A digest run: claim who is due, queue their digests in the outbox, in one transaction."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from itertools import chain
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.clock import Clock
from bot.core.i18n import _, use_locale
from bot.delivery.scheduler import Job
from bot.services.digests.items import (
    MAX_SEEKING,
    SOON,
    Ids,
    Items,
    group_digest,
    resident_digest,
)
from bot.services.digests.render import heading_for, keyboard, render
from bot.services.digests.slots import CRON, PERIODS, due_before, since_of
from storage.db import Database
from storage.repo import digest_network as network
from storage.repo import digest_residents
from storage.repo import digests as repo
from storage.repo.digest_residents import Slice
from storage.repo.digests import Due, Resident
from storage.repo.outbox_bulk import Row, enqueue_encoded

OUTBOX_BATCH = 1000  # digests written per INSERT
SHARED = 2000  # kinds of digest remembered for residents who get the same one (0: none)
NONE: frozenset[int] = frozenset()


async def queue_digests(
    session: AsyncSession, now: datetime, cadence: str, *, group_locale: str = "nl",
    force: bool = False,
) -> int:  # fmt: skip
    """Write this period's digests into the outbox; the number of messages written.

    `force` (the console's `:jobs`) serves everyone on `cadence`, due or not; each still
    hears only what is new since their last digest.
    """
    period = PERIODS[cadence]
    due = Due(cadence, due_before(cadence, now), force)
    groups_before = due_before("weekly", now)
    claimed = await digest_residents.claim_residents(session, due, now)
    groups = await repo.due_groups(session, groups_before, force) if cadence == "weekly" else []
    if not claimed and not groups:
        return 0
    lasts = chain(claimed.values(), (g.last_digest_at for g in groups))
    window = min(since_of(last, now, period) for last in lasts)
    polls = await repo.polls(session, now, now + SOON, window)
    items = Items(
        await repo.new_ideas(session, window),
        await repo.changed_signals(session, window),
        polls,
        await repo.themes(session),
        offers=await network.new_offers(session, window),
        # a few more than shown per theme: someone's own ideas are left out of their digest
        seeking=await network.ideas_seeking_helpers(session, 2 * MAX_SEEKING),
        initiatives=await network.initiative_news(session, window),
    )
    out = _Outbox(session, now)
    if claimed:
        done = [i.idea_id for i in items.initiative.values() if i.status == "done"]
        closing = [p.id for p in items.closing]
        digests = _ResidentDigests(items, now, cadence)
        async for part in digest_residents.residents(
            session, claimed, window=window, closing=closing, done=done
        ):
            for r in part.residents:
                message = digests.of(r, part)
                if message is not None:
                    await out.add((r.platform, r.chat_id, "direct", *message))
    if groups:
        names = await repo.neighbourhood_names(session)
        claimed_groups = await repo.claim_groups(session, groups_before, force, now)
        for g in groups:
            if g.channel_id not in claimed_groups:
                continue
            d = group_digest(items, g, since_of(g.last_digest_at, now, PERIODS["weekly"]))
            if d.empty:
                continue
            with use_locale(group_locale):
                name = names.get(g.neighbourhood_id, "")
                theme = items.themes.get(g.theme_id) if g.theme_id is not None else None
                if theme is not None:
                    name = f"{name}, {theme.name_in(group_locale)}"
                text, buttons = render(d, _("This week in {name}").format(name=name), items.themes)
            await out.add((g.platform, g.chat_id, "group", text, keyboard(buttons)))
    await out.flush()
    return out.written


Message = tuple[str, str]  # text, and the buttons as JSON


class _ResidentDigests:
    """Each resident's digest as text and buttons (None: nothing new).

    Residents nothing personal sets apart (`Items.personal`) with the same places, themes,
    period, setting and language get the same digest: it is made once, and the last SHARED
    kinds are remembered.
    """

    def __init__(self, items: Items, now: datetime, cadence: str) -> None:
        self.items, self.now, self.cadence = items, now, cadence
        self.shared: dict[Any, Message | None] = {}

    def of(self, r: Resident, part: Slice) -> Message | None:
        me, items = r.person_id, self.items
        hoods, themes = part.hoods.get(me, NONE), part.themes.get(me, NONE)
        following, voted = part.following.get(me, NONE), part.voted.get(me, NONE)
        supported = part.supported.get(me, NONE)
        since = since_of(r.last_digest_at, self.now, PERIODS[self.cadence])
        if not SHARED or items.personal(me, following, voted, supported):
            return self._make(r, since, hoods, themes, following, voted, supported)
        key = (frozenset(hoods), frozenset(themes), since, r.broadcasts, r.locale)
        if key in self.shared:
            return self.shared[key]
        message = self._make(r, since, hoods, themes, NONE, NONE, NONE)
        if len(self.shared) >= SHARED:
            del self.shared[next(iter(self.shared))]  # the oldest
        self.shared[key] = message
        return message

    def _make(
        self, r: Resident, since: datetime, hoods: Ids, themes: Ids,
        following: Ids, voted: Ids, supported: Ids,
    ) -> Message | None:  # fmt: skip
        d = resident_digest(self.items, r, since, hoods, themes, following, voted, supported)
        if d.empty:
            return None
        with use_locale(r.locale):
            footer = _("Get this more or less often: /overzicht")
            text, buttons = render(d, heading_for(self.cadence), self.items.themes, footer)
        return text, keyboard(buttons)


class _Outbox:
    """Digests go out in batches of OUTBOX_BATCH rows: never all of them in memory."""

    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self.session, self.now = session, now
        self.rows: list[Row] = []
        self.written = 0

    async def add(self, row: Row) -> None:
        self.rows.append(row)
        if len(self.rows) >= OUTBOX_BATCH:
            await self.flush()

    async def flush(self) -> None:
        await enqueue_encoded(self.session, self.rows, self.now)
        self.written += len(self.rows)
        self.rows = []


async def send_digests(
    db: Database, clock: Clock, cadence: str, *, group_locale: str = "nl", force: bool = False
) -> int:
    async with db.transaction() as session:
        return await queue_digests(
            session, clock.now(), cadence, group_locale=group_locale, force=force
        )


def digest_jobs(db: Database, clock: Clock, group_locale: str) -> list[Job]:
    """Daily and weekly digests at 19:00 Amsterdam time; `:jobs` serves everyone at once."""
    return [
        Job(
            f"digest-{cadence}",
            PERIODS[cadence],
            partial(send_digests, db, clock, cadence, group_locale=group_locale, force=True),
            cron=CRON[cadence],
            on_schedule=partial(send_digests, db, clock, cadence, group_locale=group_locale),
        )
        for cadence in ("daily", "weekly")
    ]
