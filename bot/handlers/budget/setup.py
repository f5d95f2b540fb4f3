"""A new round and its rules: neighbourhood, title, budget, ballot, counting rule."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, ValidationError, model_validator

from bot.core.context import Ctx
from bot.core.drafts import Draft, one_of
from bot.core.errors import UserFacingError
from bot.core.events import Button
from bot.core.i18n import N_, _
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.core.text import whole_number
from bot.handlers.budget.common import Euros, Title, read_euros, round_ref
from bot.handlers.budget.overview import locked_text, round_for, show_round
from bot.handlers.common import guarded, lost, please_choose, read_text
from bot.services.budget import round_rules
from bot.services.budget.round_rules import COUNTING_RULES
from bot.services.budget.rounds import BALLOT_LABELS, RULE_LABELS, VOTERS_CHOICES, rule_name
from bot.services.budget.text import parse_count
from storage.repo import audit, places
from storage.repo.budgets import BALLOT_TYPES, VOTERS, BudgetError

router = Router("budget_setup")

BallotType = Annotated[str, AfterValidator(one_of(BALLOT_TYPES))]
CountingRule = Annotated[str, AfterValidator(one_of(COUNTING_RULES))]
MAX_POINTS = 1000
MAX_PROJECTS = 100


class RoundSetup(Draft):
    """What a new round's setup, or a change of a round's rules, has gathered so far: each
    field as its step checked it, absent until that step was answered."""

    neighbourhood_id: int | None = None
    title: Title | None = None
    budget: Euros | None = None
    ballot_type: BallotType | None = None
    min_projects: int = Field(1, ge=1, le=MAX_POINTS)  # at most `points` with points
    max_projects: int | None = Field(None, ge=1, le=MAX_PROJECTS)
    points: int | None = Field(None, ge=1, le=MAX_POINTS)
    counting_rule: CountingRule | None = None
    # A change of an existing round (from its menu): which rule, of which round.
    edit: Literal["budget", "ballot", "rule", "voters"] | None = None
    round_id: int | None = None

    @model_validator(mode="after")
    def _edits_a_round(self) -> Self:
        if self.edit is not None and self.round_id is None:
            raise ValueError("a change of rules without its round")
        return self


class NewRound(RoundSetup):
    """A new round at its last step: everything the earlier steps asked."""

    neighbourhood_id: int
    title: Title
    budget: Euros
    ballot_type: BallotType
    counting_rule: CountingRule


step = guarded("budgetronde", RoundSetup)


class SetupForm(StatesGroup):
    """A new round's steps (and a change of its rules); the names are the ones dialogs stored."""

    interrupted = N_("You were setting up a budget round.")

    # Named as the one RoundForm before it, so dialogs in progress at an upgrade go on.
    hood = State("RoundForm.hood")
    title = State("RoundForm.title")
    budget = State("RoundForm.budget")
    ballot = State("RoundForm.ballot")
    low = State("RoundForm.low")
    high = State("RoundForm.high")
    points = State("RoundForm.points")
    rule = State("RoundForm.rule")
    voters = State("RoundForm.voters")


async def start_new(ctx: Ctx) -> None:
    ctx.dialog.clear()
    if len(ctx.coordinator_of) > 1:
        hoods = [await places.neighbourhood(ctx.session, i) for i in ctx.coordinator_of]
        buttons = [ctx.choice(SetupForm.hood, h.name, str(h.id)) for h in hoods if h is not None]
        await ctx.ask(_("For which neighbourhood is the round?"), SetupForm.hood, buttons)
        return
    await ctx.ask(
        _("What is the title of the round? For example: Schalkwijk aan Zet 2027."),
        SetupForm.title,
        neighbourhood_id=ctx.coordinator_of[0],
    )


@router.state(SetupForm.hood)
async def new_hood(ctx: Ctx) -> None:
    value = ctx.event.button_data if ctx.event.kind == "button" else None
    hood_id = whole_number(value or "")
    if hood_id is None or hood_id not in ctx.coordinator_of:
        await ctx.reply(_("Please choose one of the buttons."), list(ctx.dialog.choices))
        return
    await ctx.ask(
        _("What is the title of the round? For example: Schalkwijk aan Zet 2027."),
        SetupForm.title,
        neighbourhood_id=hood_id,
    )


@router.state(SetupForm.title)
@step
async def new_title(ctx: Ctx) -> None:
    title = await read_text(ctx, title=True)
    if title is None:
        return
    await ctx.ask(
        _("What is the total budget in euros? For example: 70.000"), SetupForm.budget, title=title
    )


@router.state(SetupForm.budget)
@step
async def new_budget(ctx: Ctx) -> None:
    amount = await read_euros(ctx)
    if amount is None:
        return
    if RoundSetup.of(ctx).edit == "budget":
        await apply(ctx, budget=amount)
        return
    ctx.dialog.update(budget=amount)
    await ask_ballot(ctx)


async def ask_ballot(ctx: Ctx, **data: object) -> None:
    buttons = [ctx.choice(SetupForm.ballot, _(BALLOT_LABELS[b]), b) for b in BALLOT_TYPES]
    await ctx.ask(_("How do residents vote?"), SetupForm.ballot, buttons, **data)


@router.state(SetupForm.ballot)
@step
async def new_ballot(ctx: Ctx) -> None:
    value = ctx.event.button_data if ctx.event.kind == "button" else None
    if value not in BALLOT_TYPES:
        buttons = [ctx.choice(SetupForm.ballot, _(BALLOT_LABELS[b]), b) for b in BALLOT_TYPES]
        await please_choose(ctx, buttons)
        return
    ctx.dialog.update(ballot_type=value, min_projects=1, max_projects=None, points=None)
    if value == "approval":
        await ask_number(ctx, _("At least how many projects must a voter choose?"), SetupForm.low)
    elif value == "cumulative":
        await ask_number(
            ctx, _("How many points can each voter divide? For example: 10"), SetupForm.points
        )
    else:
        await ballot_done(ctx)


async def ask_number(ctx: Ctx, question: str, state: State) -> None:
    """A question answered with a small number: no buttons, as a typed 1 or 2 would press one."""
    ctx.dialog.goto(state)
    await ctx.reply(question + "\n" + _("Type a number. To stop, type /stop."))


@router.state(SetupForm.points)
@step
async def new_points(ctx: Ctx) -> None:
    n = parse_count(ctx.event.text, low=1, high=MAX_POINTS) if ctx.event.kind == "text" else None
    if n is None:
        await ctx.reply(
            _("Please type a whole number from {low} to {high}.").format(low=1, high=MAX_POINTS)
        )
        return
    ctx.dialog.update(points=n)
    await ask_number(
        ctx, _("Over at least how many projects must a voter divide the points?"), SetupForm.low
    )


@router.state(SetupForm.low)
@step
async def new_low(ctx: Ctx) -> None:
    draft = RoundSetup.of(ctx)
    high = draft.points or MAX_PROJECTS
    n = parse_count(ctx.event.text, low=1, high=high) if ctx.event.kind == "text" else None
    if n is None:
        await ctx.reply(
            _("Please type a whole number from {low} to {high}.").format(low=1, high=high)
        )
        return
    ctx.dialog.update(min_projects=n)
    if draft.ballot_type == "approval":
        await ask_number(
            ctx,
            _("At most how many projects may a voter choose? Type 0 for no maximum."),
            SetupForm.high,
        )
        return
    await ballot_done(ctx)


@router.state(SetupForm.high)
@step
async def new_high(ctx: Ctx) -> None:
    low = RoundSetup.of(ctx).min_projects
    if ctx.event.kind == "text" and ctx.event.text.strip() == "0":
        ctx.dialog.update(max_projects=None)
    else:
        n = parse_count(ctx.event.text, low=low, high=MAX_PROJECTS)
        if ctx.event.kind != "text" or n is None:
            await ctx.reply(
                _("Please type a whole number from {low} to {high}.").format(
                    low=low, high=MAX_PROJECTS
                )
                + " "
                + _("Type 0 for no maximum.")
            )
            return
        ctx.dialog.update(max_projects=n)
    await ballot_done(ctx)


async def ballot_done(ctx: Ctx) -> None:
    draft = RoundSetup.of(ctx)
    if draft.ballot_type is None:
        await lost(ctx, "budgetronde")
        return
    if draft.edit == "ballot":
        await apply(
            ctx,
            ballot_type=draft.ballot_type,
            min_projects=draft.min_projects,
            max_projects=draft.max_projects,
            points=draft.points,
        )
        return
    await ask_rule(ctx)


def _rule_buttons(ctx: Ctx) -> list[Button]:
    return [ctx.choice(SetupForm.rule, rule_name(rule), rule) for rule in COUNTING_RULES]


async def ask_rule(ctx: Ctx, **data: object) -> None:
    lines = [_("How are the votes counted?")]
    lines += [f"{rule_name(rule)}: {_(RULE_LABELS[rule])}." for rule in COUNTING_RULES]
    await ctx.ask("\n".join(lines), SetupForm.rule, _rule_buttons(ctx), **data)


@router.state(SetupForm.rule)
@step
async def new_rule(ctx: Ctx) -> None:
    value = ctx.event.button_data if ctx.event.kind == "button" else ctx.event.text.strip().lower()
    if value not in COUNTING_RULES:
        await please_choose(ctx, _rule_buttons(ctx))
        return
    if RoundSetup.of(ctx).edit == "rule":
        await apply(ctx, counting_rule=value)
        return
    await ask_voters(ctx, counting_rule=value)


def _voters_buttons(ctx: Ctx) -> list[Button]:
    return [ctx.choice(SetupForm.voters, _(VOTERS_CHOICES[v]), v) for v in VOTERS]


async def ask_voters(ctx: Ctx, **data: object) -> None:
    lines = [
        _("Who may vote?"),
        _(
            "Codes: every resident gets a letter with a code (you make the codes with “wijkbot budget codes”). Use this for a binding vote: one person, one vote."
        ),
        _(
            "Members: everyone who chose this neighbourhood with /wijk before voting opens. Anyone can say they live here, so this is only for an informal vote; the ballot and the results say so."
        ),
    ]
    await ctx.ask("\n".join(lines), SetupForm.voters, _voters_buttons(ctx), **data)


@router.state(SetupForm.voters)
@step
async def new_voters(ctx: Ctx) -> None:
    value = ctx.event.button_data if ctx.event.kind == "button" else None
    if value not in VOTERS:
        await please_choose(ctx, _voters_buttons(ctx))
        return
    if RoundSetup.of(ctx).edit == "voters":
        await apply(ctx, voters=value)
        return
    try:
        draft = NewRound.of(ctx)
    except ValidationError:
        await lost(ctx, "budgetronde")
        return
    person = ctx.person
    if person is None or draft.neighbourhood_id not in ctx.coordinator_of:
        raise UserFacingError(_("Only a coordinator of the neighbourhood can do this."))
    try:
        round_ = await round_rules.create_round(
            ctx.session,
            neighbourhood_id=draft.neighbourhood_id,
            title=draft.title,
            budget=draft.budget,
            counting_rule=draft.counting_rule,
            ballot_type=draft.ballot_type,
            min_projects=draft.min_projects,
            max_projects=draft.max_projects,
            points=draft.points,
            voters=value,
        )
    except BudgetError:
        ctx.dialog.clear()
        await ctx.reply(
            _("These settings do not fit together. Please start again with /budgetronde.")
        )
        return
    await audit.record(ctx.session, person.id, "budget.create", "budgetround", round_.id)
    ctx.dialog.clear()
    await ctx.reply(
        _(
            "The round {ref} “{title}” is ready. Residents can now propose projects with /wijkbudget."
        ).format(ref=round_ref(round_), title=round_.title)
    )
    await show_round(ctx, round_)


async def apply(ctx: Ctx, **changes: object) -> None:
    """Change the rules of an existing round (the dialog's `round_id`)."""
    round_id = RoundSetup.of(ctx).round_id
    if round_id is None:
        await lost(ctx, "budgetronde")
        return
    round_ = await round_for(ctx, round_id)
    ctx.dialog.clear()
    try:
        await round_rules.update_rules(ctx.session, round_, **changes)  # type: ignore[arg-type]
    except BudgetError:
        if round_.locked:
            await ctx.reply(locked_text(round_))
        else:
            await ctx.reply(_("These settings do not fit together. Nothing was changed."))
        return
    assert ctx.person is not None
    await audit.record(ctx.session, ctx.person.id, "budget.rules", "budgetround", round_.id)
    await ctx.reply(_("Saved."))
    await show_round(ctx, round_)
