"""Forwarding a report to the municipality and merging a duplicate into its original: the
rules behind the chat's triage buttons and the web overview's bulk actions, so both audit
the change with the coordinator's id and tell the reporter and followers alike.

Texts for the coordinator come out in the current language (the caller's); what the
reporter and followers read is rendered later in each one's own language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.i18n import _
from bot.services.signals import status as status_service
from bot.services.signals.forwarding import ForwardingNotConfigured, request_forward
from storage.models import Signal, signal_reference
from storage.repo import audit, signals


@dataclass(frozen=True)
class Outcome:
    """What one step did: `refused` says why nothing changed; `told`, how many heard."""

    refused: str | None = None
    told: int = 0


async def forward(
    session: AsyncSession, sig: Signal, coordinator_id: int, now: datetime
) -> Outcome:
    """Queue the report for the municipality and set it to "forwarded"."""
    assert sig.id is not None
    try:
        created = await request_forward(session, sig, now)
    except ForwardingNotConfigured as exc:
        return Outcome(
            _(
                "Forwarding to the municipality is not set up for {name}. Ask the administrator."
            ).format(name=exc.neighbourhood)
        )
    if not created:
        return Outcome(_("{ref} was already sent to the municipality.").format(ref=sig.reference))
    await audit.record(session, coordinator_id, "signal.forward", "signal", sig.id)
    # Not "sent" yet: the reporter hears "received" when the municipality accepted it.
    told = await status_service.change_status(
        session, sig, "forwarded", "", coordinator_id, news=partial(_sending_text, sig.reference)
    )
    return Outcome(told=told)


def _sending_text(reference: str, for_reporter: bool) -> str:
    text = (
        _("We are sending your report {ref} to the municipality.")
        if for_reporter
        else _("We are sending {ref}, a report you follow, to the municipality.")
    )
    return text.format(ref=reference) + " " + _("You will hear from us when they have received it.")


def merge_refusal(sig: Signal, original: Signal) -> str | None:
    """Why `sig` may not be merged into `original`, or None. No chains: a merged report
    points at one open original, so its people hear about the report that is handled."""
    if original.id == sig.id or original.neighbourhood_id != sig.neighbourhood_id:
        return _("Choose another report of the same neighbourhood, not {ref} itself.").format(
            ref=sig.reference
        )
    if sig.duplicate_of_id is not None:
        return _("{ref} is already merged into {original}.").format(
            ref=sig.reference, original=signal_reference(sig.duplicate_of_id)
        )
    if original.duplicate_of_id is not None:
        return _("{original} is itself merged into {other}. Choose {other} instead.").format(
            original=original.reference, other=signal_reference(original.duplicate_of_id)
        )
    return None


async def merge(
    session: AsyncSession, sig: Signal, original: Signal, coordinator_id: int
) -> Outcome:
    """Close `sig` as the same problem as `original`; its reporter and followers follow
    `original` from now on."""
    if problem := merge_refusal(sig, original):
        return Outcome(problem)
    assert sig.id is not None and original.id is not None
    sig.duplicate_of_id = original.id
    for pid in {*(await signals.followers(session, sig.id)), sig.reporter_id} - {
        None,
        original.reporter_id,
    }:
        await signals.add_follower(session, original.id, int(pid))  # type: ignore[arg-type]
    await audit.record(session, coordinator_id, "signal.merged", "signal", sig.id, into=original.id)
    note = _("Same problem as {ref}; you will hear about that report from now on.").format(
        ref=original.reference
    )
    told = await status_service.change_status(
        session, sig, "closed", note, coordinator_id, ask_solved=False
    )
    return Outcome(told=told)
