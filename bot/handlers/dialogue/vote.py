"""/gesprek: the open conversations; statements one at a time with Agree / Disagree / Pass.

A vote is a button `gv:{conversation}:{statement}:{value}`: one per person per statement,
the latest press counts, from any chat or platform. A press from a group is answered
privately. A forged or old press (another conversation, a closed one, a statement taken
out) changes nothing and is answered kindly.
"""

from __future__ import annotations

from bot.core.callbacks import StaleButton
from bot.core.context import Ctx
from bot.core.events import keyboard
from bot.core.i18n import _, when
from bot.core.router import Router
from bot.delivery.notify import tell
from bot.handlers.common import answer_voter, free_at, group_neighbourhood
from bot.services import quotas
from bot.services.dialogue import report
from bot.services.dialogue.conversations import (
    VALUES,
    Standing,
    TakePart,
    VoteOn,
    add_button,
    announcement_text,
    is_open,
    least_seen,
    may_take_part,
    next_for,
    standing_button,
    statement_buttons,
    statement_text,
    take_part_button,
    vote_word,
)
from storage.dialogue_models import Conversation
from storage.repo import dialogue, people

router = Router("dialogue_vote")


async def _mine(ctx: Ctx) -> list[Conversation]:
    """Open conversations this person (or this group) may take part in."""
    hoods: set[int] = set(ctx.coordinator_of)
    if ctx.is_direct and ctx.person is not None and ctx.person.id is not None:
        hoods |= {
            m.neighbourhood_id for m in await people.memberships_of(ctx.session, ctx.person.id)
        }
    elif not ctx.is_direct and (hood := await group_neighbourhood(ctx)) is not None:
        hoods.add(hood.id or 0)
    now = ctx.clock.now()
    found = await dialogue.open_conversations(ctx.session, sorted(hoods))
    return [c for c in found if is_open(c, now) and await may_take_part(ctx.session, c, ctx.actor)]


@router.command("gesprek", "conversation", in_groups=True)
async def conversations(ctx: Ctx) -> None:
    found = await _mine(ctx)
    if not found:
        await ctx.reply(_("There is no open conversation for you right now."))
        return
    if not ctx.is_direct and ctx.is_coordinator:
        # In a linked group a coordinator posts a statement everyone can vote on.
        for conv in found:
            st = await least_seen(ctx.session, conv)
            if st is not None:
                await ctx.reply(statement_text(conv, st), keyboard(*statement_buttons(conv, st)))
        return
    for conv in found:  # the report goes with a picture: in a direct chat only
        more = [standing_button(conv)] if ctx.is_direct else []
        await ctx.reply(announcement_text(conv), [take_part_button(conv), *more])


@router.callback(Standing)
async def how_it_stands(ctx: Ctx) -> None:
    """The report so far, with the map; from a group it goes to the private chat."""
    conv = await _usable(ctx, Standing.of(ctx).conversation, lock=False)
    if conv is None:
        return
    got = await report.standing(ctx.session, conv)
    if ctx.is_direct:
        await ctx.reply(got.text, image=got.chart)
        return
    await answer_voter(ctx, _("Type /gesprek in a private chat with me to see how it stands."))


@router.callback(TakePart)
async def take_part(ctx: Ctx) -> None:
    conv = await _usable(ctx, TakePart.of(ctx).conversation)
    if conv is not None:
        await _show_next(ctx, conv)


async def _usable(ctx: Ctx, conversation_id: int, lock: bool = True) -> Conversation | None:
    """The conversation, if this press may act on it; else a kind answer and None. A vote
    locks it (a vote and the close take turns); only reading it does not."""
    get = dialogue.get_for_vote if lock else dialogue.get
    conv = await get(ctx.session, conversation_id)
    if conv is None or conv.sent_at is None:
        await answer_voter(ctx, _("This conversation no longer exists."))
        return None
    if not await may_take_part(ctx.session, conv, ctx.actor):
        raise StaleButton()
    if not is_open(conv, ctx.clock.now()):
        await answer_voter(
            ctx,
            _("The conversation “{question}” ended on {moment}. Nothing was changed.").format(
                question=conv.question, moment=when(conv.closed_at or conv.closes_at)
            ),
        )
        return None
    return conv


async def _show_next(ctx: Ctx, conv: Conversation, before: str = "") -> None:
    """The next statement for this person: here in a direct chat, privately from a group."""
    person = await ctx.ensure_person()
    assert person.id is not None
    st = await next_for(ctx.session, conv, person.id)
    if st is None:
        text = (
            _("That was all: you have seen every statement. Thank you!")
            + "\n"
            + _("You can add your own statement, or come back later for new ones.")
        )
        buttons = [[add_button(conv)], [standing_button(conv)]]
    else:
        text, buttons = statement_text(conv, st), statement_buttons(conv, st)
    if before:
        text = before + "\n\n" + text
    if ctx.is_direct:
        await ctx.reply(text, keyboard(*buttons))
        return
    flat = [b for row in buttons for b in row]
    if not await tell(ctx.session, person, lambda: text, lambda: flat):
        await answer_voter(ctx, before or _("Open a private chat with me to take part."))


@router.callback(VoteOn)
async def vote(ctx: Ctx) -> None:
    press = VoteOn.of(ctx)
    conv = await _usable(ctx, press.conversation)
    if conv is None:
        return
    st = await dialogue.statement(ctx.session, press.statement)
    if st is None or st.conversation_id != conv.id:
        raise StaleButton()
    if st.status != "shown":
        await answer_voter(ctx, _("This statement was taken out of the conversation."))
        return
    person = await ctx.ensure_person()
    assert person.id is not None and conv.id is not None and st.id is not None
    value = VALUES[press.value]
    before = (await dialogue.votes_of(ctx.session, conv.id, person.id)).get(st.id)
    changed = before is not None and before != value  # a first vote is never limited
    if changed and (free := await free_at(ctx, "vote")) is not None:
        await answer_voter(
            ctx,
            _(
                "You changed many votes in the past hour. Your vote stays as it was. "
                "You can change it again from {moment}."
            ).format(moment=when(free)),
        )
        return
    await dialogue.vote(ctx.session, st, person.id, value, ctx.clock.now())
    if changed:
        await quotas.count(ctx.session, "vote", person.id)
    said = _("Your vote on “{statement}”: {vote}.").format(statement=st.text, vote=vote_word(value))
    if ctx.is_direct:
        await _show_next(ctx, conv, said)
    else:
        await answer_voter(ctx, said)
