"""Plain data types shared by the Telegram Bot API stand-in modules."""

from __future__ import annotations

import copy
import math
import struct
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

JSONDict = dict[str, Any]

__all__ = [
    "BotApiError",
    "CallbackAnswer",
    "FloodLimiter",
    "FloodLimits",
    "InjectedFailure",
    "JSONDict",
    "RequestRecord",
    "SentRecord",
    "StoredFile",
    "StoredMessage",
    "TgChat",
    "TgUser",
    "Upload",
    "bad_request",
    "image_info",
    "json_copy",
    "tiny_png",
]


class BotApiError(Exception):
    """An error answer of the Bot API: ``{"ok": false, "error_code": ..., ...}``."""

    def __init__(
        self,
        error_code: int,
        description: str,
        *,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    def envelope(self) -> JSONDict:
        body: JSONDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        parameters: JSONDict = {}
        if self.retry_after is not None:
            parameters["retry_after"] = self.retry_after
        if self.migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = self.migrate_to_chat_id
        if parameters:
            body["parameters"] = parameters
        return body


def json_copy(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, plain values); a few times faster
    than ``copy.deepcopy``, which the stand-in otherwise spent most of a message on."""
    kind = type(value)
    if kind is dict:
        return {key: json_copy(item) for key, item in value.items()}
    if kind is list:
        return [json_copy(item) for item in value]
    if kind in (str, int, float, bool) or value is None:
        return value
    return copy.deepcopy(value)


def bad_request(message: str) -> BotApiError:
    """A 400 with Telegram's ``Bad Request: `` prefix."""
    return BotApiError(400, f"Bad Request: {message}")


@dataclass(frozen=True)
class TgUser:
    """A Telegram user (or the bot itself when ``is_bot``)."""

    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = "nl"
    last_name: str | None = None
    is_bot: bool = False

    def to_api(self) -> JSONDict:
        data: JSONDict = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code and not self.is_bot:
            data["language_code"] = self.language_code
        return data


@dataclass(frozen=True)
class TgChat:
    """A chat: ``private`` (id == the user's id), ``group`` or ``supergroup``."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    def to_api(self) -> JSONDict:
        data: JSONDict = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            value = getattr(self, key)
            if value:
                data[key] = value
        return data


@dataclass
class StoredMessage:
    """A message in the stand-in's world, in its current (possibly edited) state."""

    chat_id: int
    message_id: int
    data: JSONDict
    from_bot: bool
    update_id: int | None = None
    """For user messages: the update that carried it to the bot (None: the bot never saw it)."""

    @property
    def text(self) -> str | None:
        value = self.data.get("text", self.data.get("caption"))
        return value if isinstance(value, str) else None

    @property
    def reply_markup(self) -> JSONDict | None:
        markup = self.data.get("reply_markup")
        return markup if isinstance(markup, dict) else None


def _buttons(markup: JSONDict | None) -> list[list[JSONDict]]:
    if not markup:
        return []
    rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
    return [[b if isinstance(b, dict) else {"text": b} for b in row] for row in rows]


@dataclass(frozen=True)
class SentRecord:
    """One message the bot sent or edited (sendX, editMessageX, stopPoll)."""

    method: str
    chat_id: int
    message_id: int
    text: str
    """Text, caption or poll question exactly as the bot sent it ('' when none)."""
    parse_mode: str | None
    reply_markup: JSONDict | None
    """The reply_markup the bot passed (any keyboard type), parsed from JSON."""
    message: JSONDict
    """The Message (or Poll for stopPoll) as returned to the bot."""
    params: JSONDict

    @property
    def plain_text(self) -> str:
        """What the user sees: the text after parse_mode was applied (markup stripped)."""
        source = self.message.get("poll", self.message)
        for key in ("text", "caption", "question"):
            if isinstance(source.get(key), str):
                return str(source[key])
        return ""

    @property
    def entities(self) -> list[JSONDict]:
        return list(self.message.get("entities") or self.message.get("caption_entities") or [])

    @property
    def buttons(self) -> list[list[JSONDict]]:
        """Rows of keyboard buttons (inline or reply keyboard) the bot attached."""
        return _buttons(self.reply_markup)

    @property
    def callback_data(self) -> list[str]:
        return [b["callback_data"] for row in self.buttons for b in row if "callback_data" in b]

    def button(self, text: str) -> JSONDict:
        """The first button whose text equals (or, failing that, contains) ``text``."""
        flat = [b for row in self.buttons for b in row]
        for candidate in flat:
            if candidate.get("text") == text:
                return candidate
        for candidate in flat:
            if text in str(candidate.get("text", "")):
                return candidate
        raise KeyError(f"no button {text!r} in {[b.get('text') for b in flat]}")


@dataclass(frozen=True)
class CallbackAnswer:
    """An answerCallbackQuery call that succeeded."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int
    query: JSONDict


@dataclass(frozen=True)
class RequestRecord:
    """One HTTP request to the Bot API side and how it was answered."""

    method: str
    params: JSONDict
    status: int
    description: str | None
    at: float


@dataclass
class Upload:
    """A file part of a multipart request."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    mime_type: str


@dataclass
class InjectedFailure:
    method: str | None
    """Lower-cased method name; None = any method except getUpdates."""
    remaining: int
    error: BotApiError
    chat_id: int | None = None

    def matches(self, method: str, chat_id: Any) -> bool:
        if self.remaining <= 0:
            return False
        if self.method is None:
            if method == "getupdates":
                return False
        elif self.method != method:
            return False
        return self.chat_id is None or str(self.chat_id) == str(chat_id)


@dataclass
class FloodLimits:
    """Telegram's documented soft limits: 1 msg/s per chat, 20/min per group, 30/s total."""

    per_chat: tuple[int, float] = (1, 1.0)
    per_group: tuple[int, float] = (20, 60.0)
    overall: tuple[int, float] = (30, 1.0)


@dataclass
class FloodLimiter:
    """Sliding-window limiter over a pluggable clock (seconds, monotonic)."""

    limits: FloodLimits
    clock: Callable[[], float]
    _per_chat: dict[int, deque[float]] = field(default_factory=dict)
    _per_group: dict[int, deque[float]] = field(default_factory=dict)
    _overall: deque[float] = field(default_factory=deque)

    def check(self, chat_id: int, is_group: bool) -> int | None:
        """Record a message to ``chat_id``; return retry_after seconds if it is over a limit."""
        now = self.clock()
        windows: list[tuple[deque[float], int, float]] = [
            (self._overall, *self.limits.overall),
            (self._per_chat.setdefault(chat_id, deque()), *self.limits.per_chat),
        ]
        if is_group:
            windows.append((self._per_group.setdefault(chat_id, deque()), *self.limits.per_group))
        wait = 0.0
        for window, count, span in windows:
            while window and window[0] <= now - span:
                window.popleft()
            if len(window) >= count:
                wait = max(wait, window[0] + span - now)
        if wait > 0:
            return max(1, math.ceil(wait))
        for window, _, _ in windows:
            window.append(now)
        return None


def image_info(data: bytes) -> tuple[str, int, int] | None:
    """(mime type, width, height) for PNG, JPEG, GIF and WebP; None if not an image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "image/png", width, height
    if data.startswith(b"GIF8") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return "image/gif", width, height
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp", 512, 512
    if data.startswith(b"\xff\xd8"):
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                index += 1
                continue
            marker = data[index + 1]
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", data[index + 5 : index + 9])
                return "image/jpeg", width, height
            (length,) = struct.unpack(">H", data[index + 2 : index + 4])
            index += 2 + length
        return "image/jpeg", 1280, 960
    return None


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A valid, all-black RGB PNG of the given size (for uploads in tests)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    raw = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
