"""Voting: a button or a native poll answer; one person, one vote per poll across every chat."""

from __future__ import annotations

from datetime import datetime

from bot.core.callbacks import MAX_ID, StaleButton
from bot.core.context import Ctx
from bot.core.i18n import _, ngettext, when
from bot.core.router import Router
from bot.core.text import whole_number
from bot.handlers.common import answer_voter as _answer_voter
from bot.handlers.common import free_at
from bot.services import quotas
from bot.services.polls import PollVote, may_take_part
from storage.models import Poll
from storage.repo import polls

router = Router("polls_vote")


def is_closed(poll: Poll, now: datetime) -> bool:
    return poll.closed_at is not None or poll.closes_at <= now


@router.callback(PollVote)
async def vote_button(ctx: Ctx) -> None:
    vote = PollVote.of(ctx)
    await cast(ctx, vote.poll, {vote.option}, toggle=True)


@router.message(kinds=("poll_answer",))
async def native_answer(ctx: Ctx) -> None:
    """An answer to a native poll (Matrix MSC3381), carrying our poll's id."""
    prefix, _sep, poll_id = ctx.event.text.partition(":")
    poll = whole_number(poll_id)
    if prefix != "pv" or poll is None:
        return  # not one of ours
    await cast(ctx, poll, set(ctx.event.poll_option_ids), toggle=False)


async def cast(ctx: Ctx, poll_id: int, options: set[int], *, toggle: bool) -> None:
    if poll_id > MAX_ID:
        await _answer_voter(ctx, _("This button no longer works."))
        return
    poll = await polls.get_for_vote(ctx.session, poll_id)
    if poll is None or poll.sent_at is None:
        await _answer_voter(ctx, _("This poll no longer exists."))
        return
    if not await may_take_part(ctx.session, poll, ctx.actor):
        raise StaleButton()
    if is_closed(poll, ctx.clock.now()):
        await _answer_voter(
            ctx,
            _("This poll closed on {moment}. Your vote was not counted.").format(
                moment=when(poll.closed_at or poll.closes_at)
            ),
        )
        return
    if any(not 0 <= o < len(poll.options) for o in options):
        await _answer_voter(ctx, _("This button no longer works."))
        return
    person = await ctx.ensure_person()
    assert person.id is not None
    before = await polls.choices_of(ctx.session, poll.id or 0, person.id)
    same = before == options and not (toggle and poll.multiple)  # pressed again: no change
    if not same and (free := await free_at(ctx, "vote")) is not None:
        await _answer_voter(ctx, _too_many(when(free)))
        return
    name = ctx.event.user.display_name
    if toggle:
        [option] = options
        mine = await polls.choose(ctx.session, poll, person.id, option, name)
    else:
        mine = await polls.set_choices(ctx.session, poll, person.id, options, name)
    if mine != before:
        await quotas.count(ctx.session, "vote", person.id)
    chosen = [poll.options[i] for i in sorted(mine)]
    if chosen:
        text = _("Your vote on “{question}”: {choice}.").format(
            question=poll.question, choice=", ".join(chosen)
        )
    else:
        text = _("You took back your vote on “{question}”.").format(question=poll.question)
    text += " " + _("You can change it until {moment}.").format(moment=when(poll.closes_at))
    await _answer_voter(ctx, text)


def _too_many(moment: str) -> str:
    most = quotas.PER_HOUR["vote"]
    return " ".join(
        [
            ngettext(
                "You have changed your vote {n} time in the past hour.",
                "You have changed your vote {n} times in the past hour.",
                most,
            ).format(n=most),
            _("That is the most for one hour."),
            _("Your vote stays as it was. You can change it again from {moment}.").format(
                moment=moment
            ),
        ]
    )
