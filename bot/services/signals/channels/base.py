"""What every forwarding channel shares: the signal going out, the answer, the errors.

The channels are pure transport: they never touch the store. The caller keeps the
external id it gets back, never forwards the same signal twice, and retries only
when a `ForwardingError` says `retryable`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from typing import Literal, Protocol, runtime_checkable

State = Literal["open", "in_progress", "resolved", "closed", "reopened", "unknown"]
STATES: tuple[State, ...] = ("open", "in_progress", "resolved", "closed", "reopened", "unknown")
FALLBACK_CATEGORY = "other"
# The longest external id we keep (SignalForward.external_id holds 200 characters).
MAX_EXTERNAL_ID = 200


@dataclass(frozen=True)
class OutgoingSignal:
    reference: str  # "M-1042"
    text: str
    category: str  # our key: road, greenery, waste, lighting, safety, other
    created_at: datetime  # aware, UTC
    lat: float | None
    lon: float | None
    address: str | None
    photo: bytes | None
    photo_filename: str | None
    photo_content_type: str | None
    reporter_email: str | None
    reporter_phone: str | None
    sharing_allowed: bool  # the reporter agreed to share contact details
    neighbourhood: str

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            raise ValueError("created_at must be timezone-aware")
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")

    @property
    def has_point(self) -> bool:
        return self.lat is not None and self.lon is not None

    def contact(self) -> tuple[str | None, str | None]:
        """E-mail and phone, but only when the reporter agreed to share them.

        A value that does not look like an address or a number is left out, so a typo
        cannot make the municipality's API refuse the whole signal.
        """
        if not self.sharing_allowed:
            return None, None
        email = (self.reporter_email or "").strip()
        phone = re.sub(r"[\s().-]", "", self.reporter_phone or "")
        return (
            email if _EMAIL.match(email) else None,
            phone if _PHONE.match(phone) else None,
        )

    def __repr__(self) -> str:  # no personal data or photo bytes in logs
        return f"OutgoingSignal({self.reference!r}, category={self.category!r})"


@dataclass(frozen=True)
class ExternalStatus:
    state: State  # normalised
    text: str | None  # the municipality's message to the reporter, if any
    raw: str  # the system's own state code or name
    # Set when the channel learned a better id for the signal (an Open311 token became
    # a service request id): store it in place of the old external id.
    resolved_id: str | None = None
    display_id: str | None = None  # the number people see there ("SIG-123"), when known


@dataclass(frozen=True)
class ForwardResult:
    external_id: str  # Signalen uuid, Open311 id or "token:<t>", e-mail Message-ID
    status: ExternalStatus | None
    # Things that went wrong after the signal was filed (e.g. the photo upload
    # failed). The signal itself is there: do not forward it again.
    warnings: tuple[str, ...] = ()
    display_id: str | None = None  # the number people see there ("SIG-123"), when known


class ForwardingError(Exception):
    """Forwarding or reading a status failed.

    `retryable` is True for trouble that may pass (network, timeouts, 5xx, 429) and
    False when sending the same again cannot help (validation, auth, configuration).
    `maybe_filed` says the municipality accepted the request but its answer was
    unusable (too big, too slow, no readable id): never sent again, and people are told
    to check with the municipality.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status_code: int | None = None,
        retry_after: float | None = None,
        maybe_filed: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable and not maybe_filed
        self.status_code = status_code
        self.retry_after = retry_after
        self.maybe_filed = maybe_filed


@runtime_checkable
class Forwarder(Protocol):
    kind: str  # "signalen" | "open311" | "email"

    async def forward(self, signal: OutgoingSignal, idempotency_key: str) -> ForwardResult: ...

    async def status(self, external_id: str) -> ExternalStatus | None: ...

    async def close(self) -> None: ...


@runtime_checkable
class Reopener(Protocol):
    """A channel that can pass "it is not solved" back to the municipality."""

    can_reopen: bool  # False when the account it needs is not configured

    async def request_reopen(self, external_id: str, reason: str) -> None: ...


# ---------------------------------------------------------------- text helpers

ELLIPSIS = "…"
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
_PHONE = re.compile(r"^\+?[0-9]{6,16}$")  # Signalen stores at most 17 characters
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Unix newlines, no control characters, no trailing blanks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def trim(text: str, limit: int) -> str:
    """At most `limit` characters; a cut text ends in an ellipsis, at a word if it can."""
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return text[:limit]
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space > len(cut) * 0.8:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def compose(body: str, suffix: str, limit: int) -> str:
    """`body` then `suffix` within `limit`; the body is trimmed first, the suffix kept."""
    body = clean_text(body)
    suffix = suffix.rstrip()
    room = limit - len(suffix)
    if room <= len(ELLIPSIS) + 1:
        return trim(body + suffix, limit)
    return trim(body, room) + suffix


class _TextOnly(HTMLParser):
    """The text of an HTML fragment; scripts and styles are not text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._hidden += 1
        elif tag in {"br", "p", "div", "li", "tr"}:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"} and self._hidden:
            self._hidden -= 1
        elif tag in {"p", "div", "li", "tr"}:
            self.parts.append("\n")


def plain_text(text: str) -> str:
    """Text without HTML: tags dropped, entities decoded, stray angle brackets replaced."""
    parser = _TextOnly()
    parser.feed(text)
    parser.close()
    flat = "".join(parser.parts)
    return clean_text(flat.replace("<", "‹").replace(">", "›"))


def printable_id(value: object) -> str | None:
    """An external id as text, or None when it is empty, too long or not plain characters.

    Such an id could not be kept, shown or asked about again, so it is refused, never cut.
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value)
    if not 0 < len(text) <= MAX_EXTERNAL_ID:
        return None
    if any(unicodedata.category(ch)[0] in "CZ" for ch in text):
        return None
    return text


def photo_type(signal: OutgoingSignal) -> tuple[str, str]:
    """(filename, content type) for the photo, guessed from the bytes when not given."""
    data = signal.photo or b""
    content_type = signal.photo_content_type
    if not content_type:
        if data.startswith(b"\x89PNG"):
            content_type = "image/png"
        elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            content_type = "image/webp"
        elif data.startswith((b"GIF87a", b"GIF89a")):
            content_type = "image/gif"
        else:
            content_type = "image/jpeg"
    extension = {"image/png": "png", "image/webp": "webp", "image/gif": "gif"}.get(
        content_type, "jpg"
    )
    filename = signal.photo_filename or f"{signal.reference}.{extension}"
    return filename, content_type
