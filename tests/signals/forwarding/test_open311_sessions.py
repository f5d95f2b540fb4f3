"""Open311 sessions through the chat, against a stand-in that behaves like real servers:
a service with a required attribute, a "CRM is down" 400, a blackbox service that never
names its number, and a server that answers only in XML."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.app import App
from bot.core.clock import FrozenClock
from storage.models import SignalForward
from tests.signals.forwarding.hoods import (
    configure,
    detail,
    open311_table,
    report_and_forward,
    texts,
)
from tests.standins.open311 import Open311StandIn
from tests.support.fake import FakeAdapter, MakeChat

SERVICES: tuple[dict[str, Any], ...] = (
    {"service_code": "VL-01", "service_name": "Straatverlichting", "group": "Openbare ruimte",
     "attributes": [{"code": "paalnummer", "required": True, "datatype": "string",
                     "description": "Nummer op de paal"}]},
    {"service_code": "OV-99", "service_name": "Overig", "group": "Overig"},
)  # fmt: skip
BLACKBOX: tuple[dict[str, Any], ...] = (
    {"service_code": "VL-01", "service_name": "Straatverlichting", "group": "Openbare ruimte",
     "type": "blackbox"},
    {"service_code": "OV-99", "service_name": "Overig", "group": "Overig"},
)  # fmt: skip
LAMP = "De lantaarnpaal bij de speeltuin is kapot"


@pytest.fixture
async def attributes_server() -> AsyncIterator[Open311StandIn]:
    async with Open311StandIn(services=SERVICES, hang_seconds=2) as standin:
        yield standin


async def _forward_row(app: App) -> SignalForward:
    async with app.db.session() as s:
        return (await s.exec(select(SignalForward))).one()


async def test_a_required_attribute_is_filed(
    app: App, make_chat: MakeChat, tmp_path: Path, attributes_server: Open311StandIn
) -> None:
    table = open311_table(attributes_server, attributes={"VL-01": {"paalnummer": "{reference}"}})
    await configure(app, tmp_path, schalkwijk=table)
    reference = await report_and_forward(make_chat, "anna", "schalkwijk", LAMP)
    assert await app.forwarding.send_due() == 1
    [stored] = attributes_server.service_requests.values()
    assert stored.form["attribute[paalnummer]"] == reference


async def test_an_unmapped_attribute_tells_the_coordinator_what_is_missing(
    app: App,
    adapter: FakeAdapter,
    make_chat: MakeChat,
    tmp_path: Path,
    attributes_server: Open311StandIn,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The coordinator reads a plain reason; the administrator finds in the log what to add."""
    await configure(app, tmp_path, schalkwijk=open311_table(attributes_server))
    await report_and_forward(make_chat, "anna", "schalkwijk", LAMP)
    with caplog.at_level(logging.WARNING):
        assert await app.forwarding.send_due() == 0
    await app.flush_outbox()
    [told] = [t for t in texts(adapter, "dm:coco") if "M-1001" in t and "mislukt" in t]
    assert "instellingen" in told  # plain: the settings are not right, ask the administrator
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "paalnummer" in logged and "forwarding.attributes.VL-01" in logged
    assert "Nummer op de paal" in (await _forward_row(app)).last_error
    clock.advance(timedelta(hours=3))
    assert await app.forwarding.send_due() == 0
    assert attributes_server.service_requests == {}


async def test_an_outage_is_retried_then_filed(
    app: App, adapter: FakeAdapter, make_chat: MakeChat, tmp_path: Path, clock: FrozenClock
) -> None:
    async with Open311StandIn(hang_seconds=2) as o:
        await configure(app, tmp_path, schalkwijk=open311_table(o))
        await report_and_forward(make_chat, "anna", "schalkwijk", LAMP)
        o.outage_next(2)
        assert await app.forwarding.send_due() == 0
        await app.flush_outbox()
        assert any("nog niet gelukt" in t for t in texts(adapter, "dm:coco"))
        assert "CRM is down" in (await _forward_row(app)).last_error  # kept, not in chat
        clock.advance(timedelta(minutes=1))
        assert await app.forwarding.send_due() == 0
        clock.advance(timedelta(minutes=2))
        assert await app.forwarding.send_due() == 1
    assert len(o.service_requests) == 1
    assert (await _forward_row(app)).external_id in o.service_requests


async def test_a_blackbox_service_is_recorded_once(
    app: App, adapter: FakeAdapter, make_chat: MakeChat, tmp_path: Path, clock: FrozenClock
) -> None:
    async with Open311StandIn(services=BLACKBOX, hang_seconds=2) as o:
        await configure(app, tmp_path, schalkwijk=open311_table(o))
        await report_and_forward(make_chat, "anna", "schalkwijk", LAMP)
        for _ in range(12):  # a day of scheduler runs
            await app.forwarding.send_due()
            await app.run_jobs_now()
            clock.advance(timedelta(hours=2, minutes=1))
    assert len(o.service_requests) == 1
    row = await _forward_row(app)
    assert row.failed and row.external_id is None and row.attempts == 1
    await app.flush_outbox()
    told = [t for t in texts(adapter, "dm:coco") if "misschien wel aangekomen" in t]
    assert len(told) == 1


async def test_an_xml_only_server_round_trip(
    app: App, adapter: FakeAdapter, make_chat: MakeChat, tmp_path: Path
) -> None:
    async with Open311StandIn(xml_only=True, token_mode=True, hang_seconds=2) as o:
        await configure(app, tmp_path, schalkwijk=open311_table(o, format="xml"))
        await report_and_forward(make_chat, "anna", "schalkwijk", LAMP)
        assert await app.forwarding.send_due() == 1
        await app.run_jobs_now()  # the token becomes a request id
        row = await _forward_row(app)
        assert row.external_id in o.service_requests
        o.set_status(row.external_id, "closed", "Lamp vervangen op 3 december.")
        await app.run_jobs_now()
    [news] = [t for t in texts(adapter, "dm:anna") if "Lamp vervangen" in t]
    assert "closed" in news
    assert all(r.path.endswith(".xml") for r in o.requests)


async def test_the_coordinator_reads_that_the_photo_was_not_sent(
    app: App, make_chat: MakeChat, tmp_path: Path
) -> None:
    async with Open311StandIn(hang_seconds=2) as o:
        await configure(app, tmp_path, schalkwijk=open311_table(o))
        anna = make_chat("anna", lang="en")
        await anna.say("/wijk")
        await anna.press("Schalkwijk")
        await anna.say("/melding")
        await anna.say(LAMP)
        await anna.location(52.3645, 4.6530)
        await anna.photo("photo-lamp")
        await anna.press("Street lighting")
        coco = make_chat("coco", lang="nl")
        await coco.say("/meldingen")
        await coco.press("M-1001")
        await coco.press("Doorsturen naar de gemeente")
        assert await app.forwarding.send_due() == 1
    [stored] = o.service_requests.values()
    assert "media_url" not in stored.form
    shown = await detail(make_chat, "coco", "M-1001")
    assert "the photo was not sent" in shown and "Wijkbot does not publish photos" in shown
