"""A Signalen stand-in on 127.0.0.1, written from Signalen's source (Amsterdam/signals v2.50).

    async with SignalenStandIn(key=key, clients={"wijkbot": ("geheim", "wijkbot@gemeente.test")}) as s:
        url = s.category_url("afval", "container-is-vol")   # a sub-category URL
        ...                                                  # forward to s.base_url
        [stored] = s.signals.values()
        s.set_state(stored.signal_id, "b", "Een ploeg komt morgen.", send_email=True)
        s.fail_next(2, status=503)                           # or timeout=True
        s.misbehave_next("trickle", seconds=8)               # or "huge"; see below

Public API (anyone): ``POST /signals/v1/public/signals/`` (validated like Signalen's
serializer: unknown keys, ``text``, ``location.geometrie`` Point in a bounding box,
hyperlinked ``category.sub_category``, ``reporter``, ``incident_date_start``,
``extra_properties`` against Signalen's JSON schema with jsonschema, ``source``),
``POST …/signals/{uuid}/attachments`` (multipart ``file``: JPEG, PNG or GIF by the bytes,
a matching extension, at most 20 MB) and ``GET …/signals/{uuid}``, whose status is only
``{"state": "OPEN"|"CLOSED", "state_display": …}`` as in every release since 2020.

Private API (a bearer JWT from the test's provider, see `tests.standins.oidc`):
``GET``/``PATCH /signals/v1/private/signals/{id}`` with the full status (``state``,
``text``, ``send_email``); a PATCH follows Signalen's workflow (``TRANSITIONS``).
``set_state`` is what municipal staff do in the back office, through the same workflow.

Errors have the Django REST framework shape (``{"field": ["message"]}``, ``{"detail": "…"}``).

Hostile modes, for the bot's defences: ``misbehave_next("huge")`` handles the next
request and answers it after megabytes of JSON whitespace (``size``, streamed: the
stand-in counts in ``bytes_streamed`` what it got out before the client hung up, and
``stream_ended_at`` says when the last hostile answer ended, finished or cut);
``misbehave_next("trickle")`` answers one byte every ``every`` seconds for ``seconds``
before the real answer; ``fail_next(status=400, body=…)`` answers with any error body (bytes as they are);
``id_suffix`` ends every new signal id (make it overlong, or odd).

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

import jsonschema
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.standins import oidc

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
        self.stream_ended_at: float | None = None  # monotonic: the last hostile answer ended
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
            self.stream_ended_at = time.monotonic()
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
# Paths below name files in Amsterdam/signals (v2.50), under app/signals/.

STATE_DISPLAY = {
    "m": "Gemeld", "i": "In afwachting van behandeling", "b": "In behandeling", "h": "On hold",
    "ingepland": "Ingepland", "ready to send": "Extern: te verzenden", "o": "Afgehandeld",
    "a": "Geannuleerd", "reopened": "Heropend", "s": "Gesplitst",
    "closure requested": "Extern: verzoek tot afhandeling", "reaction requested": "Reactie gevraagd",
    "reaction received": "Reactie ontvangen", "forward to external": "Doorgezet naar extern",
    "sent": "Extern: verzonden", "send failed": "Extern: mislukt",
    "done external": "Extern: afgehandeld", "reopen requested": "Verzoek tot heropenen",
}  # fmt: skip
# (apps/signals/workflow.py STATUS_CHOICES)

# apps/signals/workflow.py ALLOWED_STATUS_CHANGES: from -> the states it may go to.
_ANY_WORK = ["m", "i", "b", "ingepland", "o", "a", "ready to send", "reaction requested",
             "forward to external", "closure requested"]  # fmt: skip
TRANSITIONS: dict[str, frozenset[str]] = {
    "m": frozenset({"m", "i", "b", "ready to send", "o", "a", "ingepland",
                    "reaction requested", "forward to external"}),
    "i": frozenset({"m", "i", "ingepland", "closure requested", "o", "ready to send", "b", "a",
                    "reaction requested", "forward to external"}),
    "b": frozenset({"m", "ingepland", "b", "o", "a", "ready to send", "closure requested",
                    "reaction requested", "forward to external"}),
    "ingepland": frozenset({"m", "ingepland", "b", "o", "a", "closure requested",
                            "reaction requested", "forward to external"}),
    "h": frozenset({"ingepland", "a"}),
    "ready to send": frozenset({"sent", "send failed", "a"}),
    "sent": frozenset({"done external", "a"}),
    "send failed": frozenset({"m", "ready to send", "a"}),
    "done external": frozenset({"o", "a", "b"}),
    "o": frozenset({"reopened", "reopen requested"}),
    "a": frozenset({"a", "reopened", "b"}),
    "reopened": frozenset({"reopened", "b", "o", "a", "ready to send", "m",
                           "reaction requested", "forward to external"}),
    "s": frozenset(),
    "closure requested": frozenset({"m", "closure requested", "i", "o", "a", "b",
                                    "forward to external"}),
    "reopen requested": frozenset({"o", "reopened", "a"}),
    "reaction requested": frozenset({"m", "i", "b", "ingepland", "o", "a", "reaction requested",
                                     "reaction received", "ready to send", "forward to external"}),
    "reaction received": frozenset({"m", "i", "b", "o", "a", "ingepland", "reaction requested",
                                    "ready to send", "forward to external"}),
    "forward to external": frozenset({*_ANY_WORK, "reaction received"}),
}  # fmt: skip
TEXT_REQUIRED = frozenset({"o", "reopened"})  # apps/signals/models/status.py Status.clean
# apps/api/app_settings.py SIGNALS_API_CLOSED_STATES: the public API says CLOSED for these
# and OPEN for every other state, "reopen requested" included.
CLOSED_STATES = frozenset({"o", "a", "s"})
CREATE_KEYS = frozenset({
    "source", "text", "text_extra", "location", "category", "reporter",
    "incident_date_start", "incident_date_end", "extra_properties", "session",
})  # fmt: skip
# (apps/api/serializers/signal.py PublicSignalCreateSerializer.Meta.fields)
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

# apps/api/json_schema/extra_properties.json, validated with jsonschema as
# apps/api/validators/extra_properties.py does: an array of objects that need id, label,
# answer and category_url; category_url must match the pattern below, whose host part
# allows letters, digits, "_", "." and ":" but no "-". (The schema's "answer" alternatives
# are written "#rel" instead of "$ref", so any answer passes; the same here.)
EXTRA_PROPERTIES_SCHEMA: JSON = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "array",
    "items": {
        "type": "object",
        "required": ["id", "label", "answer", "category_url"],
        "properties": {
            "id": {"type": "string", "pattern": "^(.*)$"},
            "label": {"type": "string", "pattern": "^(.*)$"},
            "answer": {},
            "category_url": {
                "pattern": r"^((https?://(www.|)([\w\d.:]*)|)(/[\w\d\-/]+))$",
            },
        },
    },
}
# apps/signals/models/attachment.py IMAGE_MIME_TYPES; apps/services/validator/file.py: the
# type comes from the bytes (libmagic) and must match the filename's extension.
IMAGE_TYPES = {"image/jpeg": (".jpg", ".jpeg", ".jpe"), "image/png": (".png",),
               "image/gif": (".gif",)}  # fmt: skip
MAX_UPLOAD = 20 * 1024 * 1024  # settings.py API_MAX_UPLOAD_SIZE default (20971520)
# apps/api/serializers/attachment.py PUBLIC_UPLOAD_ALLOWED_STATES
PUBLIC_UPLOAD_STATES = frozenset({"m", "o", "reaction requested"})


def sniff(data: bytes) -> str | None:
    """The image type by magic bytes, as libmagic names it; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1"):
        return "image/heic"
    return None


@dataclass
class StoredAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class StatusEntry:
    """apps/signals/models/status.py Status: one row per change, the last one counts."""

    state: str
    text: str | None = None
    send_email: bool = False
    user: str | None = None


@dataclass
class StoredSignal:
    signal_id: str
    number: int
    payload: JSON
    headers: dict[str, str]
    history: list[StatusEntry] = field(default_factory=lambda: [StatusEntry("m")])
    attachments: list[StoredAttachment] = field(default_factory=list)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def status(self) -> StatusEntry:
        return self.history[-1]

    @property
    def state(self) -> str:
        return self.status.state


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


def _extra_properties_error(value: Any) -> list[str] | None:
    try:
        jsonschema.validate(instance=value, schema=EXTRA_PROPERTIES_SCHEMA)
    except jsonschema.ValidationError:
        return ["Invalid input."]  # the validator drops the detail (a bare DRF error)
    return None


class SignalenStandIn(LoopbackStandIn):
    """Public API for anyone; private API for users with a valid OIDC bearer token.

    The test owns the provider: `key` signs tokens (the stand-in's `/oidc/token` endpoint
    hands them out for the client credentials in `clients`), Signalen checks them with the
    public half. `users` are the active Signalen accounts (username = e-mail).
    """

    ISSUER = "https://login.gemeente.test/realms/signalen"
    AUDIENCE = "signalen"

    def __init__(
        self,
        *,
        categories: tuple[tuple[str, str], ...] = DEFAULT_CATEGORIES,
        bbox: tuple[float, float, float, float] = NL_BBOX,
        sources: tuple[str, ...] = ("online", "wijkplatform"),
        hang_seconds: float = 5.0,
        id_suffix: str = "",
        key: rsa.RSAPrivateKey | None = None,
        clients: dict[str, tuple[str, str]] | None = None,  # id -> (secret, user e-mail)
        users: tuple[str, ...] = ("wijkbot@gemeente.test",),
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(hang_seconds=hang_seconds)
        self.id_suffix = id_suffix
        self.categories = set(categories)
        self.bbox = bbox
        self.sources = sources
        self.signals: dict[str, StoredSignal] = {}
        self.key = key
        self.clients = clients or {}
        self.users = set(users)
        self.clock = clock
        self.tokens_issued = 0

    def category_url(self, main: str, sub: str) -> str:
        return f"{self.base_url}/signals/v1/public/terms/categories/{main}/sub_categories/{sub}"

    def by_number(self, number: int) -> StoredSignal | None:
        return next((s for s in self.signals.values() if s.number == number), None)

    def set_state(
        self,
        signal_id: str,
        state: str,
        text: str | None = None,
        *,
        send_email: bool = False,
        force: bool = False,
    ) -> None:
        """What municipal staff do in Signalen's back office; the workflow is enforced."""
        stored = self.signals[signal_id]
        problem = self.transition_error(stored, state, text)
        if problem and not force:
            raise ValueError(problem[1])
        stored.history.append(StatusEntry(state, text, send_email, "medewerker@gemeente.test"))

    @staticmethod
    def transition_error(
        stored: StoredSignal, state: str, text: str | None
    ) -> tuple[str, str] | None:
        """(field, message) as Status.clean() reports it, or None."""
        if state not in STATE_DISPLAY:
            return "state", f'"{state}" is geen geldige keuze.'
        if state not in TRANSITIONS[stored.state]:
            return "state", (
                f"Invalid state transition from `{STATE_DISPLAY[stored.state]}` "
                f"to `{STATE_DISPLAY[state]}`."
            )
        if state in TEXT_REQUIRED and not (text or "").strip():
            return (
                "text",
                f"This field is required when changing `state` to `{STATE_DISPLAY[state]}`.",
            )
        return None

    def add_routes(self, app: web.Application) -> None:
        base = "/signals/v1/public/signals"
        app.router.add_post(f"{base}/", self._create)
        app.router.add_post(base + "/{signal_id}/attachments", self._attach)
        app.router.add_post(base + "/{signal_id}/attachments/", self._attach)
        app.router.add_get(base + "/{signal_id}", self._detail)
        app.router.add_get(base + "/{signal_id}/", self._detail)
        private = "/signals/v1/private/signals/{number:[0-9]+}"
        app.router.add_get(private, self._private_detail)
        app.router.add_patch(private, self._private_update)
        app.router.add_post("/oidc/token", self._token)

    # ------------------------------------------------------------------ public API

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
        if category_error := self._category_error(body.get("category")):
            errors["category"] = category_error
        if reporter_error := _reporter_error(body.get("reporter")):
            errors["reporter"] = reporter_error
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
        if body.get("extra_properties") is not None and (
            problem := _extra_properties_error(body["extra_properties"])
        ):
            errors["extra_properties"] = problem
        return errors

    def _category_error(self, category: Any) -> Any:
        if category is None:
            return [REQUIRED]
        if not isinstance(category, dict) or "sub_category" not in category:
            return {
                "non_field_errors": [
                    'Either the "sub_category" OR the "category_url" must be given'
                ]
            }
        match = _SUB_URL.search(str(category["sub_category"]))
        if not match:
            return {"sub_category": ["Ongeldige hyperlink - Ongeldige URL match."]}
        if (match[1], match[2]) not in self.categories:
            return {"sub_category": ["Ongeldige hyperlink - Object bestaat niet."]}
        return None

    def _detail_body(self, stored: StoredSignal) -> JSON:
        # apps/api/serializers/signal.py PublicSignalSerializerDetail with
        # nested/status.py _NestedPublicStatusModelSerializer: state and state_display only.
        closed = stored.state in CLOSED_STATES
        stamp = stored.created_at.isoformat()
        return {
            "_links": {
                "self": {"href": f"{self.base_url}/signals/v1/public/signals/{stored.signal_id}"}
            },
            "_display": f"SIG-{stored.number}",
            "id": stored.number,
            "id_display": f"SIG-{stored.number}",
            "signal_id": stored.signal_id,
            "status": {
                "state": "CLOSED" if closed else "OPEN",
                "state_display": "Gesloten" if closed else "Open",
            },
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
        if problem := _attachment_error(upload.filename, data):
            return web.json_response({"file": [problem]}, status=400)
        if stored.state not in PUBLIC_UPLOAD_STATES:
            return web.json_response(
                ["Public uploads not allowed in current signal state."], status=400
            )
        stored.attachments.append(StoredAttachment(upload.filename, upload.content_type, data))
        href = f"{self.base_url}/signals/v1/public/signals/{stored.signal_id}/attachments"
        answer = {
            "_display": f"Attachment object ({len(stored.attachments)})",
            "_links": {"self": {"href": href}},
            "location": f"{self.base_url}/media/attachments/{upload.filename}",
            "is_image": True,
            "created_at": datetime.now(UTC).isoformat(),
        }
        return web.json_response(answer, status=201)

    async def _detail(self, request: web.Request) -> web.Response:
        stored = self.signals.get(request.match_info["signal_id"])
        if stored is None:
            return web.json_response({"detail": "Niet gevonden."}, status=404)
        return web.json_response(self._detail_body(stored))

    # ------------------------------------------------------------------ private API

    async def _token(self, request: web.Request) -> web.Response:
        """The provider's token endpoint, client-credentials grant (RFC 6749 §4.4)."""
        form = await request.post()
        client = self.clients.get(str(form.get("client_id", "")))
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if self.key is None or client is None or form.get("client_secret") != client[0]:
            return web.json_response({"error": "invalid_client"}, status=401)
        now = int(self.clock())
        claims = {"iss": self.ISSUER, "aud": self.AUDIENCE, "email": client[1],
                  "iat": now, "exp": now + 300}  # fmt: skip
        self.tokens_issued += 1
        token = oidc.sign(self.key, claims)
        return web.json_response({"access_token": token, "token_type": "Bearer", "expires_in": 300})

    def _authenticate(self, request: web.Request) -> web.Response | None:
        """auth/backend.py JWTAuthBackend: a 401 unless the bearer token names an active user."""
        denied = web.json_response(
            {"detail": "Incorrect access token provided"},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="signals"'},
        )
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token or self.key is None:
            return denied
        try:
            claims = oidc.verify(
                self.key.public_key(), token.strip(), issuer=self.ISSUER,
                audience=self.AUDIENCE, now=self.clock(),
            )  # fmt: skip
        except oidc.InvalidToken:
            return denied
        if str(claims.get("email", "")).lower() not in self.users:
            return denied  # admin/oidc/backends.py: username__iexact=email, active users only
        return None

    def _private_body(self, stored: StoredSignal) -> JSON:
        # apps/api/serializers/signal.py PrivateSignalSerializerDetail (the fields we read)
        status = stored.status
        return {
            "id": stored.number,
            "id_display": f"SIG-{stored.number}",
            "signal_id": stored.signal_id,
            "status": {
                "text": status.text,
                "user": status.user,
                "state": status.state,
                "state_display": STATE_DISPLAY[status.state],
                "target_api": None,
                "extra_properties": None,
                "send_email": status.send_email,
                "created_at": stored.created_at.isoformat(),
                "email_override": None,
            },
        }

    async def _private_detail(self, request: web.Request) -> web.Response:
        if denied := self._authenticate(request):
            return denied
        stored = self.by_number(int(request.match_info["number"]))
        if stored is None:
            return web.json_response({"detail": "Niet gevonden."}, status=404)
        return web.json_response(self._private_body(stored))

    async def _private_update(self, request: web.Request) -> web.Response:
        """PATCH with {"status": {"state", "text", "send_email"}}; models/status.py clean()."""
        if denied := self._authenticate(request):
            return denied
        stored = self.by_number(int(request.match_info["number"]))
        if stored is None:
            return web.json_response({"detail": "Niet gevonden."}, status=404)
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"detail": "JSON parse error"}, status=400)
        status = body.get("status") if isinstance(body, dict) else None
        if not isinstance(status, dict) or not isinstance(status.get("state"), str):
            return web.json_response({"status": {"state": [REQUIRED]}}, status=400)
        text = status.get("text")
        text = text if isinstance(text, str) else None
        if text is not None and len(text) > 10000:
            return web.json_response(
                {
                    "status": {
                        "text": ["Zorg ervoor dat dit veld niet meer dan 10000 karakters bevat."]
                    }
                },
                status=400,
            )
        if problem := self.transition_error(stored, status["state"], text):
            return web.json_response({"status": {problem[0]: [problem[1]]}}, status=400)
        stored.history.append(
            StatusEntry(status["state"], text, bool(status.get("send_email")), "wijkbot")
        )
        return web.json_response(self._private_body(stored))


def _reporter_error(reporter: Any) -> Any:
    if reporter is None:
        return [REQUIRED]
    if not isinstance(reporter, dict):
        return {"non_field_errors": ["Ongeldige data."]}
    if reporter.get("email") and not _EMAIL.match(str(reporter["email"])):
        return {"email": ["Voer een geldig e-mailadres in."]}
    if reporter.get("phone") and len(str(reporter["phone"])) > 17:
        return {"phone": ["Zorg ervoor dat dit veld niet meer dan 17 karakters bevat."]}
    return None


def _attachment_error(filename: str, data: bytes) -> str | None:
    """apps/services/validator/file.py: allowed type, type matches extension, size."""
    found = sniff(data)
    if found not in IMAGE_TYPES:
        return f"Files of type '{found or 'application/octet-stream'}' are not allowed!"
    if not filename.lower().endswith(IMAGE_TYPES[found]):
        return f"'{found}' does not match filename extension!"
    if len(data) > MAX_UPLOAD:
        return f"File size of {len(data)} is more than the allowed size {MAX_UPLOAD}!"
    return None
