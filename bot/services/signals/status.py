"""A coordinator sets a report's status with a note: the chat's buttons and /status, and the
web overview, all come here, so each change is audited and told to the reporter alike."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.i18n import _
from bot.services.signals.notices import status_label, tell_concerned
from storage.models import Signal
from storage.repo import audit, signals

# What a coordinator sets by hand; "forwarded" comes with forwarding (`triage.forward`).
BY_HAND = ("accepted", "in_progress", "resolved", "closed")


def refusal(sig: Signal, status: str, note: str) -> str | None:
    """Why this change is not made (in the coordinator's language), or None."""
    if status == sig.status and not note:
        return _("{ref} already has this status.").format(ref=sig.reference)
    if status == "closed" and not note:
        return _("Please give a reason when you close a report, so the reporter knows why.")
    return None


async def change_status(
    session: AsyncSession,
    sig: Signal,
    status: str,
    note: str,
    coordinator_id: int,
    *,
    ask_solved: bool = True,
    news: Callable[[bool], str] | None = None,
) -> int:
    """Set the status, audit it and tell the reporter and followers; how many are told.

    `news(for_reporter)` replaces the usual message when given. Check `refusal` first.
    """
    assert sig.id is not None
    old = sig.status
    await signals.set_status(session, sig, status, note, coordinator_id)
    await audit.record(
        session, coordinator_id, "signal.status", "signal", sig.id, old=old, new=status, note=note
    )
    # Only "solved" asks the reporter whether it is; a close comes with its reason.
    asks = ask_solved and status == "resolved"

    def render(for_reporter: bool) -> str:
        text = (
            _("News about your report {ref}: it is now {status}.")
            if for_reporter
            else _("News about {ref}, a report you follow: it is now {status}.")
        ).format(ref=sig.reference, status=status_label(status))
        if note and (for_reporter or sig.duplicate_of_id is not None):
            text += "\n" + _("Note from the coordinator: {note}").format(note=note)
        if for_reporter and asks:
            text += "\n" + _("Is the problem really solved?")
        return text

    return await tell_concerned(session, sig, news or render, with_solved_question=asks)


def done_text(sig: Signal, status: str, told: int) -> str:
    """What the coordinator reads after a change."""
    text = _("{ref} is now {status}.").format(ref=sig.reference, status=status_label(status))
    if told:
        text += " " + _("The reporter will be told.")
    return text
