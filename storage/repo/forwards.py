"""Forwarded signals: what is due to be sent, what is due to be checked."""

from __future__ import annotations

from datetime import datetime

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


async def sent_and_open(session: AsyncSession, limit: int = 500) -> list[tuple[SignalForward, int]]:
    """Forwards whose status may still change, each with its signal's neighbourhood id."""
    stmt = (
        select(SignalForward, Signal.neighbourhood_id)
        .join(Signal, col(Signal.id) == col(SignalForward.signal_id))
        .where(
            col(SignalForward.external_id).is_not(None),
            or_(
                col(SignalForward.external_state).is_(None),
                col(SignalForward.external_state).not_in(["closed"]),
            ),
        )
        .order_by(col(SignalForward.checked_at))
        .limit(limit)
    )
    return [(row, hood) for row, hood in (await session.exec(stmt)).all()]


def may_retry(fwd: SignalForward) -> bool:
    """Given up on, and surely not filed: a coordinator may have it sent once more."""
    return fwd.failed and fwd.external_id is None and fwd.forwarded_at is None


def requeue(session: AsyncSession, fwd: SignalForward, now: datetime) -> None:
    """Send it once more, as if new: a failure tells the coordinators again."""
    assert may_retry(fwd)
    fwd.failed, fwd.attempts, fwd.next_attempt_at = False, 0, now
    session.add(fwd)
