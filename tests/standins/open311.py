"""An Open311 GeoReport v2 stand-in on 127.0.0.1 (JSON format), written from the spec.

    async with Open311StandIn(api_key="k", token_mode=True) as o:
        ...                                    # forward to o.base_url
        [req] = o.service_requests.values()
        o.set_status(req.service_request_id, "closed", "Lamp vervangen.")
        o.fail_next(status=500)                # or timeout=True, path_contains="tokens"

Endpoints: ``GET /services.json``, ``POST /requests.json`` (form-encoded; ``api_key``
checked, 403 otherwise; ``service_code`` must exist; a location is required:
``lat``+``long``, ``address_string`` or ``address_id``; ``description`` at most 4000
characters), ``GET /tokens/{token}.json`` and ``GET /requests/{id}.json``. With
``jurisdiction_id`` set, every request must name it. Errors are GeoReport error lists
``[{"code": …, "description": …}]``.

``id_suffix`` ends every new service request id (make it overlong, or odd). The hostile
modes (``misbehave_next``, ``fail_next(body=…)``) are described in `signalen`.

``token_mode`` answers a POST with a token; the token names its request id after
``token_pending_polls`` lookups (0: at the first).

Closer to the real servers (each follows the source named):

- Every endpoint answers in ``.json`` or ``.xml``, chosen by the path's extension
  (GeoReport v2 "Formats": XML required, JSON optional; mysociety/open311-adapter
  ``perllib/Open311/Endpoint.pm`` ``format_response``: any other extension is a 404).
  ``xml_only`` answers every ``.json`` path with that 404, as a server without JSON does.
  XML follows the spec's examples: ``<services><service>``, ``<service_requests><request>``,
  ``<service_definition><attributes><attribute>``, ``<errors><error>``.
- A service given ``attributes`` is listed with ``metadata: true`` and defined at
  ``GET /services/{code}.{fmt}`` (spec "GET Service Definition"; open311-adapter
  ``GET_Service_Definition``). A POST lacking a required, variable attribute as
  ``attribute[code]`` (or a singlevaluelist value not among its keys) is refused with
  400, as open311-adapter's ``POST_Service_Request_input_schema`` does.
- A service of ``"type": "blackbox"`` files the request but answers without a
  ``service_request_id`` or ``token`` (spec "GET Service List", ``type``: blackbox, no id
  is returned).
- ``markaspot_shape`` answers a POST in JSON as ``{"service_requests": {"request": …}}``,
  the XML tree turned into JSON (Mark-a-Spot's GeoReport module), not the spec's list.
- ``outage_next(count)``: the next POSTs get 400 with a general service error (spec
  "POST Service Request", Possible Errors: "400 - General Service Error (Any failure
  during create request processing, eg CRM is down)"); nothing is filed.
"""

from __future__ import annotations

import json
import re
import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from .signalen import JSON, LoopbackStandIn

DEFAULT_SERVICES: tuple[JSON, ...] = (
    {"service_code": "OR-01", "service_name": "Bestrating en wegen", "group": "Openbare ruimte"},
    {"service_code": "OR-02", "service_name": "Bomen en groen", "group": "Openbare ruimte"},
    {"service_code": "AF-01", "service_name": "Afval en containers", "group": "Afval"},
    {"service_code": "VL-01", "service_name": "Straatverlichting", "group": "Openbare ruimte"},
    {"service_code": "OV-99", "service_name": "Overig", "group": "Overig"},
)
STATUSES = ("open", "closed")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


OUTAGE = "General service error: the CRM is down, please try again later"
# Plural element -> the element of each item, as the spec's XML examples name them.
ITEM_TAGS = {"services": "service", "service_requests": "request", "errors": "error",
             "attributes": "attribute", "values": "value"}  # fmt: skip


def _xml_value(parent: ET.Element, key: str, value: Any) -> None:
    child = ET.SubElement(parent, key)
    if isinstance(value, list):
        for item in value:
            _xml_value(child, ITEM_TAGS.get(key, "item"), item)
    elif isinstance(value, dict):
        for sub_key, sub_value in value.items():
            _xml_value(child, sub_key, sub_value)
    elif isinstance(value, bool):
        child.text = "true" if value else "false"
    elif value is not None:
        child.text = str(value)


def to_xml(root: str, data: Any) -> bytes:
    """`data` as the spec's XML: a list becomes repeated item elements under `root`."""
    top = ET.Element(root)
    items = data if isinstance(data, list) else None
    if items is not None:
        for item in items:
            _xml_value(top, ITEM_TAGS[root], item)
    else:
        for key, value in data.items():
            _xml_value(top, key, value)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8")


def answer(fmt: str, root: str, data: Any, status: int = 200) -> web.Response:
    if fmt == "xml":
        return web.Response(body=to_xml(root, data), status=status, content_type="text/xml")
    return web.json_response(data, status=status)


def _error(status: int, description: str, fmt: str = "json") -> web.Response:
    return answer(fmt, "errors", [{"code": status, "description": description}], status)


@dataclass
class StoredRequest:
    service_request_id: str
    form: dict[str, str]
    headers: dict[str, str]
    status: str = "open"
    status_notes: str | None = None
    token: str | None = None
    token_polls: int = 0
    requested_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class Open311StandIn(LoopbackStandIn):
    def __init__(
        self,
        *,
        api_key: str = "test-api-key",
        services: tuple[JSON, ...] = DEFAULT_SERVICES,
        jurisdiction_id: str | None = None,
        token_mode: bool = False,
        token_pending_polls: int = 0,
        hang_seconds: float = 5.0,
        id_suffix: str = "",
        xml_only: bool = False,
        markaspot_shape: bool = False,
    ) -> None:
        super().__init__(hang_seconds=hang_seconds)
        self.xml_only = xml_only
        self.markaspot_shape = markaspot_shape
        self.outages = 0
        self.id_suffix = id_suffix
        self.api_key = api_key
        self.services = [
            {"description": s["service_name"], "metadata": bool(s.get("attributes")),
             "type": "realtime", "keywords": "", **s}
            for s in services
        ]  # fmt: skip
        self.jurisdiction_id = jurisdiction_id
        self.token_mode = token_mode
        self.token_pending_polls = token_pending_polls
        self.service_requests: dict[str, StoredRequest] = {}
        self.tokens: dict[str, StoredRequest] = {}

    def set_status(self, request_id: str, status: str, notes: str | None = None) -> None:
        """Change a request as the municipality would (any string; GeoReport has open/closed)."""
        stored = self.service_requests[request_id]
        stored.status, stored.status_notes = status, notes
        stored.updated_at = datetime.now(UTC)

    def outage_next(self, count: int = 1) -> None:
        """The next `count` POSTs get 400 with a general service error ("CRM is down")."""
        self.outages += count

    def error_body(self, status: int) -> list[JSON]:
        return [{"code": status, "description": f"injected failure {status}"}]

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/services.{fmt}", self._services)
        app.router.add_get("/services/{code}.{fmt}", self._definition)
        app.router.add_post("/requests.{fmt}", self._create)
        app.router.add_get("/tokens/{token}.{fmt}", self._token)
        app.router.add_get("/requests/{request_id}.{fmt}", self._request)

    def _format(self, request: web.Request) -> str | web.Response:
        fmt = request.match_info["fmt"]
        if fmt not in ("json", "xml") or (fmt == "json" and self.xml_only):
            return web.Response(status=404, text="Bad extension. We support .xml")
        return fmt

    def _jurisdiction(self, given: str | None, fmt: str = "json") -> web.Response | None:
        if self.jurisdiction_id is None:
            return None
        if not given:
            return _error(400, "jurisdiction_id was not provided", fmt)
        if given != self.jurisdiction_id:
            return _error(404, f"jurisdiction_id {given} not found", fmt)
        return None

    def _service(self, code: str | None) -> JSON | None:
        return next((s for s in self.services if s["service_code"] == code), None)

    # ------------------------------------------------------------------ handlers

    async def _services(self, request: web.Request) -> web.Response:
        fmt = self._format(request)
        if isinstance(fmt, web.Response):
            return fmt
        if problem := self._jurisdiction(request.query.get("jurisdiction_id"), fmt):
            return problem
        listed = [{k: v for k, v in s.items() if k != "attributes"} for s in self.services]
        return answer(fmt, "services", listed)

    async def _definition(self, request: web.Request) -> web.Response:
        fmt = self._format(request)
        if isinstance(fmt, web.Response):
            return fmt
        if problem := self._jurisdiction(request.query.get("jurisdiction_id"), fmt):
            return problem
        code = request.match_info["code"]
        service = self._service(code)
        if service is None:
            return _error(404, f"Service code {code} not found", fmt)
        attributes = [
            {"variable": True, "datatype": "string", "required": False,
             "datatype_description": "", "description": a["code"], **a, "order": n}
            for n, a in enumerate(service.get("attributes") or (), start=1)
        ]  # fmt: skip
        return answer(fmt, "service_definition", {"service_code": code, "attributes": attributes})

    def _attribute_problem(self, service: JSON, form: dict[str, str]) -> str | None:
        for attribute in service.get("attributes") or ():
            code = attribute["code"]
            given = form.get(f"attribute[{code}]") or form.get(f"attribute[{code}][]")
            if attribute.get("required") and attribute.get("variable", True) and not given:
                return f"Error in input for POST_Service_Request: attribute[{code}] is required"
            keys = [str(v["key"]) for v in attribute.get("values") or ()]
            if given and keys and given not in keys:
                return f"attribute[{code}]: {given!r} is not one of {', '.join(keys)}"
        return None

    def validate(self, form: dict[str, str]) -> web.Response | None:
        """The first problem with a POST requests.json form, as a GeoReport error."""
        if form.get("api_key") != self.api_key:
            return _error(403, "Invalid api_key")
        if problem := self._jurisdiction(form.get("jurisdiction_id")):
            return problem
        code = form.get("service_code")
        if not code:
            return _error(400, "service_code was not provided")
        service = self._service(code)
        if service is None:
            return _error(404, f"Service code {code} not found")
        if problem := self._attribute_problem(service, form):
            return _error(400, problem)
        has_point = "lat" in form or "long" in form
        if not (has_point or form.get("address_string") or form.get("address_id")):
            return _error(400, "A location is required: lat and long, address_string or address_id")
        if has_point:
            try:
                lat, lon = float(form["lat"]), float(form["long"])
            except (KeyError, ValueError):
                return _error(400, "lat and long must both be given as decimal degrees")
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                return _error(400, "lat or long out of range")
        if len(form.get("description", "")) > 4000:
            return _error(400, "description may be at most 4000 characters")
        if form.get("email") and not _EMAIL.match(form["email"]):
            return _error(400, "email is not a valid e-mail address")
        if form.get("media_url") and not form["media_url"].startswith(("http://", "https://")):
            return _error(400, "media_url must be a URL")
        return None

    async def _create(self, request: web.Request) -> web.Response:
        fmt = self._format(request)
        if isinstance(fmt, web.Response):
            return fmt
        if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return _error(400, f"expected a form-encoded body, got {request.content_type}", fmt)
        posted = await request.post()
        form = {key: str(value) for key, value in posted.items()}
        if problem := self.validate(form):
            if fmt == "xml":  # the same error, in the format asked for
                return answer(fmt, "errors", json.loads(problem.body or b"[]"), problem.status)
            return problem
        if self.outages:
            self.outages -= 1
            return _error(400, OUTAGE, fmt)
        request_id = str(4000 + len(self.service_requests) + 1) + self.id_suffix
        stored = StoredRequest(request_id, form, dict(request.headers))
        self.service_requests[request_id] = stored
        kind = (self._service(form["service_code"]) or {}).get("type")
        item: JSON
        if kind == "blackbox":
            item = {"service_notice": "Uw melding is ontvangen."}
        elif self.token_mode:
            stored.token = secrets.token_hex(8)
            self.tokens[stored.token] = stored
            item = {"token": stored.token}
        else:
            item = {"service_request_id": request_id, "service_notice": "", "account_id": None}
        if self.markaspot_shape and fmt == "json":
            return web.json_response({"service_requests": {"request": item}}, status=201)
        return answer(fmt, "service_requests", [item], 201)

    async def _token(self, request: web.Request) -> web.Response:
        fmt = self._format(request)
        if isinstance(fmt, web.Response):
            return fmt
        if problem := self._jurisdiction(request.query.get("jurisdiction_id"), fmt):
            return problem
        token = request.match_info["token"]
        stored = self.tokens.get(token)
        if stored is None:
            return _error(404, f"Token {token} not found", fmt)
        stored.token_polls += 1
        if stored.token_polls <= self.token_pending_polls:
            return answer(fmt, "service_requests", [{"token": token}])
        found = {"service_request_id": stored.service_request_id, "token": token}
        return answer(fmt, "service_requests", [found])

    async def _request(self, request: web.Request) -> web.Response:
        fmt = self._format(request)
        if isinstance(fmt, web.Response):
            return fmt
        if problem := self._jurisdiction(request.query.get("jurisdiction_id"), fmt):
            return problem
        stored = self.service_requests.get(request.match_info["request_id"])
        if stored is None or (stored.token and stored.token_polls <= self.token_pending_polls):
            return _error(404, "Service request not found", fmt)
        return answer(fmt, "service_requests", [self._describe(stored)])

    def _describe(self, stored: StoredRequest) -> dict[str, Any]:
        form = stored.form
        service = next(s for s in self.services if s["service_code"] == form["service_code"])
        return {
            "service_request_id": stored.service_request_id,
            "status": stored.status,
            "status_notes": stored.status_notes,
            "service_name": service["service_name"],
            "service_code": service["service_code"],
            "description": form.get("description"),
            "agency_responsible": "Gemeente",
            "service_notice": "",
            "requested_datetime": stored.requested_at.isoformat(),
            "updated_datetime": stored.updated_at.isoformat(),
            "expected_datetime": None,
            "address": form.get("address_string"),
            "address_id": form.get("address_id"),
            "zipcode": None,
            "lat": float(form["lat"]) if "lat" in form else None,
            "long": float(form["long"]) if "long" in form else None,
            "media_url": form.get("media_url"),
        }
