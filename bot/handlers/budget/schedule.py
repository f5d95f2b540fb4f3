"""Planning the vote: when voting opens and closes."""

from __future__ import annotations

from datetime import datetime

from bot.core.context import Ctx
from bot.core.i18n import N_, _, when
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.handlers.budget.common import InRound, Planned, PlannedBoth
from bot.handlers.budget.overview import editable, round_for
from bot.handlers.common import guarded, lost
from bot.services.budget.rounds import close_round, extend_round, open_round
from bot.services.budget.sealing import keys_for
from bot.services.budget.text import parse_moment
from bot.util.when import passed
from storage.models import BudgetRound
from storage.repo import audit, budgets

router = Router("budget_schedule")


class ScheduleForm(StatesGroup):
    """When voting opens and closes."""

    interrupted = N_("You were setting up a budget round.")

    # Named as the one RoundForm before it, so dialogs in progress at an upgrade go on.
    opens = State("RoundForm.opens")
    closes = State("RoundForm.closes")
    confirm = State()  # opening locks the rules: asked first
    close = State()  # close voting now: asked first
    extend = State()  # a later closing time while voting is open


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
        await ctx.reply(passed(ctx.clock.now()), [ctx.cancel_button()])
        return None
    return moment


@router.state(ScheduleForm.opens)
@guarded("budgetronde", InRound)
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
@guarded("budgetronde", Planned)
async def plan_closes(ctx: Ctx) -> None:
    moment = await _read_moment(ctx, allow_now=False)
    if moment is None:
        return
    opens_at = Planned.of(ctx).opens_at
    if moment <= opens_at:
        await ctx.reply(
            _("Voting must close after it opens. Please choose a later time."),
            [ctx.cancel_button()],
        )
        return
    # Opening locks the rules for good: say so, and ask first.
    now = opens_at <= ctx.clock.now()
    if now:
        text = _("Voting opens now and closes on {end}.").format(end=when(moment))
        label = _("Yes, open voting")
    else:
        text = _("Voting opens on {start} and closes on {end}.").format(
            start=when(opens_at), end=when(moment)
        )
        label = _("Yes, plan voting")
    text += "\n" + _(
        "When voting opens, the rules and the projects are locked: you cannot change them after that. Is this right?"
    )
    await ctx.ask(
        text,
        ScheduleForm.confirm,
        [ctx.choice(ScheduleForm.confirm, label, "yes")],
        closes_at=moment.isoformat(),
    )


@router.state(ScheduleForm.confirm)
@guarded("budgetronde", PlannedBoth)
async def confirm_schedule(ctx: Ctx) -> None:
    if ctx.event.kind != "button" or ctx.event.button_data != "yes":
        await ctx.reply(_("Please choose one of the buttons."), [ctx.cancel_button()])
        return
    plan = PlannedBoth.of(ctx)
    opens_at, closes_at = plan.opens_at, plan.closes_at
    round_ = await round_for(ctx, plan.round_id)
    if not await editable(ctx, round_):
        return
    ctx.dialog.clear()
    if closes_at <= ctx.clock.now():
        await ctx.reply(_("That moment has already passed. Please choose a later time."))
        return
    await budgets.schedule_voting(ctx.session, round_, opens_at, closes_at)
    assert ctx.person is not None
    await audit.record(ctx.session, ctx.person.id, "budget.schedule", "budgetround", round_.id)
    projects = await budgets.projects_of(ctx.session, round_.id or 0)
    waiting = [p for p in projects if p.proposer_id is not None and p.feasible is None]
    text = _(
        "Voting opens on {start} and closes on {end}. When it opens, the rules are locked."
    ).format(start=when(opens_at), end=when(closes_at))
    if waiting:
        text += "\n" + _(
            "{n} proposals are not checked yet. Only projects marked feasible are on the ballot."
        ).format(n=len(waiting))
    if opens_at <= ctx.clock.now():
        await open_round(ctx.session, round_, keys_for(ctx.settings), ctx.settings.default_locale)
        text = _("Voting is open now and closes on {end}. The rules are locked.").format(
            end=when(closes_at)
        )
    await ctx.reply(text)


# --- while voting is open: close it now, or let it close later ------------------------------


async def _voting_round(ctx: Ctx, round_id: int | None) -> BudgetRound | None:
    """The round, if voting in it is open right now; otherwise a kind word and None."""
    if round_id is None:
        await lost(ctx, "budgetronde")
        return None
    round_ = await round_for(ctx, round_id)
    if round_.phase != "voting" or budgets.is_closed(round_, ctx.clock.now()):
        ctx.dialog.clear()
        await ctx.reply(
            _("Voting for “{title}” is not open, so nothing was changed.").format(
                title=round_.title
            )
        )
        return None
    return round_


async def ask_close(ctx: Ctx, round_: BudgetRound) -> None:
    if await _voting_round(ctx, round_.id) is None:
        return
    ctx.dialog.goto(ScheduleForm.close, round_id=round_.id)
    await ctx.reply(
        _(
            "Close voting for “{title}” now? The votes are counted and the results are published to the neighbourhood at once. This cannot be undone."
        ).format(title=round_.title),
        [
            ctx.choice(ScheduleForm.close, _("Yes, close voting now"), "yes"),
            ctx.choice(ScheduleForm.close, _("No, keep it open"), "no"),
        ],
    )


@router.state(ScheduleForm.close)
@guarded("budgetronde", InRound)
async def confirm_close(ctx: Ctx) -> None:
    if ctx.event.kind != "button" or ctx.event.button_data not in ("yes", "no"):
        await ctx.reply(_("Please choose one of the buttons."), [ctx.cancel_button()])
        return
    if ctx.event.button_data == "no":
        ctx.dialog.clear()
        await ctx.reply(_("Voting is still open. Nothing was changed."))
        return
    round_ = await _voting_round(ctx, InRound.of(ctx).round_id)
    if round_ is None:
        return
    ctx.dialog.clear()
    now = ctx.clock.now()
    round_.closes_at = now
    # The same path as the scheduled close: count, store and publish in this transaction.
    await close_round(ctx.session, round_, now, keys_for(ctx.settings), ctx.settings.default_locale)
    assert ctx.person is not None
    await audit.record(ctx.session, ctx.person.id, "budget.close", "budgetround", round_.id)
    await ctx.reply(
        _("Voting for “{title}” is closed. The results are counted and published.").format(
            title=round_.title
        )
    )


async def ask_extend(ctx: Ctx, round_: BudgetRound) -> None:
    if await _voting_round(ctx, round_.id) is None:
        return
    assert round_.closes_at is not None
    await ctx.ask(
        _(
            "Voting now closes on {end}. Until when may residents vote? Type a later day and time, for example 20-12-2026 20:00."
        ).format(end=when(round_.closes_at)),
        ScheduleForm.extend,
        [],
        round_id=round_.id,
    )


@router.state(ScheduleForm.extend)
@guarded("budgetronde", InRound)
async def extend_typed(ctx: Ctx) -> None:
    moment = await _read_moment(ctx, allow_now=False)
    if moment is None:
        return
    round_ = await _voting_round(ctx, InRound.of(ctx).round_id)
    if round_ is None:
        return
    assert round_.closes_at is not None
    if moment <= round_.closes_at:
        await ctx.reply(
            _("Voting already closes on {end}. Please choose a time later than that.").format(
                end=when(round_.closes_at)
            ),
            [ctx.cancel_button()],
        )
        return
    ctx.dialog.clear()
    await extend_round(ctx.session, round_, moment, ctx.clock.now(), ctx.settings.default_locale)
    assert ctx.person is not None
    await audit.record(ctx.session, ctx.person.id, "budget.extend", "budgetround", round_.id)
    await ctx.reply(
        _("Voting for “{title}” now closes on {end}. The neighbourhood is told.").format(
            title=round_.title, end=when(moment)
        )
    )
