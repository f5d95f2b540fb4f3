"""Announcements: news from a coordinator to a neighbourhood or theme, events reminded.

They take the same way as polls (bot/delivery/broadcast.py). An announcement about an event gets
one reminder, a day before it starts; one made less than a day ahead is reminded two hours
before instead, and one made less than two hours ahead gets none (it was just announced).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.clock import Clock
from bot.core.i18n import _, when
from bot.delivery.broadcast import Reach, Target, broadcast
from storage.db import Database
from storage.models import Announcement

REMIND_BEFORE = timedelta(days=1)
REMIND_SOON_BEFORE = timedelta(hours=2)  # for an event announced less than a day ahead


def remind_at(a: Announcement) -> datetime | None:
    """When the reminder of this announcement's event is due (None: no event)."""
    if a.event_at is None:
        return None
    if a.event_at - a.created_at < REMIND_BEFORE:
        return a.event_at - REMIND_SOON_BEFORE
    return a.event_at - REMIND_BEFORE


def _event_line(a: Announcement) -> str:
    if a.event_at is None:
        return ""
    line = "🗓 " + when(a.event_at)
    return line + (f" · 📍 {a.place}" if a.place else "")


def announcement_text(a: Announcement) -> str:
    parts = ["📣 " + a.text]
    if a.event_at is not None:
        parts.append(_event_line(a))
    return "\n\n".join(parts)


def reminder_text(a: Announcement) -> str:
    return "\n\n".join(["⏰ " + _("A reminder of this event:"), _event_line(a), a.text])


def _extra(a: Announcement) -> dict[str, object]:
    if a.photo_file_id and a.photo_platform:
        return {"photo": {"platform": a.photo_platform, "file_id": a.photo_file_id}}
    return {}


async def send_announcement(
    session: AsyncSession, a: Announcement, now: datetime, group_locale: str
) -> Reach:
    a.created_at = now  # by the app clock: it decides when the reminder is due
    if a.event_at is not None and a.event_at - REMIND_SOON_BEFORE <= now:
        a.reminder_sent = True  # too close to remind: it is news now
    session.add(a)
    return await broadcast(
        session, Target(a.neighbourhood_id, a.theme_id), lambda: announcement_text(a), None,
        _extra(a), group_locale=group_locale,
    )  # fmt: skip


async def remind_due(db: Database, clock: Clock, group_locale: str) -> int:
    """Send the reminders that are due (also those missed while down)."""
    now = clock.now()
    async with db.transaction() as session:
        due = (
            await session.exec(
                select(Announcement).where(
                    col(Announcement.reminder_sent).is_(False),
                    col(Announcement.event_at).is_not(None),
                    col(Announcement.event_at) <= now + REMIND_BEFORE,
                    col(Announcement.event_at) > now,
                )
            )
        ).all()
        due = [a for a in due if (at := remind_at(a)) is not None and at <= now]
        for a in due:
            a.reminder_sent = True
            session.add(a)
            await broadcast(
                session, Target(a.neighbourhood_id, a.theme_id),
                partial(reminder_text, a), None, _extra(a), group_locale=group_locale,
            )  # fmt: skip
        return len(due)
