"""Shared pieces: a sample signal, a tiny PNG, a throwaway CA and a loopback SMTP server."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
import struct
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bot.services.signals.channels import OutgoingSignal


def tiny_png() -> bytes:
    """A valid 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x80\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG = tiny_png()
SAMPLE = OutgoingSignal(
    reference="M-1042",
    text="De lantaarnpaal bij de speeltuin is al een week kapot. Het is 's avonds erg donker.",
    category="lighting",
    created_at=dt.datetime(2025, 3, 3, 13, 5, tzinfo=dt.UTC),
    lat=52.3645,
    lon=4.6530,
    address="Marsmanplein 12, Haarlem",
    photo=PNG,
    photo_filename="lamp.png",
    photo_content_type="image/png",
    reporter_email="anna.bewoner@example.org",
    reporter_phone="0612345678",
    sharing_allowed=True,
    neighbourhood="Schalkwijk",
)


@pytest.fixture(autouse=True)
def open311_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Open311 stand-ins' default key, named by `hoods.KEY_ENV` in forwarding tables."""
    monkeypatch.setenv("WIJKBOT_TEST_OPEN311_KEY", "test-api-key")
    monkeypatch.setenv("WIJKBOT_TEST_SIGNALEN_SECRET", "geheim-van-de-testgemeente")


@pytest.fixture
def make_signal() -> Callable[..., OutgoingSignal]:
    def make(**changes: Any) -> OutgoingSignal:
        return replace(SAMPLE, **changes)

    return make


# ---------------------------------------------------------------------- TLS


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    cert: Path
    key: Path
    other_ca: Path  # a CA that did not sign the server's certificate


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _ca(common: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)  # noqa: TID251 -- OpenSSL checks certificates on the wall clock
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common))
        .issuer_name(_name(common))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A test CA and a server certificate for 127.0.0.1 and localhost, made now."""
    folder = tmp_path_factory.mktemp("tls")
    ca_key, ca_cert = _ca("Wijkbot test CA")
    _other_key, other_cert = _ca("Some other CA")
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)  # noqa: TID251 -- OpenSSL checks certificates on the wall clock
    san = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    files = TlsFiles(
        folder / "ca.pem", folder / "server.pem", folder / "server.key", folder / "o.pem"
    )
    files.ca.write_bytes(ca_cert.public_bytes(pem))
    files.other_ca.write_bytes(other_cert.public_bytes(pem))
    files.cert.write_bytes(cert.public_bytes(pem))
    files.key.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return files


# ---------------------------------------------------------------------- SMTP


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes
    message: EmailMessage
    tls: bool
    login: str | None


@dataclass
class SmtpServer:
    port: int
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    answer: str = "250 OK"  # what DATA answers; set to "451 …" or "550 …" to refuse

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if not self.answer.startswith("250"):
            return self.answer
        content = envelope.original_content or b""
        raw = content if isinstance(content, bytes) else content.encode()
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None  # fmt: skip
        self.received.append(
            Received(
                str(envelope.mail_from), list(envelope.rcpt_tos), raw, message,
                tls=session.ssl is not None, login=login,
            )
        )  # fmt: skip
        return "250 OK"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        self.logins.append((data.login.decode(), data.password.decode()))
        ok = data.password == b"geheim"
        return AuthResult(success=ok, handled=False, auth_data=data)


async def start_smtp(tls: TlsFiles | None) -> tuple[SmtpServer, asyncio.Server]:
    """An aiosmtpd server on 127.0.0.1 in this loop; STARTTLS required when `tls` is given."""
    context = None
    if tls is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls.cert, tls.key)
    state = SmtpServer(port=0)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            state, hostname="127.0.0.1", tls_context=context, require_starttls=context is not None,
            authenticator=state.authenticate, auth_require_tls=True, timeout=10,
        ),
        "127.0.0.1", 0,
    )  # fmt: skip
    state.port = server.sockets[0].getsockname()[1]
    return state, server


@pytest.fixture
async def smtp_server(tls_files: TlsFiles) -> AsyncIterator[SmtpServer]:
    state, server = await start_smtp(tls_files)
    try:
        yield state
    finally:
        server.close()
        await server.wait_closed()
