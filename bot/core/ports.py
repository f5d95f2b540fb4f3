"""The adapter protocol every platform implements."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.core.events import ChatRef, Incoming, MessageRef, Reply

Feed = Callable[[Incoming], Awaitable[None]]


class Unreachable(Exception):
    """The chat cannot be reached any more (blocked, kicked, deleted)."""


class Adapter(Protocol):
    platform: str
    capabilities: frozenset[str]  # "buttons", "edit", "native_polls", "location", "photos"

    async def start(self, feed: Feed) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, chat: ChatRef, reply: Reply) -> MessageRef: ...

    async def edit(self, ref: MessageRef, reply: Reply) -> None: ...

    def direct_link(self, payload: str) -> str | None:
        """A link that opens a direct chat with the bot and starts `payload`; None if none."""
        ...
