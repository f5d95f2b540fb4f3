"""A resident's own reports: /mijnmeldingen, a report opened by its number, and the answer
to "is it really solved?" (a "no" reopens the report and asks what is still wrong)."""

from __future__ import annotations

from datetime import timedelta

from bot.core.callbacks import CallbackData, StaleButton
from bot.core.context import Ctx
from bot.core.events import keyboard
from bot.core.i18n import N_, _, when
from bot.core.paging import Page
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.handlers.common import read_text
from bot.handlers.signals.coordinator import show_to_coordinator
from bot.services.signals.access import is_reporter, may_view
from bot.services.signals.notices import (
    CATEGORY_LABELS,
    SolvedAnswer,
    resident_card,
    status_label,
    tell_coordinators,
)
from storage.repo import audit, forwards, signals

REASON_WAIT = timedelta(minutes=10)  # for "what is still wrong?" before telling the municipality

router = Router("signals_mine")


class NotSolvedForm(StatesGroup):
    """After "No, it is not solved": what is still wrong (optional)."""

    why = State()


class MyReportsPage(CallbackData, prefix="mysp", hint=N_("Type /mijnmeldingen to see them again.")):
    """Previous / Next under a resident's own reports."""

    page: int


@router.command("mijnmeldingen", "myreports", while_busy="pause")
async def my_signals(ctx: Ctx) -> None:
    await show_my_signals(ctx, 0)


@router.callback(MyReportsPage)
async def my_signals_page(ctx: Ctx) -> None:
    await show_my_signals(ctx, MyReportsPage.of(ctx).page)


async def open_by_number(ctx: Ctx, signal_id: int) -> None:
    """A report by its number, to whoever may see it (the same answer when it does not
    exist, so a number tells an outsider nothing)."""
    sig = await signals.signal(ctx.session, signal_id)
    if sig is None or sig.id is None or not await may_view(ctx.session, sig, ctx.actor):
        await ctx.reply(
            _("I can't find report {ref}, or it is not in your neighbourhood.").format(
                ref=f"M-{1000 + signal_id}"
            )
        )
        return
    if ctx.actor.coordinates(sig.neighbourhood_id):
        await show_to_coordinator(ctx, sig)
        return
    # As the Open button of the digest shows it.
    pid = ctx.person.id if ctx.person is not None else None
    involved = pid is not None and (
        pid == sig.reporter_id or pid in await signals.followers(ctx.session, sig.id)
    )
    await ctx.reply(*resident_card(sig, involved))


FOLLOWED_SHOWN = 10  # the newest reports someone follows, under their own on the first page


async def show_my_signals(ctx: Ctx, index: int) -> None:
    """A page of the person's reports, newest first, each with its status and last note;
    on the first page also the reports they follow (status only: not the reporter's words)."""
    person_id = ctx.person.id if ctx.person is not None else None
    total = await signals.count_by(ctx.session, person_id) if person_id is not None else 0
    followed = await _followed_lines(ctx, person_id) if index == 0 else []
    if person_id is None or (not total and not followed):
        await ctx.edit(_("You have no reports yet. Type /melding to report something."))
        return
    page = Page.at(index, total)
    found = await signals.signals_by(
        ctx.session, person_id, newest_first=True, limit=page.size, offset=page.offset
    )
    lines = [_("Your reports:")] if total else []
    if page.total > page.size:
        lines.append(page.counter())
    for sig in found:
        history = await signals.history(ctx.session, sig.id or 0)
        last = history[-1] if history else None
        line = _("{ref} ({date}): {status}").format(
            ref=sig.reference, date=when(sig.created_at), status=status_label(sig.status)
        )
        line += f" – {sig.text[:60]}"
        if last is not None and last.note:
            line += "\n   " + _("Note: {note}").format(note=last.note)
        lines.append(line)
    if followed:
        lines += ["", _("Reports you follow:"), *followed]
    await ctx.edit(
        "\n".join(lines).strip(), keyboard(page.buttons(lambda i: MyReportsPage(i).pack()))
    )


async def _followed_lines(ctx: Ctx, person_id: int | None) -> list[str]:
    if person_id is None:
        return []
    followed = (await signals.followed_by(ctx.session, person_id))[::-1][:FOLLOWED_SHOWN]
    return [
        _("{ref} ({date}): {status}").format(
            ref=sig.reference, date=when(sig.created_at), status=status_label(sig.status)
        )
        + f" – {_(CATEGORY_LABELS.get(sig.category, sig.category))}"
        for sig in followed
    ]


@router.callback(SolvedAnswer)
async def solved_answer(ctx: Ctx) -> None:
    """The reporter's answer to "is it really solved?"; "no" reopens the report."""
    pressed = SolvedAnswer.of(ctx)
    sig = await signals.signal(ctx.session, pressed.signal)
    if (
        sig is None
        or ctx.person is None
        or ctx.person.id is None
        or not is_reporter(sig, ctx.actor)
    ):
        raise StaleButton()
    if pressed.answer == "yes":
        await ctx.edit(_("Good to hear! Thank you for reporting {ref}.").format(ref=sig.reference))
        return
    if sig.status not in ("resolved", "closed"):
        await ctx.edit(_("{ref} is already open again.").format(ref=sig.reference))
        return
    await signals.set_status(
        ctx.session, sig, "reopened", _("The reporter says it is not solved."), ctx.person.id
    )
    await audit.record(ctx.session, ctx.person.id, "signal.reopened", "signal", sig.id)
    # A forwarded report goes back to the municipality too; the reason, if any, waits a bit.
    await forwards.ask_reopen(ctx.session, sig.id or 0, "", ctx.clock.now() + REASON_WAIT)
    await tell_coordinators(
        ctx.session, sig,
        lambda: _("The reporter says {ref} is not solved. It is open again.").format(ref=sig.reference),
    )  # fmt: skip
    # Why is optional: the coordinators already know it is open again.
    ctx.dialog.goto(NotSolvedForm.why, signal_id=sig.id)
    await ctx.edit(
        _("Thank you. {ref} is open again and the coordinator has been told.").format(
            ref=sig.reference
        )
        + "\n"
        + _("What is still wrong? Write it in a few words for the coordinator, or choose Skip."),
        [ctx.choice(NotSolvedForm.why, _("Skip"), "skip")],
    )


@router.state(NotSolvedForm.why)
async def not_solved_why(ctx: Ctx) -> None:
    # Not a draft: the report is open again already, so a lost `signal_id` must not end in
    # "Nothing was saved"; it is read defensively and the answer still thanks.
    if ctx.event.kind == "button" and ctx.event.button_data == "skip":
        signal_id = ctx.dialog.data.get("signal_id")
        ctx.dialog.clear()
        if isinstance(signal_id, int):
            await forwards.ask_reopen(ctx.session, signal_id, "", ctx.clock.now(), add=True)
        await ctx.edit(_("Thank you. The coordinator will look at it again."))
        return
    why = await read_text(ctx)
    if why is None:
        return
    signal_id = ctx.dialog.data.get("signal_id")
    ctx.dialog.clear()
    sig = await signals.signal(ctx.session, signal_id) if isinstance(signal_id, int) else None
    if sig is None or ctx.person is None or not is_reporter(sig, ctx.actor):
        await ctx.reply(_("Thank you. That report no longer exists."))
        return
    await signals.add_note(ctx.session, sig, "answer", why, ctx.person.id)
    await forwards.ask_reopen(ctx.session, sig.id or 0, why, ctx.clock.now(), add=True)
    await tell_coordinators(
        ctx.session, sig,
        lambda: _("The reporter of {ref} says what is still wrong:").format(ref=sig.reference) + "\n" + why,
    )  # fmt: skip
    await ctx.reply(_("Thank you! The coordinator will read this."))
