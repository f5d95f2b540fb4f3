"""Forward signals to Signalen (the reporting system of many Dutch municipalities).

Public API (no account), read in Amsterdam/signals v2.50:

- ``POST {base}/signals/v1/public/signals/`` files the signal (JSON, answer 201 with
  ``signal_id`` and the number people see, ``id_display`` "SIG-123"); Signalen rejects
  unknown top-level keys and requires a GeoJSON point. Each ``extra_properties`` item's
  ``category_url`` must match Signalen's JSON schema, whose host part allows no "-": we
  send only the path, which it always allows.
- ``POST {base}/signals/v1/public/signals/{uuid}/attachments`` adds the photo (multipart
  ``file``): JPEG, PNG or GIF, recognised from the bytes, with a matching extension, at
  most 20 MB. Anything else (WebP, …) is converted to JPEG with Pillow first.
- ``GET {base}/signals/v1/public/signals/{uuid}`` says only ``OPEN`` or ``CLOSED``, never a
  message: afgehandeld and geannuleerd look the same, "in behandeling" is just OPEN.

Private API (``token_url``/``client_id``/``client_secret`` set): a bearer token from the
municipality's OIDC provider (client-credentials grant; Signalen checks the JWT and
finds the Signalen user named by its ``email`` claim). Then
``GET {base}/signals/v1/private/signals/{id}`` gives the real workflow state and the
status text, and ``PATCH`` with ``{"status": {"state": "reopen requested", …}}`` passes
"it is not solved" back, as Signalen's own feedback form does.

Signalen has no idempotency header. The caller stores the uuid and never forwards
twice; to make an accidental duplicate easy to spot, the idempotency key and our
reference travel as ``extra_properties`` (shown to municipal staff with the signal)
and as ``Idempotency-Key`` / ``X-Wijkbot-Reference`` headers (ignored by Signalen).
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any
from urllib.parse import urlsplit

import httpx
from PIL import Image, UnidentifiedImageError

from bot.services.signals.channels import _http
from bot.services.signals.channels.base import (
    FALLBACK_CATEGORY,
    ExternalStatus,
    ForwardingError,
    ForwardResult,
    OutgoingSignal,
    State,
    compose,
)
from bot.services.signals.channels.config import SignalenConfig

log = logging.getLogger(__name__)

TEXT_LIMIT = 3000  # Signal.text max_length in Signalen
PHOTO_ATTEMPTS = 2
PHOTO_RETRY_DELAY = 0.5
MAX_UPLOAD = 20 * 1024 * 1024  # settings.API_MAX_UPLOAD_SIZE default
MAX_PHOTO_SIDE = 4096  # a converted photo is at most this wide and high
TOKEN_MARGIN = 30.0  # seconds before its expiry a token is renewed
REOPEN_STATE = "reopen requested"  # workflow.VERZOEK_TOT_HEROPENEN, allowed after "o"

# Signalen workflow codes (signals/apps/signals/workflow.py) -> our states.
STATE_MAP: dict[str, State] = {
    "m": "open",  # Gemeld
    "i": "open",  # In afwachting van behandeling
    "b": "in_progress",  # In behandeling
    "h": "in_progress",  # On hold
    "ingepland": "in_progress",
    "ready to send": "in_progress",  # Extern: te verzenden
    "sent": "in_progress",  # Extern: verzonden
    "send failed": "in_progress",  # Extern: mislukt (internal trouble, still theirs)
    "done external": "in_progress",  # Extern: afgehandeld, awaiting final closure
    "closure requested": "in_progress",  # Extern: verzoek tot afhandeling
    "reaction requested": "in_progress",  # they asked the reporter something
    "reaction received": "in_progress",
    "forward to external": "in_progress",
    "forwarded to external": "in_progress",
    "o": "resolved",  # Afgehandeld
    "a": "closed",  # Geannuleerd
    "s": "closed",  # Gesplitst (historical)
    "reopened": "reopened",  # Heropend
    "reopen requested": "reopened",  # Verzoek tot heropenen
    # Public API: only open or closed (afgehandeld, geannuleerd, gesplitst).
    "OPEN": "open",
    "CLOSED": "closed",
}
# Whose status text reaches the reporter in Signalen itself (apps/email_integrations/rules):
# always for afgehandeld, heropend and a question; for these others only with send_email.
TOLD_ALWAYS = frozenset({"o", "reopened", "reaction requested"})
TOLD_WITH_EMAIL = frozenset({"m", "i", "b", "h", "closure requested", "a", "ingepland"})
IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif"}


def map_state(raw: str) -> State:
    for key in (raw, raw.strip().lower(), raw.strip().upper()):
        if key in STATE_MAP:
            return STATE_MAP[key]
    return "unknown"


def _drf_reason(body: Any) -> str | None:
    """One line from a Django REST framework error body."""
    if isinstance(body, dict):
        if isinstance(body.get("detail"), str):
            return str(body["detail"])
        parts = [f"{key}: {_drf_reason(value) or value}" for key, value in body.items()]
        return "; ".join(parts) or None
    if isinstance(body, list):
        return "; ".join(_drf_reason(item) or str(item) for item in body) or None
    return str(body) if body is not None else None


def sniff(data: bytes) -> str | None:
    """JPEG, PNG or GIF by the bytes, as Signalen decides; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    return None


class PhotoNotSendable(Exception):
    pass


def _to_jpeg(data: bytes) -> bytes:
    """The photo as a JPEG Signalen accepts; PhotoNotSendable when Pillow cannot read it."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((MAX_PHOTO_SIDE, MAX_PHOTO_SIDE))
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=85)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise PhotoNotSendable(
            "the photo's format cannot be read here (Signalen takes JPEG, PNG or GIF)"
        ) from exc
    return out.getvalue()


async def prepare_photo(reference: str, data: bytes) -> tuple[str, bytes, str]:
    """(filename, bytes, content type) Signalen accepts: the type and the name agree."""
    kind = sniff(data)
    if kind is None or len(data) > MAX_UPLOAD:
        data = await asyncio.to_thread(_to_jpeg, data)
        kind = "image/jpeg"
    return f"{reference}.{IMAGE_TYPES[kind]}", data, kind


class SignalenForwarder:
    kind = "signalen"

    def __init__(self, config: SignalenConfig, *, client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self._owns_client = client is None
        self._client = _http.new_client(config.timeout_seconds, client)
        self._api = f"{config.base_url}/signals/v1/public/signals"
        self._private = f"{config.base_url}/signals/v1/private/signals"
        self._token: tuple[str, float] | None = None  # (token, loop time it expires)

    def __repr__(self) -> str:
        return f"SignalenForwarder({self.config.base_url!r})"

    @property
    def can_reopen(self) -> bool:
        return self.config.private_api

    # ------------------------------------------------------------------ payload

    def category_url(self, category: str) -> str:
        urls = self.config.category_urls
        return urls.get(category) or urls[FALLBACK_CATEGORY]

    def payload(self, signal: OutgoingSignal, idempotency_key: str) -> dict[str, Any]:
        """The JSON body for the public create endpoint."""
        lat, lon = signal.lat, signal.lon
        suffix = ""
        if lat is None or lon is None:
            point = self.config.fallback_point
            if point is None:
                raise ForwardingError(
                    "signalen: this signal has no coordinates and Signalen needs a point; "
                    "set fallback_point in the forwarding table",
                    retryable=False,
                )
            lat, lon = point.lat, point.lon
            suffix += "\n\nLocatie niet precies bekend: de kaartpunt is het midden van de wijk."
        if signal.address:
            suffix += f"\n\nAdres: {signal.address}"
        suffix += f"\n\nVia het wijkplatform {signal.neighbourhood}, melding {signal.reference}."
        category_url = self.category_url(signal.category)
        # The extra_properties schema allows no "-" in a host; a path always passes.
        category_path = urlsplit(category_url).path
        email, phone = signal.contact()
        reporter: dict[str, Any] = {"sharing_allowed": signal.sharing_allowed}
        if email:
            reporter["email"] = email
        if phone:
            reporter["phone"] = phone
        body: dict[str, Any] = {
            "text": compose(signal.text, suffix, TEXT_LIMIT),
            "location": {"geometrie": {"type": "Point", "coordinates": [lon, lat]}},
            "category": {"sub_category": category_url},
            "reporter": reporter,
            "incident_date_start": signal.created_at.isoformat(),
            "extra_properties": [
                {
                    "id": "wijkbot_reference",
                    "label": "Meldingsnummer wijkplatform",
                    "answer": signal.reference,
                    "category_url": category_path,
                },
                {
                    "id": "wijkbot_idempotency_key",
                    "label": "Sleutel tegen dubbele meldingen",
                    "answer": idempotency_key,
                    "category_url": category_path,
                },
            ],
        }
        if self.config.source:
            body["source"] = self.config.source
        return body

    # ------------------------------------------------------------------ protocol

    async def forward(self, signal: OutgoingSignal, idempotency_key: str) -> ForwardResult:
        """File the signal, then attach the photo: all within one `timeout_seconds`."""
        with _http.deadline(self.config.timeout_seconds):
            return await self._forward(signal, idempotency_key)

    async def _forward(self, signal: OutgoingSignal, idempotency_key: str) -> ForwardResult:
        body = self.payload(signal, idempotency_key)
        what = "signalen: filing the signal"
        response = await _http.send(
            self._client,
            what,
            "POST",
            f"{self._api}/",
            json=body,
            headers={"Idempotency-Key": idempotency_key, "X-Wijkbot-Reference": signal.reference},
            describe_error=_drf_reason,
        )
        answer = _http.body_json(response)
        if not isinstance(answer, dict) or answer.get("signal_id") in (None, ""):
            raise _http.unexpected(what, "no signal_id in the answer")
        signal_id = _http.external_id(what, answer["signal_id"])
        status = self._public_status(answer)
        warnings: tuple[str, ...] = ()
        if signal.photo:
            try:
                await self.upload_photo(signal_id, signal)
            except PhotoNotSendable as exc:
                warnings = (f"photo not sent: {exc}",)
            except ForwardingError as exc:
                log.warning("signalen %s: photo not attached: %s", signal.reference, exc)
                warnings = (f"photo not attached: {exc.message}",)
        return ForwardResult(
            external_id=signal_id, status=status, warnings=warnings, display_id=_display(answer)
        )

    async def upload_photo(self, signal_id: str, signal: OutgoingSignal) -> None:
        """Attach the photo to a filed signal; retries once when that may help.

        Public so the caller can try again later after a warning. PhotoNotSendable when
        the photo is in a format that cannot be converted.
        """
        if not signal.photo:
            return
        filename, data, content_type = await prepare_photo(signal.reference, signal.photo)
        for attempt in range(1, PHOTO_ATTEMPTS + 1):
            try:
                await _http.send(
                    self._client,
                    "signalen: attaching the photo",
                    "POST",
                    f"{self._api}/{signal_id}/attachments",
                    files={"file": (filename, data, content_type)},
                    describe_error=_drf_reason,
                )
                return
            except ForwardingError as exc:
                if not exc.retryable or attempt == PHOTO_ATTEMPTS:
                    raise
                await asyncio.sleep(PHOTO_RETRY_DELAY)

    async def status(self, external_id: str) -> ExternalStatus | None:
        """The private API's status when configured, else the public OPEN/CLOSED."""
        with _http.deadline(self.config.timeout_seconds):
            public = await self._public_detail(external_id)
            if not self.config.private_api:
                status = self._public_status(public)
                if status is None:
                    raise ForwardingError(
                        "signalen: reading the status: no status in the answer", retryable=True
                    )
                return status
            detail = await self._private_call("GET", self._number(public), "reading the status")
        return self._private_status(detail, _display(public))

    async def request_reopen(self, external_id: str, reason: str) -> None:
        """Tell Signalen the reporter says it is not solved ("Verzoek tot heropenen")."""
        if not self.config.private_api:
            raise ForwardingError(
                "signalen: a reopen request needs the private API (token_url)", retryable=False
            )
        with _http.deadline(self.config.timeout_seconds):
            number = self._number(await self._public_detail(external_id))
            change = {"status": {"state": REOPEN_STATE, "text": reason, "send_email": False}}
            await self._private_call("PATCH", number, "asking to reopen", json=change)

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    # ------------------------------------------------------------------ reading

    async def _public_detail(self, external_id: str) -> Any:
        response = await _http.send(
            self._client,
            "signalen: reading the status",
            "GET",
            f"{self._api}/{external_id}",
            describe_error=_drf_reason,
        )
        return _http.body_json(response)

    @staticmethod
    def _number(public: Any) -> int:
        number = public.get("id") if isinstance(public, dict) else None
        if isinstance(number, bool) or not isinstance(number, int):
            raise ForwardingError("signalen: no signal number in the answer", retryable=True)
        return number

    async def _access_token(self, *, renew: bool = False) -> str:
        """A bearer token from the OIDC provider (client-credentials grant), reused until
        shortly before it expires."""
        loop = asyncio.get_running_loop()
        if self._token and not renew and loop.time() < self._token[1]:
            return self._token[0]
        config = self.config
        assert config.token_url and config.client_id and config.client_secret
        response = await _http.send(
            self._client,
            "signalen: signing in",
            "POST",
            config.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": config.client_id,
                "client_secret": config.client_secret.get_secret_value(),
            },
            describe_error=lambda body: body.get("error") if isinstance(body, dict) else None,
        )
        answer = _http.body_json(response)
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise ForwardingError("signalen: signing in: no access token", retryable=True)
        lifetime = answer.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, int | float) else 60.0
        self._token = (token, loop.time() + max(seconds - TOKEN_MARGIN, 0.0))
        return token

    async def _private_call(self, method: str, number: int, doing: str, **kwargs: Any) -> Any:
        """One private API request; a refused token is renewed once."""
        for attempt in (1, 2):
            token = await self._access_token(renew=attempt == 2)
            try:
                response = await _http.send(
                    self._client,
                    f"signalen: {doing}",
                    method,
                    f"{self._private}/{number}",
                    headers={"Authorization": f"Bearer {token}"},
                    describe_error=_drf_reason,
                    **kwargs,
                )
            except ForwardingError as exc:
                if exc.status_code == 401 and attempt == 1:
                    continue
                raise
            return _http.body_json(response)
        raise AssertionError("unreachable")

    @staticmethod
    def _public_status(answer: Any) -> ExternalStatus | None:
        """OPEN or CLOSED only; any text a deployment adds is not the reporter's message."""
        if not isinstance(answer, dict) or not isinstance(answer.get("status"), dict):
            return None
        raw = answer["status"].get("state")
        if not isinstance(raw, str):
            return None
        return ExternalStatus(state=map_state(raw), text=None, raw=raw, display_id=_display(answer))

    @staticmethod
    def _private_status(detail: Any, display: str | None) -> ExternalStatus:
        status = detail.get("status") if isinstance(detail, dict) else None
        raw = status.get("state") if isinstance(status, dict) else None
        if not isinstance(status, dict) or not isinstance(raw, str):
            raise ForwardingError(
                "signalen: reading the status: no status in the answer", retryable=True
            )
        text = status.get("text")
        told = raw in TOLD_ALWAYS or (raw in TOLD_WITH_EMAIL and status.get("send_email") is True)
        message = text.strip() if told and isinstance(text, str) and text.strip() else None
        return ExternalStatus(state=map_state(raw), text=message, raw=raw, display_id=display)


def _display(answer: Any) -> str | None:
    """Signalen's own number for people ("SIG-123")."""
    if not isinstance(answer, dict):
        return None
    for key in ("id_display", "_display"):
        value = answer.get(key)
        if isinstance(value, str) and 0 < len(value) <= 40 and value.isprintable():
            return value
    return None
