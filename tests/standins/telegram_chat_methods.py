"""Bot API methods of the stand-in: callbacks, commands, chats, members and files."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from .telegram_methods import MessageMethods
from .telegram_params import Params
from .telegram_records import CallbackAnswer, JSONDict, bad_request, json_copy

__all__ = ["Handler", "TelegramBotApiMethods", "method_table"]

Handler = Callable[["TelegramBotApiMethods", Params], Awaitable[Any]]


class TelegramBotApiMethods(MessageMethods):
    """All Bot API methods (``m_<methodName>``), operating on the world state."""

    # ------------------------------------------------------------------ callbacks, commands

    async def m_answerCallbackQuery(self, p: Params) -> bool:
        query_id = p.get_str("callback_query_id") or ""
        entry = self._callback_queries.get(query_id)
        if entry is None or entry[1]:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = p.get_str("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self._callback_queries[query_id] = (entry[0], True)
        self._callback_answers.append(
            CallbackAnswer(
                callback_query_id=query_id,
                text=text,
                show_alert=p.get_bool("show_alert"),
                url=p.get_str("url"),
                cache_time=p.get_int("cache_time", 0) or 0,
                query=json_copy(entry[0]),
            )
        )
        return True

    def _scope_key(self, p: Params) -> tuple[str, str]:
        scope = p.get_json("scope") or {"type": "default"}
        language = p.get_str("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("invalid language code specified")
        if not isinstance(scope, dict):
            raise bad_request("can't parse BotCommandScope JSON object")
        kind = scope.get("type")
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            return str(kind), language
        if kind in ("chat", "chat_administrators", "chat_member"):
            chat = self._resolve_chat(scope.get("chat_id"), for_sending=False)
            if kind == "chat":
                return f"chat:{chat.id}", language
            if not chat.is_group:
                raise bad_request("can't use specified scope for private chats")
            if kind == "chat_administrators":
                return f"chat_administrators:{chat.id}", language
            user_id = scope.get("user_id")
            if not isinstance(user_id, int) or user_id not in self._users:
                raise bad_request("user not found")
            return f"chat_member:{chat.id}:{user_id}", language
        raise bad_request("wrong BotCommandScope type specified")

    async def m_setMyCommands(self, p: Params) -> bool:
        commands = p.get_json("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands")
        cleaned: list[JSONDict] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name = command.get("command")
            description = command.get("description")
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = self._scope_key(p)
        if cleaned:
            self._commands[key] = cleaned
        else:
            self._commands.pop(key, None)
        return True

    # ------------------------------------------------------------------ chats and files

    async def m_createChatInviteLink(self, p: Params) -> JSONDict:
        """An additional invite link; the bot must be an administrator allowed to invite.
        `member_limit` (1-99999) and `creates_join_request` exclude each other."""
        chat = self._resolve_chat(p.get("chat_id"), for_sending=False)
        if not chat.is_group:
            raise bad_request("chat not found")
        member = self._members.get(chat.id, {}).get(self.bot_user.id)
        if (
            member is None
            or member["status"] not in ("creator", "administrator")
            or (member["status"] == "administrator" and not member.get("can_invite_users"))
        ):
            raise bad_request("not enough rights to manage chat invite links")
        name = p.get_str("name")
        if name is not None and len(name) > 32:
            raise bad_request("invite link name is too long")
        limit = p.get_int("member_limit")
        joins = p.get_bool("creates_join_request")
        if limit is not None and not 1 <= limit <= 99999:
            raise bad_request("member limit must be between 1 and 99999")
        if limit is not None and joins:
            raise bad_request(
                "member limit can't be specified for links requiring administrator approval"
            )
        expire = p.get_int("expire_date")
        link: JSONDict = {
            "invite_link": f"https://t.me/+{secrets.token_urlsafe(12)}",
            "creator": self.bot_user.to_api(),
            "creates_join_request": joins,
            "is_primary": False,
            "is_revoked": False,
        }
        for key, value in (("name", name), ("expire_date", expire), ("member_limit", limit)):
            if value is not None:
                link[key] = value
        self._invite_links[str(link["invite_link"])] = (chat.id, link, [])
        return json_copy(link)

    async def m_getFile(self, p: Params) -> JSONDict:
        file_id = p.get_str("file_id") or ""
        stored = self._files.get(file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.data) > 20 * 1024 * 1024:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }


def method_table() -> dict[str, tuple[str, Handler]]:
    """Lower-cased method name -> (canonical name, unbound handler)."""
    table: dict[str, tuple[str, Handler]] = {}
    for attr in dir(TelegramBotApiMethods):
        if attr.startswith("m_"):
            name = attr[2:]
            table[name.lower()] = (name, getattr(TelegramBotApiMethods, attr))
    return table
