"""A slow municipality holds only itself: one deadline per forward, neighbourhoods side by side.

Schalkwijk's system trickles its answers a byte at a time (each read is quick, so only a
deadline for the whole forward stops it); Delftwijk's system is healthy. These tests
measure elapsed time with `time.monotonic`, as timeouts are about real seconds. "Not held"
is asserted by order (the healthy system answered while the slow one was still trickling),
not by a bound on seconds, so a loaded machine cannot fail it; the trickle is long enough
that "cut at the deadline" stays far from "waited for the trickle".
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import App
from bot.core.clock import FrozenClock
from bot.services.signals import forwarding
from bot.services.signals.channels import ExternalStatus, ForwardResult, OutgoingSignal
from tests.signals.forwarding.hoods import (
    configure,
    detail,
    open311_table,
    report_and_forward,
    signalen_table,
    texts,
)
from tests.standins.open311 import Open311StandIn
from tests.standins.signalen import SignalenStandIn
from tests.support.fake import FakeAdapter, MakeChat

DEADLINE = 2.0  # Schalkwijk's timeout_seconds
TRICKLE = 20.0  # how long Schalkwijk's system would keep answering


async def test_a_trickling_answer_is_cut_at_the_deadline_and_others_go_on(
    app: App, adapter: FakeAdapter, make_chat: MakeChat, tmp_path: Path, clock: FrozenClock
) -> None:
    async with SignalenStandIn() as slow, Open311StandIn() as healthy:
        await configure(
            app, tmp_path,
            schalkwijk=signalen_table(slow, timeout_seconds=DEADLINE),
            delftwijk=open311_table(healthy),
        )  # fmt: skip
        first = await report_and_forward(make_chat, "anna", "schalkwijk", "Lamp kapot")
        other = await report_and_forward(make_chat, "bob", "delftwijk", "Lamp bij de school")
        slow.misbehave_next("trickle", seconds=TRICKLE)
        started = time.monotonic()
        assert await asyncio.wait_for(app.forwarding.send_due(), 3 * TRICKLE) == 1
        took = time.monotonic() - started
        [filed] = healthy.requests[-1:]
        # Filed while Schalkwijk's forward was still waiting: not after it.
        assert filed.path == "/requests.json"
        assert slow.stream_ended_at is not None and filed.at < slow.stream_ended_at
        assert took < TRICKLE / 2  # cut at the deadline, not after the trickle
        await app.flush_outbox()
        [told] = [t for t in texts(adapter, "dm:coco") if first in t and "onbruikbaar" in t]
        assert "misschien wel aangekomen" in told
        assert "hun nummer" in await detail(make_chat, "dora", other)
        clock.advance(timedelta(hours=3))
        assert await app.forwarding.send_due() == 0
        assert len(slow.signals) == 1  # filed once, never again


async def test_a_slow_status_check_does_not_hold_another_neighbourhoods_news(
    app: App, adapter: FakeAdapter, make_chat: MakeChat, tmp_path: Path
) -> None:
    async with SignalenStandIn() as slow, Open311StandIn() as healthy:
        await configure(
            app, tmp_path,
            schalkwijk=signalen_table(slow, timeout_seconds=DEADLINE),
            delftwijk=open311_table(healthy),
        )  # fmt: skip
        await report_and_forward(make_chat, "anna", "schalkwijk", "Lamp kapot")
        await report_and_forward(make_chat, "bob", "delftwijk", "Lamp bij de school")
        assert await app.forwarding.send_due() == 2
        [request_id] = healthy.service_requests
        healthy.set_status(request_id, "closed", "Lamp vervangen.")
        slow.misbehave_next("trickle", seconds=TRICKLE)
        started = time.monotonic()
        assert await asyncio.wait_for(app.forwarding.poll(), 3 * TRICKLE) == 1
        assert time.monotonic() - started < TRICKLE / 2
        assert slow.stream_ended_at is not None
        assert healthy.requests[-1].at < slow.stream_ended_at
        await app.flush_outbox()
        assert any("Lamp vervangen." in t for t in texts(adapter, "dm:bob"))


async def test_a_neighbourhood_gets_a_bounded_share_of_a_round(
    app: App, make_chat: MakeChat, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even one at a time, a slow system's queue waits for the next round, not the others."""
    monkeypatch.setattr(forwarding, "PARALLEL_NEIGHBOURHOODS", 1)
    monkeypatch.setattr(forwarding, "ROUND_SECONDS", DEADLINE / 2)
    async with SignalenStandIn() as slow, Open311StandIn() as healthy:
        await configure(
            app, tmp_path,
            schalkwijk=signalen_table(slow, timeout_seconds=DEADLINE),
            delftwijk=open311_table(healthy),
        )  # fmt: skip
        for n, name in enumerate(("anna", "carla", "eva")):
            await report_and_forward(make_chat, name, "schalkwijk", f"Lamp {n} kapot", n / 50)
        other = await report_and_forward(make_chat, "bob", "delftwijk", "Lamp bij de school")
        slow.misbehave_next("trickle", count=3, seconds=TRICKLE)
        assert await asyncio.wait_for(app.forwarding.send_due(), 5 * TRICKLE) == 1
        assert len(slow.requests) == 1  # two wait for the next round
        assert "hun nummer" in await detail(make_chat, "dora", other)
        shown = await detail(make_chat, "coco", "M-1002")
        assert "Wordt naar de gemeente gestuurd" in shown  # still waiting, not failed


class _Stuck:
    """A channel that never answers (an SMTP server trickling, say)."""

    kind = "email"

    async def forward(self, signal: OutgoingSignal, idempotency_key: str) -> ForwardResult:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def status(self, external_id: str) -> ExternalStatus | None:
        return None

    async def close(self) -> None:
        return None


async def test_every_channel_is_held_to_the_deadline(
    app: App,
    adapter: FakeAdapter,
    make_chat: MakeChat,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    grace = 0.5
    async with SignalenStandIn() as signalen:
        await configure(
            app, tmp_path, schalkwijk=signalen_table(signalen, timeout_seconds=DEADLINE)
        )
        ref = await report_and_forward(make_chat, "anna", "schalkwijk", "Lamp kapot")
    monkeypatch.setattr(app.forwarding, "build", lambda config: _Stuck())
    monkeypatch.setattr(forwarding, "DEADLINE_GRACE", grace)
    started = time.monotonic()
    assert await asyncio.wait_for(app.forwarding.send_due(), 60) == 0
    assert time.monotonic() - started < DEADLINE + grace + 5.0  # not the channel's hour
    await app.flush_outbox()
    assert any(ref in t and "blijven het proberen" in t for t in texts(adapter, "dm:coco"))
