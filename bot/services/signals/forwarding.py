"""Signals on their way to the municipality: requested by a coordinator, sent by a job.

A forward is a row (`SignalForward`, unique per signal, with an idempotency key) written
in the coordinator's transaction; a scheduled job sends it, retries with backoff when
the municipality's system is down, and later polls the status back.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.clock import Clock
from bot.core.i18n import _
from bot.services.signals.channels import (
    ExternalStatus,
    Forwarder,
    ForwardingConfig,
    ForwardingConfigError,
    ForwardingError,
    OutgoingSignal,
    build_forwarder,
    load_forwarding_config,
)
from bot.services.signals.notices import status_label, tell_concerned, tell_coordinators
from bot.util.logs import redact
from storage.db import Database
from storage.models import Neighbourhood, Signal, SignalForward
from storage.repo import audit, forwards, signals

log = logging.getLogger(__name__)


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


PhotoFetcher = Callable[[str, str], Awaitable[bytes | None]]
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY_GAP = timedelta(hours=2)
# The municipality's states, mapped to ours; "open" leaves our status as it is.
FROM_MUNICIPALITY: dict[str, str] = {
    "in_progress": "in_progress",
    "resolved": "resolved",
    "closed": "closed",
    "reopened": "reopened",
}


class ForwardingService:
    """The scheduled side: send what coordinators forwarded, read back what happened."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        fetch_photo: PhotoFetcher,
        build: Callable[[ForwardingConfig], Forwarder] = build_forwarder,
    ) -> None:
        self.db = db
        self.clock = clock
        self.fetch_photo = fetch_photo
        self.build = build

    async def send_due(self) -> int:
        async with self.db.session() as session:
            due = [f.id for f in await forwards.due_to_send(session, self.clock.now())]
        sent = 0
        for forward_id in due:
            sent += await self._send_one(forward_id)
        return sent

    async def _send_one(self, forward_id: int | None) -> bool:
        # Read, then talk to the municipality outside any transaction, then write.
        async with self.db.session() as session:
            fwd = await session.get(SignalForward, forward_id)
            sig = await session.get(Signal, fwd.signal_id) if fwd else None
            hood = await session.get(Neighbourhood, sig.neighbourhood_id) if sig else None
        if fwd is None or sig is None or hood is None or fwd.external_id is not None:
            return False
        try:
            config = load_forwarding_config(hood.forwarding)
        except ForwardingConfigError as exc:
            await self._failed(fwd.id, sig, str(exc), retryable=False)
            return False
        photo = None
        if sig.photo_platform and sig.photo_file_id:
            try:
                photo = await self.fetch_photo(sig.photo_platform, sig.photo_file_id)
            except Exception:
                log.warning("forwarding: photo of %s could not be fetched", sig.reference)
        outgoing = OutgoingSignal(
            reference=sig.reference, text=sig.text, category=sig.category,
            created_at=sig.created_at, lat=sig.lat, lon=sig.lon, address=sig.address,
            photo=photo, photo_filename=None, photo_content_type=None,  # guessed from the bytes
            reporter_email=None, reporter_phone=None, sharing_allowed=False,
            neighbourhood=hood.name,
        )  # fmt: skip
        forwarder = self.build(config)
        try:
            result = await forwarder.forward(outgoing, fwd.idempotency_key)
        except ForwardingError as exc:
            error = redact(exc.message)  # a server may repeat the key it refused
            await self._failed(fwd.id, sig, error, exc.retryable, exc.retry_after)
            return False
        finally:
            await forwarder.close()
        async with self.db.transaction() as session:
            row = await session.get(SignalForward, fwd.id)
            assert row is not None
            row.external_id = result.external_id
            row.external_state = result.status.state if result.status else None
            row.forwarded_at = self.clock.now()
            row.last_error = "; ".join(result.warnings)[:500] or None
            session.add(row)
            await audit.record(
                session, None, "signal.forwarded", "signal", sig.id,
                kind=row.kind, external_id=result.external_id,
            )  # fmt: skip
        return True

    async def _failed(
        self,
        forward_id: int | None,
        sig: Signal,
        error: str,
        retryable: bool,
        retry_after: float | None = None,
    ) -> None:
        now = self.clock.now()
        async with self.db.transaction() as session:
            row = await session.get(SignalForward, forward_id)
            assert row is not None
            first = row.attempts == 0
            row.attempts += 1
            row.last_error = error[:500]
            row.failed = not retryable
            gap = min(FIRST_RETRY * 2 ** min(row.attempts - 1, 10), MAX_RETRY_GAP)
            if retry_after:
                gap = max(gap, timedelta(seconds=retry_after))
            row.next_attempt_at = now + gap
            session.add(row)
            # The reason stays out of the log: a server's answer may quote the report.
            log.warning(
                "forwarding %s failed (attempt %d); %s",
                sig.reference, row.attempts, "retrying later" if retryable else "giving up",
            )  # fmt: skip
            if first or not retryable:
                await tell_coordinators(
                    session, sig,
                    partial(_failure_text, sig.reference, error, retryable),
                )  # fmt: skip

    async def poll(self) -> int:
        """Read the status of forwarded signals; every change reaches reporter and followers."""
        async with self.db.session() as session:
            rows = await forwards.sent_and_open(session)
            hoods = {}
            for row in rows:
                sig = await session.get(Signal, row.signal_id)
                hood = await session.get(Neighbourhood, sig.neighbourhood_id) if sig else None
                if hood is not None:
                    hoods[row.id] = hood.forwarding
        changed = 0
        for row in rows:
            if row.id not in hoods or row.external_id is None:
                continue
            try:
                forwarder = self.build(load_forwarding_config(hoods[row.id]))
            except ForwardingConfigError:
                continue
            try:
                status = await forwarder.status(row.external_id)
            except ForwardingError as exc:
                log.info(
                    "forwarding: status of forward %s unavailable: %s", row.id, redact(exc.message)
                )
                continue
            finally:
                await forwarder.close()
            if status is not None:
                changed += await self._apply(row.id, status)
        return changed

    async def _apply(self, forward_id: int | None, status: ExternalStatus) -> bool:
        async with self.db.transaction() as session:
            row = await session.get(SignalForward, forward_id)
            sig = await session.get(Signal, row.signal_id) if row else None
            if row is None or sig is None:
                return False
            row.checked_at = self.clock.now()
            if status.resolved_id:
                row.external_id = status.resolved_id
            same = status.state == row.external_state
            row.external_state = status.state
            session.add(row)
            ours = FROM_MUNICIPALITY.get(status.state)
            if same or ours is None or ours == sig.status:
                return False
            note = status.text or ""
            await signals.set_status(session, sig, ours, note, None, kind="municipality")
            await audit.record(
                session, None, "signal.municipality", "signal", sig.id, state=status.state
            )
            asks = ours in ("resolved", "closed")
            await tell_concerned(
                session, sig, partial(_municipality_text, sig.reference, ours, note, asks),
                with_solved_question=asks,
            )  # fmt: skip
            return True


def _failure_text(reference: str, error: str, retryable: bool) -> str:
    if retryable:
        return _(
            "Sending {ref} to the municipality did not work yet. We keep trying. ({error})"
        ).format(ref=reference, error=error)
    return _(
        "Sending {ref} to the municipality failed and will not work by trying again: {error}"
    ).format(ref=reference, error=error)


def _municipality_text(
    reference: str, status: str, note: str, asks: bool, for_reporter: bool
) -> str:
    head = (
        _("News from the municipality about your report {ref}: it is now {status}.")
        if for_reporter
        else _("News from the municipality about {ref}, a report you follow: it is now {status}.")
    )
    lines = [head.format(ref=reference, status=status_label(status))]
    if note:
        lines.append(_("The municipality writes: {note}").format(note=note))
    if asks and for_reporter:
        lines.append(_("Is the problem really solved?"))
    return "\n".join(lines)
