"""Telegram updates to neutral events and replies to Bot API text, pure functions."""

from __future__ import annotations

import html
import logging
import re
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.core.commands import addressed_elsewhere, parse_command
from bot.core.events import (
    Attachment,
    Button,
    ChatRef,
    Incoming,
    Location,
    MessageRef,
    Reply,
    UserRef,
)

log = logging.getLogger(__name__)

PLATFORM = "telegram"
MAX_MESSAGE = 4096
MAX_CAPTION = 1024  # a photo caption, counted after HTML parsing
MAX_CALLBACK_DATA = 64
# Telegram's keyboard limits: 100 buttons in a keyboard, 8 in a row; a label has no fixed
# limit, but a long one is cut in the middle on phones, so we cut it ourselves, at the end.
MAX_BUTTONS = 100
MAX_ROW = 8
MAX_LABEL = 64
_PAYLOAD = re.compile(r"[^A-Za-z0-9_-]")


def chat_ref(chat_id: int, chat_type: str, title: str | None = None) -> ChatRef | None:
    if chat_type == "private":
        return ChatRef(PLATFORM, str(chat_id), "direct")
    if chat_type in ("group", "supergroup"):
        return ChatRef(PLATFORM, str(chat_id), "group", title)
    return None  # channels: the bot does not take part in broadcast channels


def _user(update_user: object) -> UserRef | None:
    from telegram import User

    if not isinstance(update_user, User) or update_user.is_bot:
        return None
    return UserRef(
        PLATFORM, str(update_user.id), None, update_user.language_code, update_user.username
    )


def _member_joined(msg: Message, user: UserRef, chat: ChatRef) -> Incoming | None:
    """Someone joined by themselves (an invite link): the event carries their first name,
    which is used for a welcome they agreed to and kept nowhere. Added by someone: nothing."""
    joined = msg.from_user
    if joined is None or [m.id for m in msg.new_chat_members] != [joined.id]:
        return None
    named = UserRef(user.platform, user.id, joined.first_name, user.language_code)
    return Incoming("member_joined", named, chat)


def _message_event(msg: Message, bot_username: str) -> Incoming | None:
    chat = chat_ref(msg.chat.id, msg.chat.type, msg.chat.title)
    user = _user(msg.from_user)
    if chat is None or user is None:
        return None
    ref = MessageRef(chat, str(msg.message_id))
    reply_to = None
    if msg.reply_to_message is not None:
        reply_to = MessageRef(chat, str(msg.reply_to_message.message_id))
    base = {"user": user, "chat": chat, "message": ref, "reply_to": reply_to}
    if msg.location is not None:
        loc = Location(msg.location.latitude, msg.location.longitude)
        return Incoming("location", location=loc, **base)  # type: ignore[arg-type]
    if msg.photo:
        largest = max(msg.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        att = Attachment("photo", largest.file_id, PLATFORM)
        return Incoming("photo", text=msg.caption or "", attachment=att, **base)  # type: ignore[arg-type]
    if msg.new_chat_members:
        return _member_joined(msg, user, chat)
    if msg.text is None:
        return None
    text = msg.text
    starts_with_command = any(e.type == "bot_command" and e.offset == 0 for e in msg.entities or ())
    if starts_with_command or text.startswith("/"):
        parsed = parse_command(text, bot_username)
        if parsed is not None:
            return Incoming("command", text=text, command=parsed[0], args=parsed[1], **base)  # type: ignore[arg-type]
        if addressed_elsewhere(text, bot_username):
            return None  # a command for another bot in the group
    return Incoming("text", text=text, **base)  # type: ignore[arg-type]


def to_incoming(update: Update, bot_username: str) -> Incoming | None:
    """One neutral event for an update we care about; None for everything else."""
    if update.message is not None:
        return _message_event(update.message, bot_username)
    if update.callback_query is not None:
        query = update.callback_query
        user = _user(query.from_user)
        msg = query.message
        if user is None or msg is None:
            return None
        chat = chat_ref(msg.chat.id, msg.chat.type, getattr(msg.chat, "title", None))
        if chat is None:
            return None
        ref = MessageRef(chat, str(msg.message_id))
        return Incoming("button", user, chat, button_data=query.data or "", message=ref)
    if update.my_chat_member is not None:
        change = update.my_chat_member
        chat = chat_ref(change.chat.id, change.chat.type, change.chat.title)
        user = _user(change.from_user)
        if chat is None or user is None:
            return None
        was_in = change.old_chat_member.status in (
            "member",
            "administrator",
            "creator",
            "restricted",
        )
        is_in = change.new_chat_member.status in (
            "member",
            "administrator",
            "creator",
            "restricted",
        )
        if is_in and not was_in:
            return Incoming("joined", user, chat)
        if was_in and not is_in:
            return Incoming("left", user, chat)
        return None
    if update.poll_answer is not None and update.poll_answer.user is not None:
        answer = update.poll_answer
        user = _user(answer.user)
        if user is None:
            return None
        chat = ChatRef(PLATFORM, user.id, "direct")
        return Incoming(
            "poll_answer", user, chat, text=answer.poll_id, poll_option_ids=tuple(answer.option_ids)
        )
    return None


def split_text(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split on line breaks (or spaces) so each part stays within Telegram's limit."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    parts.append(rest)
    return [p for p in parts if p] or [""]


def as_html(text: str) -> str:
    """Everything we send is plain text, so all of it is escaped for parse_mode HTML."""
    return html.escape(text, quote=False)


def keyboard(reply: Reply) -> dict[str, Any] | None:
    """Our buttons as the Bot API's inline keyboard (plain JSON), within Telegram's limits
    (see MAX_BUTTONS).

    Lists page (`bot.core.paging`), so a keyboard over 100 buttons is a mistake: the first
    100 are kept and the rest logged, rather than the whole message refused.
    """
    if not reply.buttons:
        return None
    rows: list[list[dict[str, str]]] = []
    count = 0
    for row in reply.buttons:
        for start in range(0, len(row), MAX_ROW):
            buttons = [_button(b) for b in row[start : start + MAX_ROW]][: MAX_BUTTONS - count]
            if buttons:
                rows.append(buttons)
                count += len(buttons)
    total = len(reply.flat_buttons())
    if total > count:
        log.warning("telegram: %d buttons in one message, only the first %d sent", total, count)
    return {"inline_keyboard": rows}


def markup(reply: Reply) -> InlineKeyboardMarkup | None:
    """The same keyboard as python-telegram-bot's object, for its typed methods."""
    rows = keyboard(reply)
    if rows is None:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(**b) for b in row] for row in rows["inline_keyboard"]]
    )


def _button(b: Button) -> dict[str, str]:
    label = b.label if len(b.label) <= MAX_LABEL else b.label[: MAX_LABEL - 1] + "…"
    if b.url:
        return {"text": label, "url": b.url}
    if len(b.data.encode()) <= MAX_CALLBACK_DATA:
        return {"text": label, "callback_data": b.data}
    raise ValueError(f"button data over {MAX_CALLBACK_DATA} bytes: {b.data[:20]}…")


def start_payload(payload: str) -> str:
    """Deep-link payloads allow A-Z, a-z, 0-9, _ and - (at most 64)."""
    return _PAYLOAD.sub("-", payload)[:64]
