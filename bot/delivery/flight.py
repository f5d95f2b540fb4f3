"""A batch's sends in flight: up to a number at once, never two to one chat."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass

from storage.repo.outbox import Outgoing


@dataclass(frozen=True, slots=True)
class Attempt:
    """How sending one claimed row went: its platform ref, or the error."""

    msg: Outgoing
    ref: str | None
    error: str | None = None
    give_up: bool = False
    room: tuple[str, str] | None = None  # (platform, room id) made for this message, if any


class InFlight:
    """At most `limit` sends at once, one per chat; counts what was sent."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.tasks: set[asyncio.Task[bool]] = set()
        self.by_chat: dict[str, asyncio.Task[bool]] = {}
        self.sent = 0

    def _collect(self, done: set[asyncio.Task[bool]]) -> None:
        for task in done:
            self.tasks.discard(task)
            self.sent += bool(task.result())  # _deliver handles the platform's errors

    async def wait_for_chat(self, chat_id: str) -> None:
        task = self.by_chat.get(chat_id)
        if task is not None and not task.done():
            await asyncio.wait({task})
        self._collect({t for t in self.tasks if t.done()})

    async def start(self, chat_id: str, send: Awaitable[bool]) -> None:
        while len(self.tasks) >= self.limit:
            done, _pending = await asyncio.wait(self.tasks, return_when=asyncio.FIRST_COMPLETED)
            self._collect(done)
        task = asyncio.ensure_future(send)
        self.tasks.add(task)
        self.by_chat[chat_id] = task
        await asyncio.sleep(0)  # the send starts now, at the time the limiter recorded

    async def finish(self) -> int:
        if self.tasks:
            done, _pending = await asyncio.wait(self.tasks)
            self._collect(done)
        self.by_chat.clear()
        return self.sent

    async def cancel(self) -> None:
        """Stopping (cancelled): the sends already started may finish their three steps."""
        if self.tasks:
            await asyncio.wait(self.tasks)
            self._collect({t for t in self.tasks if t.done()})
