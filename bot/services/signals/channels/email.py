"""Forward signals by e-mail, for municipalities without an API.

A readable Dutch message (plain text and a simple HTML part) with a map link and the
photo attached, sent with SMTP and STARTTLS through aiosmtplib: asynchronous like the
rest of the bot, with timeouts and STARTTLS that is required rather than opportunistic
(smtplib in a thread would tie up a worker thread per slow server).

The Message-ID is made from the idempotency key, so a resend carries the same id and
mail systems and people can recognise it. E-mail has no status: `status` is None.
The text is for the municipality and fixed in Dutch, so it lives here as constants.
"""

from __future__ import annotations

import hashlib
import html
import re
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import aiosmtplib

from bot.core.clock import Clock, SystemClock
from bot.services.signals.channels.base import (
    ExternalStatus,
    ForwardingError,
    ForwardResult,
    OutgoingSignal,
    clean_text,
    photo_type,
)
from bot.services.signals.channels.config import EmailConfig

TZ = ZoneInfo("Europe/Amsterdam")
CATEGORY_NAMES = {
    "road": "Straat of stoep",
    "greenery": "Bomen en groen",
    "waste": "Afval",
    "lighting": "Straatverlichting",
    "safety": "Veiligheid",
    "other": "Overig",
}
MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)

SUBJECT = "Melding {reference} uit {neighbourhood}: {category}"
INTRO = "Goedendag,\n\nEen bewoner van {neighbourhood} meldt een probleem. Wilt u dit oppakken?"
LABEL_REFERENCE = "Meldingsnummer"
LABEL_CATEGORY = "Soort"
LABEL_DATE = "Gemeld op"
LABEL_ADDRESS = "Adres"
LABEL_MAP = "Op de kaart"
NO_LOCATION = "De bewoner gaf geen precieze plek op."
TEXT_HEADING = "Wat de bewoner schrijft:"
CONTACT_HEADING = "Contact met de bewoner:"
LABEL_EMAIL = "E-mail"
LABEL_PHONE = "Telefoon"
NO_CONTACT = (
    "De bewoner deelt geen contactgegevens. Noem bij vragen het meldingsnummer {reference}."
)
PHOTO_NOTE = "De foto van de bewoner zit als bijlage bij deze e-mail."
CLOSING = "Met vriendelijke groet,\nWijkplatform {neighbourhood}"
FOOTER = "Deze e-mail is automatisch verstuurd door het wijkplatform."

_SAFE_KEY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]|\.(?!\.)){0,99}$")


def map_link(lat: float, lon: float) -> str:
    la, lo = f"{lat:.6f}", f"{lon:.6f}"
    return f"https://www.openstreetmap.org/?mlat={la}&mlon={lo}#map=19/{la}/{lo}"


def dutch_datetime(moment: datetime) -> str:
    local = moment.astimezone(TZ)
    return f"{local.day} {MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"


def message_id(idempotency_key: str, from_address: str) -> str:
    """``<wijkbot.KEY@domain>``; a key that is not a safe dot-atom is hashed."""
    left = idempotency_key if _SAFE_KEY.match(idempotency_key) else None
    if left is None or left.endswith("."):
        left = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    domain = from_address.rpartition("@")[2] or "wijkbot.invalid"
    return f"<wijkbot.{left}@{domain}>"


def _facts(signal: OutgoingSignal, category: str) -> list[tuple[str, str]]:
    facts = [
        (LABEL_REFERENCE, signal.reference),
        (LABEL_CATEGORY, category),
        (LABEL_DATE, dutch_datetime(signal.created_at)),
    ]
    if signal.address:
        facts.append((LABEL_ADDRESS, clean_text(signal.address)))
    if signal.lat is not None and signal.lon is not None:
        facts.append((LABEL_MAP, map_link(signal.lat, signal.lon)))
    return facts


def build_message(
    signal: OutgoingSignal, idempotency_key: str, config: EmailConfig, clock: Clock
) -> EmailMessage:
    """The e-mail as it will be sent (pure: no I/O)."""
    category = CATEGORY_NAMES.get(signal.category, CATEGORY_NAMES["other"])
    names = {"reference": signal.reference, "neighbourhood": signal.neighbourhood}
    facts = _facts(signal, category)
    email, phone = signal.contact()
    contact = [(LABEL_EMAIL, email), (LABEL_PHONE, phone)]
    contact_lines = [f"{label}: {value}" for label, value in contact if value]
    has_point = signal.lat is not None and signal.lon is not None

    text = [INTRO.format(**names), ""]
    text += [f"{label}: {value}" for label, value in facts]
    if not has_point and not signal.address:
        text.append(NO_LOCATION)
    text += ["", TEXT_HEADING, clean_text(signal.text), "", CONTACT_HEADING]
    text += contact_lines or [NO_CONTACT.format(**names)]
    if signal.photo:
        text += ["", PHOTO_NOTE]
    text += ["", CLOSING.format(**names), "", FOOTER]

    esc = html.escape
    rows = "".join(
        f"<tr><th align='left'>{esc(label)}</th><td>"
        + (f"<a href='{esc(value)}'>{esc(value)}</a>" if label == LABEL_MAP else esc(value))
        + "</td></tr>"
        for label, value in facts
    )
    contact_html = "<br>".join(esc(line) for line in contact_lines) or esc(
        NO_CONTACT.format(**names)
    )
    body_html = esc(clean_text(signal.text)).replace("\n", "<br>")
    page = (
        "<html><body>"
        f"<p>{esc(INTRO.format(**names)).replace(chr(10), '<br>')}</p>"
        f"<table>{rows}</table>"
        + ("" if has_point or signal.address else f"<p>{esc(NO_LOCATION)}</p>")
        + f"<h3>{esc(TEXT_HEADING)}</h3><p>{body_html}</p>"
        f"<h3>{esc(CONTACT_HEADING)}</h3><p>{contact_html}</p>"
        + (f"<p>{esc(PHOTO_NOTE)}</p>" if signal.photo else "")
        + f"<p>{esc(CLOSING.format(**names)).replace(chr(10), '<br>')}</p>"
        f"<p><small>{esc(FOOTER)}</small></p></body></html>"
    )

    msg = EmailMessage()
    msg["Subject"] = SUBJECT.format(category=category, **names)
    msg["From"] = config.from_address
    msg["To"] = config.to_address
    if email:
        msg["Reply-To"] = email
    msg["Date"] = format_datetime(clock.now())
    msg["Message-ID"] = message_id(idempotency_key, config.from_address)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Wijkbot-Reference"] = signal.reference
    msg.set_content("\n".join(text) + "\n")
    msg.add_alternative(page, subtype="html")
    if signal.photo:
        filename, content_type = photo_type(signal)
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(signal.photo, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def _smtp_error(exc: Exception) -> ForwardingError:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        retryable = bool(codes) and all(400 <= c < 500 for c in codes)
        return ForwardingError(f"e-mail: recipient refused: {exc}", retryable=retryable)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        retryable = 400 <= exc.code < 500
        return ForwardingError(
            f"e-mail: server said {exc.code} {exc.message}",
            retryable=retryable,
            status_code=exc.code,
        )
    chain: BaseException | None = exc
    while chain is not None:
        if isinstance(chain, ssl.SSLCertVerificationError):
            return ForwardingError(
                f"e-mail: the server's certificate is not trusted: {chain}", retryable=False
            )
        chain = chain.__cause__ or chain.__context__
    unreachable = (
        aiosmtplib.SMTPConnectError,
        aiosmtplib.SMTPTimeoutError,
        aiosmtplib.SMTPServerDisconnected,
        OSError,
    )
    if isinstance(exc, unreachable):
        return ForwardingError(f"e-mail: cannot reach the server: {exc}", retryable=True)
    return ForwardingError(f"e-mail: {exc}", retryable=False)


class EmailForwarder:
    kind = "email"

    def __init__(self, config: EmailConfig, *, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()

    def __repr__(self) -> str:
        return f"EmailForwarder({self.config.smtp_host!r}, to={self.config.to_address!r})"

    def tls_context(self) -> ssl.SSLContext:
        ca = self.config.tls_ca_file
        return ssl.create_default_context(cafile=str(ca) if ca else None)

    async def forward(self, signal: OutgoingSignal, idempotency_key: str) -> ForwardResult:
        msg = build_message(signal, idempotency_key, self.config, self.clock)
        cfg = self.config
        try:
            await aiosmtplib.send(
                msg,
                sender=cfg.from_address,
                recipients=[cfg.to_address],
                hostname=cfg.smtp_host,
                port=cfg.smtp_port,
                username=cfg.username,
                password=cfg.password.get_secret_value() if cfg.password else None,
                start_tls=cfg.starttls,
                use_tls=False,
                validate_certs=True,
                tls_context=self.tls_context() if cfg.starttls else None,
                timeout=cfg.timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise _smtp_error(exc) from None
        return ForwardResult(external_id=str(msg["Message-ID"]), status=None)

    async def status(self, external_id: str) -> ExternalStatus | None:
        return None

    async def close(self) -> None:
        return None
