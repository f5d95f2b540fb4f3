"""Announcements: `/aankondiging [text]`, then an optional photo, event date and place.

The coordinator sees a summary before it goes out to a neighbourhood or one theme in it.
Under an event, "I'm coming" (anyone it reached, in a group too); `/aankondigingen` shows a
coordinator the events to come with how many come, and can cancel one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from bot.core.callbacks import CallbackData, StaleButton
from bot.core.context import Ctx
from bot.core.drafts import Draft
from bot.core.events import Button
from bot.core.i18n import N_, _, ngettext, number
from bot.core.permissions import can_coordinate
from bot.core.router import Handler, Router
from bot.core.states import State, StatesGroup
from bot.core.text import MAX_TEXT, clean, whole_number
from bot.delivery.broadcast import groups_text, residents_text
from bot.delivery.notify import tell
from bot.handlers.common import guarded, lost, please_choose, read_text
from bot.handlers.targets import refused_for_nobody, target_name
from bot.services.announcements import (
    Rsvp,
    announcement_text,
    cancel_event,
    coming_button,
    event_name,
    may_see,
    not_coming_button,
    send_announcement,
)
from bot.util.when import parse_moment, passed
from storage.models import Announcement
from storage.repo import announcements, audit, partners, places

router = Router("announce")

MAX_ANNOUNCEMENT = 2000
MAX_PLACE = 200
MAX_AHEAD = timedelta(days=365)


class PhotoRef(BaseModel):
    platform: str = Field(max_length=20)
    file_id: str = Field(max_length=1000)


class AnnouncementDraft(Draft):
    """An announcement being written: its text, then optionally a photo, an event and a place."""

    text: str = Field(min_length=1, max_length=MAX_ANNOUNCEMENT)
    photo: PhotoRef | None = None
    event_at: AwareDatetime | None = None
    place: str | None = Field(default=None, max_length=MAX_PLACE)
    neighbourhood_id: int
    theme_id: int | None = None


Target = tuple[int, int | None]  # a neighbourhood, and one theme in it (None: everyone)


async def targets(ctx: Ctx) -> list[Target]:
    """Where this person may send news: each neighbourhood they coordinate (everyone, or one
    theme), and the themes of a partner organisation a coordinator allowed to send news."""
    found: list[Target] = []
    for hood_id in ctx.coordinator_of:
        if await places.neighbourhood(ctx.session, hood_id) is None:
            continue
        found.append((hood_id, None))
        found += [(hood_id, t.id) for t in await places.themes_for(ctx.session, hood_id)]
    if ctx.person is not None and ctx.person.id is not None:
        for p in await partners.partners_of_person(ctx.session, ctx.person.id):
            if p.may_announce:
                found += [
                    (p.neighbourhood_id, t)
                    for t in p.theme_ids
                    if (p.neighbourhood_id, t) not in found
                ]
    return found


def announcer(command: str, *needs: type[Draft]) -> Callable[[Handler], Handler]:
    """A step for whoever may still send news somewhere (else: start again)."""

    def wrap(step: Handler) -> Handler:
        inner = guarded(command, *needs)(step)

        @functools.wraps(step)
        async def checked(ctx: Ctx) -> None:
            if not await targets(ctx):
                await lost(ctx, command)
                return
            await inner(ctx)

        return checked

    return wrap


step = announcer("aankondiging", AnnouncementDraft)


class AnnounceForm(StatesGroup):
    interrupted = N_("You were writing an announcement.")
    text = State()
    photo = State()
    event = State()
    place = State()
    target = State()
    confirm = State()


@router.command("aankondiging", "announce", "nieuws")
async def new_announcement(ctx: Ctx) -> None:
    if not await targets(ctx):  # the words the dispatcher uses for other coordinator commands
        await ctx.reply(
            _(
                "Only a coordinator of the neighbourhood can do this. Type /help to see what you can do."
            )
        )
        return
    ctx.dialog.clear()
    text = clean(ctx.event.args)
    if text:
        await take_text(ctx, text)
        return
    await ctx.ask(_("What do you want to tell the neighbourhood? Type your message."),
                  AnnounceForm.text)  # fmt: skip


@router.state(AnnounceForm.text)
@announcer("aankondiging")
async def announce_text(ctx: Ctx) -> None:
    text = await read_text(ctx)
    if text is not None:
        await take_text(ctx, text)


async def take_text(ctx: Ctx, text: str) -> None:
    if len(text) > MAX_ANNOUNCEMENT:
        await ctx.ask(
            _("That message is too long ({count} characters). Keep it under {limit}.").format(
                count=len(text), limit=MAX_ANNOUNCEMENT
            ),
            AnnounceForm.text,
        )
        return
    first = (await targets(ctx))[0]
    AnnouncementDraft(text=text, neighbourhood_id=first[0], theme_id=first[1]).save(ctx)
    await ctx.ask(
        _("Do you want to add a photo? Send it now, or choose No photo."),
        AnnounceForm.photo,
        [ctx.choice(AnnounceForm.photo, _("No photo"), "none")],
    )


@router.state(AnnounceForm.photo)
@step
async def announce_photo(ctx: Ctx) -> None:
    att = ctx.event.attachment
    if ctx.event.kind == "photo" and att is not None:
        ctx.dialog.update(photo={"platform": att.platform, "file_id": att.file_id})
    elif not (ctx.event.kind == "button" and ctx.event.button_data == "none"):
        await please_choose(ctx, [ctx.choice(AnnounceForm.photo, _("No photo"), "none")])
        return
    await ask_event(ctx)


async def ask_event(ctx: Ctx) -> None:
    await ctx.ask(
        _(
            "Is it about an event? Type the day and time, like tomorrow 10:00 or 12-12 20:00. "
            "People get a reminder the day before. Or choose No event."
        ),
        AnnounceForm.event,
        [ctx.choice(AnnounceForm.event, _("No event"), "none")],
    )


@router.state(AnnounceForm.event)
@step
async def announce_event(ctx: Ctx) -> None:
    if ctx.event.kind == "button" and ctx.event.button_data == "none":
        await ask_target_or_confirm(ctx)
        return
    now = ctx.clock.now()
    moment = parse_moment(ctx.event.text, now) if ctx.event.kind == "text" else None
    if moment is None:
        await ctx.reply(_("I could not read that date. Type it like 12-12 20:00."))
        await ask_event(ctx)
        return
    if moment <= now or moment > now + MAX_AHEAD:
        await ctx.reply(passed(now) if moment <= now else _("That date is more than a year away."))
        await ask_event(ctx)
        return
    ctx.dialog.update(event_at=moment.isoformat())
    await ctx.ask(
        _("Where is it? Type the place, or choose Skip."),
        AnnounceForm.place,
        [ctx.choice(AnnounceForm.place, _("Skip"), "none")],
    )


@router.state(AnnounceForm.place)
@step
async def announce_place(ctx: Ctx) -> None:
    if not (ctx.event.kind == "button" and ctx.event.button_data == "none"):
        place = await read_text(ctx)
        if place is None:
            return
        if len(place) > MAX_PLACE or "\n" in place:
            await ctx.reply(
                _("Please give the place on one line, under {limit} characters.").format(
                    limit=MAX_PLACE
                ),
                [ctx.choice(AnnounceForm.place, _("Skip"), "none"), ctx.cancel_button()],
            )
            return
        ctx.dialog.update(place=place)
    await ask_target_or_confirm(ctx)


async def target_buttons(ctx: Ctx) -> list[Button]:
    return [
        ctx.choice(
            AnnounceForm.target, await target_name(ctx, hood, theme), f"{hood}:{theme or ''}"
        )
        for hood, theme in await targets(ctx)
    ]


async def read_target(ctx: Ctx) -> Target | None:
    """The target a pressed button names; None if it is not one this person may send to."""
    raw = ctx.event.button_data if ctx.event.kind == "button" else None
    hood, _sep, theme = (raw or "").partition(":")
    hood_id = whole_number(hood)
    picked = (hood_id, whole_number(theme) if theme else None)
    if hood_id is None or picked not in await targets(ctx):
        return None
    return hood_id, picked[1]


async def signed(ctx: Ctx, draft: Announcement) -> Announcement:
    """News from a partner (not a coordinator there) says which organisation sends it."""
    if ctx.actor.coordinates(draft.neighbourhood_id) or ctx.person is None or ctx.person.id is None:
        return draft
    partner = await partners.partner_of(ctx.session, ctx.person.id, draft.neighbourhood_id)
    if partner is not None:
        draft.text = f"{partner.organisation}: {draft.text}"
    return draft


async def ask_target_or_confirm(ctx: Ctx) -> None:
    buttons = await target_buttons(ctx)
    if len(buttons) == 1:
        await confirm(ctx)
        return
    await ctx.ask(_("Who should get this message?"), AnnounceForm.target, buttons)


@router.state(AnnounceForm.target)
@step
async def announce_target(ctx: Ctx) -> None:
    target = await read_target(ctx)
    if target is None:
        await please_choose(ctx, [b for b in ctx.dialog.choices if b.data != "cancel"])
        return
    ctx.dialog.update(neighbourhood_id=target[0], theme_id=target[1])
    await confirm(ctx)


def _draft(ctx: Ctx) -> Announcement:
    d = AnnouncementDraft.of(ctx)
    return Announcement(
        neighbourhood_id=d.neighbourhood_id, theme_id=d.theme_id, text=d.text,
        photo_platform=d.photo.platform if d.photo else None,
        photo_file_id=d.photo.file_id if d.photo else None,
        event_at=d.event_at, place=d.place,
    )  # fmt: skip


async def confirm(ctx: Ctx) -> None:
    draft = await signed(ctx, _draft(ctx))
    target = await target_name(ctx, draft.neighbourhood_id, draft.theme_id)
    lines = [
        _("This goes to {target}:").format(target=target),
        "",
        announcement_text(draft)[:MAX_TEXT],
    ]
    if draft.photo_file_id:
        lines.append(_("(with your photo)"))
    await ctx.ask("\n".join(lines), AnnounceForm.confirm,
                  [ctx.choice(AnnounceForm.confirm, _("Send"), "send")])  # fmt: skip


@router.state(AnnounceForm.confirm)
@step
async def announce_confirm(ctx: Ctx) -> None:
    if not (ctx.event.kind == "button" and ctx.event.button_data == "send"):
        await please_choose(ctx, [ctx.choice(AnnounceForm.confirm, _("Send"), "send")])
        return
    draft = _draft(ctx)
    if (draft.neighbourhood_id, draft.theme_id) not in await targets(ctx):
        ctx.dialog.clear()
        await ctx.reply(
            _("You are no longer a coordinator there, so nothing was sent.")
            if ctx.is_coordinator or not ctx.person
            else _("You may no longer send news there, so nothing was sent.")
        )
        return
    draft = await signed(ctx, draft)
    person = await ctx.ensure_person()
    draft.created_by_id = person.id
    ctx.session.add(draft)
    await ctx.session.flush()
    reach = await send_announcement(
        ctx.session, draft, ctx.clock.now(), ctx.settings.default_locale
    )
    if await refused_for_nobody(ctx, draft, reach):
        await ask_target_or_confirm(ctx)
        return
    await audit.record(ctx.session, person.id, "announcement.sent", "announcement", draft.id,
                       groups=reach.groups, residents=reach.residents)  # fmt: skip
    ctx.dialog.clear()
    await ctx.reply(
        _("Sent to {groups} and {residents}.").format(
            groups=groups_text(reach.groups), residents=residents_text(reach.residents)
        )
    )


@router.callback(Rsvp)
async def rsvp(ctx: Ctx) -> None:
    """ "I'm coming" (again: not) / "Not coming after all": where the event was sent, before
    it starts."""
    pressed = Rsvp.of(ctx)
    a = await announcements.announcement(ctx.session, pressed.announcement)
    if a is None or a.event_at is None or not await may_see(ctx.session, a, ctx.actor):
        raise StaleButton()
    if a.cancelled_at is not None:
        await _answer(ctx, _("{event} is cancelled.").format(event=event_name(a)))
        return
    if a.event_at <= ctx.clock.now():
        await _answer(
            ctx,
            _("{event} has already started, so you cannot sign up or off any more.").format(
                event=event_name(a)
            ),
        )
        return
    person = await ctx.ensure_person()
    assert a.id is not None and person.id is not None
    if pressed.answer == "yes" and await announcements.add_rsvp(ctx.session, a.id, person.id):
        text = _("Nice, you are coming to {event}. You get a reminder two hours before.")
        await _answer(ctx, text.format(event=event_name(a)), not_coming_button(a))
        return
    # "Not coming after all", or "I'm coming" pressed again: a toggle (on Matrix, taking the
    # reaction back presses the button again).
    if not await announcements.remove_rsvp(ctx.session, a.id, person.id):
        await _answer(ctx, _("You had not said you are coming to {event}.").format(
            event=event_name(a)), coming_button(a))  # fmt: skip
        return
    await _answer(
        ctx,
        _("OK, you are no longer coming to {event}.").format(event=event_name(a)),
        coming_button(a),
    )


async def _answer(ctx: Ctx, text: str, button: Button | None = None) -> None:
    """In a direct chat, answer there; from a group, privately when we can, so the group
    sees no names and is not flooded."""
    buttons = [button] if button else []
    if ctx.is_direct:
        await ctx.reply(text, buttons)
        return
    if ctx.person is not None and await tell(ctx.session, ctx.person, lambda: text,
                                             lambda: buttons):  # fmt: skip
        return
    neutral = _("Thank you, noted. Open a private chat with me to get a reminder.")
    link = ctx.direct_link("start")
    await ctx.reply(neutral, [Button(_("Open a private chat"), "", url=link)] if link else [])


class CancelEvent(CallbackData, prefix="evc", hint=N_("Type /aankondigingen to see them again.")):
    """ "Cancel this event" in `/aankondigingen`, then "Yes, cancel it"."""

    announcement: int
    sure: Literal["yes"] | None = None


@router.command("aankondigingen", "announcements", "evenementen", role="coordinator")
async def list_events(ctx: Ctx) -> None:
    found = await announcements.upcoming_by(ctx.session, list(ctx.coordinator_of), ctx.clock.now())
    if not found:
        await ctx.reply(_("There are no events to come. Announce one with /aankondiging."))
        return
    lines = [_("Events to come:")]
    buttons = []
    for i, (a, n) in enumerate(found, start=1):
        assert a.id is not None
        coming = ngettext("{n} person is coming", "{n} people are coming", n).format(n=number(n))
        lines.append(f"{i}. {event_name(a)}: {coming}")
        buttons.append(Button(_("Cancel event {n}").format(n=i), CancelEvent(a.id).pack()))
    await ctx.reply("\n".join(lines), buttons)


@router.callback(CancelEvent, role="coordinator")
async def cancel(ctx: Ctx) -> None:
    pressed = CancelEvent.of(ctx)
    a = await announcements.announcement(ctx.session, pressed.announcement)
    if (
        a is None
        or a.event_at is None
        or not can_coordinate(ctx.coordinator_of, a.neighbourhood_id)
    ):
        raise StaleButton(CancelEvent.hint)
    if a.cancelled_at is not None or a.event_at <= ctx.clock.now():
        await ctx.reply(_("{event} is over or cancelled already.").format(event=event_name(a)))
        return
    assert a.id is not None
    if pressed.sure is None:
        n = await announcements.rsvp_count(ctx.session, a.id)
        await ctx.reply(
            _("Cancel {event}?").format(event=event_name(a)) + " " + ngettext(
                "{n} person said they will come; they will be told.",
                "{n} people said they will come; they will be told.", n,
            ).format(n=number(n)),
            [Button(_("Yes, cancel it"), CancelEvent(a.id, "yes").pack())],
        )  # fmt: skip
        return
    told = await cancel_event(ctx.session, a, ctx.clock.now())
    person = await ctx.ensure_person()
    await audit.record(ctx.session, person.id, "announcement.cancelled", "announcement", a.id,
                       told=told)  # fmt: skip
    await ctx.reply(
        _("{event} is cancelled.").format(event=event_name(a)) + " " + ngettext(
            "I told {n} person who said they would come.",
            "I told {n} people who said they would come.", told,
        ).format(n=number(told))
    )  # fmt: skip
