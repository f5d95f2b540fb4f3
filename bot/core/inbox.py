"""What a platform hands us is kept before the platform may forget it, and handled from there.

Telegram is told it may forget an update (the next `getUpdates` offset, or a webhook's 200),
and Matrix moves on (the next sync token), only after the event is kept in the database:
the inbox. It is handled from there, oldest first, and marked handled in the same
transaction as its effects (`Dispatcher`). So:
- a stop, a crash or a database outage loses nothing: what was kept is handled after it;
- nothing is answered twice: a key (update_id, event_id) is kept once per source, and an
  entry is handled once, also when the platform sends it again;
- one chat's events are handled in the order they came.

While the database is away nothing is kept and nothing confirmed: the platform holds on to
the events (Telegram for a day, a Matrix homeserver for good) and the adapter tries again
after a pause that grows to `PAUSE_MOST`; then everything is answered, in order.

Several workers on one PostgreSQL (`shared`: Telegram's webhook in every worker, behind a
load balancer) handle the inbox together. Any worker may keep an event (the key is unique,
so an update sent to two workers is kept once). Each worker takes the oldest waiting entry
of each chat (`heads`); `claim` takes it only while no older entry of its chat waits, and
holds the chat's advisory lock until its transaction ends (storage/repo/inbox.py). So one
chat's events are handled one at a time, oldest first, each once; other chats go on in other
workers meanwhile. A worker that dies while handling rolls back, and another takes the entry.
A worker sees what it kept itself at once, and looks for what other workers kept every
`LOOK_EVERY` seconds (a worker that finishes a chat's event goes on with that chat's next).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Sequence

from bot.core.events import Incoming
from bot.core.ports import AdapterStore, Feed, Received, StoreUnavailable

log = logging.getLogger(__name__)

PAUSE_FIRST = 0.5  # seconds before the first retry while the database is away
PAUSE_MOST = 5.0
BATCH = 100
TAKE = 10  # shared: heads handled before looking again (the others may be taken meanwhile)
LOOK_EVERY = 0.5  # seconds: how soon a worker takes up what another worker kept (shared)


class Pause:
    """A growing pause between attempts; cut short when the adapter stops."""

    def __init__(
        self, stopping: asyncio.Event, first: float = PAUSE_FIRST, most: float = PAUSE_MOST
    ) -> None:
        self.stopping = stopping
        self.first = first
        self.most = most
        self.next = first

    def reset(self) -> None:
        self.next = self.first

    async def wait(self) -> bool:
        """Pause; True (early) when the adapter stops."""
        delay, self.next = self.next, min(self.next * 2, self.most)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), delay)
        return self.stopping.is_set()


class Inbox:
    """One platform's inbox, as its adapter uses it."""

    def __init__(
        self,
        store: AdapterStore,
        source: str,
        feed: Feed,
        stopping: asyncio.Event,
        shared: bool = False,
    ) -> None:
        self.store = store
        self.source = source  # "telegram.<bot id>", "matrix"
        self.feed = feed
        self.stopping = stopping
        self.shared = shared  # other workers keep and handle this inbox's events too
        self.pause = Pause(stopping)
        self.arrived = asyncio.Event()  # something was kept since the last look
        self._may_wait = True  # entries may be left from before a restart

    async def keep(
        self, received: Sequence[Received], cursor: tuple[str, str] | None = None
    ) -> None:
        """Keep these events, and the sync position after them, in one transaction.
        StoreUnavailable when the database is away: then nothing was kept."""
        await self.store.accept(self.source, received, cursor)
        if received:
            self._may_wait = True
            self.arrived.set()

    async def retrying(self, work: Callable[[], Awaitable[None]], waits: str) -> bool:
        """Run `work`, again after a pause while the database is away (`StoreUnavailable`);
        False if the adapter stops first. `waits`: what waits meanwhile, for the log."""
        while not self.stopping.is_set():
            try:
                await work()
            except StoreUnavailable as exc:
                log.warning(
                    "%s: the database is away (%s); %s, trying again in %.1f s",
                    self.source, exc, waits, self.pause.next,
                )  # fmt: skip
                if await self.pause.wait():
                    return False
                continue
            self.pause.reset()
            return True
        return False

    async def handle_waiting(self) -> None:
        """Handle what was kept, oldest first. StoreUnavailable when the database is away:
        the event that failed and those after it wait for the next call."""
        if self.shared:
            await self._handle_heads()
            return
        while self._may_wait and not self.stopping.is_set():
            self.arrived.clear()
            events = await self.store.waiting(self.source, BATCH)
            if not await self._feed_all(events):
                return
            if len(events) < BATCH and not self.arrived.is_set():
                self._may_wait = False

    async def _handle_heads(self) -> None:
        """Shared: the oldest waiting event of some chats, again and again, until none is left
        that this worker has not tried (the others are being handled by other workers). A few
        at a time, in a random order: workers that look at the same moment start on different
        chats, and seldom try an event another worker has just handled."""
        tried: set[int | None] = set()
        while not self.stopping.is_set():
            self.arrived.clear()
            heads = await self.store.heads(self.source, BATCH)
            fresh = [e for e in heads if e.inbox_id not in tried]
            if not fresh:
                return
            events = random.sample(fresh, min(TAKE, len(fresh)))
            tried.update(e.inbox_id for e in events)
            if not await self._feed_all(events):
                return

    async def _feed_all(self, events: Sequence[Incoming]) -> bool:
        """Hand each event to the dispatcher; False (early) when the adapter stops."""
        for event in events:
            if self.stopping.is_set():
                return False  # finish the event being handled, not the batch
            try:
                await self.feed(event)
            except StoreUnavailable:
                raise
            except Exception:  # after its commit (the dispatcher catches the rest)
                log.exception("inbox: handling %s %s failed", self.source, event.inbox_id)
        return True

    async def handle_or_stop(self) -> bool:
        """`handle_waiting` until it is done; False if the adapter stops first."""
        done = await self.retrying(self.handle_waiting, "kept events wait in the inbox")
        return done and not self.stopping.is_set()

    async def arrival(self) -> None:
        """Until something new is kept, or the adapter stops; shared, at most `LOOK_EVERY`."""
        waiters = [asyncio.ensure_future(e.wait()) for e in (self.arrived, self.stopping)]
        try:
            await asyncio.wait(
                waiters,
                timeout=LOOK_EVERY if self.shared else None,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            for waiter in waiters:
                waiter.cancel()
