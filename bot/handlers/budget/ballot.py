"""Confirming: the basket is erased and committed, then the ballot is cast in a transaction of its own; the receipt repeats no choices."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from bot.core.context import Ctx
from bot.core.i18n import _, when
from bot.core.router import Router
from bot.handlers.budget.basket import (
    BallotForm,
    ballot_projects,
    basket_problem,
    current_basket,
    show_basket,
)
from bot.handlers.budget.common import Voting
from bot.handlers.common import lost
from bot.services.budget.rounds import ballot_rules, voters_text
from bot.services.budget.sealing import keys_for
from storage.models import BudgetRound
from storage.repo import ballots
from storage.repo.ballots import VoteResult

router = Router("budget_ballot")


@router.state(BallotForm.confirm)
async def confirm(ctx: Ctx) -> None:
    value = ctx.event.button_data if ctx.event.kind == "button" else None
    current = await current_basket(ctx)
    if current is None:
        return
    round_, projects, basket = current
    if value == "back":
        ctx.dialog.goto(BallotForm.basket)
        await show_basket(ctx, round_, projects, basket)
        return
    if value != "yes":
        await ctx.reply(
            _("Please choose Confirm my vote, Change my choice or Cancel."),
            [
                ctx.choice(BallotForm.confirm, _("Confirm my vote"), "yes"),
                ctx.choice(BallotForm.confirm, _("Change my choice"), "back"),
                ctx.cancel_button(),
            ],
        )
        return
    # Not a draft: the whole dialog as it was, to put back if the vote is refused.
    data = dict(ctx.dialog.data)
    try:
        voting = Voting.of(ctx)
    except ValidationError:
        voting = None
    code = voting.code if voting is not None and voting.mode == "code" else None
    if voting is None or (voting.mode == "code" and code is None):
        await lost(ctx, "stem")
        return
    # Whoever votes is on the roll, also with a code (a person is made for an account we
    # did not know): one vote per account, whether by code or as a member.
    person_id = (await ctx.ensure_person()).id
    choices: Any = dict(basket) if round_.ballot_type == "cumulative" else sorted(basket)
    # Forget the basket first, committed, so no dialog row ever outlives the vote.
    ctx.dialog.erase()
    engine = await ctx.uow.commit_now()
    assert round_.id is not None
    result = await ballots.vote(
        engine,
        round_.id,
        choices,
        keys=keys_for(ctx.settings),
        now=ctx.clock.now(),
        person_id=person_id,
        code=code,
    )
    del choices, basket
    await after_vote(ctx, round_, result, data)


async def after_vote(
    ctx: Ctx, round_: BudgetRound, result: VoteResult, data: dict[str, Any]
) -> None:
    title = round_.title
    if result is VoteResult.OK:
        assert round_.closes_at is not None
        await ctx.edit(
            "\n".join(
                [
                    _("Thank you! Your vote in “{title}” is counted.").format(title=title),
                    _(
                        "Your vote is secret: it is stored without your name, and nobody can see what you chose."
                    ),
                    _("The results will be shared after voting closes on {when}.").format(
                        when=when(round_.closes_at)
                    ),
                ]
            )
        )
    elif result is VoteResult.ALREADY_VOTED:
        await ctx.edit(
            _(
                "You have already voted in “{title}”. Your vote counts once, so this one was not counted."
            ).format(title=title)
        )
    elif result is VoteResult.USED_CODE:
        await ctx.edit(
            _(
                "This code has already been used to vote. Each code works only once. Nothing was counted."
            )
        )
    elif result is VoteResult.NOT_ELIGIBLE:
        await ctx.edit(
            _("You cannot vote in “{title}” this way: {voters}. Nothing was counted.").format(
                title=title, voters=voters_text(round_)
            )
        )
    elif result is VoteResult.OUTSIDE_WINDOW:
        await ctx.edit(
            _("Voting for “{title}” has closed. Your vote can no longer be counted.").format(
                title=title
            )
        )
    elif result in (VoteResult.OVER_BUDGET, VoteResult.INVALID):
        ctx.dialog.goto(BallotForm.basket, **data)
        projects = await ballot_projects(ctx, round_)
        basket = {
            str(k): v for k, v in dict(data.get("basket") or {}).items() if isinstance(v, int)
        }
        await show_basket(
            ctx,
            round_,
            projects,
            basket,
            note=basket_problem(round_, projects, basket) or ballot_rules(round_),
        )
    else:
        await ctx.edit(
            _("That code does not look right. Nothing was counted. Type /stem to try again.")
        )
