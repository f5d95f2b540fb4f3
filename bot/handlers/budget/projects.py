"""Projects in a round: adding one, and the feasibility verdict on a proposal."""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.callbacks import StaleButton
from bot.core.context import Ctx
from bot.core.errors import UserFacingError
from bot.core.events import Button
from bot.core.i18n import N_, _
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.delivery.notify import tell
from bot.handlers.budget.common import (
    Described,
    InRound,
    RoundAction,
    Titled,
    Verdict,
    project_line,
    read_description,
    read_euros,
)
from bot.handlers.budget.overview import editable, round_for, show_round
from bot.handlers.common import guarded, read_text
from storage.models import BudgetProject, BudgetRound, Person
from storage.repo import audit, budgets

router = Router("budget_projects")


class ProjectForm(StatesGroup):
    """Adding a project, and the note with a feasibility verdict."""

    interrupted = N_("You were setting up a budget round.")

    # Named as the one RoundForm before it, so dialogs in progress at an upgrade go on.
    title = State("RoundForm.p_title")
    text = State("RoundForm.p_text")
    cost = State("RoundForm.p_cost")
    verdict = State("RoundForm.verdict")


async def ask_verdict_note(
    ctx: Ctx, feasible: bool, round_: BudgetRound, project_id: int, data: Mapping[str, object]
) -> None:
    await _proposal(ctx, round_, project_id)
    question = (
        _("Add a short note for the proposer, or choose No note.")
        if feasible
        else _("Why is it not feasible? The proposer will read this.")
    )
    skip = [ctx.choice(ProjectForm.verdict, _("No note"), "none")] if feasible else []
    await ctx.ask(question, ProjectForm.verdict, skip, **data, project_id=project_id)


@router.state(ProjectForm.title)
@guarded("budgetronde", InRound)
async def project_title(ctx: Ctx) -> None:
    title = await read_text(ctx, title=True)
    if title is None:
        return
    await ctx.ask(_("Describe the project in a few sentences."), ProjectForm.text, title=title)


@router.state(ProjectForm.text)
@guarded("budgetronde", Titled)
async def project_text(ctx: Ctx) -> None:
    text = await read_description(ctx)
    if text is None:
        return
    await ctx.ask(_("What does the project cost, in euros?"), ProjectForm.cost, description=text)


@router.state(ProjectForm.cost)
@guarded("budgetronde", Described)
async def project_cost(ctx: Ctx) -> None:
    draft = Described.of(ctx)
    title, description = draft.title, draft.description
    round_ = await round_for(ctx, draft.round_id)
    cost = await read_euros(ctx, at_most=round_.budget)
    if cost is None or not await editable(ctx, round_):
        return
    project = await budgets.add_project(
        ctx.session, round_, title=title[:200], description=description, cost=cost
    )
    assert ctx.person is not None
    await audit.record(ctx.session, ctx.person.id, "budget.project", "budgetproject", project.id)
    ctx.dialog.clear()
    await ctx.reply(
        _("Project {code} “{title}” is added.").format(code=project.code, title=project.title)
    )
    await show_round(ctx, round_)


async def _proposal(ctx: Ctx, round_: BudgetRound, project_id: int) -> BudgetProject:
    """A resident's proposal in this round that waits for a verdict (the only ones with a
    Check button); a project put on the ballot by a coordinator has none."""
    found = await budgets.project(ctx.session, project_id)
    if found is None or found.round_id != round_.id:
        raise UserFacingError(_("That project no longer exists."))
    if found.proposer_id is None or found.feasible is not None:
        raise StaleButton(RoundAction.hint)
    return found


async def show_proposal(ctx: Ctx, round_: BudgetRound, project_id: int) -> None:
    p = await _proposal(ctx, round_, project_id)
    supports = (await budgets.support_counts(ctx.session, round_.id or 0)).get(p.id or 0, 0)
    await ctx.reply(
        "\n".join([project_line(p, supports), p.description, _("Is this project feasible?")]),
        [
            Button(_("Feasible"), RoundAction(round_.id or 0, "yes", p.id).pack()),
            Button(_("Not feasible"), RoundAction(round_.id or 0, "no", p.id).pack()),
        ],
    )


@router.state(ProjectForm.verdict)
@guarded("budgetronde", Verdict)
async def verdict(ctx: Ctx) -> None:
    draft = Verdict.of(ctx)
    feasible = draft.edit == "yes"
    if feasible and ctx.event.kind == "button" and ctx.event.button_data == "none":
        reason = ""
    else:
        reason = await read_description(ctx) or ""
        if not reason:
            return
    round_id, project_id = draft.round_id, draft.project_id
    round_ = await round_for(ctx, round_id)
    if not await editable(ctx, round_):
        return
    p = await _proposal(ctx, round_, project_id)
    await budgets.set_feasibility(ctx.session, round_, p, feasible, reason)
    assert ctx.person is not None
    await audit.record(
        ctx.session, ctx.person.id, "budget.feasibility", "budgetproject", p.id, feasible=feasible
    )
    ctx.dialog.clear()
    proposer = await ctx.session.get(Person, p.proposer_id) if p.proposer_id else None
    told = False
    if proposer is not None:

        def render() -> str:
            if feasible:
                text = _(
                    "Good news: your proposal “{title}” for “{round}” is feasible. It will be on the ballot."
                ).format(title=p.title, round=round_.title)
                return text + (
                    "\n" + _("Note from the coordinator: {note}").format(note=reason)
                    if reason
                    else ""
                )
            return (
                _(
                    "Your proposal “{title}” for “{round}” is not feasible, so it will not be on the ballot."
                ).format(title=p.title, round=round_.title)
                + "\n"
                + _("The reason: {reason}").format(reason=reason)
            )

        told = await tell(ctx.session, proposer, render)
    done = _("{code} is marked feasible.") if feasible else _("{code} is marked not feasible.")
    msg = done.format(code=p.code)
    if told:
        msg += " " + _("The proposer will be told.")
    await ctx.reply(msg)
    await show_round(ctx, round_)
