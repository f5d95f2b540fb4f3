"""The Signalen channel against the Signalen stand-in."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from PIL import Image

from bot.services.signals.channels import (
    ForwardingError,
    OutgoingSignal,
    build_forwarder,
    load_forwarding_config,
)
from bot.services.signals.channels import signalen as signalen_module
from bot.services.signals.channels.signalen import TEXT_LIMIT, SignalenForwarder
from tests.signals.forwarding.conftest import PNG
from tests.signals.forwarding.hoods import SIGNALEN_SECRET, private_signalen
from tests.standins.signalen import STATE_DISPLAY, SignalenStandIn

# Written from Signalen's workflow, independently of the module's own table.
EXPECTED = {
    "m": "open", "i": "open", "b": "in_progress", "h": "in_progress", "ingepland": "in_progress",
    "ready to send": "in_progress", "sent": "in_progress", "send failed": "in_progress",
    "done external": "in_progress", "closure requested": "in_progress",
    "reaction requested": "in_progress", "reaction received": "in_progress",
    "forward to external": "in_progress", "o": "resolved", "a": "closed", "s": "closed",
    "reopened": "reopened", "reopen requested": "reopened",
}  # fmt: skip


@pytest.fixture(autouse=True)
def no_photo_retry_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signalen_module, "PHOTO_RETRY_DELAY", 0.0)


@pytest.fixture
async def signalen() -> AsyncIterator[SignalenStandIn]:
    async with SignalenStandIn(hang_seconds=2) as standin:
        yield standin


def private_table(s: SignalenStandIn) -> dict[str, Any]:
    return {"token_url": f"{s.base_url}/oidc/token", "client_id": "wijkbot",
            "client_secret": SIGNALEN_SECRET}  # fmt: skip


def make_forwarder(s: SignalenStandIn, **extra: Any) -> SignalenForwarder:
    table = {
        "kind": "signalen",
        "base_url": s.base_url + "/",
        "category_urls": {
            "lighting": s.category_url("wegen-verkeer-straatmeubilair", "verlichting"),
            "waste": s.category_url("afval", "container-is-vol"),
            "other": s.category_url("overig", "overig"),
        },
        "timeout_seconds": 10.0,  # a loaded machine; tests of a hang pass a short one
        **extra,
    }
    made = build_forwarder(load_forwarding_config(table))
    assert isinstance(made, SignalenForwarder)
    return made


async def test_forward_with_photo_and_location(
    signalen: SignalenStandIn, make_signal: Callable[..., OutgoingSignal]
) -> None:
    forwarder = make_forwarder(signalen, source="wijkplatform")
    result = await forwarder.forward(make_signal(), "signal-42")
    await forwarder.close()

    [stored] = signalen.signals.values()
    assert result.external_id == stored.signal_id and result.warnings == ()
    assert result.status is not None and (result.status.state, result.status.raw) == (
        "open",
        "OPEN",
    )
    assert result.display_id == "SIG-1"  # the number people see, not the uuid
    body = stored.payload
    assert body["location"] == {"geometrie": {"type": "Point", "coordinates": [4.653, 52.3645]}}
    assert body["category"] == {
        "sub_category": signalen.category_url("wegen-verkeer-straatmeubilair", "verlichting")
    }
    assert body["reporter"] == {
        "email": "anna.bewoner@example.org", "phone": "0612345678", "sharing_allowed": True,
    }  # fmt: skip
    assert body["incident_date_start"] == "2025-03-03T13:05:00+00:00"
    assert body["source"] == "wijkplatform"
    assert body["text"].startswith("De lantaarnpaal bij de speeltuin")
    assert "Adres: Marsmanplein 12, Haarlem" in body["text"]
    assert body["text"].endswith("Via het wijkplatform Schalkwijk, melding M-1042.")
    answers = {p["id"]: p["answer"] for p in body["extra_properties"]}
    assert answers == {"wijkbot_reference": "M-1042", "wijkbot_idempotency_key": "signal-42"}
    # Only the path: Signalen's schema refuses a "-" in the host (#19 §3).
    assert {p["category_url"] for p in body["extra_properties"]} == {
        "/signals/v1/public/terms/categories/wegen-verkeer-straatmeubilair/sub_categories/verlichting"
    }
    assert stored.headers["Idempotency-Key"] == "signal-42"
    [photo] = stored.attachments
    assert (photo.filename, photo.content_type, photo.data) == ("M-1042.png", "image/png", PNG)


async def test_unknown_category_goes_to_other_and_no_photo_means_no_upload(
    signalen: SignalenStandIn, make_signal: Callable[..., OutgoingSignal]
) -> None:
    forwarder = make_forwarder(signalen)
    await forwarder.forward(make_signal(category="safety", photo=None), "k")
    [stored] = signalen.signals.values()
    assert stored.payload["category"]["sub_category"].endswith("/overig/sub_categories/overig")
    assert "source" not in stored.payload
    assert stored.attachments == []
    assert not [r for r in signalen.requests if "attachments" in r.path]


async def test_unusable_contact_details_are_left_out(
    signalen: SignalenStandIn, make_signal: Callable[..., OutgoingSignal]
) -> None:
    odd = make_signal(reporter_email="geen-adres", reporter_phone="06 - 1234 5678 toestel 12")
    await make_forwarder(signalen).forward(odd, "k")
    [stored] = signalen.signals.values()
    assert stored.payload["reporter"] == {"sharing_allowed": True}
    tidy = make_signal(reporter_phone="06-1234 5678")
    await make_forwarder(signalen).forward(tidy, "k2")
    phones = [s.payload["reporter"].get("phone") for s in signalen.signals.values()]
    assert phones == [None, "0612345678"]


async def test_contact_details_only_with_consent(
    signalen: SignalenStandIn, make_signal: Callable[..., OutgoingSignal]
) -> None:
    await make_forwarder(signalen).forward(make_signal(sharing_allowed=False), "k")
    [stored] = signalen.signals.values()
    assert stored.payload["reporter"] == {"sharing_allowed": False}
    raw = json.dumps(stored.payload)
    assert "anna.bewoner" not in raw and "0612345678" not in raw


async def test_without_coordinates_a_fallback_point_is_needed(
    signalen: SignalenStandIn, make_signal: Callable[..., OutgoingSignal]
) -> None:
    address_only = make_signal(lat=None, lon=None)
    with pytest.raises(ForwardingError) as caught:
        await make_forwarder(signalen).forward(address_only, "k")
    assert not caught.value.retryable and "fallback_point" in caught.value.message
    assert signalen.requests == []

    centre = {"lat": 52.36, "lon": 4.66}
    await make_forwarder(signalen, fallback_point=centre).forward(address_only, "k")
    [stored] = signalen.signals.values()
    assert stored.payload["location"]["geometrie"]["coordinates"] == [4.66, 52.36]
    assert "midden van de wijk" in stored.payload["text"]
    assert "Adres: Marsmanplein 12, Haarlem" in stored.payload["text"]


async def test_long_text_is_trimmed_and_keeps_the_reference(
    signalen: SignalenStandIn, make_signal: Callable[..., OutgoingSignal]
) -> None:
    await make_forwarder(signalen).forward(make_signal(text="kapot " * 1000), "k")
    [stored] = signalen.signals.values()
    text = stored.payload["text"]
    assert len(text) <= TEXT_LIMIT and "…" in text
    assert text.endswith("melding M-1042.")


# Whose text reaches the reporter in Signalen (apps/email_integrations/rules), written
# independently of the module: always, or only when staff ticked "send e-mail".
TOLD_ALWAYS = {"o", "reopened", "reaction requested"}
TOLD_WITH_EMAIL = {"m", "i", "b", "h", "closure requested", "a", "ingepland"}


@pytest.mark.parametrize("send_email", [True, False])
@pytest.mark.parametrize("raw", sorted(STATE_DISPLAY))
async def test_every_workflow_state_is_mapped_through_the_private_api(
    make_signal: Callable[..., OutgoingSignal], raw: str, send_email: bool
) -> None:
    async with private_signalen() as standin:
        forwarder = make_forwarder(standin, **private_table(standin))
        result = await forwarder.forward(make_signal(photo=None), "k")
        standin.set_state(
            result.external_id, raw, "Bericht van de gemeente.", send_email=send_email, force=True
        )
        status = await forwarder.status(result.external_id)
        await forwarder.close()
    told = raw in TOLD_ALWAYS or (send_email and raw in TOLD_WITH_EMAIL)
    assert status is not None
    assert (status.state, status.raw, status.text, status.display_id) == (
        EXPECTED[raw],
        raw,
        "Bericht van de gemeente." if told else None,
        "SIG-1",
    )


@pytest.mark.parametrize(("raw", "public"), [("m", "OPEN"), ("b", "OPEN"), ("o", "CLOSED"), ("a", "CLOSED")])  # fmt: skip
async def test_current_public_api_shows_only_open_or_closed(
    make_signal: Callable[..., OutgoingSignal], raw: str, public: str
) -> None:
    async with SignalenStandIn() as standin:
        forwarder = make_forwarder(standin)
        result = await forwarder.forward(make_signal(photo=None), "k")
        standin.set_state(result.external_id, raw, "niet zichtbaar", send_email=True, force=True)
        status = await forwarder.status(result.external_id)
    assert status is not None and status.raw == public and status.text is None
    assert status.state == {"OPEN": "open", "CLOSED": "closed"}[public]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"lat": 40.0, "lon": -3.7}, "bounding box"),  # Madrid
        ({"source": "not-public"}, "Invalid source given for anonymous user"),
    ],
)
async def test_validation_errors_are_not_retryable(
    signalen: SignalenStandIn,
    make_signal: Callable[..., OutgoingSignal],
    changes: dict[str, Any],
    expected: str,
) -> None:
    config = {k: v for k, v in changes.items() if k == "source"}
    signal = {k: v for k, v in changes.items() if k != "source"}
    with pytest.raises(ForwardingError) as caught:
        await make_forwarder(signalen, **config).forward(make_signal(**signal), "k")
    assert not caught.value.retryable and caught.value.status_code == 400
    assert expected in caught.value.message


async def test_unknown_sub_category_is_not_retryable(
    signalen: SignalenStandIn, make_signal: Callable[..., OutgoingSignal]
) -> None:
    other = signalen.category_url("bestaat", "niet")
    forwarder = make_forwarder(signalen, category_urls={"other": other})
    with pytest.raises(ForwardingError) as caught:
        await forwarder.forward(make_signal(), "k")
    assert not caught.value.retryable
    assert "Object bestaat niet" in caught.value.message


@pytest.mark.parametrize(
    ("failure", "retry_after"),
    [({"status": 500}, None), ({"status": 503}, None), ({"status": 429, "retry_after": 7}, 7.0),
     ({"timeout": True}, None)],
)  # fmt: skip
async def test_server_trouble_is_retryable_and_a_retry_files_once(
    signalen: SignalenStandIn,
    make_signal: Callable[..., OutgoingSignal],
    failure: dict[str, Any],
    retry_after: float | None,
) -> None:
    forwarder = make_forwarder(signalen)
    hasty = make_forwarder(signalen, timeout_seconds=0.5)  # the stand-in hangs for 2 s
    signalen.fail_next(**failure)
    with pytest.raises(ForwardingError) as caught:
        await hasty.forward(make_signal(), "k")
    assert caught.value.retryable and caught.value.retry_after == retry_after
    assert signalen.signals == {}
    await forwarder.forward(make_signal(), "k")
    assert len(signalen.signals) == 1


async def test_a_failed_photo_upload_is_a_warning_not_a_failure(
    signalen: SignalenStandIn, make_signal: Callable[..., OutgoingSignal]
) -> None:
    forwarder = make_forwarder(signalen)
    signalen.fail_next(2, status=503, path_contains="attachments")
    result = await forwarder.forward(make_signal(), "k")
    [stored] = signalen.signals.values()
    assert stored.attachments == [] and result.external_id == stored.signal_id
    assert result.warnings and "photo not attached" in result.warnings[0]
    await forwarder.upload_photo(result.external_id, make_signal())  # the caller tries later
    assert [a.data for a in stored.attachments] == [PNG]


async def test_photo_upload_retries_once(
    signalen: SignalenStandIn, make_signal: Callable[..., OutgoingSignal]
) -> None:
    signalen.fail_next(1, status=502, path_contains="attachments")
    result = await make_forwarder(signalen).forward(make_signal(), "k")
    assert result.warnings == ()
    assert len(signalen.signals[result.external_id].attachments) == 1


async def test_status_of_an_unknown_signal_is_not_retryable(signalen: SignalenStandIn) -> None:
    with pytest.raises(ForwardingError) as caught:
        await make_forwarder(signalen).status("00000000-0000-0000-0000-000000000000")
    assert not caught.value.retryable and caught.value.status_code == 404


async def test_an_unreachable_server_is_retryable(
    make_signal: Callable[..., OutgoingSignal],
) -> None:
    async with SignalenStandIn() as standin:
        forwarder = make_forwarder(standin)
    with pytest.raises(ForwardingError) as caught:
        await forwarder.forward(make_signal(), "k")
    assert caught.value.retryable
    with pytest.raises(ForwardingError) as caught:
        await forwarder.status("abc")
    assert caught.value.retryable


def webp_photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(out, "WEBP")
    return out.getvalue()


async def test_a_webp_photo_arrives_as_jpeg(
    signalen: SignalenStandIn, make_signal: Callable[..., OutgoingSignal]
) -> None:
    """Signalen takes JPEG, PNG and GIF only, by the bytes and the extension (#19 §4)."""
    photo = make_signal(photo=webp_photo(), photo_filename="IMG.webp", photo_content_type=None)
    result = await make_forwarder(signalen).forward(photo, "k")
    [stored] = signalen.signals.values()
    [attachment] = stored.attachments
    assert result.warnings == ()
    assert attachment.filename == "M-1042.jpg" and attachment.data.startswith(b"\xff\xd8\xff")
    assert Image.open(io.BytesIO(attachment.data)).size == (8, 6)


async def test_a_photo_that_cannot_be_converted_is_said_plainly(
    signalen: SignalenStandIn, make_signal: Callable[..., OutgoingSignal]
) -> None:
    """HEIC needs a plug-in Pillow does not have here: the report goes, the photo does not."""
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    result = await make_forwarder(signalen).forward(make_signal(photo=heic), "k")
    [stored] = signalen.signals.values()
    assert stored.attachments == [] and not [r for r in signalen.requests if "attach" in r.path]
    assert result.warnings == (
        "photo not sent: the photo's format cannot be read here (Signalen takes JPEG, PNG or GIF)",
    )


async def test_one_token_serves_many_requests_and_a_refused_one_is_renewed(
    make_signal: Callable[..., OutgoingSignal],
) -> None:
    async with private_signalen() as standin:
        forwarder = make_forwarder(standin, **private_table(standin))
        result = await forwarder.forward(make_signal(photo=None), "k")
        await forwarder.status(result.external_id)
        await forwarder.status(result.external_id)
        assert standin.tokens_issued == 1
        standin.fail_next(1, status=401, path_contains="/private/")
        standin.set_state(result.external_id, "b", "Wij gaan aan de slag.", send_email=True)
        status = await forwarder.status(result.external_id)
        await forwarder.close()
    assert standin.tokens_issued == 2
    assert status is not None and (status.state, status.text) == (
        "in_progress",
        "Wij gaan aan de slag.",
    )


async def test_a_reopen_request_follows_the_workflow(
    make_signal: Callable[..., OutgoingSignal],
) -> None:
    async with private_signalen() as standin:
        forwarder = make_forwarder(standin, **private_table(standin))
        result = await forwarder.forward(make_signal(photo=None), "k")
        with pytest.raises(ForwardingError) as early:  # not closed yet: Signalen refuses
            await forwarder.request_reopen(result.external_id, "Nog steeds kapot")
        assert not early.value.retryable and "Invalid state transition" in early.value.message
        standin.set_state(result.external_id, "o", "De lamp is vervangen.")
        await forwarder.request_reopen(result.external_id, "Nog steeds kapot")
        await forwarder.close()
        [stored] = standin.signals.values()
    assert (stored.state, stored.status.text) == ("reopen requested", "Nog steeds kapot")


async def test_without_the_private_api_no_reopen_is_claimed(
    signalen: SignalenStandIn, make_signal: Callable[..., OutgoingSignal]
) -> None:
    forwarder = make_forwarder(signalen)
    assert not forwarder.can_reopen
    with pytest.raises(ForwardingError, match="private API"):
        await forwarder.request_reopen("x", "Nog steeds kapot")
