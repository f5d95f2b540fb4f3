"""Opening a conversation: a question, a few seed statements, then one summary to change
the end date, who gets it and whether new statements wait for approval; then Send."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

from bot.core.context import Ctx
from bot.core.drafts import Draft
from bot.core.i18n import N_, _, fold, when
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.core.text import clean, has_words, whole_number
from bot.delivery.broadcast import groups_text, residents_text
from bot.handlers.announce import announcer, targets
from bot.handlers.common import chosen_moment, moment_choices, please_choose
from bot.handlers.targets import refused_for_nobody, target_name
from bot.services.dialogue.conversations import MAX_QUESTION, announce
from bot.services.dialogue.statements import MAX_STATEMENT, problem_with
from bot.util.when import in_days, passed
from storage.dialogue_models import Conversation, Statement
from storage.repo import audit

router = Router("dialogue_compose")

MAX_SEEDS = 20
MIN_OPEN, MAX_OPEN = timedelta(hours=1), timedelta(days=90)
QUICK_DAYS = (7, 14, 30)

Seed = Annotated[str, StringConstraints(min_length=1, max_length=MAX_STATEMENT)]


class ConversationStart(Draft):
    seeds: list[Seed] = Field(max_length=MAX_SEEDS)
    moderated: bool
    closes_at: AwareDatetime
    neighbourhood_id: int
    theme_id: int | None


class ConversationDraft(ConversationStart):
    question: str = Field(min_length=1, max_length=MAX_QUESTION)


# A coordinator, or a partner a coordinator allowed to send news to its themes.
draft_step = announcer("nieuwgesprek", ConversationDraft)


class ConversationForm(StatesGroup):
    interrupted = N_("You were opening a conversation.")
    question = State()
    seeds = State()
    settings = State()
    closes = State()
    target = State()


@router.command("nieuwgesprek", "newconversation")
async def new_conversation(ctx: Ctx) -> None:
    allowed = await targets(ctx)
    if not allowed:
        await ctx.reply(
            _(
                "Only a coordinator of the neighbourhood can do this. Type /help to see what you can do."
            )
        )
        return
    ctx.dialog.clear()
    ConversationStart(
        seeds=[],
        moderated=True,
        closes_at=in_days(ctx.clock.now(), 14),
        neighbourhood_id=allowed[0][0],
        theme_id=allowed[0][1],
    ).save(ctx)
    parts = [clean(p) for p in ctx.event.args.split("|")] if ctx.event.args.strip() else []
    if not parts:
        await ctx.ask(
            _("What question do you want to talk about with the neighbourhood? Type it."),
            ConversationForm.question,
        )
        return
    if not await _take_question(ctx, parts[0]):
        return
    for seed in parts[1:]:
        if not await _take_seed(ctx, seed):
            return
    if ConversationStart.of(ctx).seeds:
        await show_summary(ctx)
    else:
        await ask_seed(ctx)


@router.state(ConversationForm.question)
@announcer("nieuwgesprek", ConversationStart)
async def question_step(ctx: Ctx) -> None:
    if ctx.event.kind != "text":
        await ctx.reply(_("Please type the question as text, or choose Cancel."))
        return
    if await _take_question(ctx, clean(ctx.event.text)):
        await ask_seed(ctx)


async def _take_question(ctx: Ctx, text: str) -> bool:
    if not has_words(text) or len(text) > MAX_QUESTION:
        await ctx.ask(
            _("Please type a question in words, at most {limit} characters.").format(
                limit=MAX_QUESTION
            ),
            ConversationForm.question,
        )
        return False
    ctx.dialog.update(question=text)
    return True


async def ask_seed(ctx: Ctx) -> None:
    n = len(ConversationStart.of(ctx).seeds)
    text = _(
        "Type a first statement people can agree or disagree with: one short sentence "
        "(at most {limit} characters)."
    ).format(limit=MAX_STATEMENT)
    if n == 0:
        await ctx.ask(text, ConversationForm.seeds)
        return
    done = ctx.choice(ConversationForm.seeds, _("Done"), "done")
    more = _("Type another statement, or choose Done.")
    await ctx.ask_text(more, ConversationForm.seeds, [done])


@router.state(ConversationForm.seeds)
@draft_step
async def seed_step(ctx: Ctx) -> None:
    event = ctx.event
    if event.kind == "button" and event.button_data == "done":
        if ConversationDraft.of(ctx).seeds:
            await show_summary(ctx)
        else:
            await ask_seed(ctx)
        return
    if event.kind != "text":
        await ctx.reply(_("Please type the statement as text, or choose Cancel."))
        return
    if await _take_seed(ctx, clean(event.text)):
        if len(ConversationDraft.of(ctx).seeds) >= MAX_SEEDS:
            await show_summary(ctx)
        else:
            await ask_seed(ctx)


async def _take_seed(ctx: Ctx, text: str) -> bool:
    seeds = ConversationStart.of(ctx).seeds
    problem = problem_with(text)
    if problem is None and fold(text) in {fold(s) for s in seeds}:
        problem = _("You already have that statement.")
    if problem is not None:
        await ctx.reply(problem)
        if len(text) > MAX_STATEMENT:
            await ctx.reply(text)  # the text, kept to edit
        await ask_seed(ctx)
        return False
    ctx.dialog.update(seeds=[*seeds, text])
    return True


async def show_summary(ctx: Ctx) -> None:
    d = ConversationDraft.of(ctx)
    lines = [_("Your conversation:"), "", f"💬 {d.question}"]
    lines += [f"{i}. {s}" for i, s in enumerate(d.seeds, 1)]
    lines.append("")
    lines.append(_("Ends: {moment}").format(moment=when(d.closes_at)))
    target = await target_name(ctx, d.neighbourhood_id, d.theme_id)
    lines.append(_("Goes to: {target}").format(target=target))
    lines.append(
        _("New statements: a coordinator approves them first")
        if d.moderated
        else _("New statements: shown at once")
    )
    s = ConversationForm.settings
    buttons = [
        ctx.choice(s, _("Send"), "send"),
        ctx.choice(s, _("Change end date"), "closes"),
        ctx.choice(s, _("Change who gets it"), "target"),
        ctx.choice(
            s,
            _("Show new statements at once") if d.moderated else _("Approve new statements"),
            "moderated",
        ),
    ]
    await ctx.ask("\n".join(lines), s, buttons)


@router.state(ConversationForm.settings)
@draft_step
async def settings_step(ctx: Ctx) -> None:
    value = ctx.event.button_data if ctx.event.kind == "button" else None
    if value == "moderated":
        ctx.dialog.update(moderated=not ConversationDraft.of(ctx).moderated)
        await show_summary(ctx)
    elif value == "closes":
        await ask_closing(ctx)
    elif value == "target":
        buttons = [
            ctx.choice(ConversationForm.target, await target_name(ctx, *t), f"{t[0]}:{t[1] or ''}")
            for t in await targets(ctx)
        ]
        await ctx.ask(_("Who should get this conversation?"), ConversationForm.target, buttons)
    elif value == "send":
        await send(ctx)
    else:
        await ctx.reply(_("Please choose one of the buttons below the summary."))
        await show_summary(ctx)


async def ask_closing(ctx: Ctx) -> None:
    buttons = moment_choices(ctx, ConversationForm.closes, QUICK_DAYS)
    await ctx.ask(
        _("When does the conversation end? Choose, or type a date and time like 12-12 20:00."),
        ConversationForm.closes,
        buttons,
    )


@router.state(ConversationForm.closes)
@draft_step
async def closes_step(ctx: Ctx) -> None:
    now = ctx.clock.now()
    moment = chosen_moment(ctx)
    problem = None
    if moment is None:
        problem = _("I could not read that date. Type it like 12-12 20:00.")
    elif moment <= now:
        problem = passed(now)
    elif not now + MIN_OPEN <= moment <= now + MAX_OPEN:
        problem = _("A conversation stays open for at least an hour and at most 90 days.")
    if problem is not None or moment is None:
        await ctx.reply(problem or "")
        await ask_closing(ctx)
        return
    ctx.dialog.update(closes_at=moment.isoformat())
    await show_summary(ctx)


@router.state(ConversationForm.target)
@draft_step
async def target_step(ctx: Ctx) -> None:
    hood, _sep, theme = (ctx.event.button_data or "").partition(":")
    target = (whole_number(hood), whole_number(theme) if theme else None)
    if ctx.event.kind != "button" or target not in await targets(ctx):
        await please_choose(ctx, [b for b in ctx.dialog.choices if b.data != "cancel"])
        return
    ctx.dialog.update(neighbourhood_id=target[0], theme_id=target[1])
    await show_summary(ctx)


async def send(ctx: Ctx) -> None:
    d = ConversationDraft.of(ctx)
    if (d.neighbourhood_id, d.theme_id) not in await targets(ctx):
        await ctx.reply(_("You may no longer send there, so nothing was sent."))
        ctx.dialog.clear()
        return
    if d.closes_at < ctx.clock.now() + MIN_OPEN:
        await ctx.reply(_("The end date has passed meanwhile. Please choose a new one."))
        await ask_closing(ctx)
        return
    person = await ctx.ensure_person()
    conv = Conversation(
        neighbourhood_id=d.neighbourhood_id,
        theme_id=d.theme_id,
        created_by_id=person.id,
        question=d.question,
        moderated=d.moderated,
        closes_at=d.closes_at,
    )
    ctx.session.add(conv)
    await ctx.session.flush()
    assert conv.id is not None
    for text in d.seeds:
        ctx.session.add(
            Statement(conversation_id=conv.id, author_id=person.id, text=text, seed=True)
        )
    await ctx.session.flush()
    reach = await announce(ctx.session, conv, ctx.clock.now(), ctx.settings.default_locale)
    if await refused_for_nobody(ctx, conv, reach):
        await show_summary(ctx)
        return
    await audit.record(ctx.session, person.id, "conversation.sent", "conversation", conv.id,
                       groups=reach.groups, residents=reach.residents)  # fmt: skip
    ctx.dialog.clear()
    await ctx.reply(
        _("Sent to {groups} and {residents}. It ends on {moment}.").format(
            groups=groups_text(reach.groups),
            residents=residents_text(reach.residents),
            moment=when(conv.closes_at),
        )
        + "\n"
        + _("In a linked group, type /gesprek to post a statement everyone can vote on.")
    )
