""" "I'll help" under an idea: what the helper offers (one step, then confirm), and
`/mijnideeen`, where the initiator sees supporters and offers and answers each offer."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bot.core.context import Ctx
from bot.core.drafts import Draft
from bot.core.events import Button, keyboard
from bot.core.i18n import N_, _, ngettext
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.core.text import MAX_TEXT
from bot.handlers.common import guarded, read_text
from bot.handlers.initiatives import helper_accepted
from bot.services import initiatives as initiative_rules
from bot.services import introductions as introduce
from bot.services import offers as offer_rules
from bot.services.ideas import idea_ref
from bot.services.offers import AnswerOffer, OfferHelp, describe, status_label
from bot.services.partners import helping_line
from storage.models import Idea
from storage.repo import ideas, initiatives, offers, partners

router = Router("offers")
IDEAS_SHOWN = 10  # the newest ideas in /mijnideeen, with all their offers


class OfferDraft(Draft):
    idea_id: int
    kind: Literal["time", "skill", "materials", "place", "other"] = "other"
    text: str = Field(default="", max_length=MAX_TEXT)


class OfferForm(StatesGroup):
    interrupted = N_("You were offering help with an idea.")
    what = State()
    confirm = State()


def _kind_buttons(ctx: Ctx) -> list[Button]:
    labels = {"time": _("Time"), "skill": _("A skill"), "materials": _("Materials"),
              "place": _("A place")}  # fmt: skip
    return [ctx.choice(OfferForm.what, labels[k], k) for k in offer_rules.KINDS]


async def _idea_to_help(ctx: Ctx, idea_id: int) -> Idea | None:
    """The idea, when this person may offer help on it; else a kind refusal and None."""
    found = await ideas.idea(ctx.session, idea_id)
    if found is None or found.id is None:
        await ctx.reply(_("This idea no longer exists."))
        return None
    await ctx.ensure_person()
    if found.author_id is None:
        await ctx.reply(_("The person who shared this idea is no longer with us."))
        return None
    if not offer_rules.may_offer(found, ctx.actor):
        await ctx.reply(
            _("{ref} is your own idea. Neighbours can offer help with it.").format(
                ref=idea_ref(found.id)
            )
        )
        return None
    return found


@router.callback(OfferHelp)
async def offer_help(ctx: Ctx) -> None:
    idea_id = OfferHelp.of(ctx).idea
    if not ctx.is_direct:  # what they offer is for the initiator, not for the group
        text = _(
            "Let's do that in a private chat: your offer is only for the person who shared the idea."
        )
        hint = _("Type /ideeen there and press “I'll help {ref}”.").format(ref=idea_ref(idea_id))
        link = ctx.direct_link("ideeen")
        buttons = [Button(_("Open a private chat"), "", url=link)] if link else []
        await ctx.reply(f"{text} {hint}", buttons)
        return
    found = await _idea_to_help(ctx, idea_id)
    if found is None:
        return
    assert ctx.person is not None and ctx.person.id is not None and found.id is not None
    question = _(
        "What can you offer for {ref} “{title}”? Choose one, or type it in your own words."
    )
    earlier = await offers.offer_of(ctx.session, found.id, ctx.person.id)
    intro = ""
    if earlier is not None:
        intro = _("You offered: {offer}.").format(offer=describe(earlier.kind, earlier.text)) + " "
    ctx.dialog.clear()
    await ctx.ask_text(
        intro + question.format(ref=idea_ref(found.id), title=found.title),
        OfferForm.what,
        _kind_buttons(ctx),
        idea_id=found.id,
    )


@router.state(OfferForm.what)
@guarded("ideeen", OfferDraft)
async def offer_what(ctx: Ctx) -> None:
    if ctx.event.kind == "button" and ctx.event.button_data in offer_rules.KINDS:
        ctx.dialog.update(kind=ctx.event.button_data, text="")
    else:
        text = await read_text(ctx)
        if text is None:
            return
        ctx.dialog.update(kind="other", text=text)
    await _ask_confirm(ctx)


async def _ask_confirm(ctx: Ctx) -> None:
    draft = OfferDraft.of(ctx)
    send = ctx.choice(OfferForm.confirm, _("Send"), "yes")
    await ctx.ask_text(
        _("You offer for {ref}: {offer}.").format(
            ref=idea_ref(draft.idea_id), offer=describe(draft.kind, draft.text)
        )
        + "\n"
        + _("Only the person who shared the idea will see this. Your name is not shown.")
        + "\n"
        + _("Add a few words if you like (for example, when you can), or press Send."),
        OfferForm.confirm,
        [send],
    )


@router.state(OfferForm.confirm)
@guarded("ideeen", OfferDraft)
async def offer_confirm(ctx: Ctx) -> None:
    if not (ctx.event.kind == "button" and ctx.event.button_data == "yes"):
        text = await read_text(ctx)
        if text is not None:
            ctx.dialog.update(text=text)
            await _ask_confirm(ctx)
        return
    draft = OfferDraft.of(ctx)
    found = await _idea_to_help(ctx, draft.idea_id)  # checked again: it may be gone by now
    ctx.dialog.clear()
    if found is None or found.id is None:
        return
    assert ctx.person is not None and ctx.person.id is not None
    saved = await offers.save_offer(ctx.session, found.id, ctx.person.id, draft.kind, draft.text)
    assert saved.id is not None
    await introduce.end_for_offer(ctx.session, saved.id)  # a changed offer is asked about anew
    await ctx.edit(
        _(
            "Thank you! The person who shared {ref} will hear about your offer. "
            "We will tell you their answer."
        ).format(ref=idea_ref(found.id))
    )


@router.callback(AnswerOffer)
async def answer_offer(ctx: Ctx) -> None:
    pressed = AnswerOffer.of(ctx)
    offer = await offers.offer(ctx.session, pressed.offer)
    found = await ideas.idea(ctx.session, offer.idea_id) if offer is not None else None
    if offer is None or found is None:
        await ctx.reply(_("This offer no longer exists."))
        return
    if not offer_rules.may_answer(found, ctx.actor):
        await ctx.reply(_("Sorry, only the person who shared the idea can answer this offer."))
        return
    wanted = "accepted" if pressed.verb == "accept" else "declined"
    if offer.status == wanted:
        await ctx.reply(_("You already answered this offer."))
        return
    offer.status = wanted
    ctx.session.add(offer)
    told = await offer_rules.tell_helper(ctx.session, offer, found)
    if wanted == "accepted":
        await introduce.ask_both(ctx.session, offer, found)
        await helper_accepted(ctx, found, offer.person_id)
    else:
        assert offer.id is not None
        await introduce.end_for_offer(ctx.session, offer.id)
    said = (
        _("You said yes to this offer for {ref}.")
        if wanted == "accepted"
        else _("You said no to this offer for {ref}.")
    ).format(ref=idea_ref(found.id))
    if told:
        said += " " + _("We told the helper.")
    await ctx.reply(said)


@router.command("mijnideeen", "mijnideeën", "myideas", while_busy="pause")
async def my_ideas(ctx: Ctx) -> None:
    if ctx.person is None or ctx.person.id is None:
        mine: list[Idea] = []
    else:
        mine = await ideas.ideas_by(ctx.session, ctx.person.id)
    if not mine:
        await ctx.reply(_("You have no ideas yet. Share one with /idee."))
        return
    lines = [_("Your ideas:")]
    rows: list[list[Button]] = []
    n = 0
    shown = list(reversed(mine[-IDEAS_SHOWN:]))  # the newest first
    organisations = await partners.helping(ctx.session, [i.id for i in shown if i.id is not None])
    for idea in shown:
        assert idea.id is not None
        count = await ideas.support_count(ctx.session, idea.id)
        initiative = await initiatives.of_idea(ctx.session, idea.id)
        team = len(await initiatives.team(ctx.session, idea.id))
        status = initiative_rules.status_text(initiative, team)
        lines.append(
            f"{idea_ref(idea.id)} {idea.title} – "
            + ngettext("{n} supporter", "{n} supporters", count).format(n=count)
            + (f" – {status}" if status else "")
        )
        step = initiative_rules.step_button(idea, initiative, team)
        if step is not None:
            rows.append([step])
        for offer in await offers.offers_on(ctx.session, idea.id):
            n += 1
            lines.append(
                f"  {n}. "
                + _("Someone wants to help: {offer}").format(offer=describe(offer.kind, offer.text))
                + f" ({status_label(offer.status)})"
            )
            if offer.status == "open":
                rows.append(offer_rules.answer_buttons(offer, n))
        if idea.id in organisations:  # partners answer as their organisation, by its name
            lines.append("  " + helping_line(organisations[idea.id]))
    if len(mine) > IDEAS_SHOWN:
        lines.append(_("… and {n} more.").format(n=len(mine) - IDEAS_SHOWN))
    await ctx.reply("\n".join(lines), keyboard(*rows))
