"""/wijkbudget: the rounds of your neighbourhood; propose a project and support proposals."""

from __future__ import annotations

from bot.core.callbacks import CallbackData, StaleButton
from bot.core.context import Ctx
from bot.core.events import Button, Document, keyboard
from bot.core.i18n import N_, _, ngettext, when
from bot.core.paging import Page
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.delivery.notify import tell
from bot.handlers.budget.common import (
    Costed,
    Described,
    InRound,
    ProposalAction,
    Titled,
    VoteInRound,
    feasibility_text,
    project_line,
    read_description,
    read_euros,
    round_ref,
)
from bot.handlers.common import (
    ask_neighbourhood,
    free_at,
    guarded,
    home_of,
    please_choose,
    read_neighbourhood,
    read_text,
)
from bot.services import quotas
from bot.services.budget import results
from bot.services.budget.access import may_propose, may_support
from bot.services.budget.rounds import ballot_rules, results_text
from bot.services.budget.text import euros
from storage.models import BudgetProject, BudgetRound, Neighbourhood
from storage.repo import budgets, people, places
from storage.repo.budgets import BudgetError

router = Router("budget_propose")


PROPOSALS_PAGE = 7  # with Propose, Previous and Next: ten buttons


class ProposalsPage(CallbackData, prefix="bpp", hint=N_("Type /wijkbudget to start again.")):
    """Previous / Next under the proposals of a round."""

    round: int
    page: int


class BallotsFile(CallbackData, prefix="bbf", hint=N_("Type /wijkbudget to start again.")):
    """Under a round's results: the anonymous ballots as a Pabulib file, for anyone."""

    round: int


class ProposeForm(StatesGroup):
    interrupted = N_("You were proposing a project.")
    hood = State()
    title = State()
    text = State()
    cost = State()
    confirm = State()


@router.command("wijkbudget", "budget", "wijkaanzet")
async def show_budgets(ctx: Ctx) -> None:
    home = await home_of(ctx)
    if home is None:
        await ask_neighbourhood(ctx, ProposeForm.hood, _("Which neighbourhood do you live in?"))
        return
    await show_for(ctx, home)


@router.state(ProposeForm.hood)
async def picked_hood(ctx: Ctx) -> None:
    """The answer to "Which neighbourhood do you live in?": it becomes the person's home,
    so they can propose and support there (as with /wijk)."""
    chosen = await read_neighbourhood(ctx)
    if chosen is not None:
        person = await ctx.ensure_person()
        assert person.id is not None and chosen.id is not None
        await people.set_home(ctx.session, person.id, chosen.id)
        ctx.dialog.clear()
        await show_for(ctx, chosen)


async def show_for(ctx: Ctx, hood: Neighbourhood) -> None:
    assert hood.id is not None
    rounds = (await budgets.rounds_in(ctx.session, [hood.id]))[:3]
    if not rounds:
        await ctx.reply(
            _("There is no neighbourhood budget in {name} at the moment.").format(name=hood.name)
        )
        return
    for round_ in rounds:
        await show_round(ctx, round_, hood)


async def show_round(
    ctx: Ctx, round_: BudgetRound, hood: Neighbourhood, page: int | None = None
) -> None:
    """The round as residents see it; `page` of its proposals (then edited in place)."""
    assert round_.id is not None
    projects = await budgets.projects_of(ctx.session, round_.id)
    if round_.phase == "results" and round_.result is not None:
        download = Button(_("Download the ballots"), BallotsFile(round_.id).pack())
        await ctx.reply(results_text(round_, hood.name, projects), [download])
        return
    lines = [
        _("Neighbourhood budget {ref} “{title}” in {name}: {budget}").format(
            ref=round_ref(round_), title=round_.title, name=hood.name, budget=euros(round_.budget)
        )
    ]
    buttons: list[Button] = []
    if budgets.accepts_votes(round_, ctx.clock.now()):
        assert round_.closes_at is not None
        lines.append(_("Voting is open until {when}.").format(when=when(round_.closes_at)))
        lines.append(ballot_rules(round_))
        lines += [project_line(p) for p in projects if budgets.on_ballot(p)]
        buttons.append(Button(_("Vote"), VoteInRound(round_.id).pack()))
    elif round_.phase == "proposals":
        await show_proposals(ctx, round_, lines, projects, page)
        return
    else:
        lines.append(_("Voting has closed. The results follow soon."))
    await ctx.reply("\n".join(lines), buttons)


async def show_proposals(
    ctx: Ctx,
    round_: BudgetRound,
    lines: list[str],
    projects: list[BudgetProject],
    index: int | None,
) -> None:
    """A page of the projects proposed so far, each with a Support button, then Propose.

    The first page is a new message (/wijkbudget shows up to three rounds, one message
    each); Previous and Next edit it."""
    round_id = round_.id or 0
    supports = await budgets.support_counts(ctx.session, round_id)
    lines.append(_("You can propose a project now. Neighbours can support proposals."))
    if round_.opens_at is not None:
        lines.append(_("Voting opens on {when}.").format(when=when(round_.opens_at)))
    page = Page.at(index or 0, len(projects), PROPOSALS_PAGE)
    if page.total > page.size:
        lines.append(page.counter())
    buttons: list[Button] = []
    for p in projects[page.offset : page.offset + page.size]:
        own = p.proposer_id is not None
        count = supports.get(p.id or 0, 0) if own else None
        lines.append(project_line(p, count) + f" – {feasibility_text(p)}")
        if own and p.feasible is not False:
            buttons.append(
                Button(
                    _("Support {code}").format(code=p.code), ProposalAction("sup", p.id or 0).pack()
                )
            )
    buttons.append(Button(_("Propose a project"), ProposalAction("new", round_id).pack()))
    nav = page.buttons(lambda i: ProposalsPage(round_id, i).pack())
    send = ctx.reply if index is None else ctx.edit
    await send("\n".join(lines), keyboard(*buttons, nav))


@router.callback(BallotsFile)
async def ballots_file(ctx: Ctx) -> None:
    """The counted round's anonymous ballots as a file, with how to count them again."""
    round_ = await budgets.get_round(ctx.session, BallotsFile.of(ctx).round)
    if round_ is None or round_.phase != "results":
        await ctx.reply(_("The ballots can be downloaded once the round is counted."))
        return
    data = await results.export_pabulib(ctx.session, round_, ctx.clock.now())
    name = f"wijkbudget-{round_ref(round_)}.pb"
    await ctx.reply(
        _(
            "The anonymous ballots of “{title}”, as a Pabulib file. Anyone can count them "
            "again, for example with “wijkbot tally {file} --rule {rule}”."
        ).format(title=round_.title, file=name, rule=round_.counting_rule),
        document=Document(name, data.encode()),
    )


@router.callback(ProposalsPage)
async def proposals_page(ctx: Ctx) -> None:
    pressed = ProposalsPage.of(ctx)
    round_ = await budgets.get_round(ctx.session, pressed.round)
    hood = await places.neighbourhood(ctx.session, round_.neighbourhood_id) if round_ else None
    if round_ is None or hood is None:
        await ctx.reply(_("This proposal no longer exists."))
        return
    await show_round(ctx, round_, hood, pressed.page)


@router.callback(ProposalAction)
async def pressed(ctx: Ctx) -> None:
    pressed = ProposalAction.of(ctx)
    if pressed.verb == "sup":
        await support(ctx, pressed.target)
        return
    round_ = await budgets.get_round(ctx.session, pressed.target)
    if round_ is not None and not await may_propose(ctx.session, round_, ctx.actor):
        raise StaleButton(ProposalAction.hint)
    if round_ is None or round_.locked or round_.phase != "proposals":
        await ctx.reply(_("Proposing projects for this round is over."))
        return
    if not ctx.is_direct:
        await ctx.reply(
            _("Let's do that in a private chat. Send me a direct message with /wijkbudget.")
        )
        return
    free = await free_at(ctx, "proposal")
    if free is not None:
        await ctx.reply(
            _too_many()
            + " "
            + _("You can propose a new project from {moment}.").format(moment=when(free))
        )
        return
    await ctx.ask(
        _("What is your project? Give it a short title."), ProposeForm.title, round_id=round_.id
    )


def _too_many() -> str:
    most = quotas.PER_HOUR["proposal"]
    return (
        ngettext(
            "You have sent in {n} proposal in the past hour.",
            "You have sent in {n} proposals in the past hour.",
            most,
        ).format(n=most)
        + " "
        + _("That is the most for one hour.")
    )


async def support(ctx: Ctx, project_id: int) -> None:
    project = await budgets.project(ctx.session, project_id)
    round_ = await budgets.get_round(ctx.session, project.round_id) if project else None
    if project is None or project.id is None or round_ is None:
        await ctx.reply(_("This proposal no longer exists."))
        return
    if not await may_support(ctx.session, round_, project, ctx.actor):
        raise StaleButton(ProposalAction.hint)
    if round_.phase != "proposals" or round_.locked:
        await ctx.reply(_("Supporting proposals is over: the vote has started."))
        return
    person = await ctx.ensure_person()
    assert person.id is not None
    if project.proposer_id == person.id:
        await ctx.reply(
            _("{code} is your own proposal. Ask your neighbours to support it!").format(
                code=project.code
            )
        )
        return
    if not await budgets.add_support(ctx.session, project.id, person.id):
        await ctx.reply(_("You already support {code}. Once is enough!").format(code=project.code))
        return
    total = (await budgets.support_counts(ctx.session, round_.id or 0)).get(project.id, 0)
    await ctx.reply(
        _("You now support {code} “{title}”.").format(code=project.code, title=project.title)
        + " "
        + ngettext("It has {n} supporter.", "It has {n} supporters.", total).format(n=total)
    )


@router.state(ProposeForm.title)
@guarded("wijkbudget", InRound)
async def proposal_title(ctx: Ctx) -> None:
    title = await read_text(ctx, title=True)
    if title is None:
        return
    await ctx.ask(
        _("Describe your project in a few sentences: what, where, and for whom?"),
        ProposeForm.text,
        title=title,
    )


@router.state(ProposeForm.text)
@guarded("wijkbudget", Titled)
async def proposal_text(ctx: Ctx) -> None:
    text = await read_description(ctx)
    if text is None:
        return
    await ctx.ask(
        _("About how much will it cost, in euros? A guess is fine."),
        ProposeForm.cost,
        description=text,
    )


@router.state(ProposeForm.cost)
@guarded("wijkbudget", Described)
async def proposal_cost(ctx: Ctx) -> None:
    draft = Described.of(ctx)
    title = draft.title
    round_ = await budgets.get_round(ctx.session, draft.round_id)
    if round_ is None:
        ctx.dialog.clear()
        await ctx.reply(_("Proposing projects for this round is over."))
        return
    cost = await read_euros(ctx, at_most=round_.budget)
    if cost is None:
        return
    hood = await places.neighbourhood(ctx.session, round_.neighbourhood_id)
    await ctx.ask(
        "\n".join(
            [
                _("Your proposal: “{title}”, about {cost}.").format(title=title, cost=euros(cost)),
                _("It will be visible to everyone in {name}. Your name is not shown.").format(
                    name=hood.name if hood else ""
                ),
                _("A coordinator checks whether it is feasible. You will hear the answer."),
                _("Shall I send it in?"),
            ]
        ),
        ProposeForm.confirm,
        [ctx.choice(ProposeForm.confirm, _("Send in"), "yes")],
        cost=cost,
    )


@router.state(ProposeForm.confirm)
@guarded("wijkbudget", Costed)
async def proposal_confirm(ctx: Ctx) -> None:
    if not (ctx.event.kind == "button" and ctx.event.button_data == "yes"):
        await please_choose(ctx, [ctx.choice(ProposeForm.confirm, _("Send in"), "yes")])
        return
    draft = Costed.of(ctx)
    round_id, title, cost, description = draft.round_id, draft.title, draft.cost, draft.description
    free = await free_at(ctx, "proposal")
    if free is not None:  # the draft stays: Send in works again from then
        await ctx.ask(
            _too_many()
            + " "
            + _("Your proposal is kept. Press Send in from {moment} to send it in.").format(
                moment=when(free)
            ),
            ProposeForm.confirm,
            [ctx.choice(ProposeForm.confirm, _("Send in"), "yes")],
        )
        return
    ctx.dialog.clear()
    round_ = await budgets.get_round(ctx.session, round_id)
    person = await ctx.ensure_person()
    if round_ is None:
        await ctx.reply(_("Proposing projects for this round is over."))
        return
    try:
        project = await budgets.add_project(
            ctx.session,
            round_,
            title=title[:200],
            description=description,
            cost=cost,
            proposer_id=person.id,
        )
    except BudgetError:
        await ctx.reply(_("Proposing projects for this round is over."))
        return
    assert person.id is not None
    await quotas.count(ctx.session, "proposal", person.id)
    for coordinator in await people.coordinators_of(ctx.session, round_.neighbourhood_id):
        await tell(
            ctx.session,
            coordinator,
            lambda: _(
                "New proposal {code} “{title}” for “{round}”. Type /budgetronde to check it."
            ).format(code=project.code, title=project.title, round=round_.title),
        )
    await ctx.edit(
        _(
            "Thank you! Your proposal has number {code}. Neighbours can support it with /wijkbudget."
        ).format(code=project.code)
    )
