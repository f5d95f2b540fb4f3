"""Coordinators run a budget round in chat: settings, projects, feasibility, voting times.

The rules are locked once voting opens: every change is refused from then on. Totals are
shown only after closing; before that a coordinator sees how many have voted, nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.core.callbacks import StaleButton
from bot.core.context import Ctx
from bot.core.errors import UserFacingError
from bot.core.events import Button
from bot.core.i18n import _, ngettext, when
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.delivery.notify import tell
from bot.handlers.budget.common import (
    RoundAction,
    data_int,
    data_str,
    feasibility_text,
    project_line,
    read_description,
    read_euros,
    round_ref,
)
from bot.handlers.common import lost, please_choose, read_text
from bot.services.budget import round_rules
from bot.services.budget.round_rules import COUNTING_RULES
from bot.services.budget.rounds import (
    BALLOT_LABELS,
    RULE_LABELS,
    ballot_rules,
    open_round,
    results_text,
)
from bot.services.budget.text import euros, parse_count, parse_moment
from storage.models import BudgetProject, BudgetRound, Neighbourhood, Person
from storage.repo import audit, budgets, places
from storage.repo.budgets import BALLOT_TYPES, BudgetError

router = Router("budget_manage")


class RoundForm(StatesGroup):
    hood = State()
    title = State()
    budget = State()
    ballot = State()
    low = State()
    high = State()
    points = State()
    rule = State()
    p_title = State()
    p_text = State()
    p_cost = State()
    opens = State()
    closes = State()
    verdict = State()


def _phase(round_: BudgetRound) -> str:
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


def _locked_text(round_: BudgetRound) -> str:
    return _(
        "Voting for “{title}” has opened, so its rules and projects are locked. Nothing was changed."
    ).format(title=round_.title)


async def editable(ctx: Ctx, round_: BudgetRound) -> bool:
    if round_.locked or round_.phase != "proposals":
        ctx.dialog.clear()
        await ctx.reply(_locked_text(round_))
        return False
    return True


@router.command("budgetronde", "budgetround", role="coordinator")
async def list_rounds(ctx: Ctx) -> None:
    found = await budgets.rounds_in(ctx.session, ctx.coordinator_of)
    buttons = [
        Button(f"{round_ref(r)} {r.title}"[:60], RoundAction(r.id or 0, "show").pack())
        for r in found[:8]
    ]
    buttons.append(Button(_("New budget round"), RoundAction("new").pack()))
    if not found:
        text = _("There are no budget rounds yet in your neighbourhood. Start one?")
    else:
        text = _("Budget rounds in your neighbourhood. Choose one to manage it:")
        text += "\n" + "\n".join(f"{round_ref(r)} {r.title} · {_phase(r)}" for r in found[:8])
    await ctx.reply(text, buttons)


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
    if not await editable(ctx, round_):
        return
    data = {"round_id": round_.id, "edit": action}
    if action == "budget":
        await ctx.ask(_("What is the new total budget in euros?"), RoundForm.budget, [], **data)
    elif action == "ballot":
        await ask_ballot(ctx, **data)
    elif action == "rule":
        await ask_rule(ctx, **data)
    elif action == "project":
        await ctx.ask(_("What is the title of the project?"), RoundForm.p_title, [], **data)
    elif action == "times":
        await ask_opens(ctx, round_)
    elif action == "check" and pressed.project is not None:
        await show_proposal(ctx, round_, pressed.project)
    elif action in ("yes", "no") and pressed.project is not None:
        await ask_verdict_note(ctx, action == "yes", pressed.project, data)
    else:
        raise StaleButton(RoundAction.hint)


async def ask_verdict_note(
    ctx: Ctx, feasible: bool, project_id: int, data: Mapping[str, object]
) -> None:
    question = (
        _("Add a short note for the proposer, or choose No note.")
        if feasible
        else _("Why is it not feasible? The proposer will read this.")
    )
    skip = [ctx.choice(RoundForm.verdict, _("No note"), "none")] if feasible else []
    await ctx.ask(question, RoundForm.verdict, skip, **data, project_id=project_id)


# --- a new round ----------------------------------------------------------------------------


async def start_new(ctx: Ctx) -> None:
    ctx.dialog.clear()
    if len(ctx.coordinator_of) > 1:
        hoods = [await places.neighbourhood(ctx.session, i) for i in ctx.coordinator_of]
        buttons = [ctx.choice(RoundForm.hood, h.name, str(h.id)) for h in hoods if h is not None]
        await ctx.ask(_("For which neighbourhood is the round?"), RoundForm.hood, buttons)
        return
    await ctx.ask(
        _("What is the title of the round? For example: Schalkwijk aan Zet 2027."),
        RoundForm.title,
        neighbourhood_id=ctx.coordinator_of[0],
    )


@router.state(RoundForm.hood)
async def new_hood(ctx: Ctx) -> None:
    value = ctx.event.button_data if ctx.event.kind == "button" else None
    if value is None or not value.isdigit() or int(value) not in ctx.coordinator_of:
        await ctx.reply(_("Please choose one of the buttons."), list(ctx.dialog.choices))
        return
    await ctx.ask(
        _("What is the title of the round? For example: Schalkwijk aan Zet 2027."),
        RoundForm.title,
        neighbourhood_id=int(value),
    )


@router.state(RoundForm.title)
async def new_title(ctx: Ctx) -> None:
    title = await read_text(ctx, title=True)
    if title is None:
        return
    await ctx.ask(
        _("What is the total budget in euros? For example: 70.000"), RoundForm.budget, title=title
    )


@router.state(RoundForm.budget)
async def new_budget(ctx: Ctx) -> None:
    amount = await read_euros(ctx)
    if amount is None:
        return
    if ctx.dialog.data.get("edit") == "budget":
        await apply(ctx, budget=amount)
        return
    ctx.dialog.update(budget=amount)
    await ask_ballot(ctx)


async def ask_ballot(ctx: Ctx, **data: object) -> None:
    buttons = [ctx.choice(RoundForm.ballot, _(BALLOT_LABELS[b]), b) for b in BALLOT_TYPES]
    await ctx.ask(_("How do residents vote?"), RoundForm.ballot, buttons, **data)


@router.state(RoundForm.ballot)
async def new_ballot(ctx: Ctx) -> None:
    value = ctx.event.button_data if ctx.event.kind == "button" else None
    if value not in BALLOT_TYPES:
        buttons = [ctx.choice(RoundForm.ballot, _(BALLOT_LABELS[b]), b) for b in BALLOT_TYPES]
        await please_choose(ctx, buttons)
        return
    ctx.dialog.update(ballot_type=value, min_projects=1, max_projects=None, points=None)
    if value == "approval":
        await ask_number(ctx, _("At least how many projects must a voter choose?"), RoundForm.low)
    elif value == "cumulative":
        await ask_number(
            ctx, _("How many points can each voter divide? For example: 10"), RoundForm.points
        )
    else:
        await ballot_done(ctx)


async def ask_number(ctx: Ctx, question: str, state: State) -> None:
    """A question answered with a small number: no buttons, as a typed 1 or 2 would press one."""
    ctx.dialog.goto(state)
    await ctx.reply(question + "\n" + _("Type a number. To stop, type /stop."))


@router.state(RoundForm.points)
async def new_points(ctx: Ctx) -> None:
    n = parse_count(ctx.event.text, low=1, high=1000) if ctx.event.kind == "text" else None
    if n is None:
        await ctx.reply(
            _("Please type a whole number from {low} to {high}.").format(low=1, high=1000)
        )
        return
    ctx.dialog.update(points=n)
    await ask_number(
        ctx, _("Over at least how many projects must a voter divide the points?"), RoundForm.low
    )


@router.state(RoundForm.low)
async def new_low(ctx: Ctx) -> None:
    high = data_int(ctx, "points") or 100
    n = parse_count(ctx.event.text, low=1, high=high) if ctx.event.kind == "text" else None
    if n is None:
        await ctx.reply(
            _("Please type a whole number from {low} to {high}.").format(low=1, high=high)
        )
        return
    ctx.dialog.update(min_projects=n)
    if ctx.dialog.data.get("ballot_type") == "approval":
        await ask_number(
            ctx,
            _("At most how many projects may a voter choose? Type 0 for no maximum."),
            RoundForm.high,
        )
        return
    await ballot_done(ctx)


@router.state(RoundForm.high)
async def new_high(ctx: Ctx) -> None:
    low = data_int(ctx, "min_projects") or 1
    if ctx.event.kind == "text" and ctx.event.text.strip() == "0":
        ctx.dialog.update(max_projects=None)
    else:
        n = parse_count(ctx.event.text, low=low, high=100) if ctx.event.kind == "text" else None
        if n is None:
            await ctx.reply(
                _("Please type a whole number from {low} to {high}.").format(low=low, high=100)
                + " "
                + _("Type 0 for no maximum.")
            )
            return
        ctx.dialog.update(max_projects=n)
    await ballot_done(ctx)


async def ballot_done(ctx: Ctx) -> None:
    data = ctx.dialog.data
    if data.get("ballot_type") not in BALLOT_TYPES:
        await lost(ctx, "budgetronde")
        return
    if data.get("edit") == "ballot":
        await apply(
            ctx,
            ballot_type=data["ballot_type"],
            min_projects=data_int(ctx, "min_projects"),
            max_projects=data_int(ctx, "max_projects"),
            points=data_int(ctx, "points"),
        )
        return
    await ask_rule(ctx)


def _rule_buttons(ctx: Ctx) -> list[Button]:
    return [ctx.choice(RoundForm.rule, rule, rule) for rule in COUNTING_RULES]


async def ask_rule(ctx: Ctx, **data: object) -> None:
    lines = [_("How are the votes counted?")]
    lines += [f"{rule}: {_(RULE_LABELS[rule])}" for rule in COUNTING_RULES]
    await ctx.ask("\n".join(lines), RoundForm.rule, _rule_buttons(ctx), **data)


@router.state(RoundForm.rule)
async def new_rule(ctx: Ctx) -> None:
    value = ctx.event.button_data if ctx.event.kind == "button" else ctx.event.text.strip().lower()
    if value not in COUNTING_RULES:
        await please_choose(ctx, _rule_buttons(ctx))
        return
    data = ctx.dialog.data
    if data.get("edit") == "rule":
        await apply(ctx, counting_rule=value)
        return
    person = ctx.person
    hood_id, title, budget = (
        data_int(ctx, "neighbourhood_id"),
        data_str(ctx, "title"),
        data_int(ctx, "budget"),
    )
    ballot_type = data_str(ctx, "ballot_type")
    if hood_id is None or title is None or budget is None or ballot_type is None:
        await lost(ctx, "budgetronde")
        return
    if person is None or hood_id not in ctx.coordinator_of:
        raise UserFacingError(_("Only a coordinator of the neighbourhood can do this."))
    try:
        round_ = await round_rules.create_round(
            ctx.session,
            neighbourhood_id=hood_id,
            title=title[:200],
            budget=budget,
            counting_rule=value,
            ballot_type=ballot_type,
            min_projects=data_int(ctx, "min_projects") or 1,
            max_projects=data_int(ctx, "max_projects"),
            points=data_int(ctx, "points"),
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
    round_id = data_int(ctx, "round_id")
    if round_id is None:
        await lost(ctx, "budgetronde")
        return
    round_ = await round_for(ctx, round_id)
    ctx.dialog.clear()
    try:
        await round_rules.update_rules(ctx.session, round_, **changes)  # type: ignore[arg-type]
    except BudgetError:
        if round_.locked:
            await ctx.reply(_locked_text(round_))
        else:
            await ctx.reply(_("These settings do not fit together. Nothing was changed."))
        return
    assert ctx.person is not None
    await audit.record(ctx.session, ctx.person.id, "budget.rules", "budgetround", round_.id)
    await ctx.reply(_("Saved."))
    await show_round(ctx, round_)


# --- looking at a round ---------------------------------------------------------------------


async def show_round(ctx: Ctx, round_: BudgetRound) -> None:
    assert round_.id is not None
    hood = await ctx.session.get(Neighbourhood, round_.neighbourhood_id)
    projects = await budgets.projects_of(ctx.session, round_.id)
    if round_.phase == "results" and round_.result is not None:
        on_ballot = [p for p in projects if budgets.on_ballot(p)]
        await ctx.reply(results_text(round_, hood.name if hood else "", on_ballot))
        return
    supports = await budgets.support_counts(ctx.session, round_.id)
    lines = [
        f"{round_ref(round_)} “{round_.title}” · {hood.name if hood else ''}",
        _("Phase: {phase}").format(phase=_phase(round_)),
        _("Budget: {budget}").format(budget=euros(round_.budget)),
        _("Ballot: {rules}").format(rules=ballot_rules(round_)),
        _("Counting: {rule}").format(rule=_(RULE_LABELS[round_.counting_rule])),
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
        for p in projects:
            if p.proposer_id is not None and p.feasible is None:
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
        ]
    await ctx.reply("\n".join(lines), buttons)


# --- projects and feasibility ---------------------------------------------------------------


@router.state(RoundForm.p_title)
async def project_title(ctx: Ctx) -> None:
    title = await read_text(ctx, title=True)
    if title is None:
        return
    await ctx.ask(_("Describe the project in a few sentences."), RoundForm.p_text, title=title)


@router.state(RoundForm.p_text)
async def project_text(ctx: Ctx) -> None:
    text = await read_description(ctx)
    if text is None:
        return
    await ctx.ask(_("What does the project cost, in euros?"), RoundForm.p_cost, description=text)


@router.state(RoundForm.p_cost)
async def project_cost(ctx: Ctx) -> None:
    round_id, title = data_int(ctx, "round_id"), data_str(ctx, "title")
    description = ctx.dialog.data.get("description")
    if round_id is None or title is None or not isinstance(description, str):
        await lost(ctx, "budgetronde")
        return
    round_ = await round_for(ctx, round_id)
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
    found = await budgets.project(ctx.session, project_id)
    if found is None or found.round_id != round_.id:
        raise UserFacingError(_("That project no longer exists."))
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


@router.state(RoundForm.verdict)
async def verdict(ctx: Ctx) -> None:
    data = ctx.dialog.data
    feasible = data.get("edit") == "yes"
    if feasible and ctx.event.kind == "button" and ctx.event.button_data == "none":
        reason = ""
    else:
        reason = await read_description(ctx) or ""
        if not reason:
            return
    round_id, project_id = data_int(ctx, "round_id"), data_int(ctx, "project_id")
    if round_id is None or project_id is None:
        await lost(ctx, "budgetronde")
        return
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


# --- planning the vote ----------------------------------------------------------------------


async def ask_opens(ctx: Ctx, round_: BudgetRound) -> None:
    assert round_.id is not None
    if not any(budgets.on_ballot(p) for p in await budgets.projects_of(ctx.session, round_.id)):
        await ctx.reply(_("There are no projects on the ballot yet. Add a project first."))
        return
    await ctx.ask(
        _(
            "When does voting open? Type a day and time, for example 1-12-2026 19:00 (Dutch time). Or choose Now."
        ),
        RoundForm.opens,
        [ctx.choice(RoundForm.opens, _("Now"), "now")],
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


@router.state(RoundForm.opens)
async def plan_opens(ctx: Ctx) -> None:
    moment = await _read_moment(ctx, allow_now=True)
    if moment is None:
        return
    await ctx.ask(
        _("When does voting close? Type a day and time, for example 15-12-2026 20:00."),
        RoundForm.closes,
        [],
        opens_at=moment.isoformat(),
    )


@router.state(RoundForm.closes)
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
        await open_round(ctx.session, round_, ctx.settings.default_locale)
        text = _("Voting is open now and closes on {end}. The rules are locked.").format(
            end=when(moment)
        )
    await ctx.reply(text)
