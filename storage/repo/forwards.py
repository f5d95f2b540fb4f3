"""Forwarded signals: what is due to be sent, what is due to be checked."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Signal, SignalForward


async def for_signal(session: AsyncSession, signal_id: int) -> SignalForward | None:
    stmt = select(SignalForward).where(col(SignalForward.signal_id) == signal_id)
    return (await session.exec(stmt)).first()


async def due_to_send(
    session: AsyncSession, now: datetime, limit: int = 50
) -> list[tuple[SignalForward, int]]:
    """Forwards to send now, each with its signal's neighbourhood id, oldest first.

    A forward given up on (`failed`) is sent again only when a coordinator asks
    (`requeue`); one the municipality accepted (`forwarded_at`) never again.
    """
    stmt = (
        select(SignalForward, Signal.neighbourhood_id)
        .join(Signal, col(Signal.id) == col(SignalForward.signal_id))
        .where(
            col(SignalForward.external_id).is_(None),
            col(SignalForward.failed).is_(False),
            col(SignalForward.forwarded_at).is_(None),  # accepted, number unknown
            or_(
                col(SignalForward.next_attempt_at).is_(None),
                col(SignalForward.next_attempt_at) <= now,
            ),
        )
        .order_by(col(SignalForward.id))
        .limit(limit)
    )
    return [(row, hood) for row, hood in (await session.exec(stmt)).all()]


CLOSED_STATES = ("resolved", "closed")
# A closed signal is read a while longer: the municipality may reopen it, on its own or
# because the reporter says it is not solved.
WATCH_AFTER_CLOSING = timedelta(days=14)


async def sent_and_open(
    session: AsyncSession, now: datetime, limit: int = 500
) -> list[tuple[SignalForward, int]]:
    """Forwards whose status may still change, each with its signal's neighbourhood id.

    Open ones always; closed ones for WATCH_AFTER_CLOSING after they closed.
    """
    stmt = (
        select(SignalForward, Signal.neighbourhood_id)
        .join(Signal, col(Signal.id) == col(SignalForward.signal_id))
        .where(
            col(SignalForward.external_id).is_not(None),
            or_(
                col(SignalForward.external_state).is_(None),
                col(SignalForward.external_state).not_in(CLOSED_STATES),
                col(SignalForward.closed_at) >= now - WATCH_AFTER_CLOSING,
                col(SignalForward.reopen_due_at).is_not(None),
            ),
        )
        .order_by(col(SignalForward.checked_at))
        .limit(limit)
    )
    return [(row, hood) for row, hood in (await session.exec(stmt)).all()]


async def ask_reopen(
    session: AsyncSession, signal_id: int, note: str, due: datetime, *, add: bool = False
) -> bool:
    """Queue "not solved" for the municipality (sent by the poll job from `due`).

    `add` appends `note` to a queued request (the reporter's reason). False when the
    signal was never forwarded, or (with `add`) nothing is queued any more.
    """
    row = await for_signal(session, signal_id)
    if row is None or row.external_id is None:
        return False
    if add:
        if row.reopen_due_at is None:
            return False
        note = f"{row.reopen_note or ''}\n{note}".strip()
    row.reopen_note = note
    row.reopen_due_at = due
    session.add(row)
    await session.flush()
    return True


def may_retry(fwd: SignalForward) -> bool:
    """Given up on, and surely not filed: a coordinator may have it sent once more."""
    return fwd.failed and fwd.external_id is None and fwd.forwarded_at is None


def requeue(session: AsyncSession, fwd: SignalForward, now: datetime) -> None:
    """Send it once more, as if new: a failure tells the coordinators again."""
    assert may_retry(fwd)
    fwd.failed, fwd.attempts, fwd.next_attempt_at = False, 0, now
    session.add(fwd)
