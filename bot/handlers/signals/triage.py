"""Triage by coordinators: forward, close with a reason, merge duplicates, ask the reporter.

Every step is an audit event and the reporter (and followers) hear about it in their
own language. The reporter's answer to a question reaches the coordinators.
"""

from __future__ import annotations

from bot.core.callbacks import CallbackData, StaleButton
from bot.core.context import Ctx
from bot.core.dialog import set_dialog_for
from bot.core.events import Button
from bot.core.i18n import N_, _
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.core.text import first_line
from bot.delivery.notify import tell
from bot.handlers.common import guarded, read_text
from bot.handlers.signals.coordinator import AboutSignal, TriageAction, change_status, signal_for
from bot.services.signals import status as status_service
from bot.services.signals import triage
from bot.services.signals.access import may_answer
from bot.services.signals.notices import RetryForward, tell_coordinators
from bot.services.signals.similar import Known, likely_same
from storage.models import Person, Signal
from storage.repo import audit, forwards, people, signals

router = Router("triage")


class AnswerReporter(CallbackData, prefix="ans"):
    """The reporter's "Answer" button under a coordinator's question."""

    signal: int


class Triage(StatesGroup):
    interrupted = N_("You were handling a report.")
    reason = State()
    question = State()
    original = State()
    merge = State()  # "Merge M-1043 into M-1042?"


class Merging(AboutSignal):
    """Merging a report into another: the one it duplicates."""

    original_id: int


step = guarded("meldingen", AboutSignal)


class ReporterReply(StatesGroup):
    interrupted = N_("You were answering a question about your report.")
    answer = State()


@router.callback(TriageAction, role="coordinator")
async def action_pressed(ctx: Ctx) -> None:
    pressed = TriageAction.of(ctx)
    sig = await signal_for(ctx, pressed.signal)
    action = pressed.action
    if action == "forward":
        await forward(ctx, sig)
    elif action == "ask":
        await ctx.ask(
            _("What do you want to ask the reporter of {ref}?").format(ref=sig.reference),
            Triage.question,
            signal_id=sig.id,
        )
    elif action == "merge":
        await ask_original(ctx, sig)
    else:
        await ctx.ask(
            _("Why do you close {ref}? The reporter will read this.").format(ref=sig.reference),
            Triage.reason,
            signal_id=sig.id,
        )


async def forward(ctx: Ctx, sig: Signal) -> None:
    assert ctx.person is not None and ctx.person.id is not None
    done = await triage.forward(ctx.session, sig, ctx.person.id, ctx.clock.now())
    if done.refused:
        await ctx.reply(done.refused)
        return
    await ctx.edit(status_service.done_text(sig, "forwarded", done.told))


@router.callback(RetryForward, role="coordinator")
async def retry_pressed(ctx: Ctx) -> None:
    """ "Try again" under a failed forward: queued once more, never filed twice."""
    sig = await signal_for(ctx, RetryForward.of(ctx).signal)
    ref = sig.reference
    fwd = await forwards.for_signal(ctx.session, sig.id or 0)
    if fwd is not None and forwards.may_retry(fwd):
        forwards.requeue(ctx.session, fwd, ctx.clock.now())
        await audit.record(
            ctx.session,
            ctx.person.id if ctx.person else None,
            "signal.forward_retry",
            "signal",
            sig.id,
        )
        await ctx.reply(
            _("We send {ref} to the municipality again, within a few minutes.").format(ref=ref)
        )
    elif fwd is None:
        await ctx.reply(_("{ref} was not forwarded to the municipality.").format(ref=ref))
    elif fwd.external_id is not None:
        await ctx.reply(_("{ref} is already at the municipality.").format(ref=ref))
    elif fwd.forwarded_at is not None:
        await ctx.reply(
            _(
                "{ref} may already be at the municipality, so we do not send it again. "
                "Please check with the municipality."
            ).format(ref=ref)
        )
    else:
        await ctx.reply(_("{ref} is already waiting to be sent.").format(ref=ref))


@router.state(Triage.reason)
@step
async def close_reason(ctx: Ctx) -> None:
    reason = await read_text(ctx)
    if reason is None:
        return
    sig = await signal_for(ctx, AboutSignal.of(ctx).signal_id)
    ctx.dialog.clear()
    await change_status(ctx, sig, "closed", reason)


@router.state(Triage.question)
@step
async def ask_reporter(ctx: Ctx) -> None:
    question = await read_text(ctx)
    if question is None:
        return
    sig = await signal_for(ctx, AboutSignal.of(ctx).signal_id)
    ctx.dialog.clear()
    assert ctx.person is not None and sig.id is not None
    reporter = await ctx.session.get(Person, sig.reporter_id) if sig.reporter_id else None
    if reporter is None or reporter.id is None:
        await ctx.reply(
            _("The reporter of {ref} can no longer be reached.").format(ref=sig.reference)
        )
        return
    chat = await people.direct_chat_of(ctx.session, reporter.id)
    accounts = [
        a
        for a in await people.accounts_of(ctx.session, reporter.id)
        if chat and a.platform == chat.platform
    ]
    if chat is None or not accounts:
        await ctx.reply(
            _("The reporter of {ref} can no longer be reached.").format(ref=sig.reference)
        )
        return
    await signals.add_note(ctx.session, sig, "question", question, ctx.person.id)
    await audit.record(ctx.session, ctx.person.id, "signal.question", "signal", sig.id)
    # Their next message is the answer, unless they are busy with something else:
    # then the Answer button starts it when they are ready.
    waiting = await set_dialog_for(
        ctx.session, chat.platform, chat.chat_id, accounts[0].platform_user_id,
        ReporterReply.answer, {"signal_id": sig.id}, ctx.clock.now(), only_if_idle=True,
    )  # fmt: skip

    def render() -> str:
        return "\n".join(
            [
                _("A coordinator has a question about your report {ref}:").format(
                    ref=sig.reference
                ),
                question,
                _("Just reply here with your answer.")
                if waiting
                else _("Press Answer when you are ready to reply."),
            ]
        )

    def answer_button() -> list[Button]:
        return [Button(_("Answer"), AnswerReporter(sig.id or 0).pack())]

    await tell(ctx.session, reporter, render, answer_button)
    await ctx.reply(_("Your question was sent to the reporter of {ref}.").format(ref=sig.reference))


@router.callback(AnswerReporter)
async def answer_pressed(ctx: Ctx) -> None:
    sig = await signals.signal(ctx.session, AnswerReporter.of(ctx).signal)
    if sig is None or not await may_answer(ctx.session, sig, ctx.actor):
        raise StaleButton()
    await ctx.ask(
        _("Type your answer about {ref}.").format(ref=sig.reference),
        ReporterReply.answer,
        signal_id=sig.id,
    )


@router.state(ReporterReply.answer)
@guarded("mijnmeldingen", AboutSignal)
async def reporter_answers(ctx: Ctx) -> None:
    answer = await read_text(ctx)
    if answer is None:
        return
    sig = await signals.signal(ctx.session, AboutSignal.of(ctx).signal_id)
    ctx.dialog.clear()
    if sig is None or ctx.person is None:
        await ctx.reply(_("Thank you. That report no longer exists."))
        return
    await signals.add_note(ctx.session, sig, "answer", answer, ctx.person.id)
    await tell_coordinators(
        ctx.session, sig,
        lambda: _("The reporter of {ref} answered:").format(ref=sig.reference) + "\n" + answer,
    )  # fmt: skip
    await ctx.reply(_("Thank you! The coordinator will read your answer."))


async def ask_original(ctx: Ctx, sig: Signal) -> None:
    """Offer the open reports nearby or alike in the same neighbourhood; a number works too."""
    others = [s for s in await signals.open_in(ctx.session, sig.neighbourhood_id) if s.id != sig.id]
    known = [Known(s.id or 0, s.category, s.text, s.lat, s.lon, s.address) for s in others]
    found = likely_same(sig.text, sig.category, sig.lat, sig.lon, sig.address, known, limit=5)
    by_id = {s.id: s for s in others}
    buttons = []
    for m in found:
        other = by_id[m.known.id]
        label = f"{other.reference} · {first_line(other.text, 30)}"
        if m.metres is not None:
            label += " · " + _("{metres} m away").format(metres=round(m.metres))
        buttons.append(ctx.choice(Triage.original, label[:60], str(other.id)))
    question = _("Which report is the same problem? Type its number, for example M-1042.")
    if found:
        question = _(
            "Which report is the same problem? These open reports are nearby or alike. Or type a number, for example M-1042."
        )
    await ctx.ask(question, Triage.original, buttons, signal_id=sig.id)


@router.state(Triage.original)
@step
async def merge_into(ctx: Ctx) -> None:
    sig = await signal_for(ctx, AboutSignal.of(ctx).signal_id)
    original_id: int | None = None
    if ctx.event.kind == "text":
        original_id = signals.parse_reference(ctx.event.text)
    elif (pressed := ctx.event.button_data or "").isascii() and pressed.isdigit():
        original_id = int(pressed)
    if original_id is None:
        await ctx.reply(
            _("Please type a report number, for example M-1042."), [ctx.cancel_button()]
        )
        return
    original = await signal_for(ctx, original_id)
    if problem := triage.merge_refusal(sig, original):
        await ctx.reply(problem, [ctx.cancel_button()])
        return
    await ctx.ask(
        _(
            "Merge {ref} into {original} “{text}”? {ref} is closed, and its reporter and followers hear about {original} from now on."
        ).format(
            ref=sig.reference, original=original.reference, text=first_line(original.text, 80)
        ),
        Triage.merge,
        [ctx.choice(Triage.merge, _("Yes, merge"), "yes")],
        original_id=original.id,
    )


@router.state(Triage.merge)
@guarded("meldingen", Merging)
async def merge_confirmed(ctx: Ctx) -> None:
    if ctx.event.kind != "button" or ctx.event.button_data != "yes":
        await ctx.reply(_("Please choose one of the buttons."), [ctx.cancel_button()])
        return
    merging = Merging.of(ctx)
    sig = await signal_for(ctx, merging.signal_id)
    original = await signal_for(ctx, merging.original_id)
    ctx.dialog.clear()
    assert ctx.person is not None and ctx.person.id is not None
    done = await triage.merge(ctx.session, sig, original, ctx.person.id)
    if done.refused:
        await ctx.reply(done.refused)
        return
    await ctx.edit(status_service.done_text(sig, "closed", done.told))
