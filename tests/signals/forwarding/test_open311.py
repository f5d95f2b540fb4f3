"""The Open311 GeoReport v2 channel against the Open311 stand-in."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.services.signals.channels import (
    ForwardingError,
    OutgoingSignal,
    build_forwarder,
    load_forwarding_config,
)
from bot.services.signals.channels.open311 import DESCRIPTION_LIMIT, Open311Forwarder
from tests.standins.open311 import Open311StandIn

KEY = "sleutel-123-geheim"


@pytest.fixture
async def open311() -> AsyncIterator[Open311StandIn]:
    async with Open311StandIn(api_key=KEY, hang_seconds=2) as standin:
        yield standin


def make_forwarder(o: Open311StandIn, **extra: Any) -> Open311Forwarder:
    table = {
        "kind": "open311",
        "base_url": o.base_url,
        "api_key": KEY,
        "service_codes": {"lighting": "VL-01", "waste": "AF-01", "other": "OV-99"},
        "timeout_seconds": 10.0,  # a loaded machine; tests of a hang pass a short one
        **extra,
    }
    made = build_forwarder(load_forwarding_config(table))
    assert isinstance(made, Open311Forwarder)
    return made


async def test_forward_with_location_and_consent(
    open311: Open311StandIn, make_signal: Callable[..., OutgoingSignal]
) -> None:
    forwarder = make_forwarder(open311)
    result = await forwarder.forward(make_signal(), "signal-42")
    await forwarder.close()

    [stored] = open311.service_requests.values()
    assert result.external_id == stored.service_request_id and result.status is None
    form = stored.form
    assert form["api_key"] == KEY and form["service_code"] == "VL-01"
    assert (form["lat"], form["long"]) == ("52.3645000", "4.6530000")
    assert "address_string" not in form and "media_url" not in form
    assert "Adres: Marsmanplein 12, Haarlem" in form["description"]
    assert form["description"].endswith("Via het wijkplatform Schalkwijk, melding M-1042.")
    assert (form["email"], form["phone"]) == ("anna.bewoner@example.org", "0612345678")
    assert stored.headers["Idempotency-Key"] == "signal-42"
    assert stored.headers["Content-Type"].startswith("application/x-www-form-urlencoded")


async def test_address_only_and_no_consent(
    open311: Open311StandIn, make_signal: Callable[..., OutgoingSignal]
) -> None:
    signal = make_signal(lat=None, lon=None, sharing_allowed=False, category="unknown-key")
    await make_forwarder(open311).forward(signal, "k")
    [stored] = open311.service_requests.values()
    form = stored.form
    assert form["address_string"] == "Marsmanplein 12, Haarlem"
    assert "lat" not in form and "long" not in form
    assert "email" not in form and "phone" not in form
    assert form["service_code"] == "OV-99"
    assert "Adres:" not in form["description"]


async def test_no_location_at_all_needs_a_fallback_point(
    open311: Open311StandIn, make_signal: Callable[..., OutgoingSignal]
) -> None:
    nowhere = make_signal(lat=None, lon=None, address=None)
    with pytest.raises(ForwardingError) as caught:
        await make_forwarder(open311).forward(nowhere, "k")
    assert not caught.value.retryable
    await make_forwarder(open311, fallback_point={"lat": 52.36, "lon": 4.66}).forward(nowhere, "k")
    [stored] = open311.service_requests.values()
    assert (stored.form["lat"], stored.form["long"]) == ("52.3600000", "4.6600000")


async def test_media_url_only_when_configured(
    open311: Open311StandIn, make_signal: Callable[..., OutgoingSignal]
) -> None:
    template = "https://wijk.example.nl/fotos/{reference}.jpg"
    await make_forwarder(open311, media_url=template).forward(make_signal(), "k")
    [stored] = open311.service_requests.values()
    assert stored.form["media_url"] == "https://wijk.example.nl/fotos/M-1042.jpg"


async def test_description_is_plain_and_at_most_4000_characters(
    open311: Open311StandIn, make_signal: Callable[..., OutgoingSignal]
) -> None:
    text = "<p>Gat in de <b>weg</b> &amp; stoep</p><script>alert(1)</script>" + " gat" * 2000
    await make_forwarder(open311).forward(make_signal(text=text), "k")
    [stored] = open311.service_requests.values()
    description = stored.form["description"]
    assert len(description) <= DESCRIPTION_LIMIT
    assert description.startswith("Gat in de weg & stoep")
    assert "<" not in description and ">" not in description and "…" in description
    assert description.endswith("melding M-1042.")


async def test_jurisdiction_id_travels_with_every_request(
    make_signal: Callable[..., OutgoingSignal],
) -> None:
    async with Open311StandIn(api_key=KEY, jurisdiction_id="haarlem.nl", token_mode=True) as o:
        forwarder = make_forwarder(o, jurisdiction_id="haarlem.nl")
        result = await forwarder.forward(make_signal(), "k")
        status = await forwarder.status(result.external_id)
    assert status is not None and status.resolved_id is not None
    assert [r.path for r in o.requests if not r.failed] == [
        "/services.json", "/requests.json", f"/tokens/{result.external_id[6:]}.json",
        f"/requests/{status.resolved_id}.json",
    ]  # fmt: skip


async def test_services_are_checked_once_and_cached(
    open311: Open311StandIn, make_signal: Callable[..., OutgoingSignal]
) -> None:
    forwarder = make_forwarder(open311)
    await forwarder.forward(make_signal(), "a")
    await forwarder.forward(make_signal(category="waste"), "b")
    assert [r.path for r in open311.requests].count("/services.json") == 1
    await forwarder.check_services()


async def test_an_unknown_service_code_is_not_retryable(
    open311: Open311StandIn, make_signal: Callable[..., OutgoingSignal]
) -> None:
    forwarder = make_forwarder(open311, service_codes={"lighting": "GEEN", "other": "OV-99"})
    with pytest.raises(ForwardingError) as caught:
        await forwarder.check_services()
    assert not caught.value.retryable and "lighting=GEEN" in caught.value.message
    with pytest.raises(ForwardingError) as caught:
        await forwarder.forward(make_signal(), "k")
    assert not caught.value.retryable
    assert open311.service_requests == {}


async def test_a_wrong_api_key_is_not_retryable_and_never_logged(
    open311: Open311StandIn,
    make_signal: Callable[..., OutgoingSignal],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    forwarder = make_forwarder(open311, api_key="fout-geheim-999")
    with pytest.raises(ForwardingError) as caught:
        await forwarder.forward(make_signal(), "k")
    assert not caught.value.retryable and caught.value.status_code == 403
    assert caught.value.message.endswith("Invalid api_key")
    assert "fout-geheim-999" not in caplog.text + repr(forwarder) + repr(forwarder.config)
    assert "fout-geheim-999" not in str(caught.value)


async def test_token_first_then_the_request_id(make_signal: Callable[..., OutgoingSignal]) -> None:
    async with Open311StandIn(api_key=KEY, token_mode=True, token_pending_polls=1) as o:
        forwarder = make_forwarder(o)
        result = await forwarder.forward(make_signal(), "k")
        assert result.external_id.startswith("token:")
        pending = await forwarder.status(result.external_id)
        assert pending is not None and pending.resolved_id is None
        assert (pending.state, pending.raw) == ("open", "token pending")
        [stored] = o.service_requests.values()
        o.set_status(stored.service_request_id, "closed", "Lamp vervangen.")
        known = await forwarder.status(result.external_id)
        assert known is not None and known.resolved_id == stored.service_request_id
        assert (known.state, known.text) == ("closed", "Lamp vervangen.")
        again = await forwarder.status(known.resolved_id)  # the caller stores the new id
        assert again is not None and again.state == "closed" and again.resolved_id is None


async def test_an_unknown_token_is_not_retryable(open311: Open311StandIn) -> None:
    with pytest.raises(ForwardingError) as caught:
        await make_forwarder(open311).status("token:bestaat-niet")
    assert not caught.value.retryable and caught.value.status_code == 404


@pytest.mark.parametrize(
    ("raw", "state"),
    [("open", "open"), ("closed", "closed"), ("in_progress", "in_progress"),
     ("fixed", "resolved"), ("reopened", "reopened"), ("duplicate", "closed"),
     ("something_else", "unknown")],
)  # fmt: skip
async def test_status_mapping(
    open311: Open311StandIn, make_signal: Callable[..., OutgoingSignal], raw: str, state: str
) -> None:
    forwarder = make_forwarder(open311)
    result = await forwarder.forward(make_signal(), "k")
    open311.set_status(result.external_id, raw, None if raw == "open" else f"Notitie {raw}")
    status = await forwarder.status(result.external_id)
    assert status is not None and (status.state, status.raw) == (state, raw)
    assert status.text == (None if raw == "open" else f"Notitie {raw}")


@pytest.mark.parametrize(
    "failure",
    [{"status": 500}, {"status": 503, "path_contains": "requests"}, {"status": 429},
     {"timeout": True}, {"status": 502, "path_contains": "services"}],
)  # fmt: skip
async def test_server_trouble_is_retryable(
    open311: Open311StandIn, make_signal: Callable[..., OutgoingSignal], failure: dict[str, Any]
) -> None:
    forwarder = make_forwarder(open311)
    hasty = make_forwarder(open311, timeout_seconds=0.5)  # the stand-in hangs for 2 s
    open311.fail_next(**failure)
    with pytest.raises(ForwardingError) as caught:
        await hasty.forward(make_signal(), "k")
    assert caught.value.retryable
    assert open311.service_requests == {}
    await forwarder.forward(make_signal(), "k")
    assert len(open311.service_requests) == 1


async def test_status_trouble_is_retryable(
    open311: Open311StandIn, make_signal: Callable[..., OutgoingSignal]
) -> None:
    forwarder = make_forwarder(open311)
    result = await forwarder.forward(make_signal(), "k")
    open311.fail_next(status=503)
    with pytest.raises(ForwardingError) as caught:
        await forwarder.status(result.external_id)
    assert caught.value.retryable
    with pytest.raises(ForwardingError) as caught:
        await forwarder.status("999999")
    assert not caught.value.retryable and "not found" in caught.value.message


# ---------------------------------------------------------------- like the real servers

LAMP_ATTRIBUTES: tuple[dict[str, Any], ...] = (
    {"code": "paalnummer", "required": True, "datatype": "string",
     "description": "Nummer op de lantaarnpaal"},
    {"code": "soort", "required": True, "datatype": "singlevaluelist",
     "values": [{"key": "1", "name": "Lamp kapot"}, {"key": "2", "name": "Paal scheef"}]},
    {"code": "uitleg", "required": True, "variable": False, "datatype": "text"},
)  # fmt: skip
SERVICES: tuple[dict[str, Any], ...] = (
    {"service_code": "VL-01", "service_name": "Straatverlichting", "group": "Openbare ruimte",
     "attributes": LAMP_ATTRIBUTES},
    {"service_code": "AF-01", "service_name": "Afval", "group": "Afval", "type": "blackbox"},
    {"service_code": "OV-99", "service_name": "Overig", "group": "Overig"},
)  # fmt: skip
MAPPED = {"VL-01": {"paalnummer": "{reference}", "soort": "1"}}


async def test_a_required_attribute_is_sent_as_mapped(
    make_signal: Callable[..., OutgoingSignal],
) -> None:
    async with Open311StandIn(api_key=KEY, services=SERVICES) as o:
        forwarder = make_forwarder(o, attributes=MAPPED)
        await forwarder.forward(make_signal(), "a")
        await forwarder.forward(make_signal(reference="M-1043"), "b")
    first, second = o.service_requests.values()
    assert first.form["attribute[paalnummer]"] == "M-1042"
    assert second.form["attribute[paalnummer]"] == "M-1043"
    assert first.form["attribute[soort]"] == "1" and "attribute[uitleg]" not in first.form
    assert [r.path for r in o.requests].count("/services/VL-01.json") == 1  # cached


async def test_an_unmapped_required_attribute_fails_plainly(
    make_signal: Callable[..., OutgoingSignal],
) -> None:
    async with Open311StandIn(api_key=KEY, services=SERVICES) as o:
        with pytest.raises(ForwardingError) as caught:
            await make_forwarder(o).forward(make_signal(), "k")
        assert not caught.value.retryable and not caught.value.maybe_filed
        assert "paalnummer" in caught.value.message
        assert "Nummer op de lantaarnpaal" in caught.value.message
        wrong = {"VL-01": {"paalnummer": "7", "soort": "9"}}
        with pytest.raises(ForwardingError) as caught:
            await make_forwarder(o, attributes=wrong).forward(make_signal(), "k")
        assert "soort" in caught.value.message and "Lamp kapot" in caught.value.message
        assert o.service_requests == {}


async def test_a_400_saying_the_system_is_down_is_retryable(
    open311: Open311StandIn, make_signal: Callable[..., OutgoingSignal]
) -> None:
    forwarder = make_forwarder(open311)
    open311.outage_next()
    with pytest.raises(ForwardingError) as caught:
        await forwarder.forward(make_signal(), "k")
    assert caught.value.retryable and caught.value.status_code == 400
    open311.fail_next(status=400, body=[{"code": 400, "description": "lat is not valid"}])
    with pytest.raises(ForwardingError) as caught:
        await forwarder.forward(make_signal(), "k")
    assert not caught.value.retryable
    await forwarder.forward(make_signal(), "k")
    assert len(open311.service_requests) == 1


async def test_a_blackbox_service_is_filed_with_the_reference_unknown(
    make_signal: Callable[..., OutgoingSignal],
) -> None:
    async with Open311StandIn(api_key=KEY, services=SERVICES) as o:
        with pytest.raises(ForwardingError) as caught:
            await make_forwarder(o).forward(make_signal(category="waste"), "k")
    assert caught.value.maybe_filed and not caught.value.retryable
    assert len(o.service_requests) == 1


async def test_the_mark_a_spot_answer_shape_is_read(
    make_signal: Callable[..., OutgoingSignal],
) -> None:
    async with Open311StandIn(api_key=KEY, markaspot_shape=True) as o:
        result = await make_forwarder(o).forward(make_signal(), "k")
    [stored] = o.service_requests.values()
    assert result.external_id == stored.service_request_id


async def test_an_xml_only_server(make_signal: Callable[..., OutgoingSignal]) -> None:
    async with Open311StandIn(api_key=KEY, services=SERVICES, xml_only=True, token_mode=True) as o:
        forwarder = make_forwarder(o, format="xml", attributes=MAPPED)
        await forwarder.check_services()
        result = await forwarder.forward(make_signal(), "k")
        assert result.external_id.startswith("token:")
        [stored] = o.service_requests.values()
        assert stored.form["attribute[soort]"] == "1"
        o.set_status(stored.service_request_id, "closed", "Lamp vervangen.")
        status = await forwarder.status(result.external_id)
        assert status is not None and status.resolved_id == stored.service_request_id
        assert (status.state, status.text) == ("closed", "Lamp vervangen.")
        with pytest.raises(ForwardingError) as caught:
            await forwarder.status("999999")
        assert "not found" in caught.value.message and not caught.value.retryable
        o.outage_next()
        with pytest.raises(ForwardingError) as caught:
            await forwarder.forward(make_signal(), "k2")
        assert caught.value.retryable and "CRM is down" in caught.value.message
    assert all(r.path.endswith(".xml") for r in o.requests)


async def test_xml_with_an_entity_bomb_is_not_expanded(
    open311: Open311StandIn, make_signal: Callable[..., OutgoingSignal]
) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<service_requests><request><service_request_id>&b;</service_request_id>"
        b"</request></service_requests>"
    )
    open311.fail_next(status=201, body=bomb, path_contains="requests")
    with pytest.raises(ForwardingError) as caught:
        await make_forwarder(open311).forward(make_signal(), "k")
    assert caught.value.maybe_filed
