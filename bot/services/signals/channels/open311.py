"""Forward signals through Open311 GeoReport v2 (JSON or XML answers).

- ``GET {base}/services.{fmt}`` lists the service codes; the configured ones are
  checked against it before the first request (cached per forwarder). A service with
  ``metadata: true`` has a definition, ``GET {base}/services/{code}.{fmt}`` (cached):
  its required, variable attributes must be mapped in the setup file
  (``attributes.<service_code>.<attribute code>``) and travel as ``attribute[code]``;
  an unmapped one fails the forward with a reason naming it, before anything is filed.
- ``POST {base}/requests.{fmt}`` (form-encoded) files the request. The answer holds a
  ``service_request_id`` or, on servers that queue requests, a ``token``; then the
  external id is ``token:<token>`` until ``GET {base}/tokens/{token}.{fmt}`` names the id
  (`status` then sets `resolved_id`). An accepted answer without either (a "blackbox"
  service, or a shape we cannot read) is `maybe_filed`: never filed again.
- ``GET {base}/requests/{id}.{fmt}`` reads ``status`` (open/closed) and ``status_notes``.

``fmt`` is the configured ``format``: the spec requires XML and makes JSON optional.
Answers are read by their content, JSON or XML (with defusedxml: no entities, no DTDs),
as a list, as the spec's ``<service_requests><request>`` tree, or as that tree turned
into JSON (``{"service_requests": {"request": …}}``, as Mark-a-Spot answers).

GeoReport errors are a list of ``{"code", "description"}``; the description becomes
the ForwardingError message. A 400 is permanent, unless its description says the
system is down (the spec's "General Service Error … eg CRM is down"): then, like a
5xx, it is retried. The API key goes only in the POST body, never in a URL.
GeoReport has no idempotency either: the key travels as an ``Idempotency-Key`` header
and our reference ends the description.

Photos: GeoReport takes media only as a link (``media_url``). Wijkbot publishes no
photos, so unless the operator sets ``media_url`` the photo is not sent, and the
forward says so in its warnings.
"""

from __future__ import annotations

import json
import logging
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as parse_xml

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


# Words in a 400's description that mean the system is down, not that we sent it wrong.
OUTAGE = re.compile(
    r"\b(down|unavailable|not available|temporar\w*|try again|timed? ?out|maintenance"
    r"|storing|onderhoud|niet beschikbaar|probeer het later)\b",
    re.IGNORECASE,
)
NO_PHOTO = (
    "the photo was not sent: Open311 takes photos only as a link (media_url), "
    "and Wijkbot does not publish photos"
)


def _from_xml(element: ET.Element) -> Any:
    children = list(element)
    if not children:
        return (element.text or "").strip()
    out: dict[str, Any] = {}
    for child in children:
        value = _from_xml(child)
        if child.tag in out:
            known = out[child.tag]
            out[child.tag] = [*known, value] if isinstance(known, list) else [known, value]
        else:
            out[child.tag] = value
    return out


def decode(content: bytes) -> Any:
    """A GeoReport answer, JSON or XML, as Python values; None when it is neither."""
    try:
        if content.lstrip()[:1] == b"<":
            root = parse_xml(content, forbid_dtd=True)
            return {root.tag: _from_xml(root)}
        return json.loads(content)
    except (ValueError, ET.ParseError, DefusedXmlException, RecursionError):
        return None


def listing(value: Any, singular: str) -> list[dict[str, Any]]:
    """The items under a plural key: a JSON list, or XML's repeated `singular` elements."""
    if isinstance(value, dict) and singular in value:
        value = value[singular]
    if isinstance(value, dict):
        value = [value]
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def items(body: Any, plural: str, singular: str) -> list[dict[str, Any]]:
    """The items of an answer: a list, ``{plural: …}`` (XML, Mark-a-Spot) or one item."""
    if isinstance(body, dict) and plural in body:
        return listing(body[plural], singular)
    return listing(body, singular)


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() == "true"


def _georeport_reason(body: Any) -> str | None:
    items_ = items(body, "errors", "error")
    reasons = [
        str(item.get("description") or item.get("code"))
        for item in items_
        if item.get("description") or item.get("code")
    ]
    return "; ".join(reasons) or None


class Open311Forwarder:
    kind = "open311"

    def __init__(self, config: Open311Config, *, client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self._owns_client = client is None
        self._client = _http.new_client(config.timeout_seconds, client)
        self._services: dict[str, dict[str, Any]] | None = None
        self._definitions: dict[str, list[dict[str, Any]]] = {}

    def __repr__(self) -> str:
        return f"Open311Forwarder({self.config.base_url!r})"

    def _params(self) -> dict[str, str]:
        jid = self.config.jurisdiction_id
        return {"jurisdiction_id": jid} if jid else {}

    def _url(self, path: str) -> str:
        return f"{self.config.base_url}/{path}.{self.config.format}"

    async def _send(self, what: str, method: str, path: str, **kwargs: Any) -> Any:
        """One request; its answer decoded. A 400 saying the system is down is retryable."""
        try:
            answer = await _http.send(
                self._client, f"open311: {what}", method, self._url(path),
                describe_error=_georeport_reason, decode=decode, **kwargs,
            )  # fmt: skip
        except ForwardingError as exc:
            if exc.status_code == 400 and OUTAGE.search(exc.message):
                raise ForwardingError(
                    exc.message, retryable=True, status_code=400, retry_after=exc.retry_after
                ) from None
            raise
        return decode(answer.content)

    async def _get(self, what: str, path: str) -> Any:
        return await self._send(what, "GET", path, params=self._params())

    # ------------------------------------------------------------------ services

    async def services(self, *, refresh: bool = False) -> dict[str, dict[str, Any]]:
        """The server's services by code (cached)."""
        if self._services is None or refresh:
            answer = await self._get("listing services", "services")
            if not isinstance(answer, list | dict):
                raise ForwardingError("open311: the service list is not readable", retryable=True)
            self._services = {
                str(item["service_code"]): item
                for item in items(answer, "services", "service")
                if item.get("service_code") not in (None, "")
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

    async def definition(self, code: str) -> list[dict[str, Any]]:
        """The attributes of a service with metadata (cached); [] for one without."""
        if not _truthy((await self.services()).get(code, {}).get("metadata")):
            return []
        if code not in self._definitions:
            answer = await self._get(
                f"reading the definition of {code}", f"services/{quote(code, safe='')}"
            )
            body = answer.get("service_definition", answer) if isinstance(answer, dict) else {}
            if not isinstance(body, dict):
                raise ForwardingError(
                    f"open311: the definition of {code} is not readable", retryable=True
                )
            self._definitions[code] = listing(body.get("attributes"), "attribute")
        return self._definitions[code]

    # ------------------------------------------------------------------ attributes

    def _fill(self, given: str, signal: OutgoingSignal) -> str:
        field = re.fullmatch(r"\{(\w+)\}", given.strip())
        if field is None:
            return given
        known = {
            "reference": signal.reference, "category": signal.category,
            "neighbourhood": signal.neighbourhood, "address": plain_text(signal.address or ""),
            "text": plain_text(signal.text),
        }  # fmt: skip
        return known.get(field[1], "")

    async def attribute_fields(self, signal: OutgoingSignal, code: str) -> dict[str, str]:
        """``attribute[code]`` form fields for the service, from the setup file's mapping."""
        mapping = self.config.attributes.get(code, {})
        fields: dict[str, str] = {}
        missing: list[str] = []
        for attribute in await self.definition(code):
            name = str(attribute.get("code") or "")
            if not name or not _truthy(attribute.get("variable", True)):
                continue  # information shown to people, not asked
            value = self._fill(mapping[name], signal) if name in mapping else ""
            if not value:
                if _truthy(attribute.get("required")):
                    missing.append(_attribute_label(attribute))
                continue
            _check_choice(code, name, value, attribute)
            many = attribute.get("datatype") == "multivaluelist"
            fields[f"attribute[{name}][]" if many else f"attribute[{name}]"] = value
        if missing:
            raise ForwardingError(
                f"open311: service {code} asks for {', '.join(missing)}, which the setup file "
                f"does not give: add it under forwarding.attributes.{code}",
                retryable=False,
            )
        return fields

    # ------------------------------------------------------------------ forward

    def form(self, signal: OutgoingSignal, service_code: str) -> dict[str, str]:
        """The form fields of POST requests (the API key included)."""
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
        fields = self.form(signal, code) | await self.attribute_fields(signal, code)
        what = "open311: filing the request"
        answer = await self._send(
            "filing the request", "POST", "requests", data=fields,
            headers={"Idempotency-Key": idempotency_key, "X-Wijkbot-Reference": signal.reference},
        )  # fmt: skip
        warnings = (NO_PHOTO,) if signal.photo and "media_url" not in fields else ()
        for item in items(answer, "service_requests", "request")[:1]:
            if item.get("service_request_id") not in (None, ""):
                found = _http.external_id(what, item["service_request_id"])
                return ForwardResult(external_id=found, status=None, warnings=warnings)
            if item.get("token") not in (None, ""):
                token = printable_id(item["token"])
                found = _http.external_id(what, token and f"{TOKEN_PREFIX}{token}")
                return ForwardResult(external_id=found, status=None, warnings=warnings)
        raise _http.unexpected(what, "no service_request_id or token")

    # ------------------------------------------------------------------ status

    async def resolve_token(self, token: str) -> str | None:
        """The service request id behind a token, or None while the server has none yet."""
        answer = await self._get("resolving the token", f"tokens/{quote(token, safe='')}")
        for item in items(answer, "service_requests", "request"):
            if item.get("service_request_id") not in (None, ""):
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
        answer = await self._get("reading the status", f"requests/{quote(request_id, safe='')}")
        found = items(answer, "service_requests", "request")
        first = found[0] if found else None
        if first is None or not isinstance(first.get("status"), str) or not first["status"]:
            raise ForwardingError(
                f"open311: no status for request {request_id!r} in the answer", retryable=True
            )
        notes = first.get("status_notes")
        text = notes.strip() if isinstance(notes, str) and notes.strip() else None
        return ExternalStatus(state=map_state(first["status"]), text=text, raw=first["status"])

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()


def _attribute_label(attribute: dict[str, Any]) -> str:
    label = f"attribute {str(attribute.get('code'))!r}"
    about = attribute.get("description")
    return f"{label} ({plain_text(str(about))[:100]})" if about else label


def _check_choice(code: str, name: str, value: str, attribute: dict[str, Any]) -> None:
    """A list attribute's value must be one of its keys (else the server refuses it)."""
    choices = {
        str(item.get("key")): str(item.get("name") or item.get("key"))
        for item in listing(attribute.get("values"), "value")
    }
    if choices and value not in choices:
        offered = ", ".join(f"{key} ({label})" for key, label in choices.items())
        raise ForwardingError(
            f"open311: service {code}: attribute {name!r} is {value!r}, which is not one of "
            f"{offered}; change it under forwarding.attributes.{code}",
            retryable=False,
        )
