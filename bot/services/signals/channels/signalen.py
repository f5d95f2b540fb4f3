"""Forward signals to Signalen (the reporting system of many Dutch municipalities).

Uses only the public API, which needs no account:

- ``POST {base}/signals/v1/public/signals/`` files the signal (JSON, answer 201 with
  ``signal_id``); Signalen rejects unknown top-level keys and requires a GeoJSON point.
- ``POST {base}/signals/v1/public/signals/{uuid}/attachments`` adds the photo
  (multipart field ``file``). No trailing slash: older Signalen releases route only
  that form, newer ones accept both.
- ``GET {base}/signals/v1/public/signals/{uuid}`` reads the status back. Older releases
  show the workflow code (``"m"``, ``"b"``, ``"o"`` …); current ones only ``"OPEN"`` or
  ``"CLOSED"``. Both are mapped; ``status.text`` is used when a deployment shows it.

Signalen has no idempotency header. The caller stores the uuid and never forwards
twice; to make an accidental duplicate easy to spot, the idempotency key and our
reference travel as ``extra_properties`` (shown to municipal staff with the signal)
and as ``Idempotency-Key`` / ``X-Wijkbot-Reference`` headers (ignored by Signalen).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from bot.services.signals.channels import _http
from bot.services.signals.channels.base import (
    FALLBACK_CATEGORY,
    ExternalStatus,
    ForwardingError,
    ForwardResult,
    OutgoingSignal,
    State,
    compose,
    photo_type,
)
from bot.services.signals.channels.config import SignalenConfig

log = logging.getLogger(__name__)

TEXT_LIMIT = 3000  # Signal.text max_length in Signalen
PHOTO_ATTEMPTS = 2
PHOTO_RETRY_DELAY = 0.5

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
    "reopen requested": "reopened",  # Verzoek tot heropenen: publicly open again
    # Current public API: only open or closed (afgehandeld, geannuleerd, gesplitst).
    "OPEN": "open",
    "CLOSED": "closed",
}


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


class SignalenForwarder:
    kind = "signalen"

    def __init__(self, config: SignalenConfig, *, client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self._owns_client = client is None
        self._client = _http.new_client(config.timeout_seconds, client)
        self._api = f"{config.base_url}/signals/v1/public/signals"

    def __repr__(self) -> str:
        return f"SignalenForwarder({self.config.base_url!r})"

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
                    "category_url": category_url,
                },
                {
                    "id": "wijkbot_idempotency_key",
                    "label": "Sleutel tegen dubbele meldingen",
                    "answer": idempotency_key,
                    "category_url": category_url,
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
        status = self._status_from(answer)
        warnings: tuple[str, ...] = ()
        if signal.photo:
            try:
                await self.upload_photo(signal_id, signal)
            except ForwardingError as exc:
                log.warning("signalen %s: photo not attached: %s", signal.reference, exc)
                warnings = (f"photo not attached: {exc.message}",)
        return ForwardResult(external_id=signal_id, status=status, warnings=warnings)

    async def upload_photo(self, signal_id: str, signal: OutgoingSignal) -> None:
        """Attach the photo to a filed signal; retries once when that may help.

        Public so the caller can try again later after a warning.
        """
        if not signal.photo:
            return
        filename, content_type = photo_type(signal)
        for attempt in range(1, PHOTO_ATTEMPTS + 1):
            try:
                await _http.send(
                    self._client,
                    "signalen: attaching the photo",
                    "POST",
                    f"{self._api}/{signal_id}/attachments",
                    files={"file": (filename, signal.photo, content_type)},
                    describe_error=_drf_reason,
                )
                return
            except ForwardingError as exc:
                if not exc.retryable or attempt == PHOTO_ATTEMPTS:
                    raise
                await asyncio.sleep(PHOTO_RETRY_DELAY)

    async def status(self, external_id: str) -> ExternalStatus | None:
        with _http.deadline(self.config.timeout_seconds):
            response = await _http.send(
                self._client,
                "signalen: reading the status",
                "GET",
                f"{self._api}/{external_id}",
                describe_error=_drf_reason,
            )
        status = self._status_from(_http.body_json(response))
        if status is None:
            raise ForwardingError(
                "signalen: reading the status: no status in the answer", retryable=True
            )
        return status

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    @staticmethod
    def _status_from(answer: Any) -> ExternalStatus | None:
        if not isinstance(answer, dict) or not isinstance(answer.get("status"), dict):
            return None
        raw = answer["status"].get("state")
        if not isinstance(raw, str):
            return None
        text = answer["status"].get("text")
        text = text.strip() if isinstance(text, str) and text.strip() else None
        return ExternalStatus(state=map_state(raw), text=text, raw=raw)
