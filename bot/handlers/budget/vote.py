"""/stem: vote in a neighbourhood budget, only in a direct chat.

The basket lives in the dialog until the voter confirms; then the dialog is cleared and
committed *before* the ballot is cast in its own transaction (``ballots.vote``), so no row
anywhere keeps the voter next to their choices. The receipt repeats no choices.

This module starts a vote (a round, a letter code, the limit on guessing codes);
`basket` is the choosing, `ballot` the confirming and casting.
"""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.events import Button
from bot.core.i18n import N_, _, ngettext
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.handlers.budget import ballot, basket
from bot.handlers.budget.basket import not_open, start_basket
from bot.handlers.budget.common import VoteInRound
from bot.handlers.common import guess_wait, note_wrong_code
from bot.services.budget.sealing import keys_for
from storage.models import BudgetRound
from storage.repo import ballots, budgets, people
from storage.repo.ballots import VoteResult

router = Router("budget_vote")
router.include(basket.router, ballot.router)


class CodeForm(StatesGroup):
    """Typing a letter code (named as before the split, so dialogs in progress go on)."""

    interrupted = N_("You were voting.")

    code = State("VoteForm.code")


def _code_example() -> str:
    return "ABCD-EFGH-JKMN-P"


@router.command("stem", "vote", "stemmen")
async def vote_command(ctx: Ctx) -> None:
    await begin(ctx, None, ctx.event.args.strip() or None)


@router.callback(VoteInRound)
async def vote_button(ctx: Ctx) -> None:
    pressed = VoteInRound.of(ctx)
    if not ctx.is_direct:
        text = _("Voting happens only in a private chat with me, so your vote stays secret.")
        link = ctx.direct_link("stem")
        if link:
            await ctx.reply(text, [Button(_("Open a private chat"), "", url=link)])
        else:
            await ctx.reply(text + " " + _("Send me a direct message with /stem."))
        return
    await begin(ctx, pressed.round, None)


async def begin(ctx: Ctx, round_id: int | None, typed_code: str | None) -> None:
    now = ctx.clock.now()
    ctx.dialog.clear()
    open_now = await budgets.open_rounds(ctx.session, now)
    if round_id is not None:
        wanted = await budgets.get_round(ctx.session, round_id)
        if wanted is not None and wanted not in open_now:
            await not_open(ctx, wanted)
            return
        open_now = [r for r in open_now if r.id == round_id]
    if not open_now:
        await ctx.reply(_("There is no neighbourhood budget vote open right now."))
        return
    if typed_code:
        await check_code(ctx, open_now, typed_code)
        return
    person_id = ctx.person.id if ctx.person is not None else None
    as_member, late_home = (
        await _member_rounds(ctx, open_now, person_id) if person_id is not None else ([], None)
    )
    if as_member:
        assert person_id is not None
        await _vote_as_member(ctx, as_member, person_id)
        return
    with_codes = [r for r in open_now if ballots.codes_may_vote(r)]
    if not with_codes:
        if late_home is not None:
            await ctx.reply(
                _(
                    "You chose this neighbourhood after voting opened for “{title}”, so you cannot vote in it. This keeps the vote fair: one person, one vote."
                ).format(title=late_home.title)
            )
        else:
            await ctx.reply(
                _(
                    "Only residents of the neighbourhood can vote in “{title}”. Choose your neighbourhood with /wijk for the next vote."
                ).format(title=open_now[0].title)
            )
        return
    lines = [
        _("Type the voting code from your letter, for example {example}.").format(
            example=_code_example()
        )
    ]
    if late_home is not None:
        lines.append(
            _(
                "You chose this neighbourhood after voting opened, so you can vote only with the code from your letter."
            )
        )
    elif any(ballots.members_may_vote(r) for r in open_now):
        lines.append(
            _(
                "Residents who chose their neighbourhood with /wijk before voting opened can vote without a code."
            )
        )
    await ctx.ask("\n".join(lines), CodeForm.code)


async def _member_rounds(
    ctx: Ctx, open_now: list[BudgetRound], person_id: int
) -> tuple[list[BudgetRound], BudgetRound | None]:
    """The open rounds this person may vote in as a member; if none, a round of their home
    that they chose only after voting opened (to say why they need a code)."""
    late_home = None
    found = []
    for round_ in open_now:
        if not ballots.members_may_vote(round_):
            continue
        if await ballots.is_member_voter(ctx.session, round_, person_id):
            found.append(round_)
        elif await people.is_home(ctx.session, person_id, round_.neighbourhood_id):
            late_home = round_
    return found, (None if found else late_home)


async def _vote_as_member(ctx: Ctx, rounds: list[BudgetRound], person_id: int) -> None:
    """One round left to vote in: its ballot. Several: ask which, never pick silently."""
    todo = [r for r in rounds if not await budgets.has_voted(ctx.session, r.id or 0, person_id)]
    if not todo:
        await ctx.reply(
            _(
                "You have already voted in “{title}”. Your vote counts once and cannot be changed."
            ).format(title=rounds[0].title)
        )
    elif len(todo) == 1:
        await start_basket(ctx, todo[0], mode="person")
    else:
        await ctx.reply(
            _("Which vote do you want to take part in? Each counts once."),
            [Button(r.title[:60], VoteInRound(r.id).pack()) for r in todo],
        )


@router.state(CodeForm.code)
async def code_typed(ctx: Ctx) -> None:
    if ctx.event.kind != "text":
        await ctx.reply(
            _("Please type the code from your letter, or choose Cancel."), [ctx.cancel_button()]
        )
        return
    open_now = await budgets.open_rounds(ctx.session, ctx.clock.now())
    if not open_now:
        ctx.dialog.clear()
        await ctx.reply(_("There is no neighbourhood budget vote open right now."))
        return
    await check_code(ctx, open_now, ctx.event.text)


async def check_code(ctx: Ctx, rounds: list[BudgetRound], typed: str) -> None:
    minutes = guess_wait(ctx)
    if minutes is not None:
        ctx.dialog.clear()
        await ctx.reply(
            ngettext(
                "You typed too many wrong codes. To keep the vote safe, please wait {n} minute and try again with /stem.",
                "You typed too many wrong codes. To keep the vote safe, please wait {n} minutes and try again with /stem.",
                minutes,
            ).format(n=minutes)
        )
        return
    symbols = budgets.normalise_code(typed)
    if symbols is None:
        await ctx.ask(
            _(
                "That code does not look right. Check the letters and numbers and type it again. A code looks like {example}."
            ).format(example=_code_example()),
            CodeForm.code,
        )
        return
    round_, status = await ballots.code_status(ctx.session, rounds, symbols, keys_for(ctx.settings))
    if status is VoteResult.WRONG_CODE or round_ is None:
        note_wrong_code(ctx)
        await ctx.ask(
            _("I don't know this code. Check it and type it again, or ask a coordinator for help."),
            CodeForm.code,
        )
        return
    if status is VoteResult.USED_CODE:
        ctx.dialog.clear()
        await ctx.reply(_("This code has already been used to vote. Each code works only once."))
        return
    assert round_.id is not None
    if (
        ctx.person is not None
        and ctx.person.id is not None
        and await budgets.has_voted(ctx.session, round_.id, ctx.person.id)
    ):
        ctx.dialog.clear()
        await ctx.reply(
            _(
                "You have already voted in “{title}”. Your vote counts once, so this code was not used."
            ).format(title=round_.title)
        )
        return
    await start_basket(ctx, round_, mode="code", code=symbols)
