"""/vergeetmij: erase a person after a confirmation.

Their ideas, reports and checked budget proposals stay without a link to them; their
name leaves the kept results of named polls; everything else that points to them goes.
`tests/privacy/test_everything.py` scans every table afterwards.
"""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.i18n import _, when
from bot.core.interrupt import drop_paused
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.handlers.common import please_choose
from bot.services.introductions import forget as forget_introductions
from bot.services.polls import forget_voter
from storage.repo import audit, budgets, people

router = Router("privacy_forget")


class Forget(StatesGroup):
    interrupted = None
    confirm = State()


@router.command("vergeetmij", "forgetme", while_busy="pause")
async def forget_me(ctx: Ctx) -> None:
    if ctx.person is None:
        await ctx.reply(_("We store nothing about you, so there is nothing to erase."))
        return
    await ctx.ask(
        _("Do you want us to erase your data? This cannot be undone.")
        + "\n"
        + _("Your ideas and reports stay visible, but without any link to you."),
        Forget.confirm,
        [ctx.choice(Forget.confirm, _("Yes, erase my data"), "yes")],
    )


@router.state(Forget.confirm)
async def forget_confirmed(ctx: Ctx) -> None:
    if not (ctx.event.kind == "button" and ctx.event.button_data == "yes"):
        await please_choose(ctx, [ctx.choice(Forget.confirm, _("Yes, erase my data"), "yes")])
        return
    person = ctx.person
    if person is None or person.id is None:
        ctx.dialog.clear()
        await ctx.reply(_("We store nothing about you, so there is nothing to erase."))
        return
    voted_in = [
        r for r in await budgets.open_rounds(ctx.session, ctx.clock.now())
        if r.id is not None and await budgets.has_voted(ctx.session, r.id, person.id)
    ]  # fmt: skip
    if voted_in:
        # Erasing now would let this account vote again in the same round.
        ctx.dialog.clear()
        await ctx.reply(
            _(
                "You voted in “{title}”, which is open until {moment}. So that everyone votes "
                "only once, we can erase your data after that. Please ask again then."
            ).format(title=voted_in[0].title, moment=when(voted_in[0].closes_at or ctx.clock.now()))
        )
        return
    await audit.record(ctx.session, None, "person.erased", "person", None)
    await budgets.withdraw_unchecked_proposals(ctx.session, person.id)
    await forget_voter(ctx.session, person.id)  # before their votes (and names) go
    await forget_introductions(ctx.session, person.id)  # a waiting one ends kindly
    await people.erase_person(ctx.session, person.id)
    ctx.person = None
    ctx.dialog.clear()
    drop_paused(ctx.dialog)  # a draft put aside for /vergeetmij goes too
    await ctx.edit(
        _("Your data has been erased. Your ideas and reports stay, without your name. Goodbye!")
    )
