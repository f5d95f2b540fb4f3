"""Coordinators run a budget round in chat: settings, projects, feasibility, voting times.

The rules are locked once voting opens: every change is refused from then on. Totals are
shown only after closing; before that a coordinator sees how many have voted, nothing more.

This module lists rounds and routes a round's buttons; the dialogs live in `setup` (a new
round and its rules), `projects` (projects and feasibility) and `schedule` (voting times),
and `overview` shows a round.
"""

from __future__ import annotations

from bot.core.callbacks import CallbackData, StaleButton
from bot.core.context import Ctx
from bot.core.events import Button, keyboard
from bot.core.i18n import _
from bot.core.paging import Page
from bot.core.router import Router
from bot.handlers.budget import projects, schedule, setup
from bot.handlers.budget.common import (
    RoundAction,
    round_ref,
)
from bot.handlers.budget.overview import editable, phase_name, round_for, show_round
from bot.handlers.budget.projects import ProjectForm, ask_verdict_note, show_proposal
from bot.handlers.budget.schedule import ask_close, ask_extend, ask_opens
from bot.handlers.budget.setup import SetupForm, ask_ballot, ask_rule, ask_voters, start_new
from storage.repo import budgets

router = Router("budget_manage")
router.include(setup.router, projects.router, schedule.router)


ROUNDS_PAGE = 7  # and New budget round, Previous, Next: ten buttons


class RoundsPage(CallbackData, prefix="brp", hint=RoundAction.hint):
    """Previous / Next under a coordinator's budget rounds."""

    page: int


@router.command("budgetronde", "budgetround", role="coordinator")
async def list_rounds(ctx: Ctx) -> None:
    await show_rounds(ctx, 0)


@router.callback(RoundsPage, role="coordinator")
async def rounds_page(ctx: Ctx) -> None:
    await show_rounds(ctx, RoundsPage.of(ctx).page)


async def show_rounds(ctx: Ctx, index: int) -> None:
    """A page of the rounds, newest first, and a button to start a new one."""
    found = await budgets.rounds_in(ctx.session, ctx.coordinator_of)
    page = Page.at(index, len(found), ROUNDS_PAGE)
    shown = found[page.offset : page.offset + page.size]
    buttons = [
        Button(f"{round_ref(r)} {r.title}"[:60], RoundAction(r.id or 0, "show").pack())
        for r in shown
    ]
    buttons.append(Button(_("New budget round"), RoundAction("new").pack()))
    if not found:
        text = _("There are no budget rounds yet in your neighbourhood. Start one?")
    else:
        text = _("Budget rounds in your neighbourhood. Choose one to manage it:")
        if page.total > page.size:
            text += "\n" + page.counter()
        text += "\n" + "\n".join(f"{round_ref(r)} {r.title} · {phase_name(r)}" for r in shown)
    await ctx.edit(text, keyboard(*buttons, page.buttons(lambda i: RoundsPage(i).pack())))


_RULE_STEPS = {"ballot": ask_ballot, "rule": ask_rule, "voters": ask_voters}


@router.callback(RoundAction, role="coordinator")
async def round_pressed(ctx: Ctx) -> None:
    pressed = RoundAction.of(ctx)
    if pressed.round == "new" and pressed.action is None:
        await start_new(ctx)
        return
    if pressed.round == "new" or pressed.action is None:
        raise StaleButton(RoundAction.hint)
    round_ = await round_for(ctx, pressed.round)
    action = pressed.action
    if action == "show":
        await show_round(ctx, round_)
        return
    if action in ("close", "extend"):
        await (ask_close if action == "close" else ask_extend)(ctx, round_)
        return
    if not await editable(ctx, round_):
        return
    data = {"round_id": round_.id, "edit": action}
    if action == "budget":
        await ctx.ask(_("What is the new total budget in euros?"), SetupForm.budget, [], **data)
    elif action in _RULE_STEPS:
        await _RULE_STEPS[action](ctx, **data)
    elif action == "project":
        await ctx.ask(_("What is the title of the project?"), ProjectForm.title, [], **data)
    elif action == "times":
        await ask_opens(ctx, round_)
    elif action == "check" and pressed.project is not None:
        await show_proposal(ctx, round_, pressed.project)
    elif action in ("yes", "no") and pressed.project is not None:
        await ask_verdict_note(ctx, action == "yes", round_, pressed.project, data)
    else:
        raise StaleButton(RoundAction.hint)
