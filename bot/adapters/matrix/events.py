"""Matrix room events (as parsed by matrix-nio) -> neutral `Incoming` events.

Reactions and redactions need the adapter's memory of its own buttons, so they are
handled there; this module covers what can be read from the event alone.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from nio import (
    RoomEncryptedImage,
    RoomMessageImage,
    RoomMessageText,
    RoomMessageUnknown,
    UnknownEvent,
)

from bot.adapters.matrix.render import parse_geo_uri, strip_mention, strip_reply_fallback
from bot.core.commands import parse_command
from bot.core.events import Attachment, ChatRef, Incoming, MessageRef, UserRef
from bot.core.text import whole_number

PLATFORM = "matrix"
POLL_RESPONSE_TYPES = ("org.matrix.msc3381.poll.response", "m.poll.response")


def relates_to(event: Any) -> dict[str, Any]:
    content = event.source.get("content", {})
    rel = content.get("m.relates_to")
    return rel if isinstance(rel, dict) else {}


def is_edit(event: Any) -> bool:
    return relates_to(event).get("rel_type") == "m.replace"


def to_incoming(event: Any, chat: ChatRef, user: UserRef, own_names: list[str]) -> Incoming | None:
    """The neutral event for a message people send; None for what the bot ignores.

    Ignored: notices (bots talking), emotes, edits of earlier messages (answering them
    would answer twice), stickers, files and anything unknown.
    """
    if is_edit(event):
        return None
    ref = MessageRef(chat, event.event_id)
    rel = relates_to(event)
    in_reply = rel.get("m.in_reply_to")
    reply_to = (
        MessageRef(chat, str(in_reply["event_id"]))
        if isinstance(in_reply, dict) and in_reply.get("event_id")
        else None
    )
    if isinstance(event, RoomMessageText):
        text = strip_reply_fallback(event.body) if reply_to else event.body
        text = strip_mention(text, own_names)
        cmd = parse_command(text)
        if cmd is not None:
            return Incoming(
                "command", user, chat, text=text, command=cmd[0], args=cmd[1],
                message=ref, reply_to=reply_to,
            )  # fmt: skip
        return Incoming("text", user, chat, text=text, message=ref, reply_to=reply_to)
    if isinstance(event, (RoomMessageImage, RoomEncryptedImage)):
        content = event.source.get("content", {})
        filename = content.get("filename")
        caption = event.body if filename and filename != event.body else ""
        file_id = event.url
        if isinstance(event, RoomEncryptedImage) and (event.hashes or {}).get("sha256"):
            file_id = encrypted_file_id(event.url, event.key, event.iv, event.hashes)
        attachment = Attachment("photo", file_id, PLATFORM)
        return Incoming(
            "photo", user, chat, text=caption, attachment=attachment, message=ref,
            reply_to=reply_to,
        )  # fmt: skip
    if isinstance(event, RoomMessageUnknown) and event.msgtype == "m.location":
        location = parse_geo_uri(str(event.content.get("geo_uri", "")))
        if location is None:
            return None
        return Incoming("location", user, chat, location=location, message=ref)
    if isinstance(event, UnknownEvent) and event.type in POLL_RESPONSE_TYPES:
        return _poll_answer(event, chat, user)
    return None


def encrypted_file_id(url: str, key: dict[str, Any], iv: str, hashes: dict[str, str]) -> str:
    """An encrypted image as one string: its mxc URL plus what decrypts it (in the fragment),
    so it can be downloaded later, like a plain one (see `split_file_id`)."""
    return url + "#" + urlencode({"k": key.get("k", ""), "iv": iv, "sha256": hashes["sha256"]})


def split_file_id(file_id: str) -> tuple[str, dict[str, str] | None]:
    """The mxc URL and, for an encrypted file, its key, iv and sha256."""
    url, _sep, fragment = file_id.partition("#")
    if not fragment:
        return url, None
    parts = dict(parse_qsl(fragment))
    return url, parts if {"k", "iv", "sha256"} <= parts.keys() else None


def _poll_answer(event: Any, chat: ChatRef, user: UserRef) -> Incoming | None:
    """MSC3381 answers name option ids; ours are `pv:{poll}:{option}` (see matrix_render).

    The answer becomes `poll_answer` with text `pv:{poll}` and the chosen option numbers;
    an empty list takes the vote back. Answers to polls that are not ours are ignored.
    """
    content = event.source.get("content", {})
    body = content.get(event.type) or content.get("org.matrix.msc3381.poll.response") or {}
    answers = body.get("answers") if isinstance(body, dict) else None
    poll_id = relates_to(event).get("event_id")
    if not isinstance(answers, list) or not poll_id:
        return None
    polls: set[str] = set()
    options: list[int] = []
    for answer in answers:
        parts = answer.split(":") if isinstance(answer, str) else []
        option = whole_number(parts[2]) if len(parts) == 3 else None
        if len(parts) != 3 or parts[0] != "pv" or whole_number(parts[1]) is None or option is None:
            return None
        polls.add(parts[1])
        options.append(option)
    if len(polls) > 1:
        return None
    ours = f"pv:{polls.pop()}" if polls else ""
    return Incoming(
        "poll_answer", user, chat, text=ours, message=MessageRef(chat, str(poll_id)),
        poll_option_ids=tuple(options),
    )  # fmt: skip
