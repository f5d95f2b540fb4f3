"""Signals on their way to the municipality: requested by a coordinator, sent by a job.

A forward is a row (`SignalForward`, unique per signal, with an idempotency key) written
in the coordinator's transaction; a scheduled job sends it, retries with backoff when
the municipality's system is down, and later polls the status back.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Neighbourhood, Signal, SignalForward
from storage.repo import forwards


class ForwardingNotConfigured(Exception):
    def __init__(self, neighbourhood: str) -> None:
        super().__init__(neighbourhood)
        self.neighbourhood = neighbourhood


async def request_forward(session: AsyncSession, sig: Signal, now: datetime) -> bool:
    """Queue the signal for the municipality; False if it was queued or sent before."""
    assert sig.id is not None
    hood = await session.get(Neighbourhood, sig.neighbourhood_id)
    kind = (hood.forwarding or {}).get("kind") if hood else None
    if hood is None or not kind:
        raise ForwardingNotConfigured(hood.name if hood else "?")
    if await forwards.for_signal(session, sig.id) is not None:
        return False
    key = f"wijkbot-{sig.reference}-{secrets.token_hex(6)}"
    session.add(
        SignalForward(signal_id=sig.id, kind=str(kind), idempotency_key=key, next_attempt_at=now)
    )
    await session.flush()
    return True
