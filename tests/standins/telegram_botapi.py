"""A Telegram Bot API stand-in for end-to-end tests: an aiohttp server on 127.0.0.1.

Usage::

    async with BotApiStandIn(token=TOKEN, bot_username="WijkbotTestBot") as api:
        app = (
            ApplicationBuilder().token(TOKEN)
            .base_url(api.base_url).base_file_url(api.base_file_url).build()
        )
        alice = api.user(1001, "Alice", "alice")
        chat = api.private_chat(alice)
        await api.send_text(alice, chat, "/start")
        [reply] = await api.wait_for_sent(lambda r: r.chat_id == chat.id)

The Bot API side answers ``/bot<token>/<method>`` (GET or POST; JSON, form-encoded or
multipart bodies) with ``{"ok": true, "result": ...}`` or the Bot API error shape, and
serves downloads at ``/file/bot<token>/<file_path>``.

Modules: ``telegram_state`` (the world and the control API: acting as users, reading
what the bot did, failure injection), ``telegram_methods`` / ``telegram_chat_methods``
(the Bot API methods), ``telegram_params`` (request decoding), ``telegram_format``
(HTML entity parsing as tdlib does it), ``telegram_records`` (data types).

Create one stand-in per test (its asyncio events belong to the running loop).
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from .telegram_chat_methods import Handler, TelegramBotApiMethods, method_table
from .telegram_methods import SEND_METHODS
from .telegram_params import Params, coerce
from .telegram_records import (
    BotApiError,
    FloodLimits,
    JSONDict,
    RequestRecord,
    SentRecord,
    StoredMessage,
    TgChat,
    TgUser,
    Upload,
    tiny_png,
)
from .telegram_state import DEFAULT_TOKEN
from .telegram_webhook import WebhookSender

__all__ = [
    "DEFAULT_TOKEN",
    "BotApiError",
    "BotApiStandIn",
    "FloodLimits",
    "SentRecord",
    "StoredMessage",
    "TgChat",
    "TgUser",
    "tiny_png",
]

_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_METHODS: dict[str, tuple[str, Handler]] = method_table()


def _not_found() -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
    )


class BotApiStandIn(TelegramBotApiMethods):
    """The stand-in server plus the in-memory world and its control API."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "WijkbotTestBot",
        *,
        bot_first_name: str = "Wijkbot",
        privacy_mode: bool = True,
        can_join_groups: bool = True,
        emit_poll_updates: bool = True,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        port: int = 0,
        latency: float = 0.0,
    ) -> None:
        super().__init__(
            token,
            bot_username,
            bot_first_name=bot_first_name,
            privacy_mode=privacy_mode,
            can_join_groups=can_join_groups,
            emit_poll_updates=emit_poll_updates,
            clock=clock,
            wall_clock=wall_clock,
        )
        self._requested_port = port
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._webhook_sender: WebhookSender | None = None
        # Seconds each answer takes to arrive, as over the internet (benchmarks; 0: at once).
        # Only the answer is late: the request has been handled when it waits.
        self.latency = latency

    # ------------------------------------------------------------------ lifecycle

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the stand-in is not running")
        return self._port

    @property
    def url(self) -> str:
        """Server root, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """For PTB's ``base_url`` (PTB appends the token)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For PTB's ``base_file_url`` (PTB appends the token)."""
        return f"{self.url}/file/bot"

    def bot_kwargs(self) -> dict[str, str]:
        """``telegram.Bot(**api.bot_kwargs())`` talks to this stand-in."""
        return {"token": self.token, "base_url": self.base_url, "base_file_url": self.base_file_url}

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        return app

    async def start(self) -> None:
        if self._runner is not None:
            return
        self._closing = False
        runner = web.AppRunner(
            self.make_app(), handler_cancellation=True, access_log=None, shutdown_timeout=0.5
        )
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self._requested_port))
        site = web.SockSite(runner, sock)
        await site.start()
        self._port = sock.getsockname()[1]
        self._runner = runner

    def deliver_webhooks(self, target: str, retry_after: float = 0.2) -> WebhookSender:
        """While a webhook is set, POST pending updates to `target` as Telegram does (see
        `telegram_webhook`); the sender records every attempt and the bot's answer."""
        if self._webhook_sender is None:
            self._webhook_sender = WebhookSender(self, target, retry_after)
            self._webhook_sender.start()
        return self._webhook_sender

    @property
    def webhook_sender(self) -> WebhookSender:
        if self._webhook_sender is None:
            raise RuntimeError("no webhook deliveries: call deliver_webhooks() first")
        return self._webhook_sender

    async def stop(self) -> None:
        if self._webhook_sender is not None:
            await self._webhook_sender.stop()
            self._webhook_sender = None
        if self._runner is None:
            return
        self._closing = True
        self._updates_changed.set()  # release long polls so shutdown is quick
        await asyncio.sleep(0)
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> BotApiStandIn:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ HTTP

    def _check_token(self, token: str) -> web.Response | None:
        if token == self.token:
            return None
        if _TOKEN_SHAPE.match(token):
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        return _not_found()

    async def _read_params(self, request: web.Request) -> tuple[JSONDict, dict[str, Upload]]:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, Upload] = {}
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.read()
                if body.strip():
                    try:
                        decoded = json.loads(body)
                    except ValueError:
                        raise BotApiError(400, "Bad Request: can't parse JSON") from None
                    if not isinstance(decoded, dict):
                        raise BotApiError(400, "Bad Request: JSON object expected")
                    raw.update(decoded)
            elif request.content_type in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            ):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = Upload(
                            key, value.filename, value.content_type, value.file.read()
                        )
                    else:
                        raw[key] = value
        params = {key: coerce(key, value) for key, value in raw.items()}
        return params, files

    def _precheck(self, method: str, params: JSONDict) -> None:
        chat_id = params.get("chat_id")
        for failure in self._failures:
            if failure.matches(method, chat_id):
                failure.remaining -= 1
                self._failures = [f for f in self._failures if f.remaining > 0]
                raise failure.error
        if self._limiter is not None and method in SEND_METHODS:
            chat = None
            if isinstance(chat_id, int | str) and str(chat_id).lstrip("-").isdigit():
                chat = self._chats.get(int(chat_id))
            if chat is not None:
                retry_after = self._limiter.check(chat.id, chat.is_group)
                if retry_after is not None:
                    raise BotApiError(
                        429,
                        f"Too Many Requests: retry after {retry_after}",
                        retry_after=retry_after,
                    )

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        denied = self._check_token(request.match_info["token"])
        spelled = request.match_info["method"]
        if denied is not None:
            return denied
        entry = _METHODS.get(spelled.lower())
        name = entry[0] if entry else spelled
        params: JSONDict = {}
        files: dict[str, Upload] = {}
        status, description = 200, None
        try:
            params, files = await self._read_params(request)
            if entry is None:
                raise BotApiError(404, "Not Found")
            self._precheck(spelled.lower(), params)
            result = await entry[1](self, Params(params, files))
            body: JSONDict = {"ok": True, "result": result}
        except BotApiError as error:
            status, description = error.error_code, error.description
            body = error.envelope()
        except asyncio.CancelledError:
            raise
        except Exception:
            self.server_errors.append(traceback.format_exc())
            status, description = 500, "Internal Server Error"
            body = {"ok": False, "error_code": 500, "description": description}
        logged = dict(params)
        logged.update({k: f"<upload {len(v.data)} bytes>" for k, v in files.items()})
        self._record_request(RequestRecord(name, logged, status, description, time.time()))
        if self.latency:
            await asyncio.sleep(self.latency)
        return web.json_response(body, status=status)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        denied = self._check_token(request.match_info["token"])
        if denied is not None:
            return denied
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return _not_found()
        return web.Response(body=stored.data, content_type=stored.mime_type)
