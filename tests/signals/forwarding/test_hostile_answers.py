"""The municipality's system is not trusted: huge answers, overlong ids, nasty text.

Each test runs the whole bot against a stand-in on 127.0.0.1 and checks what a
coordinator or resident would notice.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.services.signals.channels.base import MAX_EXTERNAL_ID
from storage.models import SignalForward, SignalUpdate
from tests.signals.forwarding.hoods import (
    configure,
    detail,
    open311_table,
    private_signalen,
    report_and_forward,
    signalen_table,
    texts,
)
from tests.standins.open311 import Open311StandIn
from tests.standins.signalen import SignalenStandIn
from tests.support.fake import FakeAdapter, MakeChat

MiB = 1024 * 1024
# Bidi overrides, zero-width characters, a BOM, an escape sequence, a bell.
INVISIBLE = "\u202e\u2066\u200b\u200c\u2060\ufeff\x1b\x07\x00"
MAY_HAVE_ARRIVED = "misschien wel aangekomen"


def clean(text: str) -> bool:
    """Nothing a chat would show differently than it reads."""
    return not any(
        ch not in "\n" and unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in text
    )


def forwards_failed(adapter: FakeAdapter, reference: str) -> list[str]:
    """What coco heard about sending `reference` going wrong."""
    words = ("mislukt", "niet gelukt", "onbruikbaar")
    return [t for t in texts(adapter, "dm:coco") if reference in t and any(w in t for w in words)]


async def _one_forward(app: App) -> SignalForward:
    async with app.db.session() as s:
        return (await s.exec(select(SignalForward))).one()


async def test_a_huge_answer_to_a_filing_is_not_read_to_the_end(
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
        signalen.misbehave_next("huge", size=64 * MiB)
        assert await app.forwarding.send_due() == 0
        await app.flush_outbox()
        assert signalen.bytes_streamed < 16 * MiB  # the bot hung up after about 1 MiB
        [told] = forwards_failed(adapter, ref)
        assert MAY_HAVE_ARRIVED in told
        assert "1 MiB" in caplog.text and "1 MiB" not in told  # the detail is for the log
        clock.advance(timedelta(hours=3))
        assert await app.forwarding.send_due() == 0
        assert len(signalen.signals) == 1  # never filed twice
        assert "nummer onbekend" in await detail(make_chat, "coco", ref)


async def test_a_huge_status_answer_is_skipped_and_read_next_time(
    app: App, adapter: FakeAdapter, make_chat: MakeChat, tmp_path: Path
) -> None:
    async with Open311StandIn() as open311:
        await configure(app, tmp_path, schalkwijk=open311_table(open311))
        await report_and_forward(make_chat, "anna", "schalkwijk", "Lantaarnpaal is kapot")
        assert await app.forwarding.send_due() == 1
        [request_id] = open311.service_requests
        open311.set_status(request_id, "closed", "Lamp vervangen.")
        open311.misbehave_next("huge", path_contains="/requests/", size=64 * MiB)
        assert await app.forwarding.poll() == 0
        assert open311.bytes_streamed < 16 * MiB
        assert await app.forwarding.poll() == 1
        await app.flush_outbox()
        assert any("Lamp vervangen." in t for t in texts(adapter, "dm:anna"))


@pytest.mark.parametrize("kind", ["signalen", "open311"])
@pytest.mark.parametrize("suffix", ["7" * 10_000, "\u202e\u200b"], ids=["overlong", "bidi"])
async def test_an_unusable_id_is_refused_and_the_report_never_filed_twice(
    app: App,
    adapter: FakeAdapter,
    make_chat: MakeChat,
    tmp_path: Path,
    clock: FrozenClock,
    kind: str,
    suffix: str,
) -> None:
    standin = (SignalenStandIn if kind == "signalen" else Open311StandIn)(id_suffix=suffix)
    async with standin:
        table = (
            signalen_table(standin)
            if isinstance(standin, SignalenStandIn)
            else open311_table(standin)
        )
        await configure(app, tmp_path, schalkwijk=table)
        ref = await report_and_forward(make_chat, "anna", "schalkwijk", "Lantaarnpaal is kapot")
        assert await app.forwarding.send_due() == 0
        await app.flush_outbox()
        [told] = forwards_failed(adapter, ref)
        assert MAY_HAVE_ARRIVED in told and len(told) < 1000
        clock.advance(timedelta(hours=3))
        assert await app.forwarding.send_due() == 0
        await app.forwarding.poll()
        filed = (
            standin.signals if isinstance(standin, SignalenStandIn) else standin.service_requests
        )
        assert len(filed) == 1
        shown = await detail(make_chat, "coco", ref)
        assert "nummer onbekend" in shown and len(shown) < 1500 and clean(shown)
        assert (await _one_forward(app)).external_id is None


def test_every_id_we_accept_can_be_kept() -> None:
    assert SignalForward.__table__.c.external_id.type.length >= MAX_EXTERNAL_ID


async def test_an_overlong_id_behind_a_token_is_refused(
    app: App, make_chat: MakeChat, tmp_path: Path
) -> None:
    async with Open311StandIn(id_suffix="7" * 1_000, token_mode=True) as open311:
        await configure(app, tmp_path, schalkwijk=open311_table(open311))
        ref = await report_and_forward(make_chat, "anna", "schalkwijk", "Lantaarnpaal is kapot")
        assert await app.forwarding.send_due() == 1
        token = (await _one_forward(app)).external_id
        assert await app.forwarding.poll() == 0
        assert (await _one_forward(app)).external_id == token  # the token is kept
        shown = await detail(make_chat, "coco", ref)
        assert len(shown) < 1500 and "7777777777" not in shown
        assert len(open311.service_requests) == 1


NASTY = (
    f"{INVISIBLE}<p>Beste <b>bewoner</b>,</p><script>alert(1)</script>"
    '<a href="https://phish.example/x">klik hier</a> &amp; &lt;meer&gt;'
    + "\n" * 40
    + "Wij pakken dit op. " * 2000
)


@pytest.mark.parametrize("kind", ["signalen", "open311"])
async def test_municipal_text_reaches_the_resident_short_and_clean(
    app: App, adapter: FakeAdapter, make_chat: MakeChat, tmp_path: Path, kind: str
) -> None:
    standin = private_signalen() if kind == "signalen" else Open311StandIn()
    async with standin:
        table = (
            signalen_table(standin)
            if isinstance(standin, SignalenStandIn)
            else open311_table(standin)
        )
        await configure(app, tmp_path, schalkwijk=table)
        ref = await report_and_forward(make_chat, "anna", "schalkwijk", "Lantaarnpaal is kapot")
        assert await app.forwarding.send_due() == 1
        if isinstance(standin, SignalenStandIn):
            [stored] = standin.signals
            standin.set_state(stored, "b", NASTY, send_email=True)
        else:
            [stored] = standin.service_requests
            standin.set_status(stored, "in_progress", NASTY)
        await app.run_jobs_now()
    [news] = [t for t in texts(adapter, "dm:anna") if "News from the municipality" in t]
    assert news.startswith(f"News from the municipality about your report {ref}: it is now")
    note = news.split("The municipality writes: ", 1)[1]
    assert note.startswith("Beste bewoner,\nklik hier") and "klik hier & ‹meer›" in note
    assert len(note) <= 500 and note.endswith("…")
    assert clean(news) and "<" not in news and "alert(1)" not in news
    assert not re.search(r"\n\s*\n\s*\n", note)  # no wall of empty lines
    async with app.db.session() as s:
        update = (
            await s.exec(select(SignalUpdate).where(SignalUpdate.kind == "municipality"))
        ).one()
    assert update.note == note  # what is kept is what was said


async def test_a_huge_error_reaches_the_coordinator_short_and_clean(
    app: App, adapter: FakeAdapter, make_chat: MakeChat, tmp_path: Path
) -> None:
    async with Open311StandIn() as open311:
        await configure(app, tmp_path, schalkwijk=open311_table(open311))
        ref = await report_and_forward(make_chat, "anna", "schalkwijk", "Lantaarnpaal is kapot")
        reason = INVISIBLE + "<b>Ongeldige</b> locatie. " * 20_000
        open311.fail_next(status=400, path_contains="requests", body=[{"code": 400, "description": reason}])  # fmt: skip
        assert await app.forwarding.send_due() == 0
        await app.flush_outbox()
    # A plain reason; the server's words are kept with the forward, not put in the chat.
    [told] = forwards_failed(adapter, ref)
    assert "weigerde" in told and len(told) < 1000 and clean(told)
    assert "Ongeldige" not in told
    shown = await detail(make_chat, "coco", ref)
    assert "weigerde" in shown and len(shown) < 1500 and clean(shown)
    assert "Ongeldige" not in shown
    kept = (await _one_forward(app)).last_error or ""
    assert kept.startswith("open311: filing the request: HTTP 400: Ongeldige locatie.")
    assert len(kept) <= 400 and clean(kept) and "<b>" not in kept


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"x": ' * 600 + b"1" + b"}" * 600],
    ids=["too deep to read", "too deep to describe"],
)
async def test_an_error_nested_beyond_reason_is_named_plainly(
    app: App, adapter: FakeAdapter, make_chat: MakeChat, tmp_path: Path, body: bytes
) -> None:
    async with SignalenStandIn() as signalen:
        await configure(app, tmp_path, schalkwijk=signalen_table(signalen))
        ref = await report_and_forward(make_chat, "anna", "schalkwijk", "Lantaarnpaal is kapot")
        signalen.fail_next(status=400, body=body)
        assert await app.forwarding.send_due() == 0
        await app.flush_outbox()
    [told] = forwards_failed(adapter, ref)
    assert "weigerde" in told
    assert "HTTP 400: Bad Request" in ((await _one_forward(app)).last_error or "")
