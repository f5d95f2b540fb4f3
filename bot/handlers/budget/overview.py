"""Looking at a round, and the checks every change of a round makes first."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.errors import UserFacingError
from bot.core.events import Button
from bot.core.i18n import _, ngettext, when
from bot.handlers.budget.common import (
    RoundAction,
    feasibility_text,
    project_line,
    round_ref,
)
from bot.services.budget.rounds import (
    ballot_rules,
    results_text,
    rule_text,
    voters_text,
)
from bot.services.budget.text import euros
from storage.models import BudgetRound, Neighbourhood
from storage.repo import budgets

CHECKS_SHOWN = 3  # the oldest proposals waiting for a check; with five actions: eight buttons


def phase_name(round_: BudgetRound) -> str:
    labels = {
        "proposals": _("proposals"),
        "voting": _("voting"),
        "closed": _("closed"),
        "results": _("results published"),
    }
    return labels.get(round_.phase, round_.phase)


async def round_for(ctx: Ctx, round_id: int) -> BudgetRound:
    """The round, if this coordinator may manage it; otherwise a kind refusal."""
    found = await budgets.get_round(ctx.session, round_id)
    if found is None or found.neighbourhood_id not in ctx.coordinator_of:
        raise UserFacingError(_("I can't find that budget round. Type /budgetronde to see yours."))
    return found


def locked_text(round_: BudgetRound) -> str:
    return _(
        "Voting for “{title}” has opened, so its rules and projects are locked. Nothing was changed."
    ).format(title=round_.title)


async def editable(ctx: Ctx, round_: BudgetRound) -> bool:
    if round_.locked or round_.phase != "proposals":
        ctx.dialog.clear()
        await ctx.reply(locked_text(round_))
        return False
    return True


async def show_round(ctx: Ctx, round_: BudgetRound) -> None:
    assert round_.id is not None
    hood = await ctx.session.get(Neighbourhood, round_.neighbourhood_id)
    projects = await budgets.projects_of(ctx.session, round_.id)
    if round_.phase == "results" and round_.result is not None:
        await ctx.reply(results_text(round_, hood.name if hood else "", projects))
        return
    supports = await budgets.support_counts(ctx.session, round_.id)
    lines = [
        f"{round_ref(round_)} “{round_.title}” · {hood.name if hood else ''}",
        _("Phase: {phase}").format(phase=phase_name(round_)),
        _("Budget: {budget}").format(budget=euros(round_.budget)),
        _("Ballot: {rules}").format(rules=ballot_rules(round_)),
        _("Counting: {rule}").format(rule=rule_text(round_.counting_rule)),
        _("Who may vote: {voters}").format(voters=voters_text(round_)),
    ]
    if round_.opens_at is not None and round_.closes_at is not None:
        lines.append(
            _("Voting: from {start} to {end}").format(
                start=when(round_.opens_at), end=when(round_.closes_at)
            )
        )
    else:
        lines.append(_("Voting: not planned yet"))
    lines.append(_("Projects:") if projects else _("No projects yet."))
    for p in projects:
        count = supports.get(p.id or 0) if p.proposer_id is not None else None
        lines.append(project_line(p, count) + f" – {feasibility_text(p)}")
    if round_.phase in ("voting", "closed"):
        voted = await budgets.turnout(ctx.session, round_.id)
        lines.append(
            ngettext("{n} person has voted so far.", "{n} people have voted so far.", voted).format(
                n=voted
            )
            + " "
            + _("Totals are shown only after voting closes.")
        )
    buttons: list[Button] = []
    if not round_.locked and round_.phase == "proposals":
        waiting = [p for p in projects if p.proposer_id is not None and p.feasible is None]
        if len(waiting) > CHECKS_SHOWN:
            lines.append(
                ngettext(
                    "{n} proposal waits for a check; the oldest come first.",
                    "{n} proposals wait for a check; the oldest come first.",
                    len(waiting),
                ).format(n=len(waiting))
            )
        for p in waiting[:CHECKS_SHOWN]:
            buttons.append(
                Button(
                    _("Check {code} {title}").format(code=p.code, title=p.title)[:60],
                    RoundAction(round_.id or 0, "check", p.id).pack(),
                )
            )
        rid = round_.id
        buttons += [
            Button(_("Add a project"), RoundAction(rid, "project").pack()),
            Button(_("Plan voting"), RoundAction(rid, "times").pack()),
            Button(_("Change budget"), RoundAction(rid, "budget").pack()),
            Button(_("Change ballot"), RoundAction(rid, "ballot").pack()),
            Button(_("Change counting"), RoundAction(rid, "rule").pack()),
            Button(_("Change who may vote"), RoundAction(rid, "voters").pack()),
        ]
    if round_.phase == "voting" and not budgets.is_closed(round_, ctx.clock.now()):
        buttons += [
            Button(_("Change closing time"), RoundAction(round_.id, "extend").pack()),
            Button(_("Close voting now"), RoundAction(round_.id, "close").pack()),
        ]
    await ctx.reply("\n".join(lines), buttons)
