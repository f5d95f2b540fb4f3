"""Announcements: news from a coordinator to a neighbourhood or theme, events reminded.

They take the same way as polls (bot/delivery/broadcast.py). An announcement about an event gets
one reminder, a day before it starts; one made less than a day ahead is reminded two hours
before instead, and one made less than two hours ahead gets none (it was just announced).

An event carries an "I'm coming" button (`ev:yes:{id}`; `ev:no:{id}` takes it back). Those who
come get a reminder of their own two hours before (instead of the general one when that is
due at the same moment), and hear it when the organiser cancels. The organiser hears the
count when it changes, at most once an hour; never names.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Literal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.callbacks import CallbackData
from bot.core.clock import Clock
from bot.core.events import Button
from bot.core.i18n import _, ngettext, number, when
from bot.core.permissions import Actor
from bot.core.text import first_line
from bot.delivery.broadcast import Reach, Target, broadcast
from bot.delivery.notify import tell
from storage.db import Database
from storage.models import Announcement, Person
from storage.repo import announcements, audience

REMIND_BEFORE = timedelta(days=1)
REMIND_SOON_BEFORE = timedelta(hours=2)  # for an event announced less than a day ahead
REMIND_COMING_BEFORE = timedelta(hours=2)  # those who said they come, in any case
COUNT_NEWS_EVERY = timedelta(hours=1)  # the organiser hears the count at most this often


class Rsvp(CallbackData, prefix="ev"):
    """ "I'm coming" (`ev:yes:7`) or "Not coming after all" (`ev:no:7`) under an event."""

    answer: Literal["yes", "no"]
    announcement: int


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


def event_name(a: Announcement) -> str:
    """ "“Plantjesmarkt …” (5 December, 14:00)": an event in one line."""
    moment = when(a.event_at) if a.event_at else ""
    return f"“{first_line(a.text, 60)}” ({moment})"


def announcement_text(a: Announcement) -> str:
    parts = ["📣 " + a.text]
    if a.event_at is not None:
        parts.append(_event_line(a))
    return "\n\n".join(parts)


def reminder_text(a: Announcement) -> str:
    return "\n\n".join(["⏰ " + _("A reminder of this event:"), _event_line(a), a.text])


def coming_reminder_text(a: Announcement) -> str:
    first = _("A reminder: you said you would come to this event.")
    return "\n\n".join(["⏰ " + first, _event_line(a), a.text])


def coming_button(a: Announcement) -> Button:
    assert a.id is not None
    return Button(_("I'm coming"), Rsvp("yes", a.id).pack())


def not_coming_button(a: Announcement) -> Button:
    assert a.id is not None
    return Button(_("Not coming after all"), Rsvp("no", a.id).pack())


def _buttons(a: Announcement) -> list[list[Button]]:
    return [[coming_button(a)]] if a.event_at is not None else []


def _extra(a: Announcement) -> dict[str, object]:
    if a.photo_file_id and a.photo_platform:
        return {"photo": {"platform": a.photo_platform, "file_id": a.photo_file_id}}
    return {}


async def may_see(session: AsyncSession, a: Announcement, actor: Actor) -> bool:
    """Whether the announcement went where this person presses: a group it was sent to, or
    (in a direct chat) a resident it is meant for; and its neighbourhood's coordinators."""
    target = a.neighbourhood_id, a.theme_id
    if actor.coordinates(a.neighbourhood_id):
        return True
    if actor.in_group:
        return await audience.includes_group(session, actor.chat.platform, actor.chat.id, *target)
    return actor.person_id is not None and await audience.includes_person(
        session, actor.person_id, *target
    )


async def send_announcement(
    session: AsyncSession, a: Announcement, now: datetime, group_locale: str
) -> Reach:
    a.created_at = now  # by the app clock: it decides when the reminder is due
    if a.event_at is not None and a.event_at - REMIND_SOON_BEFORE <= now:
        a.reminder_sent = True  # too close to remind: it is news now
    session.add(a)
    await session.flush()  # its id goes into the buttons
    return await broadcast(
        session, Target(a.neighbourhood_id, a.theme_id), lambda: announcement_text(a),
        partial(_buttons, a), _extra(a), group_locale=group_locale,
    )  # fmt: skip


async def cancel_event(session: AsyncSession, a: Announcement, now: datetime) -> int:
    """Call the event off: no reminders any more; everyone who said they come is told."""
    assert a.id is not None
    a.cancelled_at = now
    a.reminder_sent = True
    session.add(a)
    told = 0
    for _rsvp, person in await announcements.coming(session, a.id):

        def render(a: Announcement = a) -> str:
            return "\n\n".join(
                [
                    "❌ " + _("This event is cancelled. You had said you would come."),
                    _event_line(a),
                    a.text,
                ]
            )

        told += await tell(session, person, render)
    return told


async def _remind_coming(session: AsyncSession, now: datetime) -> set[int]:
    """Personal reminders, two hours before, to those who said they come (before then)."""
    reminded: set[int] = set()
    for rsvp, a in await announcements.unreminded(session, now + REMIND_COMING_BEFORE, now):
        rsvp.reminded = True
        session.add(rsvp)
        assert a.event_at is not None
        if rsvp.created_at >= a.event_at - REMIND_COMING_BEFORE:
            continue  # they said it just now: no reminder needed
        person = await session.get(Person, rsvp.person_id)
        if person is None:
            continue
        await tell(session, person, partial(coming_reminder_text, a),
                   partial(lambda a: [not_coming_button(a)], a))  # fmt: skip
        reminded.add(rsvp.person_id)
    return reminded


async def _tell_organisers(session: AsyncSession, now: datetime) -> int:
    """The organiser hears how many come when it changed, at most once an hour."""
    told = 0
    for a, n in await announcements.with_count_news(session, now):
        if a.rsvp_told_at is not None and now - a.rsvp_told_at < COUNT_NEWS_EVERY:
            continue
        organiser = await session.get(Person, a.created_by_id)
        a.rsvp_told, a.rsvp_told_at = n, now
        session.add(a)
        if organiser is None:
            continue

        def render(a: Announcement = a, n: int = n) -> str:
            return ngettext(
                "{n} person said they will come to {event}.",
                "{n} people said they will come to {event}.",
                n,
            ).format(n=number(n), event=event_name(a))

        told += await tell(session, organiser, render)
    return told


async def remind_due(db: Database, clock: Clock, group_locale: str) -> int:
    """Send the reminders that are due (also those missed while down), and the organisers'
    counts; how many messages that made (roughly: a broadcast counts once)."""
    now = clock.now()
    async with db.transaction() as session:
        coming = await _remind_coming(session, now)
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
            assert a.id is not None and a.event_at is not None
            # Those just reminded personally are not told twice at the same moment.
            same_moment = a.event_at - now <= REMIND_COMING_BEFORE
            skip = {p.id for _r, p in await announcements.coming(session, a.id) if p.id} & coming
            await broadcast(
                session, Target(a.neighbourhood_id, a.theme_id),
                partial(reminder_text, a), None, _extra(a), group_locale=group_locale,
                skip_people=skip if same_moment else (),
            )  # fmt: skip
        told = await _tell_organisers(session, now)
        return len(due) + len(coming) + told
