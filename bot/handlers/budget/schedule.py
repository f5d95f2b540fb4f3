"""Planning the vote: when voting opens and closes."""

from __future__ import annotations

from datetime import datetime

from bot.core.context import Ctx
from bot.core.i18n import N_, _, when
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.handlers.budget.common import (
    data_int,
)
from bot.handlers.budget.overview import editable, round_for
from bot.handlers.common import lost
from bot.services.budget.rounds import open_round
from bot.services.budget.sealing import keys_for
from bot.services.budget.text import parse_moment
from storage.models import BudgetRound
from storage.repo import audit, budgets

router = Router("budget_schedule")


class ScheduleForm(StatesGroup):
    """When voting opens and closes."""

    interrupted = N_("You were setting up a budget round.")

    # Named as the one RoundForm before it, so dialogs in progress at an upgrade go on.
    opens = State("RoundForm.opens")
    closes = State("RoundForm.closes")


async def ask_opens(ctx: Ctx, round_: BudgetRound) -> None:
    assert round_.id is not None
    if not any(budgets.on_ballot(p) for p in await budgets.projects_of(ctx.session, round_.id)):
        await ctx.reply(_("There are no projects on the ballot yet. Add a project first."))
        return
    await ctx.ask(
        _(
            "When does voting open? Type a day and time, for example 1-12-2026 19:00 (Dutch time). Or choose Now."
        ),
        ScheduleForm.opens,
        [ctx.choice(ScheduleForm.opens, _("Now"), "now")],
        round_id=round_.id,
    )


async def _read_moment(ctx: Ctx, allow_now: bool) -> datetime | None:
    if allow_now and ctx.event.kind == "button" and ctx.event.button_data == "now":
        return ctx.clock.now()
    moment = parse_moment(ctx.event.text, ctx.clock.now()) if ctx.event.kind == "text" else None
    if moment is None:
        await ctx.reply(
            _("I could not read that as a day and time. Type it like this: 1-12-2026 19:00"),
            [ctx.cancel_button()],
        )
        return None
    if moment <= ctx.clock.now():
        await ctx.reply(
            _("That moment has already passed. Please choose a later time."), [ctx.cancel_button()]
        )
        return None
    return moment


@router.state(ScheduleForm.opens)
async def plan_opens(ctx: Ctx) -> None:
    moment = await _read_moment(ctx, allow_now=True)
    if moment is None:
        return
    await ctx.ask(
        _("When does voting close? Type a day and time, for example 15-12-2026 20:00."),
        ScheduleForm.closes,
        [],
        opens_at=moment.isoformat(),
    )


@router.state(ScheduleForm.closes)
async def plan_closes(ctx: Ctx) -> None:
    moment = await _read_moment(ctx, allow_now=False)
    if moment is None:
        return
    data = ctx.dialog.data
    round_id = data_int(ctx, "round_id")
    try:
        opens_at = datetime.fromisoformat(str(data.get("opens_at")))
    except ValueError:
        opens_at = None
    if round_id is None or opens_at is None or opens_at.tzinfo is None:
        await lost(ctx, "budgetronde")
        return
    if moment <= opens_at:
        await ctx.reply(
            _("Voting must close after it opens. Please choose a later time."),
            [ctx.cancel_button()],
        )
        return
    round_ = await round_for(ctx, round_id)
    if not await editable(ctx, round_):
        return
    await budgets.schedule_voting(ctx.session, round_, opens_at, moment)
    assert ctx.person is not None
    await audit.record(ctx.session, ctx.person.id, "budget.schedule", "budgetround", round_.id)
    ctx.dialog.clear()
    projects = await budgets.projects_of(ctx.session, round_.id or 0)
    waiting = [p for p in projects if p.proposer_id is not None and p.feasible is None]
    text = _(
        "Voting opens on {start} and closes on {end}. When it opens, the rules are locked."
    ).format(start=when(opens_at), end=when(moment))
    if waiting:
        text += "\n" + _(
            "{n} proposals are not checked yet. Only projects marked feasible are on the ballot."
        ).format(n=len(waiting))
    if opens_at <= ctx.clock.now():
        await open_round(ctx.session, round_, keys_for(ctx.settings), ctx.settings.default_locale)
        text = _("Voting is open now and closes on {end}. The rules are locked.").format(
            end=when(moment)
        )
    await ctx.reply(text)
