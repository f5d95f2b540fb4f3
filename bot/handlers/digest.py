"""/overzicht: how often I get a digest, and whether polls and announcements come by message.

Also the "Open M-1042" button of a digest: a report's status, with a way to follow it.
"""

from __future__ import annotations

from typing import Literal

from bot.core.callbacks import CallbackData, StaleButton
from bot.core.context import Ctx
from bot.core.events import Button
from bot.core.i18n import N_, _
from bot.core.router import Router
from bot.services.signals.access import may_view
from bot.services.signals.notices import ViewSignal, resident_card
from storage.models import Preference
from storage.repo import digests, signals

router = Router("digest")


class DigestChoice(
    CallbackData, prefix="dg", hint=N_("Type /overzicht to see your choices again.")
):
    """How often a digest comes (`dg:weekly`), or polls and announcements by message (`dg:bc:on`)."""

    choice: Literal["daily", "weekly", "never", "bc"]
    switch: Literal["on", "off"] | None = None


Cadence = Literal["daily", "weekly", "never"]
CHOICES: tuple[Cadence, ...] = ("daily", "weekly", "never")


def describe(pref: Preference) -> str:
    rhythm = {
        "daily": _("You get a digest every day at 19:00."),
        "weekly": _("You get a digest every Monday at 19:00."),
        "never": _("You get no digest."),
    }.get(pref.digest, "")
    news = (
        _("Polls and announcements from your neighbourhood come by message.")
        if pref.broadcasts
        else _("Polls and announcements do not come by message.")
    )
    return "\n".join(
        [
            _("A digest is one short message with what is new: ideas, reports and polls."),
            rhythm,
            news,
        ]
    )


def buttons(pref: Preference) -> list[Button]:
    labels = {"daily": _("Every day"), "weekly": _("Every week"), "never": _("Never")}
    out = [
        Button(("✓ " if pref.digest == c else "") + labels[c], DigestChoice(c).pack())
        for c in CHOICES
    ]
    out.append(
        Button(_("No polls and announcements by message"), DigestChoice("bc", "off").pack())
        if pref.broadcasts
        else Button(_("Send polls and announcements by message"), DigestChoice("bc", "on").pack())
    )
    return out


@router.command("overzicht", "digest", while_busy="pause")
async def show(ctx: Ctx) -> None:
    person = await ctx.ensure_person()
    assert person.id is not None
    pref = await digests.preference(ctx.session, person.id)
    await ctx.reply(describe(pref), buttons(pref))


@router.callback(DigestChoice)
async def choose(ctx: Ctx) -> None:
    pressed = DigestChoice.of(ctx)
    value = pressed.choice if pressed.switch is None else f"{pressed.choice}:{pressed.switch}"
    if value not in (*CHOICES, "bc:on", "bc:off"):
        raise StaleButton(DigestChoice.hint)
    person = await ctx.ensure_person()
    assert person.id is not None
    pref = await digests.preference(ctx.session, person.id)
    if value in CHOICES:
        pref.digest = value
    else:
        pref.broadcasts = value == "bc:on"
    await digests.save_preference(ctx.session, pref)
    await ctx.edit(_("Saved.") + "\n" + describe(pref), buttons(pref))


@router.callback(ViewSignal)
async def open_signal(ctx: Ctx) -> None:
    pressed = ViewSignal.of(ctx)
    sig = await signals.signal(ctx.session, pressed.signal)
    if sig is None or sig.id is None or not await may_view(ctx.session, sig, ctx.actor):
        raise StaleButton()
    person = await ctx.ensure_person()
    assert person.id is not None
    involved = sig.reporter_id == person.id or person.id in await signals.followers(
        ctx.session, sig.id
    )
    if pressed.follow == "follow":
        if not involved:
            await signals.add_follower(ctx.session, sig.id, person.id)
        await ctx.reply(
            _("You now follow {ref}. We will let you know when its status changes.").format(
                ref=sig.reference
            )
        )
        return
    await ctx.reply(*resident_card(sig, involved))
