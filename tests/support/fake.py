"""A fake adapter and a conversation driver for fast tests of the core and the flows."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.app import App
from bot.core.commands import parse_command
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


@dataclass
class Sent:
    chat: ChatRef
    ref: MessageRef
    reply: Reply
    edited: bool = False

    @property
    def text(self) -> str:
        return self.reply.text

    @property
    def labels(self) -> list[str]:
        return [b.label for b in self.reply.flat_buttons()]


@dataclass
class FakeAdapter:
    platform: str = "fake"
    capabilities: frozenset[str] = frozenset({"buttons", "edit", "location", "photos"})
    sent: list[Sent] = field(default_factory=list)
    log: list[Sent] = field(default_factory=list)  # every send and edit, in order
    invites: list[tuple[str, str]] = field(default_factory=list)  # (group, account) asked
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def start(self, feed: object) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, chat: ChatRef, reply: Reply) -> MessageRef:
        ref = MessageRef(chat, str(next(self._ids)))
        self.sent.append(Sent(chat, ref, reply))
        self.log.append(self.sent[-1])
        return ref

    async def edit(self, ref: MessageRef, reply: Reply) -> None:
        for s in self.sent:
            if s.ref == ref:
                s.reply = reply
                s.edited = True
                self.log.append(s)
                return
        raise AssertionError(f"edit of unknown message {ref}")

    async def download(self, file_id: str) -> bytes:
        return b"\x89PNG\r\n\x1a\n" + file_id.encode()  # the bytes behind a file id

    def direct_link(self, payload: str) -> str | None:
        return f"https://fake.example/bot?start={payload}"

    async def group_invite(
        self, group_id: str, user_id: str, expires: datetime | None = None
    ) -> str | None:
        self.invites.append((group_id, user_id))
        return f"https://fake.example/join/{group_id}"

    def in_chat(self, chat_id: str) -> list[Sent]:
        return [s for s in self.sent if s.chat.id == chat_id]


class MakeChat(Protocol):
    """The `make_chat` fixture: a chat as `user`, in a group when named, with a phone language."""

    def __call__(self, user: str, group: str | None = None, lang: str | None = None) -> Chat: ...


class Chat:
    """One user talking in one chat: `await chat.say("/idee")`, `await chat.press("Post")`."""

    def __init__(
        self,
        app: App,
        adapter: FakeAdapter,
        user: str,
        group: str | None = None,
        lang: str | None = None,
    ) -> None:
        self.app = app
        self.adapter = adapter
        self.user = UserRef(adapter.platform, user, user, lang)
        self.chat = (
            ChatRef(adapter.platform, f"g:{group}", "group", group)
            if group
            else ChatRef(adapter.platform, f"dm:{user}", "direct")
        )
        self._msg = itertools.count(1)

    def _ref(self) -> MessageRef:
        return MessageRef(self.chat, f"in-{self.user.id}-{next(self._msg)}")

    async def _feed(self, event: Incoming) -> list[Sent]:
        before = len(self.adapter.log)
        await self.app.dispatcher.handle(self.adapter, event)
        return [s for s in self.adapter.log[before:] if s.chat.id == self.chat.id]

    async def say(self, text: str) -> list[Sent]:
        cmd = parse_command(text)
        if cmd is not None:
            event = Incoming(
                "command",
                self.user,
                self.chat,
                text=text,
                command=cmd[0],
                args=cmd[1],
                message=self._ref(),
            )
        else:
            event = Incoming("text", self.user, self.chat, text=text, message=self._ref())
        return await self._feed(event)

    def mine(self) -> list[Sent]:
        return self.adapter.in_chat(self.chat.id)

    def last(self) -> Sent:
        return self.mine()[-1]

    @property
    def text(self) -> str:
        return self.last().text

    def button(self, label: str) -> tuple[Sent, Button]:
        for s in reversed(self.mine()):
            for b in s.reply.flat_buttons():
                if b.label == label or label.lower() in b.label.lower():
                    return s, b
        raise AssertionError(
            f"no button {label!r}; last: {self.last().text!r} {self.last().labels}"
        )

    async def press(self, label: str) -> list[Sent]:
        sent, button = self.button(label)
        return await self.press_data(button.data, sent.ref)

    async def press_data(self, data: str, ref: MessageRef | None = None) -> list[Sent]:
        event = Incoming("button", self.user, self.chat, button_data=data, message=ref)
        return await self._feed(event)

    async def location(self, lat: float, lon: float) -> list[Sent]:
        return await self._feed(
            Incoming("location", self.user, self.chat, location=Location(lat, lon))
        )

    async def photo(self, file_id: str = "photo-1") -> list[Sent]:
        att = Attachment("photo", file_id, self.adapter.platform)
        return await self._feed(Incoming("photo", self.user, self.chat, attachment=att))
