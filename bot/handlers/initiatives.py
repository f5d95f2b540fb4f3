"""Initiatives from /mijnideeen: start one (a room on Matrix; on Telegram the initiator
links a group with `/koppel I-12`), and mark it done with one line and maybe a photo."""

from __future__ import annotations

import re

from pydantic import Field

from bot.core.callbacks import StaleButton
from bot.core.context import Ctx
from bot.core.drafts import Draft
from bot.core.i18n import N_, _, ngettext
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.core.text import MAX_TEXT
from bot.handlers.common import guarded, read_text
from bot.services import initiatives as rules
from bot.services.ideas import idea_ref
from bot.services.initiatives import InitiativeStep
from storage.models import Idea, Initiative
from storage.repo import ideas, initiatives

router = Router("initiatives")

REF = re.compile(r"^\s*I\s*-?\s*(\d{1,9})\s*$", re.IGNORECASE)


class DoneDraft(Draft):
    idea_id: int
    text: str = Field(default="", max_length=MAX_TEXT)


class DoneForm(StatesGroup):
    interrupted = N_("You were telling what your initiative did.")
    what = State()
    photo = State()


async def _own_idea(ctx: Ctx, idea_id: int) -> Idea | None:
    found = await ideas.idea(ctx.session, idea_id)
    if found is None or found.id is None:
        await ctx.reply(_("This idea no longer exists."))
        return None
    if not rules.may_lead(found, ctx.actor):
        await ctx.reply(_("Sorry, only the person who shared the idea can do this."))
        return None
    return found


@router.callback(InitiativeStep)
async def step_pressed(ctx: Ctx) -> None:
    press = InitiativeStep.of(ctx)
    found = await _own_idea(ctx, press.idea)
    if found is None or found.id is None:
        return
    current = await initiatives.of_idea(ctx.session, found.id)
    if press.verb == "start":
        await _start(ctx, found, current)
        return
    if current is None:
        raise StaleButton(InitiativeStep.hint)
    if current.status == "done":
        await ctx.reply(_("{ref} is already done.").format(ref=idea_ref(found.id)))
        return
    ctx.dialog.clear()
    await ctx.ask_text(
        _("Well done! What did you do with {ref}? Tell it in one line.").format(
            ref=idea_ref(found.id)
        ),
        DoneForm.what,
        [],
        idea_id=found.id,
    )


async def _start(ctx: Ctx, idea: Idea, current: Initiative | None) -> None:
    assert idea.id is not None
    ref = idea_ref(idea.id)
    if current is not None:
        await ctx.reply(_("{ref} is already an initiative.").format(ref=ref))
        return
    if not await initiatives.team(ctx.session, idea.id):
        await ctx.reply(
            _(
                "An initiative needs a team: first accept at least one offer of help for {ref}."
            ).format(ref=ref)
        )
        return
    started = await initiatives.start(ctx.session, idea.id)
    person = ctx.person
    if (
        ctx.event.user.platform == "matrix"
        and person is not None
        and await rules.make_room(ctx.session, idea, person)
    ):
        started.platform = "matrix"
        ctx.session.add(started)
        await ctx.reply(
            _(
                "{ref} is now an initiative! I am making a room for it and inviting you and your team."
            ).format(ref=ref)
            + " "
            + _("Look for the invitation in your Matrix app.")
        )
        return
    await ctx.reply(
        _("{ref} is now an initiative!").format(ref=ref)
        + " "
        + _(
            "Make a group chat for your team, add me to it and make me an admin who may "
            "invite people. Then type /koppel {ref} in that group. "
            "I will send each helper a way in."
        ).format(ref=ref)
    )


def initiative_ref(words: str) -> int | None:
    """The number in “I-12” (also “i12”, “I 12”), or None when `words` is not one."""
    found = REF.match(words)
    return int(found.group(1)) if found else None


async def link_group(ctx: Ctx, idea_id: int) -> None:
    """`/koppel I-12` in a group: only the initiator, only a group not linked elsewhere;
    then each helper gets a way in."""
    ref = idea_ref(idea_id)
    chat = ctx.event.chat
    if ctx.is_direct:
        await ctx.reply(
            _("Type /koppel {ref} in the group chat of your team, not here.").format(ref=ref)
        )
        return
    found = await ideas.idea(ctx.session, idea_id)
    current = await initiatives.of_idea(ctx.session, idea_id) if found is not None else None
    if found is None or current is None:
        await ctx.reply(
            _("I don't know an initiative {ref}. Check the number in /mijnideeen.").format(ref=ref)
        )
        return
    if not rules.may_lead(found, ctx.actor):
        await ctx.reply(
            _("Only the person who started {ref} can link a group to it.").format(ref=ref)
        )
        return
    other = await initiatives.of_chat(ctx.session, chat.platform, chat.id)
    if other is not None and other.idea_id != idea_id:
        await ctx.reply(
            _("This group is already the group of {other}. Make a new group for {ref}.").format(
                other=idea_ref(other.idea_id), ref=ref
            )
        )
        return
    if current.status == "done":
        await ctx.reply(_("{ref} is already done.").format(ref=ref))
        return
    current.platform, current.chat_id = chat.platform, chat.id
    ctx.session.add(current)
    await ctx.session.flush()
    if ctx.group_invite is None:
        await ctx.reply(_("This group is now the group of {ref}.").format(ref=ref))
        return
    invited = 0
    for pid in await initiatives.team(ctx.session, idea_id):
        done = await rules.invite_helper(
            ctx.session, ctx.group_invite, current, found, pid, ctx.clock.now()
        )
        if done is None:
            await ctx.reply(
                _("This group is now the group of {ref}, but I cannot invite people here.").format(
                    ref=ref
                )
                + " "
                + _(
                    "Make me an admin with the right to invite users (add members), "
                    "then type /koppel {ref} here again."
                ).format(ref=ref)
            )
            return
        invited += int(done)
    await ctx.reply(
        _("This group is now the group of {ref}.").format(ref=ref)
        + " "
        + ngettext("I sent {n} helper a way in.", "I sent {n} helpers a way in.", invited).format(
            n=invited
        )
    )


async def helper_accepted(ctx: Ctx, idea: Idea, helper_id: int) -> None:
    """An offer accepted after the group was linked: that helper gets a way in too."""
    assert idea.id is not None
    current = await initiatives.of_idea(ctx.session, idea.id)
    if current is None or current.status == "done" or ctx.group_invite is None:
        return
    if current.platform != ctx.event.user.platform:
        return  # the invite is made by the platform the group is on
    await rules.invite_helper(
        ctx.session, ctx.group_invite, current, idea, helper_id, ctx.clock.now()
    )


@router.state(DoneForm.what)
@guarded("mijnideeen", DoneDraft)
async def done_what(ctx: Ctx) -> None:
    text = await read_text(ctx)
    if text is None:
        return
    ctx.dialog.update(text=text)
    await ctx.ask_text(
        _("Do you have a photo? Send it now, or choose Skip."),
        DoneForm.photo,
        [ctx.choice(DoneForm.photo, _("Skip"), "skip")],
    )


@router.state(DoneForm.photo)
@guarded("mijnideeen", DoneDraft)
async def done_photo(ctx: Ctx) -> None:
    event = ctx.event
    platform: str | None = None
    file_id: str | None = None
    if event.kind == "photo" and event.attachment is not None:
        platform, file_id = event.attachment.platform, event.attachment.file_id
    elif not (event.kind == "button" and event.button_data == "skip"):
        await ctx.reply(
            _("Send a photo, or choose Skip."),
            [ctx.choice(DoneForm.photo, _("Skip"), "skip"), ctx.cancel_button()],
        )
        return
    draft = DoneDraft.of(ctx)
    ctx.dialog.clear()
    found = await _own_idea(ctx, draft.idea_id)  # checked again: it may be gone by now
    current = await initiatives.of_idea(ctx.session, draft.idea_id) if found else None
    if found is None or current is None or current.status == "done":
        if found is not None:
            await ctx.reply(_("{ref} is already done.").format(ref=idea_ref(found.id)))
        return
    current.status, current.done_text = "done", draft.text
    current.photo_platform, current.photo_file_id = platform, file_id
    current.done_at = ctx.clock.now()
    ctx.session.add(current)
    told = await rules.tell_done(ctx.session, found, current)
    await ctx.reply(
        _("Congratulations! {ref} is done.").format(ref=idea_ref(found.id))
        + " "
        + ngettext(
            "We will tell {n} supporter or helper.",
            "We will tell {n} supporters and helpers.",
            told,
        ).format(n=told)
    )
