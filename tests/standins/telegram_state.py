"""The in-memory Telegram world behind the Bot API stand-in, and its control API.

Tests act as users through the coroutine helpers here (``send_text``, ``press_button``,
``answer_poll`` ...), each of which injects the update real Telegram would deliver, and
read what the bot did through ``sent``, ``messages_in``, ``wait_for_sent`` and friends.
Everything runs on the event loop of the test; nothing here is thread-safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from .telegram_format import detect_entities
from .telegram_records import (
    BotApiError,
    CallbackAnswer,
    FloodLimiter,
    FloodLimits,
    InjectedFailure,
    JSONDict,
    RequestRecord,
    SentRecord,
    StoredFile,
    StoredMessage,
    TgChat,
    TgUser,
    json_copy,
    tiny_png,
)

__all__ = ["DEFAULT_TOKEN", "TelegramWorld"]

DEFAULT_TOKEN = "5432109876:AAHwijkbot-standin_TEST_token_0123456789"

# Delivered when allowed_updates was never set or set to [] (Bot API default).
_DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_SERVICE_KEYS = frozenset(
    {
        "new_chat_members",
        "left_chat_member",
        "new_chat_title",
        "new_chat_photo",
        "delete_chat_photo",
        "group_chat_created",
        "supergroup_chat_created",
        "migrate_to_chat_id",
        "migrate_from_chat_id",
        "pinned_message",
    }
)
_ADMIN_RIGHTS: JSONDict = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
    "can_manage_topics": False,
}
_RESTRICTED_RIGHTS: JSONDict = {
    "is_member": True,
    "can_send_messages": False,
    "can_send_audios": False,
    "can_send_documents": False,
    "can_send_photos": False,
    "can_send_videos": False,
    "can_send_video_notes": False,
    "can_send_voice_notes": False,
    "can_send_polls": False,
    "can_send_other_messages": False,
    "can_add_web_page_previews": False,
    "can_change_info": False,
    "can_invite_users": False,
    "can_pin_messages": False,
    "can_manage_topics": False,
    "can_edit_tag": False,
    "until_date": 0,
}
MEMBER_STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")

MessageRef = StoredMessage | SentRecord


def member_dict(user: JSONDict, status: str, **extra: Any) -> JSONDict:
    """A Bot API ChatMember object for ``status`` with sensible default rights."""
    if status not in MEMBER_STATUSES:
        raise ValueError(f"unknown chat member status {status!r}")
    data: JSONDict = {"status": status, "user": user}
    if status == "creator":
        data["is_anonymous"] = False
    elif status == "administrator":
        data.update(_ADMIN_RIGHTS)
    elif status == "restricted":
        data.update(_RESTRICTED_RIGHTS)
    elif status == "kicked":
        data["until_date"] = 0
    data.update(extra)
    return data


class TelegramWorld:
    """Users, chats, messages, files and the update queue of one fake bot."""

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
    ) -> None:
        bot_id_text = token.split(":", 1)[0]
        if not bot_id_text.isdigit():
            raise ValueError("token must look like '<bot id>:<secret>'")
        self.token = token
        self.privacy_mode = privacy_mode
        self.can_join_groups = can_join_groups
        self.emit_poll_updates = emit_poll_updates
        self.clock = clock
        self.wall_clock = wall_clock
        self.bot_user = TgUser(
            int(bot_id_text), bot_first_name, bot_username, language_code=None, is_bot=True
        )
        self._users: dict[int, TgUser] = {self.bot_user.id: self.bot_user}
        self._chats: dict[int, TgChat] = {}
        self._members: dict[int, dict[int, JSONDict]] = {}
        self._blocked_by: set[int] = set()
        # invite link -> (chat id, the ChatInviteLink, ids of users who joined with it)
        self._invite_links: dict[str, tuple[int, JSONDict, list[int]]] = {}
        self._messages: dict[int, dict[int, StoredMessage]] = {}
        self._next_message_id: dict[int, int] = {}
        self._updates: list[JSONDict] = []
        self._next_update_id = 700_000_001
        self._allowed_updates: list[str] | None = None
        self._updates_changed = asyncio.Event()
        self._sent: list[SentRecord] = []
        self._sent_cursor = 0
        self._sent_changed = asyncio.Event()
        self._callback_queries: dict[str, tuple[JSONDict, bool]] = {}
        self._callback_answers: list[CallbackAnswer] = []
        self._next_callback_id = 4_000_000_000_000_000_001
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._menu_buttons: dict[int | None, JSONDict] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._photo_sets: dict[str, list[JSONDict]] = {}
        self._file_seq = 0
        self._polls: dict[str, tuple[int, int]] = {}
        self._poll_votes: dict[str, dict[int, list[int]]] = {}
        self._next_poll_id = 5_800_000_000_000_000_001
        self._webhook: JSONDict | None = None
        self._failures: list[InjectedFailure] = []
        self._limiter: FloodLimiter | None = None
        self._request_log: list[RequestRecord] = []
        self._request_counts: Counter[str] = Counter()
        self._requests_changed = asyncio.Event()
        self.server_errors: list[str] = []
        """Tracebacks of requests the stand-in itself failed on (HTTP 500); should stay []."""

    # ------------------------------------------------------------------ people and chats

    def user(
        self,
        id: int,
        first_name: str,
        username: str | None = None,
        language_code: str | None = "nl",
        *,
        last_name: str | None = None,
    ) -> TgUser:
        """Register (or replace) a human user."""
        if id <= 0:
            raise ValueError("user ids are positive")
        user = TgUser(id, first_name, username, language_code, last_name)
        self._users[id] = user
        return user

    def private_chat(self, user: TgUser) -> TgChat:
        """The user's private chat with the bot (the user has pressed Start)."""
        chat = TgChat(
            user.id,
            "private",
            username=user.username,
            first_name=user.first_name,
            last_name=user.last_name,
        )
        self._users.setdefault(user.id, user)
        self._chats[chat.id] = chat
        members = self._members.setdefault(chat.id, {})
        members[user.id] = member_dict(user.to_api(), "member")
        members.setdefault(self.bot_user.id, member_dict(self.bot_user.to_api(), "member"))
        return chat

    def group(
        self,
        id: int,
        title: str,
        type: str = "supergroup",
        *,
        username: str | None = None,
        creator: TgUser | None = None,
    ) -> TgChat:
        """A group or supergroup (ids are negative; supergroups look like -100xxxxxxxxxx).

        The bot is not a member until :meth:`add_bot_to_group`.
        """
        if type not in ("group", "supergroup"):
            raise ValueError("type must be 'group' or 'supergroup'")
        if id >= 0:
            raise ValueError("group chat ids are negative")
        chat = TgChat(id, type, title=title, username=username)
        self._chats[id] = chat
        self._members.setdefault(id, {})
        if creator is not None:
            self._members[id][creator.id] = member_dict(creator.to_api(), "creator")
        return chat

    def member_status(self, chat: TgChat | int, user: TgUser | int) -> str:
        chat_id = chat if isinstance(chat, int) else chat.id
        user_id = user if isinstance(user, int) else user.id
        member = self._members.get(chat_id, {}).get(user_id)
        return str(member["status"]) if member else "left"

    def bot_status(self, chat: TgChat | int) -> str:
        return self.member_status(chat, self.bot_user.id)

    # ------------------------------------------------------------------ updates

    def _now(self) -> int:
        return int(self.wall_clock())

    def _update_allowed(self, kind: str) -> bool:
        if self._webhook is not None and self._webhook.get("allowed_updates"):
            return kind in self._webhook["allowed_updates"]
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in _DEFAULT_EXCLUDED

    def _enqueue(self, kind: str, payload: JSONDict) -> int | None:
        """Queue an update for the bot; returns its update_id (None if filtered out)."""
        if not self._update_allowed(kind):
            return None
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, kind: json_copy(payload)})
        self._updates_changed.set()
        self._updates_changed = asyncio.Event()
        return update_id

    async def inject_update(self, kind: str, payload: JSONDict) -> int | None:
        """Queue a raw update of any type (escape hatch for updates without a helper)."""
        return self._enqueue(kind, payload)

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates queued and not yet confirmed by a getUpdates offset."""
        return json_copy(self._updates)

    def _confirm_updates(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    # ------------------------------------------------------------------ messages

    def _store_message(
        self,
        chat: TgChat,
        sender: JSONDict | None,
        content: JSONDict,
        *,
        from_bot: bool,
        reply_to: StoredMessage | None = None,
    ) -> StoredMessage:
        message_id = self._next_message_id.get(chat.id, 1)
        self._next_message_id[chat.id] = message_id + 1
        data: JSONDict = {"message_id": message_id}
        if sender is not None:
            data["from"] = sender
        data["chat"] = chat.to_api()
        data["date"] = self._now()
        if reply_to is not None:
            nested = json_copy(reply_to.data)
            nested.pop("reply_to_message", None)
            data["reply_to_message"] = nested
        data.update(content)
        stored = StoredMessage(chat.id, message_id, data, from_bot)
        self._messages.setdefault(chat.id, {})[message_id] = stored
        return stored

    def _find_message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        return self._messages.get(chat_id, {}).get(message_id)

    def _resolve_ref(self, message: MessageRef) -> StoredMessage:
        stored = self._find_message(message.chat_id, message.message_id)
        if stored is None:
            raise ValueError(f"message {message.message_id} in chat {message.chat_id} is gone")
        return stored

    def messages_in(self, chat: TgChat | int) -> list[StoredMessage]:
        """Every message (users' and bot's) currently in the chat, oldest first."""
        chat_id = chat if isinstance(chat, int) else chat.id
        return list(self._messages.get(chat_id, {}).values())

    def _bot_receives(self, chat: TgChat, data: JSONDict) -> bool:
        if chat.type == "private":
            return True
        if self.bot_status(chat) not in ("creator", "administrator", "member", "restricted"):
            return False
        if not self.privacy_mode or self.bot_status(chat) in ("creator", "administrator"):
            return True
        if _SERVICE_KEYS & data.keys():
            return True
        reply = data.get("reply_to_message")
        if reply and reply.get("from", {}).get("id") == self.bot_user.id:
            return True
        text = str(data.get("text") or data.get("caption") or "")
        entities: list[JSONDict] = data.get("entities") or data.get("caption_entities") or []
        units = text.encode("utf-16-le")
        me = f"@{self.bot_user.username}".lower()
        for entity in entities:
            if entity["type"] != "bot_command":
                continue
            start, end = entity["offset"] * 2, (entity["offset"] + entity["length"]) * 2
            command = units[start:end].decode("utf-16-le").lower()
            if command.endswith(me) or (entity["offset"] == 0 and "@" not in command):
                return True
        return False

    def _user_message(
        self,
        user: TgUser,
        chat: TgChat,
        content: JSONDict,
        reply_to: MessageRef | None = None,
    ) -> StoredMessage:
        if chat.id not in self._chats:
            raise ValueError(f"unknown chat {chat.id}; create it with private_chat()/group()")
        self._users.setdefault(user.id, user)
        if chat.type == "private":
            if chat.id != user.id:
                raise ValueError("only the chat's own user can write in a private chat")
            if user.id in self._blocked_by:
                self._unblock(user)
        elif self.member_status(chat, user) in ("left", "kicked"):
            if self.member_status(chat, user) == "kicked":
                raise ValueError(f"user {user.id} is banned from chat {chat.id}")
            self._members[chat.id][user.id] = member_dict(user.to_api(), "member")
        target = self._resolve_ref(reply_to) if reply_to is not None else None
        stored = self._store_message(chat, user.to_api(), content, from_bot=False, reply_to=target)
        if self._bot_receives(chat, stored.data):
            stored.update_id = self._enqueue("message", stored.data)
        return stored

    async def send_text(
        self,
        user: TgUser,
        chat: TgChat,
        text: str,
        *,
        reply_to: MessageRef | None = None,
        entities: list[JSONDict] | None = None,
    ) -> StoredMessage:
        """The user writes ``text``; bot_command/mention/hashtag/url entities are added."""
        if not text.strip() or len(text) > 4096:
            raise ValueError("a Telegram message text has 1-4096 characters")
        content: JSONDict = {"text": text}
        found = detect_entities(text) if entities is None else entities
        if found:
            content["entities"] = found
        return self._user_message(user, chat, content, reply_to)

    async def send_location(
        self,
        user: TgUser,
        chat: TgChat,
        latitude: float,
        longitude: float,
        *,
        horizontal_accuracy: float | None = None,
        live_period: int | None = None,
        reply_to: MessageRef | None = None,
    ) -> StoredMessage:
        """The user shares a (live) location."""
        location: JSONDict = {"latitude": latitude, "longitude": longitude}
        if horizontal_accuracy is not None:
            location["horizontal_accuracy"] = horizontal_accuracy
        if live_period is not None:
            location["live_period"] = live_period
        return self._user_message(user, chat, {"location": location}, reply_to)

    async def send_photo(
        self,
        user: TgUser,
        chat: TgChat,
        caption: str | None = None,
        *,
        data: bytes | None = None,
        width: int = 1600,
        height: int = 1200,
        reply_to: MessageRef | None = None,
    ) -> StoredMessage:
        """The user sends a photo; several PhotoSizes are created, all downloadable."""
        sizes = self._store_photo(data if data is not None else tiny_png(4, 3), width, height)
        content: JSONDict = {"photo": sizes}
        if caption:
            content["caption"] = caption
            found = detect_entities(caption)
            if found:
                content["caption_entities"] = found
        return self._user_message(user, chat, content, reply_to)

    async def edit_text(self, user: TgUser, message: MessageRef, text: str) -> StoredMessage:
        """The user edits one of their text messages (``edited_message`` update)."""
        stored = self._resolve_ref(message)
        if stored.data.get("from", {}).get("id") != user.id or "text" not in stored.data:
            raise ValueError("users can only edit their own text messages")
        stored.data["text"] = text
        stored.data.pop("entities", None)
        found = detect_entities(text)
        if found:
            stored.data["entities"] = found
        stored.data["edit_date"] = self._now()
        chat = self._chats[stored.chat_id]
        if self._bot_receives(chat, stored.data):
            self._enqueue("edited_message", stored.data)
        return stored

    def _chat_instance(self, chat_id: int) -> str:
        return str((chat_id * 2_654_435_761 + self.bot_user.id) % 9_000_000_000_000_000_000)

    async def press_button(
        self, user: TgUser, message: MessageRef, callback_data: str, *, check: bool = True
    ) -> str:
        """The user presses an inline button; returns the callback query id.

        With ``check`` the button must be on the message's current inline keyboard.
        """
        stored = self._resolve_ref(message)
        if check:
            markup = stored.data.get("reply_markup") or {}
            data = [
                b.get("callback_data") for row in markup.get("inline_keyboard", []) for b in row
            ]
            if callback_data not in data:
                raise ValueError(f"no button with callback_data {callback_data!r}; have {data}")
        query_id = str(self._next_callback_id)
        self._next_callback_id += 1
        query: JSONDict = {
            "id": query_id,
            "from": user.to_api(),
            "message": json_copy(stored.data),
            "chat_instance": self._chat_instance(stored.chat_id),
            "data": callback_data,
        }
        self._callback_queries[query_id] = (query, False)
        self._enqueue("callback_query", query)
        return query_id

    async def answer_poll(
        self, user: TgUser, poll_message: MessageRef, option_ids: Iterable[int]
    ) -> None:
        """The user votes (an empty list retracts the vote): poll_answer + poll updates."""
        stored = self._resolve_ref(poll_message)
        poll = stored.data.get("poll")
        if poll is None:
            raise ValueError("that message has no poll")
        chosen = list(option_ids)
        votes = self._poll_votes.setdefault(poll["id"], {})
        previous = votes.get(user.id, [])
        if poll["is_closed"]:
            raise ValueError("the poll is closed")
        if len(chosen) != len(set(chosen)) or any(
            not 0 <= i < len(poll["options"]) for i in chosen
        ):
            raise ValueError(f"invalid option ids {chosen}")
        if len(chosen) > 1 and not poll["allows_multiple_answers"]:
            raise ValueError("the poll allows only one answer")
        if previous and not poll.get("allows_revoting", True):
            raise ValueError("the poll does not allow changing a vote")
        for index in previous:
            poll["options"][index]["voter_count"] -= 1
        for index in chosen:
            poll["options"][index]["voter_count"] += 1
        votes[user.id] = chosen
        poll["total_voter_count"] = sum(1 for v in votes.values() if v)
        if not poll["is_anonymous"]:
            self._enqueue(
                "poll_answer",
                {
                    "poll_id": poll["id"],
                    "user": user.to_api(),
                    "option_ids": chosen,
                    "option_persistent_ids": [poll["options"][i]["persistent_id"] for i in chosen],
                },
            )
        if self.emit_poll_updates:
            self._enqueue("poll", poll)

    def _chat_member_update(
        self, chat: TgChat, by: TgUser, user: TgUser, new_status: str, **extra: Any
    ) -> None:
        members = self._members.setdefault(chat.id, {})
        old = members.get(user.id) or member_dict(user.to_api(), "left")
        new = member_dict(user.to_api(), new_status, **extra)
        members[user.id] = new
        payload: JSONDict = {
            "chat": chat.to_api(),
            "from": by.to_api(),
            "date": self._now(),
            "old_chat_member": old,
            "new_chat_member": new,
        }
        if user.id == self.bot_user.id:
            self._enqueue("my_chat_member", payload)
        elif self.bot_status(chat) in ("creator", "administrator"):
            self._enqueue("chat_member", payload)

    async def add_bot_to_group(
        self, group: TgChat, by_user: TgUser, *, as_admin: bool = False
    ) -> None:
        """``by_user`` adds the bot: my_chat_member update plus a new_chat_members message."""
        if not group.is_group:
            raise ValueError("not a group")
        if not self.can_join_groups:
            raise ValueError("the bot cannot be added to groups (can_join_groups=False)")
        if self.member_status(group, by_user) in ("left", "kicked"):
            self._members[group.id][by_user.id] = member_dict(by_user.to_api(), "member")
        self._chat_member_update(
            group, by_user, self.bot_user, "administrator" if as_admin else "member"
        )
        self._user_message(by_user, group, {"new_chat_members": [self.bot_user.to_api()]})

    def invite_links(self, chat: TgChat | int) -> list[JSONDict]:
        """The invite links created for a chat (createChatInviteLink), oldest first."""
        chat_id = chat if isinstance(chat, int) else chat.id
        return [json_copy(link) for cid, link, _u in self._invite_links.values() if cid == chat_id]

    async def join_by_link(self, user: TgUser, invite_link: str) -> TgChat:
        """``user`` opens an invite link and joins: a ``new_chat_members`` message (from the
        user themselves), as Telegram posts it. Refused when revoked, expired or used up."""
        found = self._invite_links.get(invite_link)
        if found is None:
            raise ValueError(f"unknown invite link {invite_link}")
        chat_id, link, used = found
        if link["is_revoked"] or link.get("expire_date", float("inf")) < self.wall_clock():
            raise ValueError("INVITE_HASH_EXPIRED")
        if len(used) >= int(link.get("member_limit") or 10**9):
            raise ValueError("USERS_TOO_MUCH")
        chat = self._chats[chat_id]
        if self.member_status(chat, user) in ("member", "administrator", "creator"):
            raise ValueError("USER_ALREADY_PARTICIPANT")
        used.append(user.id)
        self._users.setdefault(user.id, user)
        self._members.setdefault(chat.id, {})[user.id] = member_dict(user.to_api(), "member")
        self._user_message(user, chat, {"new_chat_members": [user.to_api()]})
        return chat

    async def remove_bot_from_group(
        self, group: TgChat, by_user: TgUser, *, kicked: bool = True
    ) -> None:
        """The bot is removed (``kicked``) or leaves: my_chat_member update; sends then 403."""
        self._chat_member_update(group, by_user, self.bot_user, "kicked" if kicked else "left")

    async def set_member_status(
        self, group: TgChat, user: TgUser, status: str, **fields: Any
    ) -> None:
        """Set a member's status (creator/administrator/member/restricted/left/kicked).

        For the bot itself this emits my_chat_member; for others chat_member (delivered
        only when the bot is an administrator and allowed_updates includes it).
        """
        creator = next(
            (
                self._users[uid]
                for uid, m in self._members.get(group.id, {}).items()
                if m["status"] == "creator" and uid in self._users
            ),
            user,
        )
        self._chat_member_update(group, creator, user, status, **fields)

    def _unblock(self, user: TgUser) -> None:
        self._blocked_by.discard(user.id)
        chat = self._chats.get(user.id) or self.private_chat(user)
        self._chat_member_update(chat, user, self.bot_user, "member")

    async def block_bot(self, user: TgUser) -> None:
        """The user blocks the bot: my_chat_member (kicked); sends to them then get 403."""
        chat = self._chats.get(user.id) or self.private_chat(user)
        self._blocked_by.add(user.id)
        self._chat_member_update(chat, user, self.bot_user, "kicked")

    async def unblock_bot(self, user: TgUser) -> None:
        """The user restarts the bot: my_chat_member (member)."""
        self._unblock(user)

    # ------------------------------------------------------------------ files

    def _store_file(self, data: bytes, kind: str, extension: str, mime_type: str) -> StoredFile:
        self._file_seq += 1
        seq = self._file_seq
        prefix = {"photos": "AgACAgQAAxkDAAI", "documents": "BQACAgQAAxkDAAI"}.get(kind, "CAAC")
        stored = StoredFile(
            file_id=f"{prefix}{seq:06d}{self.bot_user.id % 100000:05d}X",
            file_unique_id=f"AQAD{seq:06d}",
            file_path=f"{kind}/file_{seq - 1}.{extension}",
            data=data,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _store_photo(self, data: bytes, width: int, height: int) -> list[JSONDict]:
        longest = max(width, height)
        targets = [t for t in (90, 320, 800, 1280) if t < longest] + [min(longest, 2560)]
        sizes: list[JSONDict] = []
        extension = "png" if data.startswith(b"\x89PNG") else "jpg"
        for target in targets:
            scale = target / longest
            stored = self._store_file(data, "photos", extension, "image/jpeg")
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": len(data),
                    "width": max(1, round(width * scale)),
                    "height": max(1, round(height * scale)),
                }
            )
        for size in sizes:
            self._photo_sets[size["file_id"]] = sizes
        return sizes

    def file_bytes(self, file_id: str) -> bytes:
        """The content behind a file_id (what /file/bot<token>/<path> serves)."""
        return self._files[file_id].data

    # ------------------------------------------------------------------ failures, limits

    def fail_next(
        self,
        method: str | None = None,
        count: int = 1,
        *,
        error_code: int = 400,
        description: str = "Bad Request: injected failure",
        retry_after: int | None = None,
        chat_id: int | None = None,
    ) -> None:
        """The next ``count`` calls of ``method`` (None: any method but getUpdates) fail."""
        error = BotApiError(error_code, description, retry_after=retry_after)
        self._failures.append(
            InjectedFailure(method.lower() if method else None, count, error, chat_id)
        )

    def rate_limit_next(
        self,
        method: str | None = None,
        count: int = 1,
        *,
        retry_after: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """The next ``count`` calls answer 429 ``Too Many Requests: retry after N``."""
        self.fail_next(
            method,
            count,
            error_code=429,
            description=f"Too Many Requests: retry after {retry_after}",
            retry_after=retry_after,
            chat_id=chat_id,
        )

    def clear_failures(self) -> None:
        self._failures.clear()

    def enable_flood_limits(
        self, limits: FloodLimits | None = None, clock: Callable[[], float] | None = None
    ) -> FloodLimiter:
        """Enforce Telegram-like sending limits (429 with retry_after) on send* methods."""
        self._limiter = FloodLimiter(limits or FloodLimits(), clock or self.clock)
        return self._limiter

    def disable_flood_limits(self) -> None:
        self._limiter = None

    # ------------------------------------------------------------------ reading

    @property
    def sent(self) -> list[SentRecord]:
        """Every message the bot sent or edited, in order."""
        return list(self._sent)

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        return list(self._callback_answers)

    @property
    def commands(self) -> dict[tuple[str, str], list[JSONDict]]:
        """setMyCommands state keyed by (scope key, language_code); see ``scope_key``."""
        return json_copy(self._commands)

    @property
    def request_log(self) -> list[RequestRecord]:
        return list(self._request_log)

    @property
    def request_counts(self) -> Counter[str]:
        """Requests per Bot API method (canonical name; unknown methods as requested)."""
        return Counter(self._request_counts)

    @property
    def webhook(self) -> JSONDict | None:
        return json_copy(self._webhook)

    def visible_commands(self, user: TgUser, chat: TgChat) -> list[JSONDict]:
        """The command menu ``user`` sees in ``chat`` (the Bot API's scope resolution)."""
        is_admin = self.member_status(chat, user) in ("creator", "administrator")
        if chat.type == "private":
            keys = [f"chat:{chat.id}", "all_private_chats", "default"]
        else:
            keys = [f"chat_member:{chat.id}:{user.id}"]
            if is_admin:
                keys.append(f"chat_administrators:{chat.id}")
            keys.append(f"chat:{chat.id}")
            if is_admin:
                keys.append("all_chat_administrators")
            keys += ["all_group_chats", "default"]
        language = user.language_code or ""
        for key in keys:
            for lang in (language, ""):
                if (key, lang) in self._commands:
                    return json_copy(self._commands[(key, lang)])
        return []

    def _failure_summary(self) -> str:
        failed = [r for r in self._request_log if r.status != 200][-5:]
        lines = [f"  {r.method} -> {r.status} {r.description}" for r in failed]
        lines += [f"  stand-in error: {e.splitlines()[-1]}" for e in self.server_errors[-3:]]
        return "\n".join(lines) or "  (no failed requests)"

    async def wait_for_sent(
        self,
        predicate: Callable[[SentRecord], bool] | None = None,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        since: int | None = None,
    ) -> list[SentRecord]:
        """Wait until the bot has sent ``count`` matching messages; return them.

        Without ``since`` only records after those returned by the previous call are
        considered (a cursor), so successive waits see successive replies. With
        ``since`` (an index into :attr:`sent`) the cursor is neither used nor moved.
        Raises TimeoutError listing what was sent and the failed requests.
        """
        start = self._sent_cursor if since is None else since
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            matches = [
                (index, record)
                for index, record in enumerate(self._sent[start:], start)
                if predicate is None or predicate(record)
            ]
            if len(matches) >= count:
                chosen = matches[:count]
                if since is None:
                    self._sent_cursor = chosen[-1][0] + 1
                return [record for _, record in chosen]
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                seen = "\n".join(
                    f"  {r.method} chat={r.chat_id}: {r.plain_text[:80]!r}"
                    for r in self._sent[start:]
                )
                raise TimeoutError(
                    f"bot sent {len(matches)}/{count} matching messages in {timeout}s.\n"
                    f"Sent since cursor:\n{seen or '  (nothing)'}\n"
                    f"Failed requests:\n{self._failure_summary()}"
                )
            event = self._sent_changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def mark_sent_seen(self) -> None:
        """Move the wait_for_sent cursor past everything sent so far."""
        self._sent_cursor = len(self._sent)

    async def wait_for_request(
        self,
        method: str,
        predicate: Callable[[RequestRecord], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        since: int = 0,
    ) -> RequestRecord:
        """Wait for a request to ``method`` (case-insensitive) in the request log."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for record in self._request_log[since:]:
                if record.method.lower() == method.lower() and (
                    predicate is None or predicate(record)
                ):
                    return record
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"no {method} request within {timeout}s")
            event = self._requests_changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def _record_sent(self, record: SentRecord) -> None:
        self._sent.append(record)
        self._sent_changed.set()
        self._sent_changed = asyncio.Event()

    def _record_request(self, record: RequestRecord) -> None:
        self._request_log.append(record)
        self._request_counts[record.method] += 1
        self._requests_changed.set()
        self._requests_changed = asyncio.Event()
