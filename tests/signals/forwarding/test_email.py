"""The e-mail channel against a real SMTP server (aiosmtpd) on loopback with STARTTLS."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import pytest

from bot.services.signals.channels import (
    ForwardingError,
    OutgoingSignal,
    build_forwarder,
    load_forwarding_config,
)
from bot.services.signals.channels.email import EmailForwarder, map_link, message_id
from tests.signals.forwarding.conftest import PNG, SmtpServer, TlsFiles, start_smtp


def forwarder(port: int, ca: object, **extra: Any) -> EmailForwarder:
    table = {
        "kind": "email", "smtp_host": "127.0.0.1", "smtp_port": port, "tls_ca_file": str(ca),
        "from_address": "wijkbot@wijk.example.nl", "to_address": "meldingen@gemeente.example.nl",
        "timeout_seconds": 5, **extra,
    }  # fmt: skip
    made = build_forwarder(load_forwarding_config(table))
    assert isinstance(made, EmailForwarder)
    return made


def parts(raw: Any) -> tuple[str, str]:
    plain = raw.message.get_body(("plain",)).get_content()
    page = raw.message.get_body(("html",)).get_content()
    return plain, page


async def test_mail_arrives_over_starttls_with_photo_map_and_contact(
    smtp_server: SmtpServer, tls_files: TlsFiles, make_signal: Callable[..., OutgoingSignal]
) -> None:
    mailer = forwarder(smtp_server.port, tls_files.ca, username="wijkbot", password="geheim")
    result = await mailer.forward(make_signal(), "signal-42")

    [got] = smtp_server.received
    assert got.tls and got.login == "wijkbot"
    assert got.recipients == ["meldingen@gemeente.example.nl"]
    msg = got.message
    assert msg["Subject"] == "Melding M-1042 uit Schalkwijk: Straatverlichting"
    assert msg["Message-ID"] == result.external_id == "<wijkbot.signal-42@wijk.example.nl>"
    assert msg["Reply-To"] == "anna.bewoner@example.org"
    assert msg["Auto-Submitted"] == "auto-generated"
    plain, page = parts(got)
    link = "https://www.openstreetmap.org/?mlat=52.364500&mlon=4.653000#map=19/52.364500/4.653000"
    assert link == map_link(52.3645, 4.6530)
    assert link in plain and link.replace("&", "&amp;") in page
    assert "De lantaarnpaal bij de speeltuin is al een week kapot." in plain
    assert "Adres: Marsmanplein 12, Haarlem" in plain
    assert "Gemeld op: 3 maart 2025, 14:05" in plain  # 13:05 UTC is 14:05 in Amsterdam
    assert "E-mail: anna.bewoner@example.org" in plain and "Telefoon: 0612345678" in plain
    [photo] = list(msg.iter_attachments())
    assert photo.get_filename() == "lamp.png" and photo.get_content_type() == "image/png"
    assert photo.get_content() == PNG
    assert result.status is None and await mailer.status(result.external_id) is None


async def test_no_contact_details_leak_without_consent(
    smtp_server: SmtpServer, tls_files: TlsFiles, make_signal: Callable[..., OutgoingSignal]
) -> None:
    mailer = forwarder(smtp_server.port, tls_files.ca)
    await mailer.forward(make_signal(sharing_allowed=False), "signal-43")
    [got] = smtp_server.received
    assert got.login is None
    for secret in (b"anna.bewoner", b"example.org", b"0612345678"):
        assert secret not in got.raw
    assert got.message["Reply-To"] is None
    plain, _page = parts(got)
    assert (
        "De bewoner deelt geen contactgegevens. Noem bij vragen het meldingsnummer M-1042." in plain
    )


async def test_without_location_or_photo(
    smtp_server: SmtpServer, tls_files: TlsFiles, make_signal: Callable[..., OutgoingSignal]
) -> None:
    mailer = forwarder(smtp_server.port, tls_files.ca)
    bare = make_signal(
        lat=None, lon=None, address=None, photo=None, text="Losse <b>tegel</b> & gat"
    )
    await mailer.forward(bare, "signal-44")
    [got] = smtp_server.received
    plain, page = parts(got)
    assert "openstreetmap" not in plain and "De bewoner gaf geen precieze plek op." in plain
    assert "Losse <b>tegel</b> & gat" in plain
    assert "Losse &lt;b&gt;tegel&lt;/b&gt; &amp; gat" in page
    assert list(got.message.iter_attachments()) == []
    assert "bijlage" not in plain


async def test_a_resend_carries_the_same_message_id(
    smtp_server: SmtpServer, tls_files: TlsFiles, make_signal: Callable[..., OutgoingSignal]
) -> None:
    mailer = forwarder(smtp_server.port, tls_files.ca)
    first = await mailer.forward(make_signal(), "signal-45")
    second = await mailer.forward(make_signal(), "signal-45")
    assert first.external_id == second.external_id
    assert [r.message["Message-ID"] for r in smtp_server.received] == [first.external_id] * 2


def test_message_id_of_an_awkward_key_is_hashed() -> None:
    odd = message_id("a b<c>@d", "x@gemeente.nl")
    assert odd.startswith("<wijkbot.") and odd.endswith("@gemeente.nl>")
    assert " " not in odd and odd.count("@") == 1
    assert odd == message_id("a b<c>@d", "x@gemeente.nl")


async def test_an_untrusted_certificate_is_refused(
    smtp_server: SmtpServer, tls_files: TlsFiles, make_signal: Callable[..., OutgoingSignal]
) -> None:
    mailer = forwarder(smtp_server.port, tls_files.other_ca)
    with pytest.raises(ForwardingError) as caught:
        await mailer.forward(make_signal(), "signal-46")
    assert not caught.value.retryable
    assert "certificate" in caught.value.message
    assert smtp_server.received == []


async def test_a_server_without_starttls_is_refused(
    tls_files: TlsFiles, make_signal: Callable[..., OutgoingSignal]
) -> None:
    state, server = await start_smtp(None)
    try:
        with pytest.raises(ForwardingError) as caught:
            await forwarder(state.port, tls_files.ca).forward(make_signal(), "signal-47")
        assert not caught.value.retryable
        assert state.received == []
    finally:
        server.close()
        await server.wait_closed()


async def test_wrong_password_is_not_retryable(
    smtp_server: SmtpServer, tls_files: TlsFiles, make_signal: Callable[..., OutgoingSignal]
) -> None:
    mailer = forwarder(smtp_server.port, tls_files.ca, username="wijkbot", password="fout")
    with pytest.raises(ForwardingError) as caught:
        await mailer.forward(make_signal(), "signal-48")
    assert not caught.value.retryable and caught.value.status_code == 535
    assert smtp_server.received == []


@pytest.mark.parametrize(("answer", "retryable"), [("451 4.3.0 try later", True), ("554 5.6.0 no", False)])  # fmt: skip
async def test_refusals_of_the_message(
    smtp_server: SmtpServer,
    tls_files: TlsFiles,
    make_signal: Callable[..., OutgoingSignal],
    answer: str,
    retryable: bool,
) -> None:
    smtp_server.answer = answer
    with pytest.raises(ForwardingError) as caught:
        await forwarder(smtp_server.port, tls_files.ca).forward(make_signal(), "signal-49")
    assert caught.value.retryable is retryable


async def test_an_unreachable_server_is_retryable(
    tls_files: TlsFiles, make_signal: Callable[..., OutgoingSignal]
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ForwardingError) as caught:
        await forwarder(port, tls_files.ca).forward(make_signal(), "signal-50")
    assert caught.value.retryable


async def test_a_silent_server_times_out_retryably(
    tls_files: TlsFiles, make_signal: Callable[..., OutgoingSignal]
) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(ForwardingError) as caught:
            await forwarder(port, tls_files.ca, timeout_seconds=0.3).forward(make_signal(), "s-51")
        assert caught.value.retryable
    finally:
        server.close()
