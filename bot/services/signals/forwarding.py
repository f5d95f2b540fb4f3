"""Signals on their way to the municipality: requested by a coordinator, sent by a job.

A forward is a row (`SignalForward`, unique per signal, with an idempotency key) written
in the coordinator's transaction; a scheduled job sends it, retries with backoff when
the municipality's system is down, and later polls the status back.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.clock import Clock
from bot.core.events import Button
from bot.core.i18n import N_, _
from bot.core.metrics import Metrics
from bot.services.signals.channels import (
    ExternalStatus,
    Forwarder,
    ForwardingConfig,
    ForwardingConfigError,
    ForwardingError,
    OutgoingSignal,
    Reopener,
    build_forwarder,
    load_forwarding_config,
)
from bot.services.signals.notices import (
    RetryForward,
    from_municipality,
    status_label,
    tell_concerned,
    tell_coordinators,
)
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
T = TypeVar("T")
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY_GAP = timedelta(hours=2)
PARALLEL_NEIGHBOURHOODS = 4  # municipalities talked to at the same time
ROUND_SECONDS = 30.0  # a neighbourhood's share of one round; what is left waits for the next
DEADLINE_GRACE = 5.0  # beyond timeout_seconds, for a channel that overran its own deadline
ERROR_LIMIT = 400  # characters of an error shown to coordinators (and kept)
# The municipality's states, mapped to ours; "open" leaves our status as it is.
FROM_MUNICIPALITY: dict[str, str] = {
    "in_progress": "in_progress",
    "resolved": "resolved",
    "closed": "closed",
    "reopened": "reopened",
}


async def _within(seconds: float, work: Awaitable[T]) -> T:
    """`work`, given up after `seconds` (plus grace) whatever the channel does."""
    try:
        async with asyncio.timeout(seconds + DEADLINE_GRACE):
            return await work
    except TimeoutError:
        raise ForwardingError(f"no answer within {seconds:g} seconds", retryable=True) from None


class ForwardingService:
    """The scheduled side: send what coordinators forwarded, read back what happened.

    Each neighbourhood's forwards go one after another, neighbourhoods side by side (at
    most PARALLEL_NEIGHBOURHOODS at once): one municipality's outage holds only its own
    neighbourhood, each forward for at most its deadline, each round for about
    ROUND_SECONDS.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        fetch_photo: PhotoFetcher,
        build: Callable[[ForwardingConfig], Forwarder] = build_forwarder,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics or Metrics()  # counts failed attempts by reason
        self.db = db
        self.clock = clock
        self.fetch_photo = fetch_photo
        self.build = build

    async def send_due(self) -> int:
        async with self.db.session() as session:
            due = await forwards.due_to_send(session, self.clock.now())
        return await self._per_neighbourhood(due, self._send_some)

    async def poll(self) -> int:
        """Read the status of forwarded signals; every change reaches reporter and followers."""
        async with self.db.session() as session:
            rows = await forwards.sent_and_open(session, self.clock.now())
        return await self._per_neighbourhood(rows, self._poll_some)

    async def _per_neighbourhood(
        self,
        rows: list[tuple[SignalForward, int]],
        work: Callable[[int, list[SignalForward]], Awaitable[int]],
    ) -> int:
        groups: dict[int, list[SignalForward]] = {}
        for row, hood_id in rows:
            groups.setdefault(hood_id, []).append(row)
        gate = asyncio.Semaphore(PARALLEL_NEIGHBOURHOODS)

        async def one(hood_id: int, group: list[SignalForward]) -> int:
            async with gate:
                return await work(hood_id, group)

        results = await asyncio.gather(
            *(one(hood_id, group) for hood_id, group in groups.items()), return_exceptions=True
        )
        done = 0
        for hood_id, result in zip(groups, results, strict=True):
            if isinstance(result, Exception):
                log.error("forwarding: neighbourhood %s: %r", hood_id, result, exc_info=result)
            elif isinstance(result, BaseException):
                raise result
            else:
                done += result
        return done

    async def _send_some(self, hood_id: int, group: list[SignalForward]) -> int:
        loop = asyncio.get_running_loop()
        started, sent = loop.time(), 0
        for n, fwd in enumerate(group):
            if n and loop.time() - started >= ROUND_SECONDS:
                break  # the rest in the next round
            sent += await self._send_one(fwd.id)
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
            await self._failed(fwd.id, sig, ForwardingError(str(exc), retryable=False))
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
            result = await _within(
                config.timeout_seconds, forwarder.forward(outgoing, fwd.idempotency_key)
            )
        except ForwardingError as exc:
            await self._failed(fwd.id, sig, exc)
            return False
        finally:
            await forwarder.close()
        async with self.db.transaction() as session:
            row = await session.get(SignalForward, fwd.id)
            assert row is not None
            row.external_id = result.external_id
            row.external_number = result.display_id
            row.external_state = result.status.state if result.status else None
            row.forwarded_at = self.clock.now()
            row.last_error = from_municipality("; ".join(result.warnings), ERROR_LIMIT) or None
            row.failed, row.reason, row.next_attempt_at = False, None, None
            session.add(row)
            await audit.record(
                session, None, "signal.forwarded", "signal", sig.id,
                kind=row.kind, external_id=result.external_id,
            )  # fmt: skip
            await tell_concerned(
                session,
                sig,
                partial(_received_text, sig.reference, row.external_number or row.external_id),
            )
        return True

    async def _failed(self, forward_id: int | None, sig: Signal, exc: ForwardingError) -> None:
        now = self.clock.now()
        reason = reason_of(exc)
        self.metrics.forwarding_failed(reason)
        async with self.db.transaction() as session:
            row = await session.get(SignalForward, forward_id)
            assert row is not None
            first = row.attempts == 0
            row.attempts += 1
            # A server may repeat the key it refused: hidden before anyone sees the text.
            row.last_error = from_municipality(redact(exc.message), ERROR_LIMIT)
            row.reason = reason
            row.failed = not exc.retryable
            row.next_attempt_at = None if row.failed else now + _gap(row.attempts, exc)
            if reason == "number_unknown":
                row.forwarded_at = now  # accepted there: it must never be filed again
            session.add(row)
            # The technical detail is for the log, without the server's words: its answer
            # may quote the report.
            log.warning(
                "forwarding %s failed (attempt %d; %s); %s",
                sig.reference, row.attempts, technical(exc),
                "retrying later" if exc.retryable else "giving up",
            )  # fmt: skip
            if first or not exc.retryable:
                retry = row.failed and reason != "number_unknown"
                await tell_coordinators(
                    session, sig, partial(failure_text, sig.reference, reason),
                    partial(_retry_button, sig.id or 0) if retry else None,
                )  # fmt: skip

    async def _poll_some(self, hood_id: int, group: list[SignalForward]) -> int:
        async with self.db.session() as session:
            hood = await session.get(Neighbourhood, hood_id)
        try:
            config = load_forwarding_config(hood.forwarding if hood else {})
        except ForwardingConfigError:
            return 0
        forwarder = self.build(config)
        loop = asyncio.get_running_loop()
        started, changed = loop.time(), 0
        try:
            for n, row in enumerate(group):
                if n and loop.time() - started >= ROUND_SECONDS:
                    break
                if row.external_id is None:
                    continue
                if row.reopen_due_at is not None and row.reopen_due_at <= self.clock.now():
                    changed += await self._reopen(forwarder, config.timeout_seconds, row)
                try:
                    status = await _within(
                        config.timeout_seconds, forwarder.status(row.external_id)
                    )
                except ForwardingError as exc:
                    log.info(
                        "forwarding: status of forward %s unavailable: %s",
                        row.id, redact(exc.message),
                    )  # fmt: skip
                    continue
                if status is not None:
                    changed += await self._apply(row.id, status)
        finally:
            await forwarder.close()
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
            row.external_number = status.display_id or row.external_number
            state = status.state
            was_closed = row.external_state in forwards.CLOSED_STATES
            if state == "open" and was_closed:
                state = "reopened"  # all a public API can show of a reopen: closed, then open
            if state in forwards.CLOSED_STATES:
                row.closed_at = row.closed_at if was_closed else self.clock.now()
            elif state != "unknown":
                row.closed_at = None
            same = state == row.external_state
            row.external_state = state
            session.add(row)
            ours = FROM_MUNICIPALITY.get(state)
            if same or ours is None or ours == sig.status:
                return False
            note = from_municipality(status.text or "")
            await signals.set_status(session, sig, ours, note, None, kind="municipality")
            await audit.record(session, None, "signal.municipality", "signal", sig.id, state=state)
            asks = ours in ("resolved", "closed")
            number = row.external_number
            await tell_concerned(
                session, sig, partial(_municipality_text, sig.reference, ours, note, asks, number),
                with_solved_question=asks,
            )  # fmt: skip
            return True

    async def _reopen(self, forwarder: Forwarder, seconds: float, row: SignalForward) -> bool:
        """Pass the reporter's "not solved" on, or tell coordinators to do it themselves."""
        assert row.external_id is not None
        reason = (row.reopen_note or "").strip()
        async with self.db.session() as session:
            sig = await session.get(Signal, row.signal_id)
        if sig is None:
            return False
        text = f"Melding {sig.reference} via het wijkplatform: de melder zegt dat het probleem niet is opgelost."
        if reason:
            text += f"\nToelichting van de melder: {reason}"
        error: str | None = None
        if not isinstance(forwarder, Reopener) or not forwarder.can_reopen:
            error = ""
        else:
            try:
                await _within(seconds, forwarder.request_reopen(row.external_id, text))
            except ForwardingError as exc:
                if exc.retryable:
                    log.info("forwarding: reopen of %s not sent yet", sig.reference)
                    return False  # the next poll tries again
                error = from_municipality(redact(exc.message), ERROR_LIMIT)
        number = row.external_number or row.external_id
        async with self.db.transaction() as session:
            fresh = await session.get(SignalForward, row.id)
            if fresh is None:
                return False
            fresh.reopen_due_at = None
            session.add(fresh)
            await audit.record(
                session, None, "signal.reopen_requested", "signal", sig.id, sent=error is None
            )
            await tell_coordinators(
                session, sig, partial(_reopen_text, sig.reference, number, error)
            )
        return True


def _gap(attempts: int, exc: ForwardingError) -> timedelta:
    gap: timedelta = min(FIRST_RETRY * 2 ** min(attempts - 1, 10), MAX_RETRY_GAP)
    if exc.retry_after:
        gap = max(gap, timedelta(seconds=exc.retry_after))
    return gap


# Why a forward failed, in words a coordinator can act on; the details go to the log.
REASONS: dict[str, str] = {
    "unreachable": N_("The municipality's system cannot be reached right now."),
    "refused": N_("The municipality's system refused the report."),
    "login": N_(
        "The municipality's system did not accept our login. Ask the administrator to check it."
    ),
    "setup": N_(
        "The forwarding settings for this neighbourhood are not right. "
        "Ask the administrator to check them."
    ),
    "number_unknown": N_(
        "The municipality's system accepted the report but did not give us its number."
    ),
}


def reason_of(exc: ForwardingError) -> str:
    """The key in REASONS for a failure."""
    if exc.maybe_filed:
        return "number_unknown"
    if exc.retryable:
        return "unreachable"
    if exc.status_code in (401, 403):
        return "login"
    if exc.status_code is None or exc.status_code in (404, 405):
        return "setup"  # a wrong address, or a configuration we could not read
    return "refused"


def reason_text(reason: str | None) -> str:
    return _(REASONS.get(reason or "", REASONS["unreachable"]))


def technical(exc: ForwardingError) -> str:
    """The error for the log: what we did and the status, not the server's explanation."""
    return _SERVER_WORDS.sub(r"\1", exc.message)


_SERVER_WORDS = re.compile(r"(HTTP \d{3}): .*", re.DOTALL)


def failure_text(reference: str, reason: str) -> str:
    if reason == "number_unknown":
        return _(
            "{ref} may well have arrived at the municipality, but their system gave an "
            "unusable answer, so we do not know their number. Please check with the "
            "municipality. We will not send it again."
        ).format(ref=reference)
    if reason == "unreachable":
        return _(
            "Sending {ref} to the municipality did not work yet: {reason} We keep trying."
        ).format(ref=reference, reason=reason_text(reason))
    return _(
        "Sending {ref} to the municipality failed: {reason} We will not send it again "
        "by ourselves. Press Try again to send it once more."
    ).format(ref=reference, reason=reason_text(reason))


def _retry_button(signal_id: int) -> list[Button]:
    return [Button(_("Try again"), RetryForward(signal_id).pack())]


def _received_text(reference: str, number: str | None, for_reporter: bool) -> str:
    text = (
        _("The municipality has received your report {ref}. Their number: {number}.")
        if for_reporter
        else _("The municipality has received {ref}, a report you follow. Their number: {number}.")
    )
    return text.format(ref=reference, number=number)


def _reopen_text(reference: str, number: str, error: str | None) -> str:
    if error is None:
        return _(
            "The municipality has been asked to open {ref} again (their number: {number}), "
            "with what the reporter wrote."
        ).format(ref=reference, number=number)
    if not error:
        return _(
            "The municipality was not told that {ref} is not solved: our link with their "
            "system cannot pass this on. Please tell them yourself (their number: {number})."
        ).format(ref=reference, number=number)
    return _(
        "Telling the municipality that {ref} is not solved did not work. Please tell them "
        "yourself (their number: {number}). ({error})"
    ).format(ref=reference, number=number, error=error)


def _municipality_text(
    reference: str,
    status: str,
    note: str,
    asks: bool,
    number: str | None,
    for_reporter: bool,
) -> str:
    head = (
        _("News from the municipality about your report {ref}: it is now {status}.")
        if for_reporter
        else _("News from the municipality about {ref}, a report you follow: it is now {status}.")
    )
    lines = [head.format(ref=reference, status=status_label(status))]
    if number:
        lines.append(_("Their number: {number}").format(number=number))
    if note:
        lines.append(_("The municipality writes: {note}").format(note=note))
    if asks and for_reporter:
        lines.append(_("Is the problem really solved?"))
    return "\n".join(lines)
