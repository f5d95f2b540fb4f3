"""Telegram through python-telegram-bot 22, used as a transport only.

No ConversationHandler, JobQueue or PTB persistence: dialogs, jobs and state belong to
the core. Polling is our own loop over `getUpdates` so that an update is confirmed to
Telegram only after it was handled, and the last handled `update_id` is stored: a
restart neither replays nor skips updates. Webhook mode uses PTB's webhook server
(secret token checked on every request) and the same handling.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

os.environ.setdefault("PTB_TIMEDELTA", "1")  # RetryAfter.retry_after as a timedelta

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    Message,
    Update,
)
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ApplicationBuilder

from bot.adapters.telegram.convert import (
    MAX_CAPTION,
    MAX_MESSAGE,
    PLATFORM,
    as_html,
    markup,
    split_text,
    start_payload,
    to_incoming,
)
from bot.config import SUPPORTED_LOCALES, Settings
from bot.core.commands import MenuEntry
from bot.core.events import ChatRef, MessageRef, Reply
from bot.core.i18n import _, use_locale
from bot.core.ports import AdapterStore, Feed, Unreachable
from bot.util.bounded import Bounded
from bot.util.logs import install_redaction, remember_secret

log = logging.getLogger(__name__)
T = TypeVar("T")

# Telegram picks update ids at random again after a week without updates.
CURSOR_MAX_AGE = timedelta(days=6)
SEEN_WEBHOOK_UPDATES = 10_000
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member", "poll_answer"]
MAX_ATTEMPTS = 6
UPLOADED_KEPT = 64  # file_ids of images we uploaded, newest kept
UNREACHABLE_HINTS = ("chat not found", "bot was kicked", "not a member", "user is deactivated")


class TelegramError(Exception):
    """Start-up failed in a way the operator must fix (wrong token, unreachable server)."""


class TelegramAdapter:
    platform = PLATFORM
    capabilities = frozenset({"buttons", "edit", "location", "photos"})

    def __init__(
        self,
        settings: Settings,
        store: AdapterStore,
        poll_timeout: int = 30,
        menu: Sequence[MenuEntry] = (),
    ) -> None:
        if settings.telegram_token is None:
            raise TelegramError("WIJKBOT_TELEGRAM_TOKEN is not set")
        token = settings.telegram_token.get_secret_value()
        self.settings = settings
        self.store = store
        self.poll_timeout = poll_timeout
        self.menu = tuple(menu)  # Telegram's command menus, in every language
        self.username = ""
        self._stopping = asyncio.Event()
        # Defence in depth: the token never reaches a log line, even in an exception text.
        remember_secret(token, settings.telegram_webhook_secret)
        install_redaction()
        builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = ApplicationBuilder().token(
            token
        )
        if settings.telegram_base_url:
            builder = builder.base_url(settings.telegram_base_url)
            file_url = settings.telegram_base_file_url or settings.telegram_base_url.replace(
                "/bot", "/file/bot"
            )
            builder = builder.base_file_url(file_url)
        if not settings.telegram_webhook_url:
            builder = builder.updater(None)
        self.app: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.bot = self.app.bot
        self._cursor = 0
        self._cursor_key = f"telegram.{token.partition(':')[0]}.update_id"  # per bot, not per token
        self._seen: OrderedDict[int, None] = OrderedDict()
        # An image we uploaded once (a results chart to thousands of chats) is sent again by
        # the file_id Telegram gave it: sha256 of the bytes -> file_id.
        self._uploaded: Bounded[str, str] = Bounded(UPLOADED_KEPT)
        self._uploading = asyncio.Lock()  # sends side by side: one uploads, the others wait

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, feed: Feed) -> None:
        try:
            await self.app.initialize()
        except InvalidToken:
            raise TelegramError("Telegram refused the token (WIJKBOT_TELEGRAM_TOKEN)") from None
        except NetworkError as exc:
            raise TelegramError(
                f"cannot reach the Telegram Bot API: {type(exc).__name__}"
            ) from None
        self.username = self.bot.username
        stored = await self.store.cursor(self._cursor_key, max_age=CURSOR_MAX_AGE)
        self._cursor = int(stored or 0)
        await self._set_commands()
        log.info("telegram: running as @%s", self.username)
        try:
            if self.settings.telegram_webhook_url:
                await self._run_webhook(feed)
            else:
                await self._poll(feed)
        finally:
            await self.app.shutdown()

    async def stop(self) -> None:
        self._stopping.set()

    async def _poll(self, feed: Feed) -> None:
        await self._call(lambda: self.bot.delete_webhook(drop_pending_updates=False))
        backoff = 1.0
        while not self._stopping.is_set():
            try:
                updates = await self.bot.get_updates(
                    offset=self._cursor + 1 if self._cursor else None,
                    timeout=self.poll_timeout,
                    allowed_updates=ALLOWED_UPDATES,
                    read_timeout=self.poll_timeout + 10,
                )
                backoff = 1.0
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc.retry_after))
                continue
            except InvalidToken:
                raise TelegramError("Telegram refused the token (WIJKBOT_TELEGRAM_TOKEN)") from None
            except (NetworkError, TimedOut) as exc:
                log.warning(
                    "telegram: polling failed (%s), retrying in %.0f s", type(exc).__name__, backoff
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 60.0)
                continue
            for update in updates:
                if self._stopping.is_set():
                    return
                await self._handle(update, feed)

    async def _run_webhook(self, feed: Feed) -> None:
        s = self.settings
        secret = s.telegram_webhook_secret.get_secret_value() if s.telegram_webhook_secret else None
        updater = self.app.updater
        assert updater is not None and s.telegram_webhook_url
        queue = await updater.start_webhook(
            listen=s.telegram_webhook_listen,
            port=s.telegram_webhook_port,
            url_path="telegram",
            webhook_url=s.telegram_webhook_url,
            secret_token=secret,
            allowed_updates=ALLOWED_UPDATES,
        )
        try:
            while not self._stopping.is_set():
                try:
                    update = await asyncio.wait_for(queue.get(), timeout=1.0)
                except TimeoutError:
                    continue
                if isinstance(update, Update) and update.update_id not in self._seen:
                    # Webhook deliveries may come in parallel and out of order: remember
                    # what was handled instead of trusting the order of ids.
                    self._seen[update.update_id] = None
                    while len(self._seen) > SEEN_WEBHOOK_UPDATES:
                        self._seen.popitem(last=False)
                    await self._handle(update, feed, ordered=False)
        finally:
            await updater.stop()

    async def _handle(self, update: Update, feed: Feed, ordered: bool = True) -> None:
        """Handle one update once; its id is stored in the same transaction as its effects."""
        if ordered and update.update_id <= self._cursor:
            return  # already handled before a restart
        if update.callback_query is not None:
            # Always answer, also for a stale button, so the client stops its spinner.
            query = update.callback_query
            try:
                await self._call(lambda: query.answer())
            except Exception:
                log.info("telegram: could not answer a callback query")
        msg = update.message
        if msg is not None and msg.migrate_to_chat_id is not None:
            # A group became a supergroup: same group, new id; keep its link.
            await self.store.chat_moved(PLATFORM, str(msg.chat.id), str(msg.migrate_to_chat_id))
        event = to_incoming(update, self.username)
        position = (self._cursor_key, str(max(update.update_id, self._cursor)))
        if event is not None:
            try:
                await feed(replace(event, cursor=position))
            except Exception:
                log.exception("telegram: update %s failed", update.update_id)
        else:
            await self.store.save_cursor(*position)
        self._cursor = max(update.update_id, self._cursor)

    # -- sending -----------------------------------------------------------------------------

    async def _call(self, make: Callable[[], Awaitable[T]], chat_id: str | None = None) -> T:
        """Honour RetryAfter, retry network errors with backoff, turn Forbidden into Unreachable."""
        backoff = 0.5
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return await make()
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc.retry_after))
            except Forbidden as exc:
                await self._mark_unreachable(chat_id)
                raise Unreachable(str(exc)) from None
            except BadRequest as exc:
                if any(h in str(exc).lower() for h in UNREACHABLE_HINTS):
                    await self._mark_unreachable(chat_id)
                    raise Unreachable(str(exc)) from None
                raise
            except (NetworkError, TimedOut):
                if attempt == MAX_ATTEMPTS:
                    raise
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
        raise TimedOut("gave up after repeated RetryAfter")

    async def _mark_unreachable(self, chat_id: str | None) -> None:
        if chat_id is None:
            return
        await self.store.mark_unreachable(PLATFORM, chat_id)

    async def send(self, chat: ChatRef, reply: Reply) -> MessageRef:
        if reply.ends is not None:  # the poll these are the results of: no more vote buttons
            await self._remove_buttons(reply.ends)
        if reply.image is not None:
            return await self._send_image(chat, reply, reply.image)
        if reply.photo is not None and reply.photo.platform == PLATFORM:
            return await self._send_picture(chat, reply, reply.photo.file_id)
        return await self._send_text(chat, reply)

    async def _remove_buttons(self, ref: MessageRef) -> None:
        """Not worth failing the results for: the message may be gone or too old to edit."""

        async def remove() -> Any:
            return await self.bot.edit_message_reply_markup(
                chat_id=int(ref.chat.id), message_id=int(ref.id), reply_markup=None
            )

        try:
            await self._call(remove, ref.chat.id)
        except (BadRequest, ValueError) as exc:
            log.info("telegram: could not remove the buttons of a closed poll: %s", exc)

    async def _send_image(self, chat: ChatRef, reply: Reply, data: bytes) -> MessageRef:
        """Our own image: uploaded the first time, then sent by Telegram's file_id."""
        key = hashlib.sha256(data).hexdigest()
        async with self._uploading:
            known = self._uploaded.get(key)
            if known is None:
                return await self._upload(chat, reply, data, key)
        try:
            return await self._send_picture(chat, reply, known)
        except BadRequest:  # the file_id is no longer valid: upload again
            self._uploaded.pop(key, None)
        return await self._upload(chat, reply, data, key)

    async def _upload(self, chat: ChatRef, reply: Reply, data: bytes, key: str) -> MessageRef:
        ref, sent = await self._send_photo(chat, reply, data)
        if sent.photo:
            self._uploaded[key] = sent.photo[-1].file_id  # the largest size
        return ref

    async def _send_picture(self, chat: ChatRef, reply: Reply, picture: str | bytes) -> MessageRef:
        return (await self._send_photo(chat, reply, picture))[0]

    async def _send_photo(
        self, chat: ChatRef, reply: Reply, picture: str | bytes
    ) -> tuple[MessageRef, Message]:
        """A photo (ours or one Telegram holds); the text as its caption when it fits."""
        fits = len(reply.text) <= MAX_CAPTION

        async def send_photo() -> Message:
            sent: Message = await self.bot.send_photo(
                chat_id=int(chat.id), photo=picture,
                caption=as_html(reply.text) if fits else None, parse_mode="HTML",
                reply_markup=markup(reply) if fits else None,
            )  # fmt: skip
            return sent

        sent = await self._call(send_photo, chat.id)
        if fits:
            return MessageRef(chat, str(sent.message_id)), sent
        return await self._send_text(chat, reply), sent

    async def _send_text(self, chat: ChatRef, reply: Reply) -> MessageRef:
        parts = split_text(reply.text, MAX_MESSAGE)
        last: Message | None = None
        for i, part in enumerate(parts):
            keyboard = markup(reply) if i == len(parts) - 1 else None

            async def send_part(text: str = part, kb: Any = keyboard) -> Message:
                sent: Message = await self.bot.send_message(
                    chat_id=int(chat.id), text=as_html(text), parse_mode="HTML", reply_markup=kb,
                    reply_to_message_id=int(reply.reply_to.id) if reply.reply_to else None,
                )  # fmt: skip
                return sent

            last = await self._call(send_part, chat.id)
        assert last is not None
        return MessageRef(chat, str(last.message_id))

    async def edit(self, ref: MessageRef, reply: Reply) -> None:
        if len(reply.text) > MAX_MESSAGE:
            await self.send(ref.chat, reply)
            return

        async def edit_text() -> object:
            return await self.bot.edit_message_text(
                chat_id=int(ref.chat.id), message_id=int(ref.id), text=as_html(reply.text),
                parse_mode="HTML", reply_markup=markup(reply),
            )  # fmt: skip

        try:
            await self._call(edit_text, ref.chat.id)
        except BadRequest as exc:
            text = str(exc).lower()
            if "not modified" in text:
                return
            if "message to edit not found" in text or "can't be edited" in text:
                await self.send(ref.chat, reply)
                return
            raise

    def direct_link(self, payload: str) -> str | None:
        if not self.username:
            return None
        return f"https://t.me/{self.username}?start={start_payload(payload)}"

    async def download(self, file_id: str) -> bytes:
        """A photo's bytes, fetched only when something needs them (forwarding, export)."""
        file = await self._call(lambda: self.bot.get_file(file_id))
        return bytes(await file.download_as_bytearray())

    async def _set_commands(self) -> None:
        if not self.menu:
            return  # built without a menu (a tool, a test): leave the bot's menus as they are
        for locale in (None, *SUPPORTED_LOCALES):
            with use_locale(locale or self.settings.default_locale):
                private = [BotCommand(e.name, _(e.description)) for e in self.menu]
                group = [BotCommand(e.name, _(e.description)) for e in self.menu if e.in_groups]
            set_private = partial(
                self.bot.set_my_commands, private, scope=BotCommandScopeAllPrivateChats(),
                language_code=locale,
            )  # fmt: skip
            set_group = partial(
                self.bot.set_my_commands, group, scope=BotCommandScopeAllGroupChats(),
                language_code=locale,
            )  # fmt: skip
            await self._call(set_private)
            await self._call(set_group)


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
