"""A resident's own statement: one short sentence, a duplicate pointed out, and — when the
conversation asks for it — a coordinator's approval (or a rejection with a reason) first.
The author hears the outcome in their own language."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from bot.core.callbacks import StaleButton
from bot.core.context import Ctx
from bot.core.drafts import Draft
from bot.core.events import Button
from bot.core.i18n import N_, _
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.core.text import clean
from bot.delivery.notify import tell
from bot.handlers.common import guarded, lost
from bot.services.dialogue.conversations import AddStatement, Review, is_open, may_take_part
from bot.services.dialogue.statements import MAX_STATEMENT, alike, problem_with
from storage.dialogue_models import Conversation, Statement
from storage.models import Person
from storage.repo import dialogue, people

router = Router("dialogue_statements")
MAX_REASON = 300


class StatementDraft(Draft):
    """A statement being written, for one conversation."""

    conversation: int


class ShownAlike(StatementDraft):
    """A statement written, with one like it shown: "Add mine anyway"."""

    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_STATEMENT)]


class Rejecting(Draft):
    """A coordinator's reason for not adding a statement, to come."""

    statement: int


class StatementForm(StatesGroup):
    interrupted = N_("You were writing a statement.")
    text = State()
    duplicate = State()


class ReviewForm(StatesGroup):
    interrupted = N_("You were giving a reason for not adding a statement.")
    reason = State()


@router.callback(AddStatement)
async def add_statement(ctx: Ctx) -> None:
    conv = await dialogue.get(ctx.session, AddStatement.of(ctx).conversation)
    if conv is None or conv.id is None:
        raise StaleButton()
    if not await may_take_part(ctx.session, conv, ctx.actor):
        raise StaleButton()
    if not is_open(conv, ctx.clock.now()):
        await ctx.reply(_("This conversation has ended, so no statements can be added."))
        return
    if not ctx.is_direct:
        await ctx.reply(_("Please add your statement in a private chat with me."))
        return
    await ask_text(ctx, conv.id)


async def ask_text(ctx: Ctx, conversation_id: int) -> None:
    await ctx.ask(
        _("Type your statement: one short sentence others can agree or disagree with."),
        StatementForm.text,
        conversation=conversation_id,
    )


async def _open_conversation(ctx: Ctx) -> Conversation | None:
    conv = await dialogue.get(ctx.session, StatementDraft.of(ctx).conversation)
    if conv is None or not is_open(conv, ctx.clock.now()):
        ctx.dialog.clear()
        await ctx.reply(_("This conversation has ended, so no statements can be added."))
        return None
    return conv


@router.state(StatementForm.text)
@guarded("gesprek", StatementDraft)
async def statement_text(ctx: Ctx) -> None:
    conv = await _open_conversation(ctx)
    if conv is None or conv.id is None:
        return
    if ctx.event.kind != "text":
        await ctx.reply(_("Please type the statement as text, or choose Cancel."))
        return
    text = clean(ctx.event.text)
    problem = problem_with(text)
    if problem is not None:
        await ctx.reply(problem)
        if len(text) > 0 and "\n" not in problem:
            await ctx.reply(text)  # kept, to copy and shorten
        await ask_text(ctx, conv.id)
        return
    same = alike(text, await dialogue.statements(ctx.session, conv.id, None))
    if same is not None and same.status != "rejected":
        s = StatementForm.duplicate
        await ctx.ask(
            _("A statement like this is in the conversation already: “{text}”.").format(
                text=same.text
            )
            + "\n"
            + _("You can vote on that one, or add yours anyway."),
            s,
            [ctx.choice(s, _("Add mine anyway"), "add")],
            conversation=conv.id,
            text=text,
        )
        return
    await _save(ctx, conv, text)


@router.state(StatementForm.duplicate)
@guarded("gesprek", ShownAlike)
async def duplicate(ctx: Ctx) -> None:
    conv = await _open_conversation(ctx)
    if conv is None:
        return
    if ctx.event.kind == "button" and ctx.event.button_data == "add":
        await _save(ctx, conv, ShownAlike.of(ctx).text)
        return
    await ctx.reply(_("Please choose Add mine anyway, or Cancel."))


async def _save(ctx: Ctx, conv: Conversation, text: str) -> None:
    assert conv.id is not None
    person = await ctx.ensure_person()
    st = Statement(
        conversation_id=conv.id,
        author_id=person.id,
        text=text,
        status="waiting" if conv.moderated else "shown",
    )
    ctx.session.add(st)
    await ctx.session.flush()
    ctx.dialog.clear()
    if not conv.moderated:
        await ctx.reply(_("Thank you! Your statement is in the conversation now."))
        return
    for coordinator in await people.coordinators_of(ctx.session, conv.neighbourhood_id):
        await tell(
            ctx.session,
            coordinator,
            lambda: _review_text(conv, st),
            lambda: _review_buttons(st),
        )
    await ctx.reply(
        _("Thank you! A coordinator looks at your statement first. You will hear the outcome.")
    )


def _review_text(conv: Conversation, st: Statement) -> str:
    return (
        _("A new statement for the conversation “{question}”:").format(question=conv.question)
        + f"\n\n“{st.text}”"
    )


def _review_buttons(st: Statement) -> list[Button]:
    assert st.id is not None
    return [
        Button(_("Approve"), Review(st.id, "ok").pack()),
        Button(_("Reject, with a reason"), Review(st.id, "no").pack()),
    ]


@router.callback(Review, role="coordinator")
async def review(ctx: Ctx) -> None:
    verdict = Review.of(ctx)
    st = await dialogue.statement(ctx.session, verdict.statement)
    conv = None if st is None else await dialogue.get(ctx.session, st.conversation_id)
    if st is None or conv is None or not ctx.actor.coordinates(conv.neighbourhood_id):
        raise StaleButton()
    if st.status != "waiting":
        await ctx.reply(_("Another coordinator has looked at this statement already."))
        return
    if verdict.verdict == "ok":
        st.status = "shown"
        ctx.session.add(st)
        await _tell_author(ctx, st, None)
        await ctx.reply(_("Approved: “{text}” is in the conversation now.").format(text=st.text))
        return
    await ctx.ask(
        _("Why is this statement not added? The author will read your reason."),
        ReviewForm.reason,
        statement=st.id,
    )


@router.state(ReviewForm.reason)
@guarded("gesprek", Rejecting, coordinator=True)
async def reason(ctx: Ctx) -> None:
    if ctx.event.kind != "text" or not clean(ctx.event.text):
        await ctx.reply(_("Please type the reason as text, or choose Cancel."))
        return
    st = await dialogue.statement(ctx.session, Rejecting.of(ctx).statement)
    if st is None:
        await lost(ctx, "gesprek")
        return
    ctx.dialog.clear()
    if st.status != "waiting":
        await ctx.reply(_("Another coordinator has looked at this statement already."))
        return
    st.status, st.reason = "rejected", clean(ctx.event.text)[:MAX_REASON]
    ctx.session.add(st)
    await _tell_author(ctx, st, st.reason)
    await ctx.reply(_("Rejected. The author is told your reason."))


async def _tell_author(ctx: Ctx, st: Statement, why: str | None) -> None:
    author = None if st.author_id is None else await ctx.session.get(Person, st.author_id)
    if author is None:
        return
    if why is None:
        await tell(
            ctx.session,
            author,
            lambda: _("Your statement “{text}” is in the conversation now. Thank you!").format(
                text=st.text
            ),
        )
    else:
        await tell(
            ctx.session,
            author,
            lambda: _(
                "Your statement “{text}” was not added. The coordinator says: {reason}"
            ).format(text=st.text, reason=why),
        )
