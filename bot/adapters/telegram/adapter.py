"""Telegram through python-telegram-bot 22, used as a transport only.

No ConversationHandler, JobQueue or PTB persistence: dialogs, jobs and state belong to
the core. Updates go through the inbox (bot/core/inbox.py): Telegram is told it may
forget an update only once it is kept in the database, and it is handled from there.

Polling is our own loop over `getUpdates`: a batch is kept with the last `update_id` (the
next offset confirms it), then handled. Webhook mode is our own small server (webhook.py),
which answers 200 only once the update is kept. The webhook is set with one connection, so
updates come in order: the next one only after the 200 of the one before.

With several workers on PostgreSQL (`share`), every worker runs the webhook server behind the
operator's load balancer and handles the inbox with the others (bot/core/inbox.py); only the
worker holding the inbound role calls setWebhook and sets the command menus (`lead`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import warnings
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

os.environ.setdefault("PTB_TIMEDELTA", "1")  # RetryAfter.retry_after as a timedelta

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    InputFile,
    Message,
    Update,
)
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ApplicationBuilder
from telegram.warnings import PTBUserWarning

from bot.adapters.telegram import webhook
from bot.adapters.telegram.convert import (
    MAX_CAPTION,
    MAX_MESSAGE,
    PLATFORM,
    as_html,
    keyboard,
    markup,
    split_text,
    start_payload,
    to_incoming,
)
from bot.adapters.telegram.request import AiohttpRequest
from bot.config import SUPPORTED_LOCALES, Settings
from bot.core.commands import MenuEntry
from bot.core.events import ChatRef, Document, MessageRef, Reply
from bot.core.i18n import use_locale
from bot.core.inbox import Inbox
from bot.core.ports import AdapterStore, Feed, Received, Unreachable
from bot.util.bounded import Bounded
from bot.util.logs import install_redaction, remember_secret

log = logging.getLogger(__name__)
T = TypeVar("T")
# `_send_text` calls sendMessage through do_api_request on purpose (see there); PTB warns
# when a method it has a typed version of is called so.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.sendMessage'", category=PTBUserWarning)

# Telegram picks update ids at random again after a week without updates.
CURSOR_MAX_AGE = timedelta(days=6)
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member", "poll_answer"]
MAX_ATTEMPTS = 6
UPLOADED_KEPT = 64  # file_ids of images we uploaded, newest kept
REQUEST_POOL = 256  # connections for sends and other calls (PTB's default for an application)
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
        self.rate_limited = 0  # how often Telegram answered 429 (read by /metrics)
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
        builder = builder.updater(None)  # polling and the webhook server are ours
        # aiohttp rather than PTB's default httpx: a third of the CPU per request (request.py).
        builder = builder.request(AiohttpRequest(REQUEST_POOL)).get_updates_request(
            AiohttpRequest(1)
        )
        self.app: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.bot = self.app.bot
        self._cursor = 0
        bot_id = token.partition(":")[0]  # per bot, not per token
        self._cursor_key = f"telegram.{bot_id}.update_id"
        self._source = f"telegram.{bot_id}"
        # An image we uploaded once (a results chart to thousands of chats) is sent again by
        # the file_id Telegram gave it: sha256 of the bytes -> file_id.
        self._uploaded: Bounded[str, str] = Bounded(UPLOADED_KEPT)
        self._uploading = asyncio.Lock()  # sends side by side: one uploads, the others wait
        self._poll_backoff = 1.0
        self.shared = False  # every worker receives (webhook) and handles the inbox together
        self._listening = asyncio.Event()  # the webhook server takes requests

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
        if not self.shared:
            await self._set_commands()
        log.info("telegram: running as @%s", self.username)
        inbox = Inbox(self.store, self._source, feed, self._stopping, shared=self.shared)
        try:
            if self.settings.telegram_webhook_url:
                await self._run_webhook(inbox)
            else:
                await self._poll(inbox)
        finally:
            await self.app.shutdown()

    async def stop(self) -> None:
        self._stopping.set()

    def share(self) -> bool:
        """Run as one of several workers that all receive: True in webhook mode (then `lead`
        is for the one worker holding the inbound role); False for polling (one worker)."""
        self.shared = bool(self.settings.telegram_webhook_url)
        return self.shared

    async def lead(self) -> None:
        """What one worker does for all, once this one listens: the command menus, and the
        webhook at Telegram. The next worker to hold the role does it again (harmless: the
        same URL and secret), so a changed URL or secret takes effect at a rolling restart."""
        await self._listening.wait()
        await self._set_commands()
        await self._set_webhook()

    async def _poll(self, inbox: Inbox) -> None:
        """Handle what the inbox holds, fetch more, keep it (which confirms it), and again."""
        await self._call(lambda: self.bot.delete_webhook(drop_pending_updates=False))
        while await inbox.handle_or_stop():
            updates = await self._get_updates()
            if not updates:
                continue
            last = max(u.update_id for u in updates)
            kept = await inbox.retrying(
                partial(self._keep, updates, inbox, (self._cursor_key, str(last))),
                f"{len(updates)} updates wait at Telegram",
            )
            if not kept:
                return  # stopping: Telegram still has them
            self._cursor = max(self._cursor, last)
            await self._answer_buttons(updates)

    async def _get_updates(self) -> list[Update]:
        """The next updates after the cursor; [] after a network error (and a pause)."""
        try:
            updates = await self.bot.get_updates(
                offset=self._cursor + 1 if self._cursor else None,
                timeout=self.poll_timeout,
                allowed_updates=ALLOWED_UPDATES,
                read_timeout=self.poll_timeout + 10,
            )
        except RetryAfter as exc:
            self.rate_limited += 1
            await asyncio.sleep(_seconds(exc.retry_after))
            return []
        except InvalidToken:
            raise TelegramError("Telegram refused the token (WIJKBOT_TELEGRAM_TOKEN)") from None
        except (NetworkError, TimedOut) as exc:
            log.warning(
                "telegram: polling failed (%s), retrying in %.0f s", type(exc).__name__,
                self._poll_backoff,
            )  # fmt: skip
            await asyncio.sleep(self._poll_backoff)
            self._poll_backoff = min(self._poll_backoff * 2, 60.0)
            return []
        self._poll_backoff = 1.0
        return list(updates)

    async def _run_webhook(self, inbox: Inbox) -> None:
        async with webhook.listening(self.settings, self.bot, partial(self._receive, inbox)):
            self._listening.set()
            if not self.shared:
                await self._set_webhook()
            while await inbox.handle_or_stop():
                await inbox.arrival()

    async def _set_webhook(self) -> None:
        s = self.settings
        assert s.telegram_webhook_url and s.telegram_webhook_secret
        url, secret = s.telegram_webhook_url, s.telegram_webhook_secret.get_secret_value()
        await self._call(
            lambda: self.bot.set_webhook(
                url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, max_connections=1
            )
        )
        log.info("telegram: webhook set")

    async def _receive(self, inbox: Inbox, update: Update) -> None:
        """A webhook's update: kept (StoreUnavailable if it cannot be), a button answered."""
        await self._keep([update], inbox)
        await self._answer_buttons([update])

    async def _keep(
        self, updates: Sequence[Update], inbox: Inbox, cursor: tuple[str, str] | None = None
    ) -> None:
        """Keep the updates in the inbox (with the polling cursor); StoreUnavailable if not."""
        received: list[Received] = []
        for update in updates:
            msg = update.message
            if msg is not None and msg.migrate_to_chat_id is not None:
                # A group became a supergroup: same group, new id; keep its link.
                await self.store.chat_moved(PLATFORM, str(msg.chat.id), str(msg.migrate_to_chat_id))
            event = to_incoming(update, self.username)
            if event is not None:
                received.append((str(update.update_id), event))
        await inbox.keep(received, cursor)

    async def _answer_buttons(self, updates: Sequence[Update]) -> None:
        """Always answer a button press, also a stale one, so the client stops its spinner."""
        for update in updates:
            query = update.callback_query
            if query is None:
                continue
            try:
                await self._call(query.answer)
            except Exception:
                log.info("telegram: could not answer a callback query")

    # -- sending -----------------------------------------------------------------------------

    async def _call(self, make: Callable[[], Awaitable[T]], chat_id: str | None = None) -> T:
        """Honour RetryAfter, retry network errors with backoff, turn Forbidden into Unreachable."""
        backoff = 0.5
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return await make()
            except RetryAfter as exc:
                self.rate_limited += 1
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
        if reply.document is not None:
            return await self._send_document(chat, reply, reply.document)
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

    async def _send_document(self, chat: ChatRef, reply: Reply, doc: Document) -> MessageRef:
        """A file to download (sendDocument); the text as its caption when it fits."""
        fits = len(reply.text) <= MAX_CAPTION

        async def send_document() -> Message:
            sent: Message = await self.bot.send_document(
                chat_id=int(chat.id), document=InputFile(doc.data, filename=doc.name),
                caption=as_html(reply.text) if fits else None, parse_mode="HTML",
                reply_markup=markup(reply) if fits else None,
            )  # fmt: skip
            return sent

        sent = await self._call(send_document, chat.id)
        if fits:
            return MessageRef(chat, str(sent.message_id))
        return await self._send_text(chat, reply)

    async def _send_text(self, chat: ChatRef, reply: Reply) -> MessageRef:
        """Text (in parts when long), the buttons under the last part.

        The hot path of a broadcast: plain JSON in and out (`do_api_request`), no
        python-telegram-bot objects made for the keyboard or the answer; they were 40 % of a
        broadcast's CPU. Errors are PTB's as with its typed methods (`_call` handles them).
        """
        parts = split_text(reply.text, MAX_MESSAGE)
        sent: Any = None
        for i, part in enumerate(parts):
            payload: dict[str, Any] = {
                "chat_id": int(chat.id), "text": as_html(part), "parse_mode": "HTML",
            }  # fmt: skip
            buttons = keyboard(reply) if i == len(parts) - 1 else None
            if buttons is not None:
                payload["reply_markup"] = buttons
            if reply.reply_to is not None:
                payload["reply_parameters"] = {"message_id": int(reply.reply_to.id)}
            sent = await self._call(partial(self._api, "sendMessage", payload), chat.id)
        return MessageRef(chat, str(sent["message_id"]))

    async def _api(self, method: str, payload: dict[str, Any]) -> Any:
        return await self.bot.do_api_request(method, api_kwargs=payload)

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

    async def group_invite(
        self, group_id: str, user_id: str, expires: datetime | None = None
    ) -> str | None:
        """A new invite link into the group for one person (`member_limit=1`), ending at
        `expires`: the bot must be an administrator allowed to invite there. `user_id` is not
        needed on Telegram."""
        try:
            link = await self._call(
                lambda: self.bot.create_chat_invite_link(
                    int(group_id), member_limit=1, expire_date=expires
                ),
                group_id,
            )
        except (BadRequest, Unreachable, ValueError) as exc:
            log.info("telegram: no invite link for a group: %s", exc)
            return None
        return str(link.invite_link)

    async def download(self, file_id: str) -> bytes:
        """A photo's bytes, fetched only when something needs them (forwarding, export)."""
        file = await self._call(lambda: self.bot.get_file(file_id))
        return bytes(await file.download_as_bytearray())

    async def _set_commands(self) -> None:
        if not self.menu:
            return  # built without a menu (a tool, a test): leave the bot's menus as they are
        for locale in (None, *SUPPORTED_LOCALES):
            with use_locale(locale or self.settings.default_locale):
                private = [BotCommand(e.shown(), e.what()) for e in self.menu]
                group = [BotCommand(e.shown(), e.what()) for e in self.menu if e.in_groups]
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
