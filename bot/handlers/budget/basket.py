"""Choosing: the basket with a meter of what is left, changed one button at a time, then a summary to confirm."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from bot.core.context import Ctx
from bot.core.events import Button
from bot.core.i18n import N_, _, ngettext, when
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.handlers.budget.common import InRound, data_basket, project_line, round_ref
from bot.services.budget.rounds import ballot_rules, voters_text
from bot.services.budget.text import euros
from storage.models import BudgetProject, BudgetRound
from storage.repo import budgets

router = Router("budget_basket")


class BallotForm(StatesGroup):
    """Choosing and confirming (named as before the split, so dialogs in progress go on)."""

    interrupted = N_("You were voting.")

    basket = State("VoteForm.basket")
    confirm = State("VoteForm.confirm")


async def not_open(ctx: Ctx, round_: BudgetRound) -> None:
    if budgets.is_closed(round_, ctx.clock.now()):
        await ctx.reply(
            _("Voting for “{title}” has closed. Your vote can no longer be counted.").format(
                title=round_.title
            )
        )
    elif round_.opens_at is not None:
        await ctx.reply(
            _("Voting for “{title}” has not started yet. It opens on {when}.").format(
                title=round_.title, when=when(round_.opens_at)
            )
        )
    else:
        await ctx.reply(_("Voting for “{title}” has not started yet.").format(title=round_.title))


async def ballot_projects(ctx: Ctx, round_: BudgetRound) -> list[BudgetProject]:
    return [
        p for p in await budgets.projects_of(ctx.session, round_.id or 0) if budgets.on_ballot(p)
    ]


async def start_basket(ctx: Ctx, round_: BudgetRound, **data: Any) -> None:
    ctx.dialog.goto(BallotForm.basket, round_id=round_.id, basket={}, **data)
    await show_basket(ctx, round_, await ballot_projects(ctx, round_), {}, intro=True)


def meter(round_: BudgetRound, projects: list[BudgetProject], basket: dict[str, int]) -> str:
    if round_.ballot_type == "knapsack":
        spent = sum(p.cost for p in projects if p.code in basket)
        return _("In your basket: {spent} of {budget}").format(
            spent=euros(spent), budget=euros(round_.budget)
        )
    if round_.ballot_type == "cumulative":
        return _("Points given: {given} of {points}").format(
            given=sum(basket.values()), points=round_.points
        )
    return ngettext("You chose {n} project.", "You chose {n} projects.", len(basket)).format(
        n=len(basket)
    )


def _short(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def show_basket(
    ctx: Ctx,
    round_: BudgetRound,
    projects: list[BudgetProject],
    basket: dict[str, int],
    *,
    note: str = "",
    intro: bool = False,
) -> None:
    lines = []
    if intro:
        lines += [
            _("Vote in “{title}” ({ref}).").format(title=round_.title, ref=round_ref(round_)),
            ballot_rules(round_),
            _("Who may vote: {voters}.").format(voters=voters_text(round_)),
            _("Add and remove projects with the buttons. Nothing is final until you confirm."),
            "",
        ]
    points = round_.ballot_type == "cumulative"
    buttons: list[Button] = []
    for p in projects:
        chosen = basket.get(p.code, 0)
        mark = "✓" if chosen else "·"
        extra = (
            " – " + ngettext("{n} point", "{n} points", chosen).format(n=chosen)
            if points and chosen
            else ""
        )
        lines.append(project_line(p, mark=mark) + extra)
        if p.description:
            lines.append(f"   {_short(p.description, 100)}")
        label = f"{p.code} {_short(p.title)}"
        if points:
            buttons.append(ctx.choice(BallotForm.basket, "+1 " + label, f"add:{p.code}"))
            if chosen:
                buttons.append(ctx.choice(BallotForm.basket, "−1 " + label, f"del:{p.code}"))
        elif chosen:
            buttons.append(
                ctx.choice(
                    BallotForm.basket, _("Remove {project}").format(project=label), f"del:{p.code}"
                )
            )
        else:
            buttons.append(
                ctx.choice(
                    BallotForm.basket, _("Add {project}").format(project=label), f"add:{p.code}"
                )
            )
    lines += ["", meter(round_, projects, basket)]
    if note:
        lines += ["", note]
    buttons += [ctx.choice(BallotForm.basket, _("Check my vote"), "done"), ctx.cancel_button()]
    text = "\n".join(lines)
    if intro:
        await ctx.reply(text, buttons)
    else:
        await ctx.edit(text, buttons)


async def current_basket(
    ctx: Ctx,
) -> tuple[BudgetRound, list[BudgetProject], dict[str, int]] | None:
    # A lost round reads as "no vote open": said kindly below, as for a round that closed.
    try:
        round_id = InRound.of(ctx).round_id
    except ValidationError:
        round_id = 0
    round_ = await budgets.get_round(ctx.session, round_id)
    if round_ is None or not budgets.accepts_votes(round_, ctx.clock.now()):
        ctx.dialog.clear()
        if round_ is None:
            await ctx.reply(_("There is no neighbourhood budget vote open right now."))
        else:
            await not_open(ctx, round_)
        return None
    basket = data_basket(ctx)
    return round_, await ballot_projects(ctx, round_), basket


def _change(
    round_: BudgetRound,
    projects: list[BudgetProject],
    basket: dict[str, int],
    action: str,
    code: str,
) -> str:
    """Apply one press to the basket; a note when it cannot be done."""
    by_code = {p.code: p for p in projects}
    project = by_code.get(code)
    if project is None:
        return _("That project is not on the ballot.")
    if action == "del":
        if basket.get(code, 0) > 1:
            basket[code] -= 1
        else:
            basket.pop(code, None)
        return ""
    if round_.ballot_type == "cumulative":
        if sum(basket.values()) >= (round_.points or 0):
            return ngettext(
                "You have given your {points} point. Take it away first.",
                "You have given all {points} points. Take a point away first.",
                round_.points or 0,
            ).format(points=round_.points)
        basket[code] = basket.get(code, 0) + 1
        return ""
    if code in basket:
        return ""
    if round_.ballot_type == "knapsack":
        spent = sum(by_code[c].cost for c in basket if c in by_code)
        if spent + project.cost > round_.budget:
            return _(
                "{title} costs {cost}. That does not fit: {left} is left. Remove another project first."
            ).format(
                title=project.title, cost=euros(project.cost), left=euros(round_.budget - spent)
            )
    elif round_.max_projects is not None and len(basket) >= round_.max_projects:
        return ngettext(
            "You can choose at most {n} project. Remove it first.",
            "You can choose at most {n} projects. Remove one first.",
            round_.max_projects,
        ).format(n=round_.max_projects)
    basket[code] = 1
    return ""


def basket_problem(
    round_: BudgetRound, projects: list[BudgetProject], basket: dict[str, int]
) -> str:
    """Why the basket cannot be a ballot yet ("" when it can)."""
    if not basket:
        return _("Your basket is empty. Choose at least one project.")
    if round_.ballot_type == "knapsack":
        spent = sum(p.cost for p in projects if p.code in basket)
        if spent > round_.budget:
            return _(
                "Your basket costs {spent}, more than the budget of {budget}. Remove a project."
            ).format(spent=euros(spent), budget=euros(round_.budget))
        return ""
    if len(basket) < round_.min_projects:
        return ngettext(
            "Choose at least {n} project.", "Choose at least {n} projects.", round_.min_projects
        ).format(n=round_.min_projects)
    if (
        round_.max_projects is not None
        and round_.ballot_type == "approval"
        and len(basket) > round_.max_projects
    ):
        return ngettext(
            "You can choose at most {n} project. Remove it first.",
            "You can choose at most {n} projects. Remove one first.",
            round_.max_projects,
        ).format(n=round_.max_projects)
    return ""


@router.state(BallotForm.basket)
async def basket_pressed(ctx: Ctx) -> None:
    current = await current_basket(ctx)
    if current is None:
        return
    round_, projects, basket = current
    value = ctx.event.button_data if ctx.event.kind == "button" else None
    if value is None:
        await show_basket(
            ctx,
            round_,
            projects,
            basket,
            note=_("Please use the buttons to add or remove projects."),
        )
        return
    if value == "done":
        problem = basket_problem(round_, projects, basket)
        if problem:
            await show_basket(ctx, round_, projects, basket, note=problem)
            return
        await show_summary(ctx, round_, projects, basket)
        return
    action, _sep, code = value.partition(":")
    note = _change(round_, projects, basket, action, code) if action in ("add", "del") else ""
    ctx.dialog.update(basket=basket)
    await show_basket(ctx, round_, projects, basket, note=note)


async def show_summary(
    ctx: Ctx, round_: BudgetRound, projects: list[BudgetProject], basket: dict[str, int]
) -> None:
    lines = [_("Your vote in “{title}”:").format(title=round_.title)]
    for p in projects:
        if p.code in basket:
            extra = (
                " – " + ngettext("{n} point", "{n} points", basket[p.code]).format(n=basket[p.code])
                if round_.ballot_type == "cumulative"
                else ""
            )
            lines.append(project_line(p, mark="✓") + extra)
    lines += [
        meter(round_, projects, basket),
        "",
        _("When you confirm, your vote is final. You cannot change it afterwards."),
        _("Your vote is secret: it is stored without your name."),
    ]
    ctx.dialog.goto(BallotForm.confirm)
    await ctx.edit(
        "\n".join(lines),
        [
            ctx.choice(BallotForm.confirm, _("Confirm my vote"), "yes"),
            ctx.choice(BallotForm.confirm, _("Change my choice"), "back"),
            ctx.cancel_button(),
        ],
    )
