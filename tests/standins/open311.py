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
"""

from __future__ import annotations

import re
import secrets
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


def _error(status: int, description: str) -> web.Response:
    return web.json_response([{"code": status, "description": description}], status=status)


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
    ) -> None:
        super().__init__(hang_seconds=hang_seconds)
        self.id_suffix = id_suffix
        self.api_key = api_key
        self.services = [
            {"description": s["service_name"], "metadata": False, "type": "realtime",
             "keywords": "", **s}
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

    def error_body(self, status: int) -> list[JSON]:
        return [{"code": status, "description": f"injected failure {status}"}]

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/services.json", self._services)
        app.router.add_post("/requests.json", self._create)
        app.router.add_get("/tokens/{token}.json", self._token)
        app.router.add_get("/requests/{request_id}.json", self._request)

    def _jurisdiction(self, given: str | None) -> web.Response | None:
        if self.jurisdiction_id is None:
            return None
        if not given:
            return _error(400, "jurisdiction_id was not provided")
        if given != self.jurisdiction_id:
            return _error(404, f"jurisdiction_id {given} not found")
        return None

    # ------------------------------------------------------------------ handlers

    async def _services(self, request: web.Request) -> web.Response:
        if problem := self._jurisdiction(request.query.get("jurisdiction_id")):
            return problem
        return web.json_response(self.services)

    def validate(self, form: dict[str, str]) -> web.Response | None:
        """The first problem with a POST requests.json form, as a GeoReport error."""
        if form.get("api_key") != self.api_key:
            return _error(403, "Invalid api_key")
        if problem := self._jurisdiction(form.get("jurisdiction_id")):
            return problem
        code = form.get("service_code")
        if not code:
            return _error(400, "service_code was not provided")
        if code not in {s["service_code"] for s in self.services}:
            return _error(404, f"Service code {code} not found")
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
        if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return _error(400, f"expected a form-encoded body, got {request.content_type}")
        posted = await request.post()
        form = {key: str(value) for key, value in posted.items()}
        if problem := self.validate(form):
            return problem
        request_id = str(4000 + len(self.service_requests) + 1) + self.id_suffix
        stored = StoredRequest(request_id, form, dict(request.headers))
        self.service_requests[request_id] = stored
        if self.token_mode:
            stored.token = secrets.token_hex(8)
            self.tokens[stored.token] = stored
            return web.json_response([{"token": stored.token}], status=201)
        return web.json_response(
            [{"service_request_id": request_id, "service_notice": "", "account_id": None}],
            status=201,
        )

    async def _token(self, request: web.Request) -> web.Response:
        if problem := self._jurisdiction(request.query.get("jurisdiction_id")):
            return problem
        token = request.match_info["token"]
        stored = self.tokens.get(token)
        if stored is None:
            return _error(404, f"Token {token} not found")
        stored.token_polls += 1
        if stored.token_polls <= self.token_pending_polls:
            return web.json_response([{"token": token}])
        return web.json_response(
            [{"service_request_id": stored.service_request_id, "token": token}]
        )

    async def _request(self, request: web.Request) -> web.Response:
        if problem := self._jurisdiction(request.query.get("jurisdiction_id")):
            return problem
        stored = self.service_requests.get(request.match_info["request_id"])
        if stored is None or (stored.token and stored.token_polls <= self.token_pending_polls):
            return _error(404, "Service request not found")
        return web.json_response([self._describe(stored)])

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
