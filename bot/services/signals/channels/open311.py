"""Forward signals through Open311 GeoReport v2 (JSON format).

- ``GET {base}/services.json`` lists the service codes; the configured ones are
  checked against it before the first request (cached per forwarder).
- ``POST {base}/requests.json`` (form-encoded) files the request. The answer is a
  list holding either a ``service_request_id`` or, on servers that queue requests, a
  ``token``; then the external id is ``token:<token>`` until
  ``GET {base}/tokens/{token}.json`` names the id (`status` then sets `resolved_id`).
- ``GET {base}/requests/{id}.json`` reads ``status`` (open/closed) and ``status_notes``.

GeoReport errors are a list of ``{"code", "description"}``; the description becomes
the ForwardingError message. The API key goes only in the POST body, never in a URL.
GeoReport has no idempotency either: the key travels as an ``Idempotency-Key`` header
and our reference ends the description.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any
from urllib.parse import quote

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
    plain_text,
    printable_id,
)
from bot.services.signals.channels.config import Open311Config

log = logging.getLogger(__name__)

DESCRIPTION_LIMIT = 4000
TOKEN_PREFIX = "token:"

# GeoReport v2 defines open and closed; the others are common extensions
# (FixMyStreet and others), mapped where their meaning is plain.
STATE_MAP: dict[str, State] = {
    "open": "open",
    "closed": "closed",
    "in_progress": "in_progress",
    "investigating": "in_progress",
    "action_scheduled": "in_progress",
    "acknowledged": "in_progress",
    "fixed": "resolved",
    "resolved": "resolved",
    "reopened": "reopened",
    "duplicate": "closed",
    "not_councils_responsibility": "closed",
    "unable_to_fix": "closed",
    "no_further_action": "closed",
    "internal_referral": "closed",
}


def map_state(raw: str) -> State:
    return STATE_MAP.get(raw.strip().lower().replace(" ", "_"), "unknown")


def description(signal: OutgoingSignal, *, with_address: bool) -> str:
    """The GeoReport description: plain text, at most 4000 characters."""
    suffix = ""
    if with_address and signal.address:
        suffix += f"\n\nAdres: {plain_text(signal.address)}"
    suffix += (
        f"\n\nVia het wijkplatform {plain_text(signal.neighbourhood)}, melding {signal.reference}."
    )
    return compose(plain_text(signal.text), suffix, DESCRIPTION_LIMIT)


def _georeport_reason(body: Any) -> str | None:
    items = body if isinstance(body, list) else [body]
    reasons = [
        str(item.get("description") or item.get("code"))
        for item in items
        if isinstance(item, dict) and (item.get("description") or item.get("code"))
    ]
    return "; ".join(reasons) or None


class Open311Forwarder:
    kind = "open311"

    def __init__(self, config: Open311Config, *, client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self._owns_client = client is None
        self._client = _http.new_client(config.timeout_seconds, client)
        self._services: dict[str, dict[str, Any]] | None = None

    def __repr__(self) -> str:
        return f"Open311Forwarder({self.config.base_url!r})"

    def _params(self) -> dict[str, str]:
        jid = self.config.jurisdiction_id
        return {"jurisdiction_id": jid} if jid else {}

    async def _get(self, what: str, path: str) -> Any:
        response = await _http.send(
            self._client,
            f"open311: {what}",
            "GET",
            f"{self.config.base_url}/{path}",
            params=self._params(),
            describe_error=_georeport_reason,
        )
        return _http.body_json(response)

    # ------------------------------------------------------------------ services

    async def services(self, *, refresh: bool = False) -> dict[str, dict[str, Any]]:
        """The server's services by code (cached)."""
        if self._services is None or refresh:
            answer = await self._get("listing services", "services.json")
            if not isinstance(answer, list):
                raise ForwardingError("open311: services.json is not a list", retryable=True)
            self._services = {
                str(item["service_code"]): item
                for item in answer
                if isinstance(item, dict) and item.get("service_code") is not None
            }
        return self._services

    async def check_services(self) -> None:
        """Raise a non-retryable ForwardingError naming configured codes the server lacks."""
        known = await self.services(refresh=True)
        missing = sorted(
            f"{key}={code}" for key, code in self.config.service_codes.items() if code not in known
        )
        if missing:
            raise ForwardingError(
                f"open311: unknown service codes: {', '.join(missing)}", retryable=False
            )

    async def _service_code(self, category: str) -> str:
        codes = self.config.service_codes
        code = codes.get(category) or codes[FALLBACK_CATEGORY]
        if code not in await self.services() and code not in await self.services(refresh=True):
            raise ForwardingError(
                f"open311: the server offers no service_code {code!r} (for {category!r})",
                retryable=False,
            )
        return code

    # ------------------------------------------------------------------ forward

    def form(self, signal: OutgoingSignal, service_code: str) -> dict[str, str]:
        """The form fields of POST requests.json (the API key included)."""
        fields = {
            "api_key": self.config.api_key.get_secret_value(),
            "service_code": service_code,
        }
        fields.update(self._params())
        lat, lon = signal.lat, signal.lon
        if lat is None or lon is None:
            if signal.address:
                fields["address_string"] = plain_text(signal.address)[:500]
            elif self.config.fallback_point is not None:
                lat, lon = self.config.fallback_point.lat, self.config.fallback_point.lon
            else:
                raise ForwardingError(
                    "open311: this signal has no coordinates and no address; "
                    "set fallback_point in the forwarding table",
                    retryable=False,
                )
        if lat is not None and lon is not None:
            fields["lat"] = f"{lat:.7f}"
            fields["long"] = f"{lon:.7f}"
        fields["description"] = description(signal, with_address="address_string" not in fields)
        email, phone = signal.contact()
        if email:
            fields["email"] = email
        if phone:
            fields["phone"] = phone
        if self.config.media_url and signal.photo:
            fields["media_url"] = self.config.media_url.format(reference=signal.reference)
        return fields

    async def forward(self, signal: OutgoingSignal, idempotency_key: str) -> ForwardResult:
        """Check the service code and file the request, within one `timeout_seconds`."""
        with _http.deadline(self.config.timeout_seconds):
            return await self._forward(signal, idempotency_key)

    async def _forward(self, signal: OutgoingSignal, idempotency_key: str) -> ForwardResult:
        code = await self._service_code(signal.category)
        what = "open311: filing the request"
        response = await _http.send(
            self._client,
            what,
            "POST",
            f"{self.config.base_url}/requests.json",
            data=self.form(signal, code),
            headers={"Idempotency-Key": idempotency_key, "X-Wijkbot-Reference": signal.reference},
            describe_error=_georeport_reason,
        )
        answer = _http.body_json(response)
        first = answer[0] if isinstance(answer, list) and answer else answer
        if isinstance(first, dict):
            if first.get("service_request_id") not in (None, ""):
                found = _http.external_id(what, first["service_request_id"])
                return ForwardResult(external_id=found, status=None)
            if first.get("token") not in (None, ""):
                token = printable_id(first["token"])
                found = _http.external_id(what, token and f"{TOKEN_PREFIX}{token}")
                return ForwardResult(external_id=found, status=None)
        raise _http.unexpected(what, "no service_request_id or token")

    # ------------------------------------------------------------------ status

    async def resolve_token(self, token: str) -> str | None:
        """The service request id behind a token, or None while the server has none yet."""
        answer = await self._get("resolving the token", f"tokens/{quote(token, safe='')}.json")
        items = answer if isinstance(answer, list) else [answer]
        for item in items:
            if isinstance(item, dict) and item.get("service_request_id") not in (None, ""):
                found = printable_id(item["service_request_id"])
                if found is None:
                    raise ForwardingError(
                        "open311: resolving the token: their number is too long or not plain text",
                        retryable=False,
                    )
                return found
        return None

    async def status(self, external_id: str) -> ExternalStatus | None:
        with _http.deadline(self.config.timeout_seconds):
            return await self._status(external_id)

    async def _status(self, external_id: str) -> ExternalStatus | None:
        if external_id.startswith(TOKEN_PREFIX):
            request_id = await self.resolve_token(external_id.removeprefix(TOKEN_PREFIX))
            if request_id is None:
                return ExternalStatus(state="open", text=None, raw="token pending")
            return replace(await self._request_status(request_id), resolved_id=request_id)
        return await self._request_status(external_id)

    async def _request_status(self, request_id: str) -> ExternalStatus:
        answer = await self._get(
            "reading the status", f"requests/{quote(request_id, safe='')}.json"
        )
        first = answer[0] if isinstance(answer, list) and answer else answer
        if not isinstance(first, dict) or not isinstance(first.get("status"), str):
            raise ForwardingError(
                f"open311: no status for request {request_id!r} in the answer", retryable=True
            )
        notes = first.get("status_notes")
        text = notes.strip() if isinstance(notes, str) and notes.strip() else None
        return ExternalStatus(state=map_state(first["status"]), text=text, raw=first["status"])

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()
