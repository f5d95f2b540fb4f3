"""Bot API methods of the stand-in: updates, webhooks, sending and editing messages."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator, Mapping
from typing import Any

from .telegram_format import EntityParseError, format_text
from .telegram_params import Params
from .telegram_records import (
    BotApiError,
    JSONDict,
    SentRecord,
    StoredMessage,
    TgChat,
    TgUser,
    Upload,
    bad_request,
    image_info,
    json_copy,
)
from .telegram_state import TelegramWorld


class _ApiUsers(Mapping[int, JSONDict]):
    """The known users as the Bot API shows them, each made when looked up (a mention).

    Made whole for every message, the 10,000 users of a broadcast benchmark cost the
    stand-in 7 ms a message, more than the bot spent sending it.
    """

    def __init__(self, users: Mapping[int, TgUser]) -> None:
        self._users = users

    def __getitem__(self, user_id: int) -> JSONDict:
        return self._users[user_id].to_api()

    def __iter__(self) -> Iterator[int]:
        return iter(self._users)

    def __len__(self) -> int:
        return len(self._users)


__all__ = ["SEND_METHODS", "MessageMethods"]

MAX_TEXT = 4096
MAX_CAPTION = 1024
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
SEND_METHODS = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "senddocument",
        "sendlocation",
        "sendpoll",
        "copymessage",
        "forwardmessage",
    }
)


class MessageMethods(TelegramWorld):
    """getUpdates, webhooks, send*, edit* and deleteMessage over the world state."""

    _poll_generation = 0
    _waiting_polls = 0
    _closing = False

    @property
    def polling(self) -> bool:
        """True while a getUpdates long poll is waiting for updates."""
        return self._waiting_polls > 0

    async def wait_until_polling(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has a getUpdates long poll pending."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not self.polling:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"no getUpdates long poll within {timeout}s")
            await asyncio.sleep(0.005)

    # ------------------------------------------------------------------ helpers

    def _resolve_chat(self, value: Any, *, for_sending: bool = True) -> TgChat:
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        chat: TgChat | None = None
        if isinstance(value, str) and value.startswith("@"):
            chat = next(
                (c for c in self._chats.values() if c.username and f"@{c.username}" == value),
                None,
            )
        else:
            try:
                chat = self._chats.get(int(value))
            except (TypeError, ValueError):
                chat = None
        if chat is None:
            user = self._users.get(value) if isinstance(value, int) else None
            if for_sending and user is not None and not user.is_bot:
                # a known user who never opened a private chat with the bot
                raise BotApiError(403, "Forbidden: bot can't initiate conversation with a user")
            raise bad_request("chat not found")
        if for_sending:
            self._check_can_write(chat)
        return chat

    def _check_can_write(self, chat: TgChat) -> None:
        if chat.type == "private":
            if chat.id in self._blocked_by:
                raise BotApiError(403, "Forbidden: bot was blocked by the user")
            user = self._users.get(chat.id)
            if user is not None and user.is_bot:
                raise BotApiError(403, "Forbidden: bot can't send messages to bots")
            return
        status = self.bot_status(chat)
        kind = "supergroup chat" if chat.type == "supergroup" else "group chat"
        if status == "kicked":
            raise BotApiError(403, f"Forbidden: bot was kicked from the {kind}")
        if status == "left":
            raise BotApiError(403, f"Forbidden: bot is not a member of the {kind}")

    def _known_users(self) -> Mapping[int, JSONDict]:
        return _ApiUsers(self._users)

    def _formatted(
        self, p: Params, text_field: str, mode_field: str, entities_field: str
    ) -> tuple[str, list[JSONDict]]:
        text = p.get_str(text_field) or ""
        mode = p.get_str(mode_field)
        entities = p.get_json(entities_field)
        try:
            formatted = format_text(text, mode, entities, self._known_users())
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
        except ValueError:
            raise bad_request("unsupported parse_mode") from None
        return formatted.text, formatted.entities

    def _reply_markup(self, p: Params) -> tuple[JSONDict | None, JSONDict | None]:
        """(markup as sent, markup to store on the message: inline keyboards only)."""
        markup = p.get_json("reply_markup")
        if markup is None:
            return None, None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request(
                    'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
                )
            for row in rows:
                for button in row:
                    self._check_inline_button(button)
            cleaned = [row for row in rows if row]
            return markup, ({"inline_keyboard": cleaned} if cleaned else None)
        if "keyboard" in markup or "remove_keyboard" in markup or "force_reply" in markup:
            return markup, None
        raise bad_request("can't parse reply keyboard markup JSON object")

    @staticmethod
    def _check_inline_button(button: Any) -> None:
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise bad_request("can't parse inline keyboard button: Text is not specified")
        actions = [key for key in INLINE_BUTTON_ACTIONS if key in button]
        if not actions:
            raise bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed in the "
                "inline keyboard"
            )
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                raise bad_request("BUTTON_DATA_INVALID")
        if "url" in button:
            url = button["url"]
            if not isinstance(url, str) or not re.match(r"^(https?|tg)://\S+$", url):
                raise bad_request("BUTTON_URL_INVALID")

    def _reply_target(self, p: Params, chat: TgChat) -> StoredMessage | None:
        params = p.get_json("reply_parameters")
        if params is None and p.get_int("reply_to_message_id") is not None:
            params = {
                "message_id": p.get_int("reply_to_message_id"),
                "allow_sending_without_reply": p.get_bool("allow_sending_without_reply"),
            }
        if params is None:
            return None
        if not isinstance(params, dict) or "message_id" not in params:
            raise bad_request("can't parse reply parameters JSON object")
        target_chat = chat
        if params.get("chat_id") not in (None, chat.id):
            target_chat = self._resolve_chat(params["chat_id"], for_sending=False)
        target = self._find_message(target_chat.id, int(params["message_id"]))
        if target is None:
            if params.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return target

    def _send(
        self,
        method: str,
        p: Params,
        chat: TgChat,
        content: JSONDict,
        sent_text: str,
        parse_mode: str | None,
    ) -> JSONDict:
        markup_sent, markup_stored = self._reply_markup(p)
        target = self._reply_target(p, chat)
        if markup_stored is not None:
            content["reply_markup"] = markup_stored
        if p.get_bool("protect_content"):
            content["has_protected_content"] = True
        stored = self._store_message(
            chat, self.bot_user.to_api(), content, from_bot=True, reply_to=target
        )
        result = json_copy(stored.data)
        self._record_sent(
            SentRecord(
                method=method,
                chat_id=chat.id,
                message_id=stored.message_id,
                text=sent_text,
                parse_mode=parse_mode,
                reply_markup=markup_sent,
                message=result,
                params=json_copy(p.values),
            )
        )
        return result

    def _bot_message(self, p: Params, *, not_found: str) -> tuple[TgChat, StoredMessage]:
        if p.get("inline_message_id") is not None:
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._resolve_chat(p.get("chat_id"))
        message_id = p.get_int("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        stored = self._find_message(chat.id, message_id)
        if stored is None:
            raise bad_request(not_found)
        return chat, stored

    def _record_edit(self, method: str, p: Params, stored: StoredMessage, text: str) -> JSONDict:
        result = json_copy(stored.data)
        markup = p.get_json("reply_markup")
        self._record_sent(
            SentRecord(
                method=method,
                chat_id=stored.chat_id,
                message_id=stored.message_id,
                text=text,
                parse_mode=p.get_str("parse_mode"),
                reply_markup=markup if isinstance(markup, dict) else None,
                message=result,
                params=json_copy(p.values),
            )
        )
        return result

    # ------------------------------------------------------------------ bot and updates

    async def m_getMe(self, p: Params) -> JSONDict:
        data = self.bot_user.to_api()
        data.update(
            can_join_groups=self.can_join_groups,
            can_read_all_group_messages=not self.privacy_mode,
            supports_inline_queries=False,
            can_connect_to_business=False,
            has_main_web_app=False,
            has_topics_enabled=False,
            allows_users_to_create_topics=False,
        )
        return data

    async def m_getUpdates(self, p: Params) -> list[JSONDict]:
        if self._webhook is not None:
            raise BotApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = p.get_int("offset", 0) or 0
        limit = min(max(p.get_int("limit", 100) or 100, 1), 100)
        timeout = max(p.get_float("timeout", 0.0) or 0.0, 0.0)
        allowed = p.get_json("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(a) for a in allowed]
        self._confirm_updates(offset)
        # A new getUpdates request terminates a pending one, like on the real server.
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_changed.set()
        self._updates_changed = asyncio.Event()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise BotApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )
            if self._updates or self._closing:
                return json_copy(self._updates[:limit])
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            event = self._updates_changed
            self._waiting_polls += 1
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
            finally:
                self._waiting_polls -= 1

    async def m_setWebhook(self, p: Params) -> bool:
        url = p.get_str("url") or ""
        if not url:
            self._webhook = None
            return True
        if not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        allowed = p.get_json("allowed_updates")
        self._webhook = {
            "url": url,
            "max_connections": p.get_int("max_connections", 40),
            "allowed_updates": allowed if isinstance(allowed, list) else None,
            "secret_token": p.get_str("secret_token"),
        }
        if p.get_bool("drop_pending_updates"):
            self._updates.clear()
        return True

    async def m_deleteWebhook(self, p: Params) -> bool:
        self._webhook = None
        if p.get_bool("drop_pending_updates"):
            self._updates.clear()
        return True

    # ------------------------------------------------------------------ sending

    async def m_sendMessage(self, p: Params) -> JSONDict:
        chat = self._resolve_chat(p.get("chat_id"))
        raw = p.get_str("text") or ""
        if not raw.strip():
            raise bad_request("message text is empty")
        text, entities = self._formatted(p, "text", "parse_mode", "entities")
        if not text:
            raise bad_request("message text is empty")
        if len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        content: JSONDict = {"text": text}
        if entities:
            content["entities"] = entities
        preview = p.get_json("link_preview_options")
        if isinstance(preview, dict) and preview:
            content["link_preview_options"] = preview
        return self._send("sendMessage", p, chat, content, raw, p.get_str("parse_mode"))

    def _caption(self, p: Params, content: JSONDict) -> str:
        raw = p.get_str("caption") or ""
        if raw:
            caption, entities = self._formatted(p, "caption", "parse_mode", "caption_entities")
            if len(caption) > MAX_CAPTION:
                raise bad_request("message caption is too long")
            if caption:
                content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        return raw

    async def m_sendPhoto(self, p: Params) -> JSONDict:
        chat = self._resolve_chat(p.get("chat_id"))
        photo = p.input_file("photo")
        if photo is None:
            raise bad_request("there is no photo in the request")
        if isinstance(photo, Upload):
            info = image_info(photo.data)
            if info is None:
                raise bad_request("IMAGE_PROCESS_FAILED")
            sizes = self._store_photo(photo.data, info[1], info[2])
        elif photo in self._photo_sets:
            sizes = json_copy(self._photo_sets[photo])
        elif photo.startswith(("http://", "https://")):
            # Never fetched (tests must not reach the network); a stock photo stands in.
            sizes = self._store_photo(b"", 1280, 960)
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        content: JSONDict = {"photo": sizes}
        raw = self._caption(p, content)
        if p.get_bool("has_spoiler"):
            content["has_media_spoiler"] = True
        return self._send("sendPhoto", p, chat, content, raw, p.get_str("parse_mode"))

    async def m_sendDocument(self, p: Params) -> JSONDict:
        chat = self._resolve_chat(p.get("chat_id"))
        document = p.input_file("document")
        if document is None:
            raise bad_request("there is no document in the request")
        if not isinstance(document, Upload):
            stored_file = self._files.get(document)
            if stored_file is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            name, data, mime = stored_file.file_path.rpartition("/")[2], stored_file.data, None
        else:
            name, data, mime = document.filename or "document", document.data, document.content_type
        if not data:
            raise bad_request("file must be non-empty")
        stored_file = self._store_file(
            data, "documents", name.rpartition(".")[2], mime or "application/octet-stream"
        )
        content: JSONDict = {
            "document": {
                "file_id": stored_file.file_id,
                "file_unique_id": stored_file.file_unique_id,
                "file_name": name,
                "mime_type": stored_file.mime_type,
                "file_size": len(data),
            }
        }
        raw = self._caption(p, content)
        return self._send("sendDocument", p, chat, content, raw, p.get_str("parse_mode"))

    # ------------------------------------------------------------------ editing

    async def m_editMessageText(self, p: Params) -> JSONDict:
        _, stored = self._bot_message(p, not_found="message to edit not found")
        if not stored.from_bot:
            raise bad_request("message can't be edited")
        if "text" not in stored.data:
            raise bad_request("there is no text in the message to edit")
        raw = p.get_str("text") or ""
        if not raw.strip():
            raise bad_request("message text is empty")
        text, entities = self._formatted(p, "text", "parse_mode", "entities")
        if not text:
            raise bad_request("message text is empty")
        if len(text) > MAX_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
        _, markup = self._reply_markup(p)
        current = (
            stored.data.get("text"),
            stored.data.get("entities", []),
            stored.data.get("reply_markup"),
        )
        if current == (text, entities, markup):
            raise bad_request(NOT_MODIFIED)
        stored.data["text"] = text
        stored.data.pop("entities", None)
        if entities:
            stored.data["entities"] = entities
        self._apply_markup(stored, markup)
        return self._record_edit("editMessageText", p, stored, raw)

    async def m_editMessageReplyMarkup(self, p: Params) -> JSONDict:
        _, stored = self._bot_message(p, not_found="message to edit not found")
        if not stored.from_bot:
            raise bad_request("message can't be edited")
        _, markup = self._reply_markup(p)
        if stored.data.get("reply_markup") == markup:
            raise bad_request(NOT_MODIFIED)
        self._apply_markup(stored, markup)
        text = str(stored.data.get("text", stored.data.get("caption", "")))
        return self._record_edit("editMessageReplyMarkup", p, stored, text)

    def _apply_markup(self, stored: StoredMessage, markup: JSONDict | None) -> None:
        stored.data.pop("reply_markup", None)
        if markup is not None:
            stored.data["reply_markup"] = markup
        stored.data["edit_date"] = self._now()
