"""Introductions with consent on both sides.

When an initiator accepts an offer, both are asked, each in their own language, whether
they want to get in touch. A handle is read from the "yes" press itself (the name someone
has on the platform in that moment) and shared only once both said yes. A "no" from either
side ends it, and the other hears only that it did not work out this time.
"""

from __future__ import annotations

from typing import Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.callbacks import CallbackData
from bot.core.events import Button, NewRoom, UserRef
from bot.core.i18n import N_, _, day, use_locale
from bot.core.permissions import Actor
from bot.delivery.notify import tell
from bot.services.ideas import idea_ref
from storage.models import Idea, IdeaOffer, Introduction, Person
from storage.repo import introductions, offers, outbox, people

Side = Literal["initiator", "helper"]


class Consent(CallbackData, prefix="itr", hint=N_("Type /mijnideeen to see your ideas.")):
    """Yes or No to an introduction: `itr:yes:{introduction}`."""

    verb: Literal["yes", "no"]
    intro: int


def consent_buttons(intro_id: int) -> list[Button]:
    return [
        Button(_("Yes, introduce us"), Consent("yes", intro_id).pack()),
        Button(_("No, thank you"), Consent("no", intro_id).pack()),
    ]


def handle_word(platform: str | None) -> str:
    """What we share, in words: "your Telegram name"."""
    if platform == "telegram":
        return _("your Telegram name")
    if platform == "matrix":
        return _("your Matrix address")
    return _("your chat name")


def handle_of(user: UserRef) -> str | None:
    """The name others can find this person by, as the platform gave it in this event."""
    if user.platform == "matrix":
        return user.id  # @name:server, the address itself
    if user.platform == "console":
        return user.handle or user.id
    return user.handle  # Telegram: the @username, if the person has one


def shown_handle(platform: str | None, handle: str) -> str:
    if platform == "telegram":
        return f"@{handle} (https://t.me/{handle})"
    return handle


def side_of(intro: Introduction, actor: Actor) -> Side | None:
    if actor.person_id is None:
        return None
    if actor.person_id == intro.initiator_id:
        return "initiator"
    if actor.person_id == intro.helper_id:
        return "helper"
    return None


async def still_open(session: AsyncSession, intro: Introduction) -> bool:
    """Waiting for answers, both people still here, and the offer still accepted."""
    if intro.status != "asked" or intro.initiator_id is None or intro.helper_id is None:
        return False
    offer = await offers.offer(session, intro.offer_id) if intro.offer_id is not None else None
    return offer is not None and offer.status == "accepted"


def _question(idea: Idea, side: Side, platform: str | None) -> str:
    ref = idea_ref(idea.id)
    if side == "initiator":
        ask = _("Do you want to get in touch with the helper of {ref} “{title}”?")
    else:
        ask = _("Do you want to get in touch with the initiator of {ref} “{title}”?")
    share = _("Then we share {what} with that person. Only if you both say yes.")
    return ask.format(ref=ref, title=idea.title) + " " + share.format(what=handle_word(platform))


async def _ask(
    session: AsyncSession, person: Person, intro: Introduction, idea: Idea, side: Side
) -> bool:
    assert person.id is not None and intro.id is not None
    chat = await people.direct_chat_of(session, person.id)
    platform = chat.platform if chat is not None else None
    intro_id = intro.id
    return await tell(
        session, person, lambda: _question(idea, side, platform), lambda: consent_buttons(intro_id)
    )


async def ask_both(session: AsyncSession, offer: IdeaOffer, idea: Idea) -> Introduction | None:
    """After an accepted offer: ask the initiator and the helper (again, when an earlier
    question went stale); not after they were introduced."""
    assert offer.id is not None and idea.id is not None
    if idea.author_id is None or await introductions.done_for_offer(session, offer.id):
        return None
    await end_for_offer(session, offer.id)
    initiator = await session.get(Person, idea.author_id)
    helper = await session.get(Person, offer.person_id)
    if initiator is None or helper is None:
        return None
    intro = Introduction(
        idea_id=idea.id, offer_id=offer.id, initiator_id=initiator.id, helper_id=helper.id
    )
    session.add(intro)
    await session.flush()
    await _ask(session, initiator, intro, idea, "initiator")
    await _ask(session, helper, intro, idea, "helper")
    return intro


async def end_for_offer(session: AsyncSession, offer_id: int) -> None:
    """The offer was declined or changed: a waiting introduction ends without a word (the
    helper hears about the offer itself), and a handle kept with a "yes" goes."""
    waiting = await introductions.open_for_offer(session, offer_id)
    if waiting is not None:
        await session.delete(waiting)
        await session.flush()


def record_yes(intro: Introduction, side: Side, platform: str, handle: str) -> bool:
    """Note this side's "yes" and handle; True when both sides have now said yes."""
    if side == "initiator":
        intro.initiator_yes, intro.initiator_platform, intro.initiator_handle = (
            True,
            platform,
            handle,
        )
    else:
        intro.helper_yes, intro.helper_platform, intro.helper_handle = True, platform, handle
    return intro.initiator_yes and intro.helper_yes


def _other(intro: Introduction, side: Side) -> tuple[int | None, str | None, str | None]:
    if side == "initiator":
        return intro.helper_id, intro.helper_platform, intro.helper_handle
    return intro.initiator_id, intro.initiator_platform, intro.initiator_handle


def meet_text(idea: Idea, side: Side, platform: str | None, handle: str) -> str:
    """For `side`: who the other is."""
    if side == "initiator":
        text = _("You both said yes. The helper of {ref} “{title}” is {handle}.")
    else:
        text = _("You both said yes. The initiator of {ref} “{title}” is {handle}.")
    return (
        text.format(ref=idea_ref(idea.id), title=idea.title, handle=shown_handle(platform, handle))
        + " "
        + _("Send them a message to get started!")
    )


def _room_text(idea: Idea) -> str:
    return (
        _("You both said yes. We made a room for {ref} “{title}” and invited you both.").format(
            ref=idea_ref(idea.id), title=idea.title
        )
        + " "
        + _("Look for the invitation in your Matrix app.")
    )


async def _room(session: AsyncSession, intro: Introduction, idea: Idea, side: Side) -> str:
    """Both on Matrix: a new room for the initiative (name: the title, topic: the idea) with
    both invited; the welcome is in each of their languages."""
    assert intro.initiator_handle is not None and intro.helper_handle is not None
    assert intro.initiator_id is not None and intro.helper_id is not None
    chat = await people.direct_chat_of(session, intro.initiator_id)
    locales: list[str] = []
    for pid in (intro.initiator_id, intro.helper_id):
        person = await session.get(Person, pid)
        if person is not None and person.locale not in locales:
            locales.append(person.locale)
    welcome = []
    for locale in locales:
        with use_locale(locale):
            welcome.append(
                _("Welcome! This room is for {ref} “{title}”.").format(
                    ref=idea_ref(idea.id), title=idea.title
                )
                + " "
                + _("You both said yes to meeting here. Say hello to each other!")
            )
    room = NewRoom(
        idea.title, idea.body or idea.title, (intro.initiator_handle, intro.helper_handle),
        key=f"introduction:{intro.id}",
    )  # fmt: skip
    if chat is not None:
        await outbox.enqueue(
            session, "matrix", chat.chat_id, "\n\n".join(welcome), extra={"room": room.to_row()}
        )
    other_id = _other(intro, side)[0]
    other = await session.get(Person, other_id) if other_id is not None else None
    if other is not None:
        await tell(session, other, lambda: _room_text(idea))
    return _room_text(idea)


async def connect(session: AsyncSession, intro: Introduction, idea: Idea, side: Side) -> str:
    """Both said yes: the other side hears who the presser is; returns the presser's text.
    Both on Matrix: they meet in a new room instead."""
    if intro.initiator_platform == intro.helper_platform == "matrix":
        return await _room(session, intro, idea, side)
    other_id, other_platform, other_handle = _other(intro, side)
    mine = intro.initiator_handle if side == "initiator" else intro.helper_handle
    my_platform = intro.initiator_platform if side == "initiator" else intro.helper_platform
    assert other_handle is not None and mine is not None
    other_side: Side = "helper" if side == "initiator" else "initiator"
    other = await session.get(Person, other_id) if other_id is not None else None
    if other is not None:
        await tell(session, other, lambda: meet_text(idea, other_side, my_platform, mine))
    return meet_text(idea, side, other_platform, other_handle)


def _not_this_time(idea: Idea) -> str:
    return _(
        "About {ref} “{title}”: it did not work out this time to put you in touch. "
        "Thank you for your time!"
    ).format(ref=idea_ref(idea.id), title=idea.title)


async def end(session: AsyncSession, intro: Introduction, idea: Idea, side: Side) -> None:
    """A "no": the other side hears only that it did not work out, never who said no."""
    other_id = _other(intro, side)[0]
    await session.delete(intro)  # nothing of a declined introduction is kept
    other = await session.get(Person, other_id) if other_id is not None else None
    if other is not None:
        await tell(session, other, lambda: _not_this_time(idea))


async def forget(session: AsyncSession, person_id: int) -> None:
    """/vergeetmij: a waiting introduction ends (the other hears it did not work out); in a
    done one this person's side goes, and the row goes once nobody is left in it."""
    for intro in await introductions.of_person(session, person_id):
        side: Side = "initiator" if intro.initiator_id == person_id else "helper"
        idea = await session.get(Idea, intro.idea_id)
        if intro.status == "asked" and idea is not None:
            await end(session, intro, idea, side)
            continue
        if side == "initiator":
            intro.initiator_id, intro.initiator_handle, intro.initiator_platform = None, None, None
        else:
            intro.helper_id, intro.helper_handle, intro.helper_platform = None, None, None
        if intro.initiator_id is None and intro.helper_id is None:
            await session.delete(intro)
        else:
            session.add(intro)
    await session.flush()


def shared_lines(intros: list[Introduction], person_id: int) -> list[str]:
    """For /mijngegevens: what was shared with whom, and when."""
    lines = []
    for intro in intros:
        initiator = intro.initiator_id == person_id
        if intro.status != "done" or intro.done_at is None:
            waiting = (
                _("We asked if you want to get in touch with the helper of {ref}.")
                if initiator
                else _("We asked if you want to get in touch with the initiator of {ref}.")
            )
            lines.append(
                waiting.format(ref=idea_ref(intro.idea_id)) + " " + _("Nothing is shared yet.")
            )
            continue
        if initiator:
            text = _("{what} was shared with the helper of {ref} on {day}.")
            platform = intro.initiator_platform
        else:
            text = _("{what} was shared with the initiator of {ref} on {day}.")
            platform = intro.helper_platform
        what = handle_word(platform)
        lines.append(
            text.format(
                what=what[:1].upper() + what[1:],
                ref=idea_ref(intro.idea_id),
                day=day(intro.done_at),
            )
        )
    return lines
