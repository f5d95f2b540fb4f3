"""/stem: vote in a neighbourhood budget, only in a direct chat.

The basket lives in the dialog until the voter confirms; then the dialog is cleared and
committed *before* the ballot is cast in its own transaction (``budgets.vote``), so no row
anywhere keeps the voter next to their choices. The receipt repeats no choices.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from bot.core.context import Ctx
from bot.core.events import Button
from bot.core.i18n import _, ngettext, when
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.handlers.budget.common import VoteInRound, data_basket, data_int, data_str, round_ref
from bot.handlers.common import lost
from bot.services.budget.rounds import ballot_rules
from bot.services.budget.text import euros
from storage.models import BudgetProject, BudgetRound
from storage.repo import budgets, people
from storage.repo.budgets import VoteResult

router = Router("budget_vote")
# Codes have 60 random bits, so guessing cannot work; still, nobody gets to try many.
GUESS_LIMIT = 5  # well-formed but unknown codes …
GUESS_WINDOW = timedelta(minutes=15)  # … within this time; then wait until it has passed
WRONG_CODES = "wrong_codes"  # sticky: kept across /stop and new dialogs, for GUESS_WINDOW


class VoteForm(StatesGroup):
    code = State()
    basket = State()
    confirm = State()


def _code_example() -> str:
    return "ABCD-EFGH-JKMN-P"


@router.command("stem", "vote", "stemmen")
async def vote_command(ctx: Ctx) -> None:
    await begin(ctx, None, ctx.event.args.strip() or None)


@router.callback(VoteInRound)
async def vote_button(ctx: Ctx) -> None:
    pressed = VoteInRound.of(ctx)
    if not ctx.is_direct:
        text = _("Voting happens only in a private chat with me, so your vote stays secret.")
        link = ctx.direct_link("stem")
        if link:
            await ctx.reply(text, [Button(_("Open a private chat"), "", url=link)])
        else:
            await ctx.reply(text + " " + _("Send me a direct message with /stem."))
        return
    await begin(ctx, pressed.round, None)


async def begin(ctx: Ctx, round_id: int | None, typed_code: str | None) -> None:
    now = ctx.clock.now()
    ctx.dialog.clear()
    open_now = await budgets.open_rounds(ctx.session, now)
    if round_id is not None:
        wanted = await budgets.get_round(ctx.session, round_id)
        if wanted is not None and wanted not in open_now:
            await not_open(ctx, wanted)
            return
        open_now = [r for r in open_now if r.id == round_id]
    if not open_now:
        await ctx.reply(_("There is no neighbourhood budget vote open right now."))
        return
    if typed_code:
        await check_code(ctx, open_now, typed_code)
        return
    member_of: set[int] = set()
    if ctx.person is not None and ctx.person.id is not None:
        member_of = {
            m.neighbourhood_id for m in await people.memberships_of(ctx.session, ctx.person.id)
        }
    mine = [r for r in open_now if r.neighbourhood_id in member_of]
    assert ctx.person is None or ctx.person.id is not None
    for round_ in mine:
        assert round_.id is not None and ctx.person is not None and ctx.person.id is not None
        if not await budgets.has_voted(ctx.session, round_.id, ctx.person.id):
            await start_basket(ctx, round_, mode="person")
            return
    if mine:
        await ctx.reply(
            _(
                "You have already voted in “{title}”. Your vote counts once and cannot be changed."
            ).format(title=mine[0].title)
        )
        return
    await ctx.ask(
        _("Type the voting code from your letter, for example {example}.").format(
            example=_code_example()
        )
        + "\n"
        + _("Residents who chose their neighbourhood with /wijk can vote without a code."),
        VoteForm.code,
    )


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


@router.state(VoteForm.code)
async def code_typed(ctx: Ctx) -> None:
    if ctx.event.kind != "text":
        await ctx.reply(
            _("Please type the code from your letter, or choose Cancel."), [ctx.cancel_button()]
        )
        return
    open_now = await budgets.open_rounds(ctx.session, ctx.clock.now())
    if not open_now:
        ctx.dialog.clear()
        await ctx.reply(_("There is no neighbourhood budget vote open right now."))
        return
    await check_code(ctx, open_now, ctx.event.text)


def wrong_codes(ctx: Ctx) -> list[datetime]:
    """When this chat typed a well-formed but unknown code, within the last GUESS_WINDOW."""
    since = ctx.clock.now() - GUESS_WINDOW
    times = [datetime.fromisoformat(t) for t in ctx.dialog.sticky(WRONG_CODES) or []]
    return [t for t in times if t > since]


async def check_code(ctx: Ctx, rounds: list[BudgetRound], typed: str) -> None:
    wrong = wrong_codes(ctx)
    if len(wrong) >= GUESS_LIMIT:
        wait = min(wrong) + GUESS_WINDOW - ctx.clock.now()
        minutes = max(1, math.ceil(wait.total_seconds() / 60))
        ctx.dialog.clear()
        await ctx.reply(
            ngettext(
                "You typed too many wrong codes. To keep the vote safe, please wait {n} minute and try again with /stem.",
                "You typed too many wrong codes. To keep the vote safe, please wait {n} minutes and try again with /stem.",
                minutes,
            ).format(n=minutes)
        )
        return
    symbols = budgets.normalise_code(typed)
    if symbols is None:
        await ctx.ask(
            _(
                "That code does not look right. Check the letters and numbers and type it again. A code looks like {example}."
            ).format(example=_code_example()),
            VoteForm.code,
        )
        return
    round_, status = await budgets.code_status(ctx.session, rounds, symbols)
    if status is VoteResult.WRONG_CODE or round_ is None:
        now = ctx.clock.now()
        wrong.append(now)
        ctx.dialog.stick(WRONG_CODES, [t.isoformat() for t in wrong], now + GUESS_WINDOW)
        await ctx.ask(
            _("I don't know this code. Check it and type it again, or ask a coordinator for help."),
            VoteForm.code,
        )
        return
    if status is VoteResult.USED_CODE:
        ctx.dialog.clear()
        await ctx.reply(_("This code has already been used to vote. Each code works only once."))
        return
    await start_basket(ctx, round_, mode="code", code=symbols)


# --- the basket -----------------------------------------------------------------------------


async def _projects(ctx: Ctx, round_: BudgetRound) -> list[BudgetProject]:
    return [
        p for p in await budgets.projects_of(ctx.session, round_.id or 0) if budgets.on_ballot(p)
    ]


async def start_basket(ctx: Ctx, round_: BudgetRound, **data: Any) -> None:
    ctx.dialog.goto(VoteForm.basket, round_id=round_.id, basket={}, **data)
    await show_basket(ctx, round_, await _projects(ctx, round_), {}, intro=True)


def _meter(round_: BudgetRound, projects: list[BudgetProject], basket: dict[str, int]) -> str:
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
        lines.append(f"{mark} {p.code} {p.title} – {euros(p.cost)}{extra}")
        if p.description:
            lines.append(f"   {_short(p.description, 100)}")
        label = f"{p.code} {_short(p.title)}"
        if points:
            buttons.append(ctx.choice(VoteForm.basket, "+1 " + label, f"add:{p.code}"))
            if chosen:
                buttons.append(ctx.choice(VoteForm.basket, "−1 " + label, f"del:{p.code}"))
        elif chosen:
            buttons.append(
                ctx.choice(
                    VoteForm.basket, _("Remove {project}").format(project=label), f"del:{p.code}"
                )
            )
        else:
            buttons.append(
                ctx.choice(
                    VoteForm.basket, _("Add {project}").format(project=label), f"add:{p.code}"
                )
            )
    lines += ["", _meter(round_, projects, basket)]
    if note:
        lines += ["", note]
    buttons += [ctx.choice(VoteForm.basket, _("Check my vote"), "done"), ctx.cancel_button()]
    text = "\n".join(lines)
    if intro:
        await ctx.reply(text, buttons)
    else:
        await ctx.edit(text, buttons)


async def _current(ctx: Ctx) -> tuple[BudgetRound, list[BudgetProject], dict[str, int]] | None:
    round_ = await budgets.get_round(ctx.session, data_int(ctx, "round_id") or 0)
    if round_ is None or not budgets.accepts_votes(round_, ctx.clock.now()):
        ctx.dialog.clear()
        if round_ is None:
            await ctx.reply(_("There is no neighbourhood budget vote open right now."))
        else:
            await not_open(ctx, round_)
        return None
    basket = data_basket(ctx)
    return round_, await _projects(ctx, round_), basket


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
            return _("You have given all {points} points. Take a point away first.").format(
                points=round_.points
            )
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
        return _("You can choose at most {n} projects. Remove one first.").format(
            n=round_.max_projects
        )
    basket[code] = 1
    return ""


def _problem(round_: BudgetRound, projects: list[BudgetProject], basket: dict[str, int]) -> str:
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
        return _("Choose at least {n} projects.").format(n=round_.min_projects)
    if (
        round_.max_projects is not None
        and round_.ballot_type == "approval"
        and len(basket) > round_.max_projects
    ):
        return _("You can choose at most {n} projects. Remove one first.").format(
            n=round_.max_projects
        )
    return ""


@router.state(VoteForm.basket)
async def basket_pressed(ctx: Ctx) -> None:
    current = await _current(ctx)
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
        problem = _problem(round_, projects, basket)
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
            lines.append(f"✓ {p.code} {p.title} – {euros(p.cost)}{extra}")
    lines += [
        _meter(round_, projects, basket),
        "",
        _("When you confirm, your vote is final. You cannot change it afterwards."),
        _("Your vote is secret: it is stored without your name."),
    ]
    ctx.dialog.goto(VoteForm.confirm)
    await ctx.edit(
        "\n".join(lines),
        [
            ctx.choice(VoteForm.confirm, _("Confirm my vote"), "yes"),
            ctx.choice(VoteForm.confirm, _("Change my choice"), "back"),
            ctx.cancel_button(),
        ],
    )


@router.state(VoteForm.confirm)
async def confirm(ctx: Ctx) -> None:
    value = ctx.event.button_data if ctx.event.kind == "button" else None
    current = await _current(ctx)
    if current is None:
        return
    round_, projects, basket = current
    if value == "back":
        ctx.dialog.goto(VoteForm.basket)
        await show_basket(ctx, round_, projects, basket)
        return
    if value != "yes":
        await ctx.reply(
            _("Please choose Confirm my vote, Change my choice or Cancel."),
            [
                ctx.choice(VoteForm.confirm, _("Confirm my vote"), "yes"),
                ctx.choice(VoteForm.confirm, _("Change my choice"), "back"),
                ctx.cancel_button(),
            ],
        )
        return
    data = dict(ctx.dialog.data)
    # A known person voting with a code is on the roll as both: one vote either way.
    person_id = ctx.person.id if ctx.person is not None else None
    code = data_str(ctx, "code") if data.get("mode") == "code" else None
    if data.get("mode") != "person" and code is None:
        person_id = None
    if person_id is None and code is None:
        await lost(ctx, "stem")
        return
    choices: Any = dict(basket) if round_.ballot_type == "cumulative" else sorted(basket)
    # Forget the basket first, committed, so no dialog row ever outlives the vote.
    ctx.dialog.erase()
    engine = await ctx.uow.commit_now()
    assert round_.id is not None
    result = await budgets.vote(
        engine, round_.id, choices, now=ctx.clock.now(), person_id=person_id, code=code
    )
    del choices, basket
    await after_vote(ctx, round_, result, data)


async def after_vote(
    ctx: Ctx, round_: BudgetRound, result: VoteResult, data: dict[str, Any]
) -> None:
    title = round_.title
    if result is VoteResult.OK:
        assert round_.closes_at is not None
        await ctx.edit(
            "\n".join(
                [
                    _("Thank you! Your vote in “{title}” is counted.").format(title=title),
                    _(
                        "Your vote is secret: it is stored without your name, and nobody can see what you chose."
                    ),
                    _("The results will be shared after voting closes on {when}.").format(
                        when=when(round_.closes_at)
                    ),
                ]
            )
        )
    elif result is VoteResult.ALREADY_VOTED:
        await ctx.edit(
            _(
                "You have already voted in “{title}”. Your vote counts once, so this one was not counted."
            ).format(title=title)
        )
    elif result is VoteResult.USED_CODE:
        await ctx.edit(
            _(
                "This code has already been used to vote. Each code works only once. Nothing was counted."
            )
        )
    elif result is VoteResult.OUTSIDE_WINDOW:
        await ctx.edit(
            _("Voting for “{title}” has closed. Your vote can no longer be counted.").format(
                title=title
            )
        )
    elif result in (VoteResult.OVER_BUDGET, VoteResult.INVALID):
        ctx.dialog.goto(VoteForm.basket, **data)
        projects = await _projects(ctx, round_)
        basket = {
            str(k): v for k, v in dict(data.get("basket") or {}).items() if isinstance(v, int)
        }
        await show_basket(
            ctx,
            round_,
            projects,
            basket,
            note=_problem(round_, projects, basket) or ballot_rules(round_),
        )
    else:
        await ctx.edit(
            _("That code does not look right. Nothing was counted. Type /stem to try again.")
        )
