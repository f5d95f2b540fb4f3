"""Coordinators: the open reports of their neighbourhood and setting a status with a note."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from bot.core.callbacks import CallbackData
from bot.core.context import Ctx
from bot.core.drafts import Draft
from bot.core.errors import UserFacingError
from bot.core.events import Button, keyboard
from bot.core.i18n import N_, _, fold
from bot.core.paging import Page
from bot.core.permissions import can_coordinate
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.handlers.common import guarded, read_text
from bot.services.signals import status as status_service
from bot.services.signals.forwarding import reason_text
from bot.services.signals.notices import (
    CATEGORY_LABELS,
    STATUS_LABELS,
    RetryForward,
    status_label,
)
from storage.models import Neighbourhood, Signal, SignalForward
from storage.repo import forwards, signals

router = Router("coordinator")

# Words a coordinator may type for a status, in both languages.
STATUS_WORDS = {
    "accepted": "accepted", "geaccepteerd": "accepted", "geaccepteerd.": "accepted",
    "in_progress": "in_progress", "in behandeling": "in_progress", "inbehandeling": "in_progress",
    "being handled": "in_progress", "handled": "in_progress", "bezig": "in_progress",
    "forwarded": "forwarded", "doorgestuurd": "forwarded",
    "resolved": "resolved", "solved": "resolved", "opgelost": "resolved",
    "closed": "closed", "gesloten": "closed",
}  # fmt: skip
Status = Literal["accepted", "in_progress", "forwarded", "resolved", "closed"]
CHANGEABLE: tuple[Status, ...] = ("accepted", "in_progress", "forwarded", "resolved", "closed")
# The statuses a button sets. "Forwarded" is set by forwarding, "closed" needs a reason:
# both are triage actions, so a button claiming them is not one of ours.
ButtonStatus = Literal["accepted", "in_progress", "resolved"]
BUTTON_STATUSES: tuple[ButtonStatus, ...] = ("accepted", "in_progress", "resolved")
HINT = N_("Type /meldingen to see the reports again.")


class AboutSignal(Draft):
    """A dialog step about one report."""

    signal_id: int


class StatusChange(AboutSignal):
    """A new status for a report, with its note to come."""

    status: Status


class SignalAction(CallbackData, prefix="sig", hint=HINT):
    """A coordinator's button on a report: open it, or give it a status."""

    signal: int
    action: ButtonStatus | Literal["open"]


class TriageAction(CallbackData, prefix="tri", hint=HINT):
    """Forward, ask the reporter, merge with another report, or close with a reason."""

    signal: int
    action: Literal["forward", "ask", "merge", "close"]


class OpenReportsPage(CallbackData, prefix="sigp", hint=HINT):
    """Previous / Next under the open reports."""

    page: int


class StatusForm(StatesGroup):
    interrupted = N_("You were changing the status of a report.")
    note = State()


@router.command("meldingen", "reports", role="coordinator")
async def open_reports(ctx: Ctx) -> None:
    await show_open_reports(ctx, 0)


@router.callback(OpenReportsPage, role="coordinator")
async def open_reports_page(ctx: Ctx) -> None:
    await show_open_reports(ctx, OpenReportsPage.of(ctx).page)


async def show_open_reports(ctx: Ctx, index: int) -> None:
    """A page of open reports, oldest first: however many come in, none is out of reach."""
    page = Page.at(index, await signals.count_open(ctx.session, ctx.coordinator_of))
    found = await signals.open_signals(ctx.session, ctx.coordinator_of, page.size, page.offset)
    if not found:
        await ctx.edit(_("There are no open reports in your neighbourhood."))
        return
    lines = [_("Open reports (oldest first). Choose one to see it and change its status:")]
    if page.total > page.size:
        lines.append(page.counter())
    lines += [f"{sig.reference} · {status_label(sig.status)} · {sig.text[:60]}" for sig in found]
    await ctx.edit(
        "\n".join(lines),
        keyboard(
            *(Button(sig.reference, SignalAction(sig.id or 0, "open").pack()) for sig in found),
            page.buttons(lambda i: OpenReportsPage(i).pack()),
        ),
    )


def describe(sig: Signal) -> str:
    place = sig.address or (f"{sig.lat:.5f}, {sig.lon:.5f}" if sig.lat is not None else "–")
    return "\n".join(
        [
            f"{sig.reference} · {_(CATEGORY_LABELS.get(sig.category, sig.category))}"
            f" · {status_label(sig.status)}",
            sig.text[:500],
            _("Place: {place}").format(place=place)
            + (" · " + _("with photo") if sig.photo_file_id else ""),
        ]
    )


def forward_line(fwd: SignalForward) -> str:
    if fwd.external_id:
        line = _("At the municipality ({kind}), their number: {number}").format(
            kind=fwd.kind, number=fwd.external_number or fwd.external_id
        )
        if fwd.last_error:  # filed, with something left out (e.g. the photo)
            line += "\n" + _("Note: {warning}").format(warning=fwd.last_error)
        return line
    if fwd.reason == "number_unknown":
        return _(
            "Probably at the municipality (number unknown). Please check with the municipality."
        )
    if fwd.failed:
        return _("Sending to the municipality failed: {reason}").format(
            reason=reason_text(fwd.reason)
        )
    if fwd.reason:
        return _("Not at the municipality yet; we keep trying. {reason}").format(
            reason=reason_text(fwd.reason)
        )
    return _("Being sent to the municipality")


def status_buttons(sig: Signal) -> list[Button]:
    """Status changes plus the triage actions (forward, close with a reason, merge, ask)."""
    buttons = [
        Button(status_label(s).capitalize(), SignalAction(sig.id or 0, s).pack())
        for s in BUTTON_STATUSES
        if s != sig.status
    ]
    return [
        *buttons,
        Button(_("Forward to the municipality"), TriageAction(sig.id or 0, "forward").pack()),
        Button(_("Ask the reporter a question"), TriageAction(sig.id or 0, "ask").pack()),
        Button(_("Same as another report"), TriageAction(sig.id or 0, "merge").pack()),
        Button(_("Close, with a reason"), TriageAction(sig.id or 0, "close").pack()),
    ]


async def signal_for(ctx: Ctx, signal_id: int) -> Signal:
    """The signal, if this coordinator may act on it; otherwise a kind refusal."""
    sig = await signals.signal(ctx.session, signal_id)
    if sig is None:
        raise UserFacingError(_("I can't find that report. A report number looks like M-1042."))
    if not can_coordinate(ctx.coordinator_of, sig.neighbourhood_id):
        hood = await ctx.session.get(Neighbourhood, sig.neighbourhood_id)
        raise UserFacingError(
            _("{ref} belongs to {name}. You are not a coordinator there.").format(
                ref=sig.reference, name=hood.name if hood else "?"
            )
        )
    return sig


async def show_to_coordinator(ctx: Ctx, sig: Signal) -> None:
    """The whole report, where it is at the municipality, and the coordinator's buttons."""
    text = describe(sig)
    fwd = await forwards.for_signal(ctx.session, sig.id or 0)
    buttons = status_buttons(sig)
    if fwd is not None:
        text += "\n" + forward_line(fwd)
        if forwards.may_retry(fwd):
            buttons.insert(0, Button(_("Try again"), RetryForward(sig.id or 0).pack()))
    await ctx.reply(text, buttons)


@router.callback(SignalAction, role="coordinator")
async def status_pressed(ctx: Ctx) -> None:
    pressed = SignalAction.of(ctx)
    sig = await signal_for(ctx, pressed.signal)
    if pressed.action == "open":
        await show_to_coordinator(ctx, sig)
        return
    await ctx.ask(
        _(
            "New status for {ref}: {status}. Add a short note for the reporter, or choose No note."
        ).format(ref=sig.reference, status=status_label(pressed.action)),
        StatusForm.note,
        [ctx.choice(StatusForm.note, _("No note"), "none")],
        signal_id=sig.id,
        status=pressed.action,
    )


@router.state(StatusForm.note)
@guarded("meldingen", StatusChange)
async def status_note(ctx: Ctx) -> None:
    if ctx.event.kind == "button" and ctx.event.button_data == "none":
        note = ""
    else:
        note = await read_text(ctx) or ""
        if not note:
            return
    change = StatusChange.of(ctx)
    sig = await signal_for(ctx, change.signal_id)
    ctx.dialog.clear()
    await change_status(ctx, sig, change.status, note)


@router.command("status", role="coordinator")
async def status_command(ctx: Ctx) -> None:
    parts = ctx.event.args.split(maxsplit=1)
    usage = (
        _("Use it like this: /status M-1042 accepted We will look at it this week.")
        + "\n"
        + _("Possible statuses: {statuses}.").format(
            statuses=", ".join(status_label(s) for s in CHANGEABLE)
        )
    )
    signal_id = signals.parse_reference(parts[0]) if parts else None
    if signal_id is None or len(parts) < 2:
        await ctx.reply(usage)
        return
    rest = parts[1].strip()
    status, note = _split_status(rest)
    if status is None:
        await ctx.reply(_("I don't know that status.") + "\n" + usage)
        return
    sig = await signal_for(ctx, signal_id)
    await change_status(ctx, sig, status, note)


def _split_status(rest: str) -> tuple[str | None, str]:
    """Longest known status phrase at the start ('in behandeling …' before 'in')."""
    words = rest.split()
    for n in (2, 1):
        head = fold(" ".join(words[:n]))
        if head in STATUS_WORDS or head.replace(" ", "_") in STATUS_WORDS:
            key = STATUS_WORDS.get(head) or STATUS_WORDS[head.replace(" ", "_")]
            return key, " ".join(words[n:])
    label_match = {fold(_(STATUS_LABELS[s])): s for s in CHANGEABLE}
    for n in (4, 3, 2, 1):
        head = fold(" ".join(words[:n]))
        if head in label_match:
            return label_match[head], " ".join(words[n:])
    return None, ""


async def change_status(
    ctx: Ctx,
    sig: Signal,
    status: str,
    note: str,
    *,
    ask_solved: bool = True,
    news: Callable[[bool], str] | None = None,
) -> None:
    """Set the status and tell the reporter and followers (`news(for_reporter)` if given)."""
    coordinator = ctx.person
    assert coordinator is not None and coordinator.id is not None and sig.id is not None
    problem = status_service.refusal(sig, status, note)
    if problem:
        await ctx.reply(problem)
        return
    told = await status_service.change_status(
        ctx.session, sig, status, note, coordinator.id, ask_solved=ask_solved, news=news
    )
    await ctx.edit(status_service.done_text(sig, status, told))
