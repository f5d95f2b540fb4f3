"""A whole session per forwarding channel: report with photo and location, duplicate check,
coordinator forwards, the municipality changes the status, reporter and follower hear it,
the reporter says "not solved", the report opens again."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlmodel import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.ops.admin import grant_coordinator
from bot.ops.setup_data import apply_setup
from storage.models import Signal, SignalForward
from tests.signals.forwarding.conftest import SmtpServer, TlsFiles
from tests.signals.forwarding.hoods import private_signalen, signalen_table
from tests.standins.open311 import Open311StandIn
from tests.standins.signalen import SignalenStandIn
from tests.support.fake import Chat, FakeAdapter, MakeChat


def _toml(forwarding: dict[str, Any]) -> str:
    pairs = ", ".join(f"{k} = {json.dumps(v)}" if not isinstance(v, dict) else
                      f"{k} = {{ " + ", ".join(f"{a} = {json.dumps(b)}" for a, b in v.items()) + " }"
                      for k, v in forwarding.items())  # fmt: skip
    return (
        f'[[neighbourhood]]\nslug = "schalkwijk"\nname = "Schalkwijk"\nforwarding = {{ {pairs} }}\n'
    )


async def _configure(app: App, tmp_path: Path, forwarding: dict[str, Any]) -> None:
    setup = tmp_path / "wijkbot.toml"
    setup.write_text(_toml(forwarding))
    await apply_setup(app.db, setup)
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")


async def _report_and_follow(make_chat: MakeChat) -> tuple[Chat, Chat, Chat]:
    anna: Chat = make_chat("anna", lang="en")
    await anna.say("/wijk")
    await anna.press("Schalkwijk")
    await anna.say("/melding")
    await anna.say("Lantaarnpaal bij de speeltuin is kapot")
    await anna.location(52.3645, 4.6530)
    await anna.photo("photo-lamp")
    [done] = await anna.press("Street lighting")
    assert "M-1001" in done.text
    bob: Chat = make_chat("bob", lang="en")  # one message, no sign-up
    await bob.say("melding: straatlamp speeltuin doet het niet")
    await bob.location(52.36452, 4.65302)
    await bob.press("Skip")
    [offer] = await bob.press("Schalkwijk")
    assert "reported this already" in offer.text
    await bob.press("M-1001")
    coco: Chat = make_chat("coco", lang="nl")
    await coco.say("/meldingen")
    await coco.press("M-1001")
    [forwarded] = await coco.press("Doorsturen naar de gemeente")
    assert "M-1001" in forwarded.text
    return anna, bob, coco


def _texts(adapter: FakeAdapter, chat: str) -> list[str]:
    return [m.text for m in adapter.in_chat(chat)]


async def _not_solved(app: App, anna: Chat, adapter: FakeAdapter) -> None:
    [reopened] = await anna.press("No, it is not solved")
    assert "open again" in reopened.text
    assert any("niet is opgelost" in t for t in _texts(adapter, "dm:coco"))
    async with app.db.session() as s:
        assert (await s.get(Signal, 1)).status == "reopened"  # type: ignore[union-attr]


@pytest.fixture
async def signalen() -> AsyncIterator[SignalenStandIn]:
    async with private_signalen(hang_seconds=2) as standin:
        yield standin


def _webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (12, 9), (250, 200, 0)).save(out, "WEBP")
    return out.getvalue()


async def test_signalen_round_trip(
    app: App,
    adapter: FakeAdapter,
    make_chat: MakeChat,
    tmp_path: Path,
    signalen: SignalenStandIn,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Through the private API: real states, the municipality's words, a reopen both ways."""
    photo = _webp()  # what Matrix and many phones send
    monkeypatch.setattr(adapter, "download", partial(_download, photo))
    # The municipality's host has a hyphen; Signalen's extra_properties schema refuses that.
    host = "https://api.meldingen-haarlem.nl"
    table = signalen_table(signalen) | {"category_urls": {
        "lighting": host + "/signals/v1/public/terms/categories/wegen-verkeer-straatmeubilair/sub_categories/verlichting",
        "other": host + "/signals/v1/public/terms/categories/overig/sub_categories/overig",
    }}  # fmt: skip
    await _configure(app, tmp_path, table)
    anna, _bob, coco = await _report_and_follow(make_chat)
    assert await app.forwarding.send_due() == 1
    assert await app.forwarding.send_due() == 0  # never twice
    [stored] = signalen.signals.values()
    [attachment] = stored.attachments  # the WebP arrived, as a JPEG
    assert attachment.filename == "M-1001.jpg" and attachment.data.startswith(b"\xff\xd8\xff")
    await coco.say("/meldingen")
    [detail] = await coco.press("M-1001")
    assert "hun nummer: SIG-1" in detail.text and stored.signal_id not in detail.text
    assert "reporter" not in stored.payload or "email" not in stored.payload["reporter"]

    signalen.set_state(stored.signal_id, "b", "Een monteur komt donderdag.", send_email=True)
    await app.run_jobs_now()
    [news] = [t for t in _texts(adapter, "dm:anna") if "News from the municipality" in t]
    assert "being handled" in news and "donderdag" in news and "SIG-1" in news
    follower = [t for t in _texts(adapter, "dm:bob") if "a report you follow" in t]
    assert follower and "being handled" in follower[-1] and "donderdag" in follower[-1]

    signalen.set_state(stored.signal_id, "o", "De lamp is vervangen.")
    await app.run_jobs_now()
    [asked] = [m for m in adapter.in_chat("dm:anna") if "vervangen" in m.text]
    assert "solved" in asked.text and "No, it is not solved" in asked.labels
    assert any("solved" in t and "vervangen" in t for t in _texts(adapter, "dm:bob"))

    # Not solved: back to Signalen as its own reopen request, with the reporter's words.
    await _not_solved(app, anna, adapter)
    await anna.say("De lamp knippert nog steeds")
    await app.run_jobs_now()
    assert stored.state == "reopen requested"
    assert stored.status.text is not None and "knippert nog steeds" in stored.status.text
    assert any("SIG-1" in t and "M-1001" in t for t in _texts(adapter, "dm:coco")[-2:])

    # The municipality closes it again, then reopens it days later: still seen.
    signalen.set_state(stored.signal_id, "o", "Nu is de lamp echt gerepareerd.")
    await app.run_jobs_now()
    assert any("echt gerepareerd" in t for t in _texts(adapter, "dm:anna"))
    clock.advance(timedelta(days=6))
    signalen.set_state(stored.signal_id, "reopened", "Buren melden dat hij weer uit is.")
    await app.run_jobs_now()
    [again] = [t for t in _texts(adapter, "dm:anna") if "weer uit" in t]
    assert "open again" in again
    async with app.db.session() as s:
        assert (await s.get(Signal, 1)).status == "reopened"  # type: ignore[union-attr]

    # Closed for longer than two weeks: no longer read.
    signalen.set_state(stored.signal_id, "o", "Klaar.")
    await app.run_jobs_now()
    clock.advance(timedelta(days=15))
    before = len(signalen.requests)
    await app.run_jobs_now()
    assert len(signalen.requests) == before


async def test_signalen_public_api_only(
    app: App, adapter: FakeAdapter, make_chat: MakeChat, tmp_path: Path
) -> None:
    """Without an account: OPEN/CLOSED only, a reopen still seen, "not solved" left to coco."""
    async with SignalenStandIn() as plain:
        await _configure(app, tmp_path, signalen_table(plain))
        anna, _bob, _coco = await _report_and_follow(make_chat)
        assert await app.forwarding.send_due() == 1
        [stored] = plain.signals.values()
        plain.set_state(stored.signal_id, "b", "Niet voor de melder bedoeld.", send_email=True)
        await app.run_jobs_now()
        assert not [t for t in _texts(adapter, "dm:anna") if "News from" in t]  # still OPEN
        plain.set_state(stored.signal_id, "o", "Lamp vervangen.")
        await app.run_jobs_now()
        [closed] = [t for t in _texts(adapter, "dm:anna") if "News from" in t]
        assert "closed" in closed and "vervangen" not in closed  # the public API has no text
        plain.set_state(stored.signal_id, "reopened", "Toch niet goed.")
        await app.run_jobs_now()
        assert "open again" in _texts(adapter, "dm:anna")[-1]  # CLOSED, then OPEN again
        plain.set_state(stored.signal_id, "o", "Nu wel.")
        await app.run_jobs_now()
        await _not_solved(app, anna, adapter)
        await anna.say("Nog steeds donker")
        await app.run_jobs_now()
        assert stored.state == "o"  # nothing could be sent back
        told = _texts(adapter, "dm:coco")[-1]
        assert "M-1001" in told and "SIG-1" in told and "zelf" in told


async def _download(photo: bytes, file_id: str) -> bytes:
    return photo


@pytest.fixture
async def open311() -> AsyncIterator[Open311StandIn]:
    async with Open311StandIn(api_key="k-311", hang_seconds=2, token_mode=True) as standin:
        yield standin


async def test_open311_round_trip(
    app: App,
    adapter: FakeAdapter,
    make_chat: MakeChat,
    tmp_path: Path,
    open311: Open311StandIn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HAARLEM_OPEN311_KEY", "k-311")
    await _configure(app, tmp_path, {
        "kind": "open311", "base_url": open311.base_url, "api_key_env": "HAARLEM_OPEN311_KEY",
        "service_codes": {"lighting": "VL-01", "other": "OV-99"},
    })  # fmt: skip
    anna, _bob, _coco = await _report_and_follow(make_chat)
    assert await app.forwarding.send_due() == 1
    await app.run_jobs_now()  # the token becomes a request id
    async with app.db.session() as s:
        fwd = (await s.exec(select(SignalForward))).one()
    assert fwd.external_id in open311.service_requests
    stored = open311.service_requests[fwd.external_id]
    assert stored.form["service_code"] == "VL-01" and "email" not in stored.form
    open311.set_status(fwd.external_id, "closed", "Lamp vervangen op 3 december.")
    await app.run_jobs_now()
    [asked] = [m for m in adapter.in_chat("dm:anna") if "Lamp vervangen" in m.text]
    assert "closed" in asked.text and "really solved" in asked.text
    await _not_solved(app, anna, adapter)


async def test_email_round_trip(
    app: App,
    adapter: FakeAdapter,
    make_chat: MakeChat,
    tmp_path: Path,
    smtp_server: SmtpServer,
    tls_files: TlsFiles,
) -> None:
    await _configure(app, tmp_path, {
        "kind": "email", "smtp_host": "127.0.0.1", "smtp_port": smtp_server.port,
        "tls_ca_file": str(tls_files.ca), "from_address": "wijkbot@wijk.example.nl",
        "to_address": "meldingen@gemeente.example.nl",
    })  # fmt: skip
    anna, _bob, coco = await _report_and_follow(make_chat)
    assert await app.forwarding.send_due() == 1
    [mail] = smtp_server.received
    assert mail.tls and "M-1001" in str(mail.message["Subject"])
    body = mail.message.get_body(("plain",))
    assert body is not None and "openstreetmap.org" in body.get_content()
    assert any(part.get_filename() for part in mail.message.iter_attachments())
    await coco.say("/status M-1001 opgelost De gemeente heeft de lamp vervangen")
    await _not_solved(app, anna, adapter)


async def test_failure_is_retried_and_shown_to_the_coordinator(
    app: App,
    adapter: FakeAdapter,
    make_chat: MakeChat,
    tmp_path: Path,
    signalen: SignalenStandIn,
    clock: FrozenClock,
) -> None:
    from datetime import timedelta

    await _configure(app, tmp_path, {
        "kind": "signalen", "base_url": signalen.base_url,
        "category_urls": {"other": signalen.category_url("overlast-in-de-openbare-ruimte", "overig-openbare-ruimte")},
    })  # fmt: skip
    await _report_and_follow(make_chat)
    signalen.fail_next(count=2, status=503)
    assert await app.forwarding.send_due() == 0
    await app.flush_outbox()
    assert any(
        "nog niet gelukt" in t or "did not work yet" in t for t in _texts(adapter, "dm:coco")
    )
    assert await app.forwarding.send_due() == 0  # backing off: not tried again at once
    clock.advance(timedelta(minutes=5))
    await app.forwarding.send_due()
    clock.advance(timedelta(minutes=10))
    assert await app.forwarding.send_due() == 1
    assert len(signalen.signals) == 1
