"""Failed means failed: a refused report is sent once, an unreadable answer files once.

The scheduler runs for days on a moved clock; the stand-in counts what reaches it. A
coordinator hears a plain reason once, with a "Try again" button only they can press.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import App
from bot.core.clock import FrozenClock
from storage.models import SignalForward
from tests.signals.forwarding.hoods import configure, detail, report_and_forward, signalen_table
from tests.standins.signalen import SignalenStandIn
from tests.support.fake import Chat, FakeAdapter, MakeChat, Sent

CREATE = "/signals/v1/public/signals/"
RETRY = "Opnieuw proberen"


def filings(signalen: SignalenStandIn) -> int:
    return sum(1 for r in signalen.requests if r.method == "POST" and r.path == CREATE)


def about(adapter: FakeAdapter, chat: str, reference: str) -> list[Sent]:
    return [m for m in adapter.in_chat(chat) if reference in m.text]


async def run_for_days(app: App, clock: FrozenClock, days: int) -> None:
    """Every scheduled job, every few hours, for `days` days."""
    for _ in range(days * 4):
        clock.advance(timedelta(hours=6))
        await app.run_jobs_now()
    await app.flush_outbox()


async def test_a_refused_report_is_sent_once_and_the_coordinator_told_once(
    app: App,
    adapter: FakeAdapter,
    make_chat: MakeChat,
    tmp_path: Path,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with SignalenStandIn() as signalen:
        await configure(app, tmp_path, schalkwijk=signalen_table(signalen))
        ref = await report_and_forward(make_chat, "anna", "schalkwijk", "Lantaarnpaal is kapot")
        signalen.fail_next(status=400, body={"text": ["Kapotte lamp: ongeldige tekst"]})
        with caplog.at_level(logging.INFO):
            await run_for_days(app, clock, 5)
        assert filings(signalen) == 1  # never re-sent, however long the bot runs
        told = [m for m in about(adapter, "dm:coco", ref) if "mislukt" in m.text]
        assert len(told) == 1
        [message] = told
        # A plain reason; the server's words and codes stay out of the chat …
        assert "weigerde" in message.text
        assert "HTTP" not in message.text and "ongeldige tekst" not in message.text
        assert message.labels == [RETRY]
        # … and the technical detail goes to the log (without the server's words).
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert "HTTP 400" in logged and "ongeldige tekst" not in logged
        shown = await detail(make_chat, "coco", ref)
        assert "weigerde" in shown and "HTTP" not in shown


async def test_try_again_sends_it_once_more(
    app: App, adapter: FakeAdapter, make_chat: MakeChat, tmp_path: Path, clock: FrozenClock
) -> None:
    async with SignalenStandIn() as signalen:
        await configure(app, tmp_path, schalkwijk=signalen_table(signalen))
        ref = await report_and_forward(make_chat, "anna", "schalkwijk", "Lantaarnpaal is kapot")
        signalen.fail_next(status=400)
        await run_for_days(app, clock, 1)
        coco: Chat = make_chat("coco", lang="nl")
        [queued] = await coco.press(RETRY)
        assert ref in queued.text and "opnieuw" in queued.text
        [again] = await coco.press_data(coco.button(RETRY)[1].data)  # pressed twice
        assert "al" in again.text
        await run_for_days(app, clock, 2)
        assert filings(signalen) == 2  # once more, not twice more
        assert "hun nummer" in await detail(make_chat, "coco", ref)
        [received] = [m for m in about(adapter, "dm:anna", ref) if "received your" in m.text]
        assert "number" in received.text


async def test_only_the_neighbourhoods_coordinators_may_try_again(
    app: App, adapter: FakeAdapter, make_chat: MakeChat, tmp_path: Path, clock: FrozenClock
) -> None:
    async with SignalenStandIn() as signalen, SignalenStandIn() as other:
        await configure(
            app, tmp_path, schalkwijk=signalen_table(signalen), delftwijk=signalen_table(other)
        )
        ref = await report_and_forward(make_chat, "anna", "schalkwijk", "Lantaarnpaal is kapot")
        signalen.fail_next(status=400)
        await run_for_days(app, clock, 1)
        data = make_chat("coco", lang="nl").button(RETRY)[1].data
        dora: Chat = make_chat("dora", lang="nl")  # coordinates Delftwijk, not Schalkwijk
        [refused] = await dora.press_data(data)
        assert "Daar ben je geen coördinator" in refused.text
        anna: Chat = make_chat("anna", lang="en")  # the reporter herself
        [refused] = await anna.press_data(data)
        assert "coordinator" in refused.text
        await run_for_days(app, clock, 2)
        assert filings(signalen) == 1
        assert "mislukt" in await detail(make_chat, "coco", ref)


async def test_an_unreadable_answer_after_acceptance_files_once_reference_unknown(
    app: App, adapter: FakeAdapter, make_chat: MakeChat, tmp_path: Path, clock: FrozenClock
) -> None:
    async with SignalenStandIn() as signalen:
        await configure(app, tmp_path, schalkwijk=signalen_table(signalen))
        ref = await report_and_forward(make_chat, "anna", "schalkwijk", "Lantaarnpaal is kapot")
        signalen.fail_next(status=201, body={"signal": "ok"})  # accepted, but no number
        await run_for_days(app, clock, 5)
        assert filings(signalen) == 1
        [told] = [m for m in about(adapter, "dm:coco", ref) if "nummer" in m.text]
        assert "misschien wel aangekomen" in told.text and RETRY not in told.labels
        shown = await detail(make_chat, "coco", ref)
        assert "nummer onbekend" in shown
        # The reporter never hears "received" without a number we could show.
        assert not [m for m in about(adapter, "dm:anna", ref) if "ontvangen" in m.text]
        # A forged "Try again" cannot file it a second time.
        coco: Chat = make_chat("coco", lang="nl")
        [refused] = await coco.press_data(f"fwdretry:{(await _forward(app)).signal_id}")
        assert "niet opnieuw" in refused.text
        await run_for_days(app, clock, 2)
        assert filings(signalen) == 1


async def test_the_reporter_hears_received_only_when_it_was(
    app: App, adapter: FakeAdapter, make_chat: MakeChat, tmp_path: Path, clock: FrozenClock
) -> None:
    async with SignalenStandIn() as signalen:
        await configure(app, tmp_path, schalkwijk=signalen_table(signalen))
        signalen.fail_next(count=2, status=503)  # down for a while
        ref = await report_and_forward(make_chat, "anna", "schalkwijk", "Lantaarnpaal is kapot")
        await app.flush_outbox()
        heard = [m.text for m in about(adapter, "dm:anna", ref)]
        assert not any("sent to the municipality" in t or "has received" in t for t in heard), heard
        assert any("We are sending" in t for t in heard)
        assert await app.forwarding.send_due() == 0
        await app.flush_outbox()
        assert not any("has received" in m.text for m in about(adapter, "dm:anna", ref))
        await run_for_days(app, clock, 1)
        [received] = [m.text for m in about(adapter, "dm:anna", ref) if "has received" in m.text]
        fwd = await _forward(app)
        number = fwd.external_number or fwd.external_id  # Signalen's own number, SIG-…
        assert "The municipality has received" in received and number and number in received
        assert fwd.external_id not in received  # never the uuid


async def _forward(app: App) -> SignalForward:
    async with app.db.session() as s:
        return (await s.exec(select(SignalForward))).one()
