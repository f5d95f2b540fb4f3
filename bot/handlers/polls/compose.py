"""Writing a poll: one line or a dialog, then one summary to change the rules, then Send."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

from bot.core.context import Ctx
from bot.core.drafts import Draft
from bot.core.i18n import N_, _, fold, when
from bot.core.permissions import can_coordinate
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.core.text import clean, has_words
from bot.delivery.broadcast import groups_text, residents_text
from bot.handlers.common import chosen_moment, guarded, moment_choices, please_choose
from bot.handlers.targets import read_target, refused_for_nobody, target_buttons, target_name
from bot.services.polls import (
    MAX_OPTION,
    MAX_OPTIONS,
    MAX_QUESTION,
    MIN_OPTIONS,
    send_poll,
)
from bot.util.when import in_days, passed
from storage.models import Poll
from storage.repo import audit

router = Router("polls_compose")


MAX_OPEN = timedelta(days=90)
MIN_OPEN = timedelta(minutes=10)
QUICK_CLOSE_DAYS = (1, 3, 7)


# A poll step after the question needs the whole draft; an old or damaged dialog, or a lost
# coordinator role, starts again kindly.
Option = Annotated[str, StringConstraints(min_length=1, max_length=MAX_OPTION)]


class PollStart(Draft):
    """What `/peiling` sets up front: the rules, with their defaults, and no answers yet."""

    options: list[Option] = Field(max_length=MAX_OPTIONS)
    multiple: bool
    live: bool
    named: bool
    closes_at: AwareDatetime
    neighbourhood_id: int
    theme_id: int | None


class PollDraft(PollStart):
    """A poll with its question: everything the summary shows and Send sends."""

    question: str = Field(min_length=1, max_length=MAX_QUESTION)


draft_step = guarded("peiling", PollDraft, coordinator=True)


class PollForm(StatesGroup):
    interrupted = N_("You were making a poll.")
    question = State()
    options = State()
    settings = State()
    closes = State()
    target = State()


@router.command("peiling", "poll", role="coordinator")
async def new_poll(ctx: Ctx) -> None:
    ctx.dialog.clear()
    PollStart(
        options=[],
        multiple=False,
        live=True,
        named=False,
        closes_at=in_days(ctx.clock.now(), 7),
        neighbourhood_id=ctx.coordinator_of[0],
        theme_id=None,
    ).save(ctx)
    parts = [clean(p) for p in ctx.event.args.split("|")] if ctx.event.args.strip() else []
    if not parts:
        await ctx.ask(
            _("What do you want to ask the neighbourhood? Type the question."), PollForm.question
        )
        return
    if not await _take_question(ctx, parts[0]):
        return
    for option in parts[1:]:
        if not await _take_option(ctx, option, quiet=False):
            return
    if len(PollStart.of(ctx).options) >= MIN_OPTIONS:
        await show_summary(ctx)
    else:
        await ask_option(ctx)


@router.state(PollForm.question)
@guarded("peiling", PollStart, coordinator=True)
async def poll_question(ctx: Ctx) -> None:
    if ctx.event.kind != "text":
        await ctx.reply(_("Please type the question as text, or choose Cancel."))
        return
    if await _take_question(ctx, clean(ctx.event.text)):
        await ask_option(ctx)


async def _take_question(ctx: Ctx, text: str) -> bool:
    if not has_words(text):
        await ctx.ask(
            _("Please type a question in words, not only symbols or emoji."), PollForm.question
        )
        return False
    if len(text) > MAX_QUESTION:
        await ctx.ask(
            _("That question is too long ({count} characters). Keep it under {limit}.").format(
                count=len(text), limit=MAX_QUESTION
            ),
            PollForm.question,
        )
        return False
    ctx.dialog.update(question=text)
    return True


async def ask_option(ctx: Ctx) -> None:
    options = PollStart.of(ctx).options
    n = len(options)
    if n < MIN_OPTIONS:
        text = _("Type answer {n}. A poll needs at least two answers.").format(n=n + 1)
        await ctx.ask(text, PollForm.options)
        return
    text = _("Type answer {n}, or choose Done. At most {max} answers.").format(
        n=n + 1, max=MAX_OPTIONS
    )
    done = ctx.choice(PollForm.options, _("Done"), "done")
    await ctx.ask_text(text, PollForm.options, [done])


@router.state(PollForm.options)
@guarded("peiling", PollDraft, coordinator=True)
async def poll_option(ctx: Ctx) -> None:
    event = ctx.event
    if event.kind == "button" and event.button_data == "done":
        if len(PollDraft.of(ctx).options) >= MIN_OPTIONS:
            await show_summary(ctx)
        else:
            await ask_option(ctx)
        return
    if event.kind != "text":
        await ctx.reply(_("Please type the answer as text, or choose Cancel."))
        return
    if not await _take_option(ctx, clean(event.text), quiet=True):
        return
    if len(PollDraft.of(ctx).options) >= MAX_OPTIONS:
        await show_summary(ctx)
    else:
        await ask_option(ctx)


async def _take_option(ctx: Ctx, text: str, *, quiet: bool) -> bool:
    """Add one answer; False (after a kind reply, back at the answers step) if it can't be."""
    options = PollStart.of(ctx).options
    problem: str | None = None
    if not has_words(text, 1):
        problem = _("An answer needs at least one letter or digit.")
    elif len(text) > MAX_OPTION:
        problem = _("That answer is too long ({count} characters). Keep it under {limit}.").format(
            count=len(text), limit=MAX_OPTION
        )
    elif "\n" in text:
        problem = _("Please type one answer per message.")
    elif fold(text) in {fold(o) for o in options}:
        problem = _("You already have that answer.")
    elif len(options) >= MAX_OPTIONS:
        problem = _("A poll can have at most {max} answers.").format(max=MAX_OPTIONS)
    if problem is not None:
        await ctx.reply(problem)
        if len(options) < MAX_OPTIONS:
            await ask_option(ctx)
        else:
            await show_summary(ctx)
        return False
    ctx.dialog.update(options=[*options, text])
    return True


async def show_summary(ctx: Ctx) -> None:
    d = PollDraft.of(ctx)
    lines = [_("Your poll:"), "", f"📊 {d.question}"]
    lines += [f"{i}. {o}" for i, o in enumerate(d.options, 1)]
    lines.append("")
    lines.append(
        _("Answers: people may choose more than one")
        if d.multiple
        else _("Answers: people choose one")
    )
    lines.append(_("Closes: {moment}").format(moment=when(d.closes_at)))
    target = await target_name(ctx, d.neighbourhood_id, d.theme_id)
    lines.append(_("Goes to: {target}").format(target=target))
    lines.append(
        _("Results: visible while the poll is open") if d.live else _("Results: only after closing")
    )
    lines.append(
        _("Names: shown with the choices") if d.named else _("Names: not shown (anonymous)")
    )
    lines += ["", _("Once you send it, these rules cannot be changed.")]
    s = PollForm.settings
    buttons = [
        ctx.choice(s, _("Send"), "send"),
        ctx.choice(s, _("Allow one answer") if d.multiple else _("Allow more answers"), "multi"),
        ctx.choice(s, _("Change closing time"), "closes"),
        ctx.choice(s, _("Change who gets it"), "target"),
        ctx.choice(
            s, _("Results only after closing") if d.live else _("Results while open"), "live"
        ),
        ctx.choice(s, _("Hide names") if d.named else _("Show names"), "named"),
    ]
    await ctx.ask("\n".join(lines), PollForm.settings, buttons)


@router.state(PollForm.settings)
@draft_step
async def poll_settings(ctx: Ctx) -> None:
    d = PollDraft.of(ctx)
    value = ctx.event.button_data if ctx.event.kind == "button" else None
    if value in ("multi", "live", "named"):
        key = {"multi": "multiple", "live": "live", "named": "named"}[value]
        ctx.dialog.update(**{key: not getattr(d, key)})
        await show_summary(ctx)
    elif value == "closes":
        await ask_closing(ctx)
    elif value == "target":
        await ask_target(ctx)
    elif value == "send":
        await send(ctx)
    else:
        await ctx.reply(_("Please choose one of the buttons below the summary."))
        await show_summary(ctx)


async def ask_closing(ctx: Ctx) -> None:
    buttons = moment_choices(ctx, PollForm.closes, QUICK_CLOSE_DAYS)
    await ctx.ask(
        _("When does the poll close? Choose, or type a date and time like 12-12 20:00."),
        PollForm.closes,
        buttons,
    )


@router.state(PollForm.closes)
@draft_step
async def poll_closes(ctx: Ctx) -> None:
    now = ctx.clock.now()
    moment = chosen_moment(ctx)
    if moment is None and ctx.event.kind == "text":
        await ctx.reply(_("I could not read that date. Type it like 12-12 20:00."))
        await ask_closing(ctx)
        return
    if moment is None:
        await ask_closing(ctx)
        return
    if moment <= now:
        await ctx.reply(passed(now))
        await ask_closing(ctx)
        return
    if moment < now + MIN_OPEN:
        await ctx.reply(_("That moment is too soon. Give people at least 10 minutes."))
        await ask_closing(ctx)
        return
    if moment > now + MAX_OPEN:
        await ctx.reply(_("That is too far away. A poll can stay open for at most 90 days."))
        await ask_closing(ctx)
        return
    ctx.dialog.update(closes_at=moment.isoformat())
    await show_summary(ctx)


async def ask_target(ctx: Ctx) -> None:
    buttons = await target_buttons(ctx, PollForm.target)
    await ctx.ask(_("Who should get this poll?"), PollForm.target, buttons)


@router.state(PollForm.target)
@draft_step
async def poll_target(ctx: Ctx) -> None:
    target = await read_target(ctx)
    if target is None:
        await please_choose(ctx, [b for b in ctx.dialog.choices if b.data != "cancel"])
        return
    ctx.dialog.update(neighbourhood_id=target[0], theme_id=target[1])
    await show_summary(ctx)


async def send(ctx: Ctx) -> None:
    d = PollDraft.of(ctx)
    if not can_coordinate(ctx.coordinator_of, d.neighbourhood_id):
        await ctx.reply(_("You are no longer a coordinator there, so the poll was not sent."))
        ctx.dialog.clear()
        return
    closes_at = d.closes_at
    if closes_at < ctx.clock.now() + MIN_OPEN:
        await ctx.reply(_("The closing time has passed meanwhile. Please choose a new one."))
        await ask_closing(ctx)
        return
    person = await ctx.ensure_person()
    poll = Poll(
        neighbourhood_id=d.neighbourhood_id,
        theme_id=d.theme_id,
        created_by_id=person.id,
        question=d.question,
        options=list(d.options),
        multiple=d.multiple,
        live_results=d.live,
        named=d.named,
        closes_at=closes_at,
    )
    ctx.session.add(poll)
    await ctx.session.flush()
    reach = await send_poll(ctx.session, poll, ctx.clock.now(), ctx.settings.default_locale)
    if await refused_for_nobody(ctx, poll, reach):
        await show_summary(ctx)
        return
    await audit.record(ctx.session, person.id, "poll.sent", "poll", poll.id,
                       groups=reach.groups, residents=reach.residents)  # fmt: skip
    ctx.dialog.clear()
    await ctx.reply(
        _("Sent to {groups} and {residents}. It closes on {moment}.").format(
            groups=groups_text(reach.groups),
            residents=residents_text(reach.residents),
            moment=when(poll.closes_at),
        )
        + "\n"
        + _("See and close your polls with /peilingen.")
    )
