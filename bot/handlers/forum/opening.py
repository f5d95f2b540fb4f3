"""/nieuwwijkforum: a coordinator opens a lottery-drawn forum: purpose, seats, when the
pool closes and when the forum ends, the parts of the neighbourhood, what else to balance,
then the quotas (an even split to start; a typed line such as "65+ 4-8" changes one).

Each step reads a typed draft holding what the steps before it asked (`ForumStart`,
`WithPurpose`, `WithSeats`, `WithPool`, `WithEnds`, `ForumDraft`); an old or damaged one
ends with "I lost track of this conversation" and opens nothing.

```mermaid
stateDiagram-v2
    [*] --> purpose: /nieuwwijkforum (coordinators)
    purpose --> purpose: no words, or longer than 300 characters
    purpose --> seats: the purpose
    seats --> seats: fewer than 4 or more than 200
    seats --> pool_closes: 12, 24, 36 or a typed number
    pool_closes --> pool_closes: unreadable, passed, or more than a year ahead
    pool_closes --> ends: in 14 or 30 days, or a typed date
    ends --> ends: less than a week, or more than two years, after the pool closes
    ends --> areas: in 90 or 180 days, or a typed date
    areas --> areas: fewer than 2 or more than 8 parts, or one too long
    areas --> extras: parts with commas between, or Do not balance parts
    extras --> extras: gender / years here (press again to unchoose)
    extras --> quotas: Done (age by the population figures when known)
    quotas --> quotas: a typed change like "65+ 4-8", or quotas that do not fit the seats
    quotas --> [*]: Open the forum
```

Joining the pool (`/wijkforum`, `forum.py`, `JoinForm` with `JoinDraft`): one question
per feature the forum balances, then consent; "No, store nothing" stores nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Self

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints, model_validator

from bot.core.context import Ctx
from bot.core.drafts import Draft, one_of
from bot.core.i18n import N_, _, day
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.core.text import clean, has_words, listed, whole_number
from bot.handlers.common import guarded, please_choose
from bot.services.forum.features import (
    AGE,
    AREA,
    FIXED,
    GENDER,
    ORDER,
    YEARS,
    Quotas,
    even_quotas,
    feature_name,
    features_of,
    parse_quota,
    population_quotas,
    quota_problem,
    shares_line,
    value_label,
)
from bot.services.forum.panel import ForumError, open_forum
from bot.util.when import in_days, parse_moment, passed
from storage.forum_models import Forum
from storage.repo import audit, forums

router = Router("forum_open")

MAX_PURPOSE, MAX_AREAS, MAX_AREA = 300, 8, 40
MIN_SEATS, MAX_SEATS = 4, 200
# Balancing answers are kept until the forum ends: not for decades (least data).
MAX_POOL_DAYS, MAX_FORUM_DAYS = 366, 2 * 365


class ForumForm(StatesGroup):
    interrupted = N_("You were opening a neighbourhood forum.")
    purpose = State()
    seats = State()
    pool_closes = State()
    ends = State()
    areas = State()
    extras = State()
    quotas = State()


# Each step's draft holds what the steps before it asked; an old or damaged one starts again.
Purpose = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PURPOSE)]
Area = Annotated[str, StringConstraints(min_length=1, max_length=MAX_AREA)]
Extra = Annotated[str, AfterValidator(one_of((GENDER, YEARS)))]
Feature = Annotated[str, AfterValidator(one_of(ORDER))]
Range = Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=2, max_length=2)]


class ForumStart(Draft):
    neighbourhood: int


class WithPurpose(ForumStart):
    purpose: Purpose


class WithSeats(WithPurpose):
    seats: int = Field(ge=MIN_SEATS, le=MAX_SEATS)


class WithPool(WithSeats):
    pool_closes: AwareDatetime


class WithEnds(WithPool):
    ends: AwareDatetime
    areas: list[Area] = Field(default_factory=list, max_length=MAX_AREAS)
    extras: list[Extra] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ends_in_time(self) -> Self:
        if self.ends > self.pool_closes + timedelta(days=MAX_FORUM_DAYS):
            raise ValueError("a forum ending more than two years after its pool closes")
        return self


class ForumDraft(WithEnds):
    """Everything the quotas step shows and Open opens."""

    quotas: dict[Feature, dict[str, Range]]


@router.command("nieuwwijkforum", "newforum")
async def new_forum(ctx: Ctx) -> None:
    if not ctx.coordinator_of:
        await ctx.reply(
            _(
                "Only a coordinator of the neighbourhood can do this. Type /help to see what you can do."
            )
        )
        return
    ctx.dialog.clear()
    ctx.dialog.update(neighbourhood=ctx.coordinator_of[0])
    await ctx.ask(
        _("What should the neighbourhood forum talk about? Type its purpose."), ForumForm.purpose
    )


@router.state(ForumForm.purpose)
@guarded("nieuwwijkforum", ForumStart)
async def purpose_step(ctx: Ctx) -> None:
    text = clean(ctx.event.text) if ctx.event.kind == "text" else ""
    if not has_words(text) or len(text) > MAX_PURPOSE:
        await ctx.reply(
            _("Please type the purpose in words, at most {limit} characters.").format(
                limit=MAX_PURPOSE
            )
        )
        return
    ctx.dialog.update(purpose=text)
    buttons = [ctx.choice(ForumForm.seats, str(n), str(n)) for n in (12, 24, 36)]
    await ctx.ask_text(
        _("How many seats does the forum have? Choose or type a number."), ForumForm.seats, buttons
    )


@router.state(ForumForm.seats)
@guarded("nieuwwijkforum", WithPurpose)
async def seats_step(ctx: Ctx) -> None:
    raw = ctx.event.button_data if ctx.event.kind == "button" else ctx.event.text
    seats = whole_number(raw or "", at_most=MAX_SEATS)
    if seats is None or seats < MIN_SEATS:
        await ctx.reply(
            _("Please type a number of seats from {low} to {high}.").format(
                low=MIN_SEATS, high=MAX_SEATS
            )
        )
        return
    ctx.dialog.update(seats=seats)
    buttons = [
        ctx.choice(ForumForm.pool_closes, _("In {n} days").format(n=n), str(n)) for n in (14, 30)
    ]
    await ctx.ask_text(
        _(
            "Until when may residents put themselves in the pool? Choose, or type a date like 12-12."
        ),
        ForumForm.pool_closes,
        buttons,
    )


def _moment(ctx: Ctx) -> datetime | None:
    now = ctx.clock.now()
    days = (
        whole_number(ctx.event.button_data or "", at_most=366)
        if ctx.event.kind == "button"
        else None
    )
    if days is not None:
        return in_days(now, days)
    return parse_moment(ctx.event.text, now) if ctx.event.kind == "text" else None


@router.state(ForumForm.pool_closes)
@guarded("nieuwwijkforum", WithSeats)
async def pool_closes_step(ctx: Ctx) -> None:
    moment, now = _moment(ctx), ctx.clock.now()
    if moment is None or moment <= now:
        await ctx.reply(
            passed(now) if moment else _("I could not read that date. Type it like 12-12 20:00.")
        )
        return
    if moment > now + timedelta(days=MAX_POOL_DAYS):
        await ctx.reply(
            _("That is more than a year from now. Please type a date before {date}.").format(
                date=day(now + timedelta(days=MAX_POOL_DAYS))
            )
        )
        return
    ctx.dialog.update(pool_closes=moment.isoformat())
    buttons = [ctx.choice(ForumForm.ends, _("In {n} days").format(n=n), str(n)) for n in (90, 180)]
    await ctx.ask_text(
        _("When does the forum end? Then we erase the answers of everyone in the pool."),
        ForumForm.ends,
        buttons,
    )


@router.state(ForumForm.ends)
@guarded("nieuwwijkforum", WithPool)
async def ends_step(ctx: Ctx) -> None:
    moment = _moment(ctx)
    closes = WithPool.of(ctx).pool_closes
    if moment is None or moment <= closes + timedelta(days=7):
        await ctx.reply(
            _("Please type a date at least a week after {date}, like 1-6.").format(date=day(closes))
        )
        return
    latest = closes + timedelta(days=MAX_FORUM_DAYS)
    if moment > latest:
        await ctx.reply(
            _(
                "That is more than two years after the pool closes. Please type a date before {date}."
            ).format(date=day(latest))
        )
        return
    ctx.dialog.update(ends=moment.isoformat())
    await ctx.ask_text(
        _(
            "Which parts of the neighbourhood should the forum balance? Type them with commas between, like Noord, Zuid."
        ),
        ForumForm.areas,
        [ctx.choice(ForumForm.areas, _("Do not balance parts"), "none")],
    )


@router.state(ForumForm.areas)
@guarded("nieuwwijkforum", WithEnds)
async def areas_step(ctx: Ctx) -> None:
    areas: list[str] = []
    if ctx.event.kind == "text":
        areas = listed(ctx.event.text)
        if not 2 <= len(areas) <= MAX_AREAS or any(len(a) > MAX_AREA for a in areas):
            await ctx.reply(
                _(
                    "Please type 2 to {n} parts, each at most {limit} characters, with commas between."
                ).format(n=MAX_AREAS, limit=MAX_AREA)
            )
            return
    elif ctx.event.button_data != "none":
        await please_choose(ctx, [ctx.choice(ForumForm.areas, _("Do not balance parts"), "none")])
        return
    ctx.dialog.update(areas=areas, extras=[])
    await _ask_extras(ctx)


async def _ask_extras(ctx: Ctx) -> None:
    chosen = WithEnds.of(ctx).extras
    buttons = [
        ctx.choice(ForumForm.extras, ("✓ " if f in chosen else "") + feature_name(f), f)
        for f in (GENDER, YEARS)
    ]
    await ctx.ask(
        _("We balance age. Also balance something else? Press to choose, then Done."),
        ForumForm.extras,
        [*buttons, ctx.choice(ForumForm.extras, _("Done"), "done")],
    )


@router.state(ForumForm.extras)
@guarded("nieuwwijkforum", WithEnds)
async def extras_step(ctx: Ctx) -> None:
    pressed = ctx.event.button_data if ctx.event.kind == "button" else None
    draft = WithEnds.of(ctx)
    chosen = list(draft.extras)
    if pressed in (GENDER, YEARS):
        chosen = [f for f in chosen if f != pressed] if pressed in chosen else [*chosen, pressed]
        ctx.dialog.update(extras=chosen)
        await _ask_extras(ctx)
        return
    if pressed != "done":
        await _ask_extras(ctx)
        return
    seats = draft.seats
    quotas: Quotas = {AGE: even_quotas(list(FIXED[AGE]), seats)}
    figures = await forums.population(ctx.session, draft.neighbourhood)
    if (from_figures := population_quotas(figures, seats)) is not None:
        quotas[AGE] = from_figures
        await ctx.reply(
            _(
                "The age groups follow the population figures of the neighbourhood: {shares}."
            ).format(shares=shares_line(figures))
        )
    if draft.areas:
        quotas[AREA] = even_quotas(draft.areas, seats)
    for f in chosen:
        quotas[f] = even_quotas(list(FIXED[f]), seats)
    ctx.dialog.update(quotas=quotas)
    await _show_quotas(ctx)


async def _show_quotas(ctx: Ctx) -> None:
    quotas = ForumDraft.of(ctx).quotas
    lines = [_("Seats per group (at least – at most):")]
    for f in features_of(quotas):
        parts = [f"{value_label(v)} {lo}–{hi}" for v, (lo, hi) in quotas[f].items()]
        lines.append(f"{feature_name(f)}: " + ", ".join(parts))
    lines.append(_("To change one, type it like: 65+ 4-8. Or press Open the forum."))
    await ctx.ask_text(
        "\n".join(lines),
        ForumForm.quotas,
        [ctx.choice(ForumForm.quotas, _("Open the forum"), "open")],
    )


@router.state(ForumForm.quotas)
@guarded("nieuwwijkforum", ForumDraft)
async def quotas_step(ctx: Ctx) -> None:
    draft = ForumDraft.of(ctx)
    quotas, seats = draft.quotas, draft.seats
    if ctx.event.kind == "text":
        change = parse_quota(ctx.event.text, quotas)
        if change is None:
            await ctx.reply(
                _("I could not read that. Type a group and two numbers, like: 65+ 4-8.")
            )
            return
        feature, value, low, high = change
        quotas[feature][value] = [low, high]
        ctx.dialog.update(quotas=quotas)
        await _show_quotas(ctx)
        return
    if ctx.event.button_data != "open":
        await _show_quotas(ctx)
        return
    if (problem := quota_problem(quotas, seats)) is not None:
        await ctx.reply(problem + " " + _("Please change a group, like: 65+ 4-8."))
        return
    await _open(ctx, draft)


async def _open(ctx: Ctx, draft: ForumDraft) -> None:
    person = await ctx.ensure_person()
    forum = Forum(
        neighbourhood_id=draft.neighbourhood,
        created_by_id=person.id,
        purpose=draft.purpose,
        seats=draft.seats,
        quotas=draft.quotas,
        pool_closes_at=draft.pool_closes,
        ends_at=draft.ends,
    )
    try:
        await open_forum(ctx.session, forum)
    except ForumError as exc:
        await ctx.reply(str(exc))
        return
    ctx.dialog.clear()
    await audit.record(ctx.session, person.id, "forum.opened", "forum", forum.id)
    await ctx.reply(
        _(
            "The neighbourhood forum is open: number {id}. Residents join with /wijkforum until {date}. "
            "Then the operator draws the panel with: wijkbot forum draw {id}"
        ).format(id=forum.id, date=day(forum.pool_closes_at))
    )
