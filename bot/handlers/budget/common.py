"""Pieces the budget dialogs share: reading amounts and descriptions, describing projects."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from bot.core.callbacks import CallbackData
from bot.core.context import Ctx
from bot.core.drafts import Draft
from bot.core.i18n import N_, _, compose, ngettext
from bot.core.text import MAX_TITLE
from bot.handlers.common import read_text
from bot.services.budget.text import MAX_DESCRIPTION, MAX_EUROS, euros, parse_euros
from storage.models import BudgetProject, BudgetRound

ROUND_PREFIX = "W-"


class VoteInRound(CallbackData, prefix="bvo"):
    """ "Vote" under a round that is open: `bvo:{round}`."""

    round: int | None = None


class ProposalAction(CallbackData, prefix="bud", hint=N_("Type /wijkbudget to start again.")):
    """`bud:sup:{project}` supports a proposal; `bud:new:{round}` proposes one."""

    verb: Literal["sup", "new"]
    target: int


class RoundAction(CallbackData, prefix="bro", hint=N_("Type /budgetronde to start again.")):
    """A coordinator's button on a round: `bro:new`, `bro:{round}:{action}[:{project}]`."""

    round: int | Literal["new"]
    action: (
        Literal[
            "show",
            "budget",
            "ballot",
            "rule",
            "voters",
            "project",
            "times",
            "check",
            "yes",
            "no",
            "close",
            "extend",
        ]
        | None
    ) = None
    project: int | None = None


def round_ref(round_: BudgetRound) -> str:
    return f"{ROUND_PREFIX}{round_.id}"


async def read_euros(ctx: Ctx, *, at_most: int | None = None) -> int | None:
    """Whole euros typed by the user; None (and a kind reply saying why) when unusable."""
    if ctx.event.kind != "text":
        await ctx.reply(
            _("Please type an amount in euros, for example 12.500."), [ctx.cancel_button()]
        )
        return None
    amount = parse_euros(ctx.event.text)
    problem = amount.problem
    if amount.euros is not None and at_most is not None and amount.euros > at_most:
        await ctx.reply(
            _("That is more than the whole budget of {budget}. Please type a lower amount.").format(
                budget=euros(at_most)
            ),
            [ctx.cancel_button()],
        )
        return None
    if problem is None:
        return amount.euros
    messages = {
        "not_a_number": _("I could not read that as an amount. Type only the number of euros, for example 12.500."),
        "negative": _("An amount cannot be negative. Type a number of euros, for example 12.500."),
        "zero": _("The amount must be more than zero euros."),
        "too_large": _("That amount is too large. The most I accept is {max}.").format(max=euros(MAX_EUROS)),
        "cents": _("Please use whole euros, without cents."),
    }  # fmt: skip
    await ctx.reply(messages[problem], [ctx.cancel_button()])
    return None


async def read_description(ctx: Ctx) -> str | None:
    text = await read_text(ctx)
    if text is None:
        return None
    if len(text) > MAX_DESCRIPTION:
        await ctx.reply(
            _(
                "That is too long for a short description ({count} characters). Keep it under {limit} characters."
            ).format(count=len(text), limit=MAX_DESCRIPTION),
            [ctx.cancel_button()],
        )
        return None
    return text


def feasibility_text(project: BudgetProject) -> str:
    if project.feasible is True:
        return _("feasible")
    if project.feasible is False:
        return _("not feasible: {reason}").format(reason=project.feasibility_reason or "–")
    if project.proposer_id is None:
        return _("on the ballot")
    return _("not checked yet")


def project_line(project: BudgetProject, supporters: int | None = None, mark: str = "•") -> str:
    """ "• 2 Moestuin – €30.000"; in Arabic code, title and amount each keep their order."""
    line = compose(
        mark + " {code} {title} – {cost}",
        code=project.code, title=project.title, cost=euros(project.cost),
    )  # fmt: skip
    if supporters is not None:
        line += " – " + ngettext("{n} supporter", "{n} supporters", supporters).format(n=supporters)
    return line


def data_basket(ctx: Ctx) -> dict[str, int]:
    """The basket the dialog holds ({project id: points}); garbled entries are dropped.

    Not a `Draft` on purpose: a voter's basket is forgiving, one garbled entry is dropped
    and the voter sees (and checks) the basket before confirming, rather than starting over.
    """
    raw = ctx.dialog.data.get("basket")
    if not isinstance(raw, dict):
        return {}
    return {
        str(k): v
        for k, v in raw.items()
        if isinstance(v, int) and not isinstance(v, bool) and v > 0
    }


# --- drafts: what a budget dialog holds between messages (see bot.core.drafts) ---------------

Title = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TITLE)]
Description = Annotated[str, StringConstraints(min_length=1, max_length=MAX_DESCRIPTION)]
Euros = Annotated[int, Field(ge=1, le=MAX_EUROS)]


class InRound(Draft):
    """A step about one round."""

    round_id: int


class Titled(InRound):
    """A project being written (a proposal, or one a coordinator adds): its title."""

    title: Title


class Described(Titled):
    description: Description


class Costed(Described):
    cost: Euros


class Planned(InRound):
    """Planning the vote: when it opens, then when it closes."""

    opens_at: AwareDatetime


class PlannedBoth(Planned):
    closes_at: AwareDatetime


class Verdict(InRound):
    """A feasibility verdict on a proposal, with a note to come."""

    project_id: int
    edit: Literal["yes", "no"]


class Voting(InRound):
    """A vote in progress: as a member, or with a letter code."""

    mode: Literal["person", "code"]
    code: Annotated[str, StringConstraints(min_length=1)] | None = None
