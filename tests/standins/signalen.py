"""A Signalen public-API stand-in on 127.0.0.1, written from Signalen's public API.

    async with SignalenStandIn() as s:
        url = s.category_url("afval", "container-is-vol")   # a sub-category URL
        ...                                                  # forward to s.base_url
        [stored] = s.signals.values()
        s.set_state(stored.signal_id, "o", "Opgeruimd, dank u wel.")
        s.fail_next(2, status=503)                           # or timeout=True
        s.misbehave_next("trickle", seconds=8)               # or "huge"; see below

Endpoints: ``POST /signals/v1/public/signals/`` (validated like Signalen's serializer:
unknown keys, ``text``, ``location.geometrie`` Point in a bounding box, hyperlinked
``category.sub_category``, ``reporter``, ``incident_date_start``, ``extra_properties``
items, ``source``), ``POST …/signals/{uuid}/attachments`` (multipart ``file``, with or
without trailing slash) and ``GET …/signals/{uuid}``. Errors have the Django REST
framework shape (``{"field": ["message"]}``, ``{"detail": "…"}``).

Hostile modes, for the bot's defences: ``misbehave_next("huge")`` handles the next
request and answers it after megabytes of JSON whitespace (``size``, streamed: the
stand-in counts in ``bytes_streamed`` what it got out before the client hung up);
``misbehave_next("trickle")`` answers one byte every ``every`` seconds for ``seconds``
before the real answer; ``fail_next(status=400, body=…)`` answers with any error body (bytes as they are);
``id_suffix`` ends every new signal id (make it overlong, or odd).

``status_detail="full"`` shows the workflow code and text, as older Signalen releases
and the brief expect; ``"public"`` shows only OPEN/CLOSED as current releases do.

This module also holds `LoopbackStandIn`, the aiohttp plumbing the Open311 stand-in uses.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal, Self

from aiohttp import web

JSON = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class InjectedFailure:
    status: int = 503
    timeout: bool = False
    retry_after: float | None = None
    path_contains: str | None = None
    body: Any = None  # the error body; None: the API's usual shape


@dataclass
class Misbehaviour:
    """A request handled as usual, its answer delivered in a hostile way."""

    mode: Literal["huge", "trickle"]
    path_contains: str | None
    size: int  # huge: bytes of whitespace before the answer
    seconds: float  # trickle: how long the trickle lasts
    every: float  # trickle: seconds between bytes


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    failed: bool = False
    at: float = field(default_factory=time.monotonic)  # when it arrived
    misbehaved: str | None = None


class LoopbackStandIn:
    """aiohttp on 127.0.0.1 with a request log and failure injection."""

    def __init__(self, *, hang_seconds: float = 5.0) -> None:
        self.hang_seconds = hang_seconds
        self.requests: list[RecordedRequest] = []
        self._failures: list[InjectedFailure] = []
        self._misbehaviours: list[Misbehaviour] = []
        self.bytes_streamed = 0  # what hostile answers got out before the client hung up
        self.streaming = 0  # hostile answers still being sent
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("the stand-in is not running")
        return f"http://127.0.0.1:{self._port}"

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 503,
        timeout: bool = False,
        retry_after: float | None = None,
        path_contains: str | None = None,
        body: Any = None,
    ) -> None:
        """The next `count` matching requests fail (HTTP `status`, or hang if `timeout`)."""
        for _ in range(count):
            self._failures.append(
                InjectedFailure(status, timeout, retry_after, path_contains, body)
            )

    def misbehave_next(
        self,
        mode: Literal["huge", "trickle"],
        *,
        count: int = 1,
        path_contains: str | None = None,
        size: int = 64 * 1024 * 1024,
        seconds: float = 8.0,
        every: float = 0.2,
    ) -> None:
        """The next `count` matching requests are handled, and answered in a hostile way."""
        for _ in range(count):
            self._misbehaviours.append(Misbehaviour(mode, path_contains, size, seconds, every))

    def add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def error_body(self, status: int) -> JSON | list[JSON]:
        return {"detail": f"injected failure {status}"}

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        record = RecordedRequest(request.method, request.path, dict(request.headers))
        self.requests.append(record)
        for failure in self._failures:
            if failure.path_contains is None or failure.path_contains in request.path:
                self._failures.remove(failure)
                record.failed = True
                if failure.timeout:
                    await asyncio.sleep(self.hang_seconds)
                headers = {}
                if failure.retry_after is not None:
                    headers["Retry-After"] = str(int(failure.retry_after))
                status = 504 if failure.timeout else failure.status
                body = self.error_body(status) if failure.body is None else failure.body
                if isinstance(body, bytes):  # as it is, even if no JSON encoder would write it
                    return web.Response(
                        body=body, status=status, headers=headers, content_type="application/json"
                    )
                return web.json_response(body, status=status, headers=headers)
        for bad in self._misbehaviours:
            if bad.path_contains is None or bad.path_contains in request.path:
                self._misbehaviours.remove(bad)
                record.misbehaved = bad.mode
                return await self._hostile(request, await handler(request), bad)
        return await handler(request)

    async def _hostile(
        self, request: web.Request, answer: web.StreamResponse, bad: Misbehaviour
    ) -> web.StreamResponse:
        """The real answer, after a flood of whitespace or a trickle (valid JSON either way)."""
        body = answer.body if isinstance(answer, web.Response) else b""
        out = web.StreamResponse(status=answer.status, headers={"Content-Type": "application/json"})
        await out.prepare(request)
        self.streaming += 1
        try:
            if bad.mode == "huge":
                chunk = b" " * 65536
                for _ in range(bad.size // len(chunk)):
                    await out.write(chunk)
                    self.bytes_streamed += len(chunk)
            else:
                loop = asyncio.get_running_loop()
                end = loop.time() + bad.seconds
                while loop.time() < end:
                    await out.write(b" ")
                    self.bytes_streamed += 1
                    await asyncio.sleep(bad.every)
            await out.write(body if isinstance(body, bytes) else b"")
            await out.write_eof()
        except ConnectionError:
            pass  # the client hung up: what a defended client does
        finally:
            self.streaming -= 1
        return out

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware], client_max_size=32 * 1024 * 1024)
        self.add_routes(app)
        runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5
        )
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(runner, sock).start()
        self._port = sock.getsockname()[1]
        self._runner = runner

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


# ---------------------------------------------------------------------- Signalen

STATE_DISPLAY = {
    "m": "Gemeld", "i": "In afwachting van behandeling", "b": "In behandeling", "h": "On hold",
    "ingepland": "Ingepland", "ready to send": "Extern: te verzenden", "o": "Afgehandeld",
    "a": "Geannuleerd", "reopened": "Heropend", "s": "Gesplitst",
    "closure requested": "Extern: verzoek tot afhandeling", "reaction requested": "Reactie gevraagd",
    "reaction received": "Reactie ontvangen", "forward to external": "Doorgezet naar extern",
    "sent": "Extern: verzonden", "send failed": "Extern: mislukt",
    "done external": "Extern: afgehandeld", "reopen requested": "Verzoek tot heropenen",
}  # fmt: skip
CLOSED_STATES = frozenset({"o", "a", "s"})
CREATE_KEYS = frozenset({
    "source", "text", "text_extra", "location", "category", "reporter",
    "incident_date_start", "incident_date_end", "extra_properties", "session",
})  # fmt: skip
DEFAULT_CATEGORIES = (
    ("wegen-verkeer-straatmeubilair", "bestrating"),
    ("wegen-verkeer-straatmeubilair", "verlichting"),
    ("afval", "container-is-vol"),
    ("openbaar-groen-en-water", "bomen"),
    ("overlast-in-de-openbare-ruimte", "overig-openbare-ruimte"),
    ("overig", "overig"),
)
NL_BBOX = (3.2, 50.7, 7.3, 53.7)  # lon_min, lat_min, lon_max, lat_max
_SUB_URL = re.compile(r"/signals/v1/public/terms/categories/([-\w]+)/sub_categories/([-\w]+)/?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
REQUIRED = "Dit veld is vereist."


@dataclass
class StoredAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class StoredSignal:
    signal_id: str
    number: int
    payload: JSON
    headers: dict[str, str]
    state: str = "m"
    text: str | None = None
    attachments: list[StoredAttachment] = field(default_factory=list)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def _validate_location(location: Any, bbox: tuple[float, float, float, float]) -> Any:
    if not isinstance(location, dict):
        return {"non_field_errors": ["Ongeldige data. Verwachtte een dictionary."]}
    geometry = location.get("geometrie")
    if geometry is None:
        return ["Coordinate data must be present"]
    coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if (
        not isinstance(geometry, dict)
        or geometry.get("type") != "Point"
        or not isinstance(coords, list)
        or len(coords) != 2
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in coords)
    ):
        return {"geometrie": ["Ongeldige geometrie: verwacht een GeoJSON Point."]}
    lon, lat = coords
    if not (bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]):
        return {"geometrie": ["Location coordinates not within the configured bounding box"]}
    if location.get("address") not in (None, {}) and not isinstance(location["address"], dict):
        return {"address": ["Ongeldige data. Verwachtte een dictionary."]}
    return None


class SignalenStandIn(LoopbackStandIn):
    def __init__(
        self,
        *,
        categories: tuple[tuple[str, str], ...] = DEFAULT_CATEGORIES,
        bbox: tuple[float, float, float, float] = NL_BBOX,
        sources: tuple[str, ...] = ("online", "wijkplatform"),
        status_detail: Literal["full", "public"] = "full",
        hang_seconds: float = 5.0,
        id_suffix: str = "",
    ) -> None:
        super().__init__(hang_seconds=hang_seconds)
        self.id_suffix = id_suffix
        self.categories = set(categories)
        self.bbox = bbox
        self.sources = sources
        self.status_detail = status_detail
        self.signals: dict[str, StoredSignal] = {}

    def category_url(self, main: str, sub: str) -> str:
        return f"{self.base_url}/signals/v1/public/terms/categories/{main}/sub_categories/{sub}"

    def set_state(self, signal_id: str, state: str, text: str | None = None) -> None:
        if state not in STATE_DISPLAY:
            raise ValueError(f"not a Signalen state: {state!r}")
        self.signals[signal_id].state = state
        self.signals[signal_id].text = text

    def add_routes(self, app: web.Application) -> None:
        base = "/signals/v1/public/signals"
        app.router.add_post(f"{base}/", self._create)
        app.router.add_post(base + "/{signal_id}/attachments", self._attach)
        app.router.add_post(base + "/{signal_id}/attachments/", self._attach)
        app.router.add_get(base + "/{signal_id}", self._detail)
        app.router.add_get(base + "/{signal_id}/", self._detail)

    # ------------------------------------------------------------------ handlers

    def validate(self, body: Any) -> JSON:
        """DRF-shaped errors for a create body; empty when valid."""
        if not isinstance(body, dict):
            return {"non_field_errors": ["Ongeldige data. Verwachtte een dictionary."]}
        errors: JSON = {}
        extra = sorted(set(body) - CREATE_KEYS)
        if extra:
            return {"non_field_errors": [f"Extra properties present: {', '.join(extra)}"]}
        text = body.get("text")
        if text is None:
            errors["text"] = [REQUIRED]
        elif not isinstance(text, str) or not text.strip():
            errors["text"] = ["Dit veld mag niet leeg zijn."]
        elif len(text) > 3000:
            errors["text"] = ["Zorg ervoor dat dit veld niet meer dan 3000 karakters bevat."]
        if "location" not in body:
            errors["location"] = [REQUIRED]
        elif problem := _validate_location(body["location"], self.bbox):
            errors["location"] = problem
        category = body.get("category")
        if category is None:
            errors["category"] = [REQUIRED]
        elif not isinstance(category, dict) or "sub_category" not in category:
            errors["category"] = {
                "non_field_errors": [
                    'Either the "sub_category" OR the "category_url" must be given'
                ]
            }
        else:
            match = _SUB_URL.search(str(category["sub_category"]))
            if not match:
                errors["category"] = {
                    "sub_category": ["Ongeldige hyperlink - Ongeldige URL match."]
                }
            elif (match[1], match[2]) not in self.categories:
                errors["category"] = {
                    "sub_category": ["Ongeldige hyperlink - Object bestaat niet."]
                }
        reporter = body.get("reporter")
        if reporter is None:
            errors["reporter"] = [REQUIRED]
        elif not isinstance(reporter, dict):
            errors["reporter"] = {"non_field_errors": ["Ongeldige data."]}
        elif reporter.get("email") and not _EMAIL.match(str(reporter["email"])):
            errors["reporter"] = {"email": ["Voer een geldig e-mailadres in."]}
        elif reporter.get("phone") and len(str(reporter["phone"])) > 17:
            errors["reporter"] = {
                "phone": ["Zorg ervoor dat dit veld niet meer dan 17 karakters bevat."]
            }
        start = body.get("incident_date_start")
        if start is None:
            errors["incident_date_start"] = [REQUIRED]
        else:
            try:
                datetime.fromisoformat(str(start))
            except ValueError:
                errors["incident_date_start"] = ["Datetime heeft een ongeldig formaat."]
        if "source" in body and body["source"] not in self.sources:
            errors["source"] = ["Invalid source given for anonymous user"]
        extra_props = body.get("extra_properties")
        if extra_props is not None and (
            not isinstance(extra_props, list)
            or not all(
                isinstance(i, dict) and {"id", "label", "answer", "category_url"} <= set(i)
                for i in extra_props
            )
        ):
            errors["extra_properties"] = ["Invalid input."]
        return errors

    def _detail_body(self, stored: StoredSignal) -> JSON:
        status: JSON
        if self.status_detail == "public":
            closed = stored.state in CLOSED_STATES
            status = {
                "state": "CLOSED" if closed else "OPEN",
                "state_display": "Gesloten" if closed else "Open",
            }
        else:
            status = {
                "state": stored.state,
                "state_display": STATE_DISPLAY[stored.state],
                "text": stored.text,
            }
        stamp = stored.created_at.isoformat()
        return {
            "_links": {
                "self": {"href": f"{self.base_url}/signals/v1/public/signals/{stored.signal_id}"}
            },
            "_display": f"SIG-{stored.number}",
            "id": stored.number,
            "signal_id": stored.signal_id,
            "status": status,
            "created_at": stamp,
            "updated_at": stamp,
            "incident_date_start": stored.payload["incident_date_start"],
            "incident_date_end": stored.payload.get("incident_date_end"),
        }

    async def _create(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"detail": "JSON parse error"}, status=400)
        errors = self.validate(body)
        if errors:
            return web.json_response(errors, status=400)
        signal_id = str(uuid.uuid4()) + self.id_suffix
        stored = StoredSignal(signal_id, len(self.signals) + 1, body, dict(request.headers))
        self.signals[stored.signal_id] = stored
        return web.json_response(self._detail_body(stored), status=201)

    async def _attach(self, request: web.Request) -> web.Response:
        stored = self.signals.get(request.match_info["signal_id"])
        if stored is None:
            return web.json_response({"detail": "Niet gevonden."}, status=404)
        if not request.content_type.startswith("multipart/"):
            return web.json_response(
                {"detail": f'Ongeldig mediatype "{request.content_type}".'}, status=415
            )
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            return web.json_response({"file": ["Er is geen bestand opgestuurd."]}, status=400)
        data = upload.file.read()
        if len(data) > 8 * 1024 * 1024:
            return web.json_response({"file": ["Bestand mag maximaal 8Mb groot zijn."]}, status=400)
        stored.attachments.append(StoredAttachment(upload.filename, upload.content_type, data))
        href = f"{self.base_url}/signals/v1/public/signals/{stored.signal_id}/attachments"
        answer = {
            "_display": f"Attachment object ({len(stored.attachments)})",
            "_links": {"self": {"href": href}},
            "location": f"{self.base_url}/media/attachments/{upload.filename}",
            "is_image": upload.content_type.startswith("image/"),
            "created_at": datetime.now(UTC).isoformat(),
        }
        return web.json_response(answer, status=201)

    async def _detail(self, request: web.Request) -> web.Response:
        stored = self.signals.get(request.match_info["signal_id"])
        if stored is None:
            return web.json_response({"detail": "Niet gevonden."}, status=404)
        return web.json_response(self._detail_body(stored))
