"""Polls: a coordinator writes one (dialog or one line), residents vote wherever they are.

`/peiling Vraag? | Optie A | Optie B` or `/peiling` for the dialog. Both end on one
summary with buttons to change the rules (one or more answers, closing time, who gets it,
live results, names) and Send. Once sent, nothing about the poll can change.

Votes are buttons `pv:{poll}:{option}` (or native poll answers carrying the same ids): one
person, one vote per poll across every group and direct chat; the latest choice counts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from bot.core.callbacks import MAX_ID, CallbackData
from bot.core.context import Ctx
from bot.core.dialog import aware
from bot.core.events import Button
from bot.core.i18n import _, fold, number, when
from bot.core.permissions import can_coordinate
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.core.text import clean, has_words
from bot.delivery.notify import tell
from bot.handlers.common import guarded, please_choose
from bot.handlers.targets import read_target, refused_for_nobody, target_buttons, target_name
from bot.services.polls import (
    MAX_OPTION,
    MAX_OPTIONS,
    MAX_QUESTION,
    MIN_OPTIONS,
    PollResults,
    PollVote,
    close_poll,
    results_text,
    send_poll,
)
from bot.util.when import in_days, parse_moment
from storage.models import Poll
from storage.repo import audit, polls

router = Router("polls")

MAX_OPEN = timedelta(days=90)
MIN_OPEN = timedelta(minutes=10)
QUICK_CLOSE_DAYS = (1, 3, 7)


# A poll step after the question needs the whole draft; an old or damaged dialog, or a lost
# coordinator role, starts again kindly.
DRAFT = ("question", "options", "multiple", "live", "named", "closes_at", "neighbourhood_id",
         "theme_id")  # fmt: skip
draft_step = guarded("peiling", *DRAFT, coordinator=True)


class PollForm(StatesGroup):
    question = State()
    options = State()
    settings = State()
    closes = State()
    target = State()


# -- creating ---------------------------------------------------------------------------------


@router.command("peiling", "poll", role="coordinator")
async def new_poll(ctx: Ctx) -> None:
    ctx.dialog.clear()
    ctx.dialog.update(
        options=[],
        multiple=False,
        live=True,
        named=False,
        closes_at=in_days(ctx.clock.now(), 7).isoformat(),
        neighbourhood_id=ctx.coordinator_of[0],
        theme_id=None,
    )
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
    if len(ctx.dialog.data["options"]) >= MIN_OPTIONS:
        await show_summary(ctx)
    else:
        await ask_option(ctx)


@router.state(PollForm.question)
@guarded("peiling", "options", coordinator=True)
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
    options: list[str] = ctx.dialog.data["options"]
    n = len(options)
    if n < MIN_OPTIONS:
        text = _("Type answer {n}. A poll needs at least two answers.").format(n=n + 1)
        await ctx.ask(text, PollForm.options)
        return
    text = _("Type answer {n}, or choose Done. At most {max} answers.").format(
        n=n + 1, max=MAX_OPTIONS
    )
    await ctx.ask(text, PollForm.options, [ctx.choice(PollForm.options, _("Done"), "done")])


@router.state(PollForm.options)
@guarded("peiling", "question", "options", coordinator=True)
async def poll_option(ctx: Ctx) -> None:
    event = ctx.event
    if event.kind == "button" and event.button_data == "done":
        if len(ctx.dialog.data["options"]) >= MIN_OPTIONS:
            await show_summary(ctx)
        else:
            await ask_option(ctx)
        return
    if event.kind != "text":
        await ctx.reply(_("Please type the answer as text, or choose Cancel."))
        return
    if not await _take_option(ctx, clean(event.text), quiet=True):
        return
    if len(ctx.dialog.data["options"]) >= MAX_OPTIONS:
        await show_summary(ctx)
    else:
        await ask_option(ctx)


async def _take_option(ctx: Ctx, text: str, *, quiet: bool) -> bool:
    """Add one answer; False (after a kind reply, back at the answers step) if it can't be."""
    options: list[str] = ctx.dialog.data["options"]
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
    d = ctx.dialog.data
    lines = [_("Your poll:"), "", f"📊 {d['question']}"]
    lines += [f"{i}. {o}" for i, o in enumerate(d["options"], 1)]
    lines.append("")
    lines.append(
        _("Answers: people may choose more than one")
        if d["multiple"]
        else _("Answers: people choose one")
    )
    lines.append(_("Closes: {moment}").format(moment=when(datetime.fromisoformat(d["closes_at"]))))
    target = await target_name(ctx, d["neighbourhood_id"], d["theme_id"])
    lines.append(_("Goes to: {target}").format(target=target))
    lines.append(
        _("Results: visible while the poll is open")
        if d["live"]
        else _("Results: only after closing")
    )
    lines.append(
        _("Names: shown with the choices") if d["named"] else _("Names: not shown (anonymous)")
    )
    lines += ["", _("Once you send it, these rules cannot be changed.")]
    s = PollForm.settings
    buttons = [
        ctx.choice(s, _("Send"), "send"),
        ctx.choice(s, _("Allow one answer") if d["multiple"] else _("Allow more answers"), "multi"),
        ctx.choice(s, _("Change closing time"), "closes"),
        ctx.choice(s, _("Change who gets it"), "target"),
        ctx.choice(
            s, _("Results only after closing") if d["live"] else _("Results while open"), "live"
        ),
        ctx.choice(s, _("Hide names") if d["named"] else _("Show names"), "named"),
    ]
    await ctx.ask("\n".join(lines), PollForm.settings, buttons)


@router.state(PollForm.settings)
@draft_step
async def poll_settings(ctx: Ctx) -> None:
    d = ctx.dialog.data
    value = ctx.event.button_data if ctx.event.kind == "button" else None
    if value in ("multi", "live", "named"):
        key = {"multi": "multiple", "live": "live", "named": "named"}[value]
        ctx.dialog.update(**{key: not d[key]})
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
    now = ctx.clock.now()
    buttons = [
        ctx.choice(PollForm.closes, when(in_days(now, days)), str(days))
        for days in QUICK_CLOSE_DAYS
    ]
    await ctx.ask(
        _("When does the poll close? Choose, or type a date and time like 12-12 20:00."),
        PollForm.closes,
        buttons,
    )


@router.state(PollForm.closes)
@draft_step
async def poll_closes(ctx: Ctx) -> None:
    now = ctx.clock.now()
    moment: datetime | None = None
    if ctx.event.kind == "button" and (ctx.event.button_data or "").isdigit():
        moment = in_days(now, int(ctx.event.button_data or "0"))
    elif ctx.event.kind == "text":
        moment = parse_moment(ctx.event.text, now)
        if moment is None:
            await ctx.reply(_("I could not read that date. Type it like 12-12 20:00."))
            await ask_closing(ctx)
            return
    if moment is None:
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
    target = read_target(ctx)
    if target is None:
        await please_choose(ctx, [b for b in ctx.dialog.choices if b.data != "cancel"])
        return
    ctx.dialog.update(neighbourhood_id=target[0], theme_id=target[1])
    await show_summary(ctx)


async def send(ctx: Ctx) -> None:
    d = ctx.dialog.data
    if not can_coordinate(ctx.coordinator_of, d["neighbourhood_id"]):
        await ctx.reply(_("You are no longer a coordinator there, so the poll was not sent."))
        ctx.dialog.clear()
        return
    closes_at = datetime.fromisoformat(d["closes_at"])
    if closes_at < ctx.clock.now() + MIN_OPEN:
        await ctx.reply(_("The closing time has passed meanwhile. Please choose a new one."))
        await ask_closing(ctx)
        return
    person = await ctx.ensure_person()
    poll = Poll(
        neighbourhood_id=d["neighbourhood_id"],
        theme_id=d["theme_id"],
        created_by_id=person.id,
        question=d["question"],
        options=list(d["options"]),
        multiple=d["multiple"],
        live_results=d["live"],
        named=d["named"],
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
        _("Sent to {groups} group chats and {residents} residents. It closes on {moment}.").format(
            groups=number(reach.groups),
            residents=number(reach.residents),
            moment=when(poll.closes_at),
        )
        + "\n"
        + _("See and close your polls with /peilingen.")
    )


# -- voting -----------------------------------------------------------------------------------


def _is_closed(poll: Poll, now: datetime) -> bool:
    return poll.closed_at is not None or aware(poll.closes_at) <= now


@router.callback(PollVote)
async def vote_button(ctx: Ctx) -> None:
    vote = PollVote.of(ctx)
    await cast(ctx, vote.poll, {vote.option}, toggle=True)


@router.message(kinds=("poll_answer",))
async def native_answer(ctx: Ctx) -> None:
    """An answer to a native poll (Matrix MSC3381), carrying our poll's id."""
    prefix, _sep, poll_id = ctx.event.text.partition(":")
    if prefix != "pv" or not poll_id.isdigit():
        return  # not one of ours
    await cast(ctx, int(poll_id), set(ctx.event.poll_option_ids), toggle=False)


async def cast(ctx: Ctx, poll_id: int, options: set[int], *, toggle: bool) -> None:
    if poll_id > MAX_ID:
        await _answer_voter(ctx, _("That button no longer works."))
        return
    poll = await polls.get_for_vote(ctx.session, poll_id)
    if poll is None or poll.sent_at is None:
        await _answer_voter(ctx, _("This poll no longer exists."))
        return
    if _is_closed(poll, ctx.clock.now()):
        await _answer_voter(
            ctx,
            _("This poll closed on {moment}. Your vote was not counted.").format(
                moment=when(poll.closed_at or poll.closes_at)
            ),
        )
        return
    if any(not 0 <= o < len(poll.options) for o in options):
        await _answer_voter(ctx, _("That button no longer works."))
        return
    person = await ctx.ensure_person()
    assert person.id is not None
    name = ctx.event.user.display_name
    if toggle:
        [option] = options
        mine = await polls.choose(ctx.session, poll, person.id, option, name)
    else:
        mine = await polls.set_choices(ctx.session, poll, person.id, options, name)
    chosen = [poll.options[i] for i in sorted(mine)]
    if chosen:
        text = _("Your vote on “{question}”: {choice}.").format(
            question=poll.question, choice=", ".join(chosen)
        )
    else:
        text = _("You took back your vote on “{question}”.").format(question=poll.question)
    text += " " + _("You can change it until {moment}.").format(moment=when(poll.closes_at))
    await _answer_voter(ctx, text)


async def _answer_voter(ctx: Ctx, text: str) -> None:
    """In a direct chat, answer there; from a group, answer privately when we can.

    A group is not flooded with everyone's vote confirmations.
    """
    if ctx.is_direct:
        await ctx.reply(text)
        return
    if ctx.person is not None and await tell(ctx.session, ctx.person, lambda: text):
        return
    # No private chat yet: the group must not see what someone chose.
    neutral = _("Thank you, your vote is counted. Open a private chat with me to see it.")
    link = ctx.direct_link("start")
    await ctx.reply(neutral, [Button(_("Open a private chat"), "", url=link)] if link else [])


# -- results and closing ----------------------------------------------------------------------


@router.callback(PollResults)
async def results_button(ctx: Ctx) -> None:
    poll = await polls.get(ctx.session, PollResults.of(ctx).poll)
    if poll is None:
        await ctx.reply(_("This poll no longer exists."))
        return
    closed = _is_closed(poll, ctx.clock.now())
    # A coordinator may look early, but only in a private chat: never for a whole group.
    mine = ctx.is_direct and can_coordinate(ctx.coordinator_of, poll.neighbourhood_id)
    if not (closed or poll.live_results or mine):
        await ctx.reply(
            _("The results are shared after closing, on {moment}.").format(
                moment=when(poll.closes_at)
            )
        )
        return
    tally = await polls.tally(ctx.session, poll)
    await ctx.reply(results_text(poll, tally, closed=poll.closed_at is not None))


@router.command("peilingen", "polls", role="coordinator")
async def my_polls(ctx: Ctx) -> None:
    found = await polls.open_polls(ctx.session, ctx.coordinator_of)
    if not found:
        await ctx.reply(_("There are no open polls. Start one with /peiling."))
        return
    lines = [_("Open polls:")]
    buttons: list[Button] = []
    for poll in found:
        assert poll.id is not None
        voters = await polls.count_votes(ctx.session, poll.id)
        lines.append(
            _("P-{id} “{question}”: {voters} voted, closes {moment}").format(
                id=poll.id,
                question=poll.question,
                voters=number(voters),
                moment=when(poll.closes_at),
            )
        )
        buttons.append(Button(_("Results P-{id}").format(id=poll.id), PollResults(poll.id).pack()))
        buttons.append(Button(_("Close P-{id} now").format(id=poll.id), ClosePoll(poll.id).pack()))
    await ctx.reply("\n".join(lines), buttons)


class ClosePoll(CallbackData, prefix="pc"):
    poll: int
    confirm: Literal["yes"] | None = None


@router.callback(ClosePoll, role="coordinator")
async def close_button(ctx: Ctx) -> None:
    pressed = ClosePoll.of(ctx)
    poll = await polls.get(ctx.session, pressed.poll)
    if poll is None or not can_coordinate(ctx.coordinator_of, poll.neighbourhood_id):
        await ctx.reply(_("That button no longer works."))
        return
    if poll.closed_at is not None:
        await ctx.edit(_("This poll is already closed."))
        return
    if pressed.confirm != "yes":
        await ctx.edit(
            _("Close “{question}” now? Everyone gets the results.").format(question=poll.question),
            [
                Button(_("Yes, close it now"), ClosePoll(pressed.poll, "yes").pack()),
                Button(_("No"), "cancel"),
            ],
        )
        return
    now = ctx.clock.now()
    reach = await close_poll(ctx.session, poll, now, ctx.settings.default_locale)
    if reach is None:
        await ctx.edit(_("This poll is already closed."))
        return
    await audit.record(ctx.session, ctx.person.id if ctx.person else None, "poll.closed", "poll",
                       poll.id, early=True)  # fmt: skip
    await ctx.edit(
        _("Closed. The results go to {groups} group chats and {residents} residents.").format(
            groups=number(reach.groups), residents=number(reach.residents)
        )
    )
