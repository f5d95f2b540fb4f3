"""Sends what the outbox holds, one sender per platform; nothing is lost on a restart.

Each message goes claim → send → mark, each step its own transaction: the row is claimed
(`claimed_at`) and committed, the platform is asked to send it, and the row is marked sent.
Killed between send and mark, the message is sent again after the restart: delivery is at
least once, and only the messages in flight at the kill (at most CONCURRENCY per platform)
can reach their recipients twice. `claimed_at` without `sent_at` marks them.

Limits: each platform has a `RateLimits` (bot/delivery/limits.py); the sender waits before a
send until the limiter allows it, on an injectable monotonic clock and sleep (so tests and
benchmarks run on simulated time). A message that fails is retried with exponential
backoff (30 s, 1 min, 2 min … at most an hour apart) for a day; a chat that is unreachable
(blocked, kicked) is given up at once.

Two ways in: `flush()` sends everything due and returns when done (tests, the console's
`:jobs`); `flush_some()` runs after each handled event, sends at most a few messages inline
and leaves the rest to the background loop (`run_forever`), which it wakes — so a large
broadcast never holds up the dispatcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.clock import Clock
from bot.core.events import (
    Attachment,
    ChatRef,
    MessageRef,
    NewRoom,
    PollSpec,
    Reply,
    stored_keyboard,
)
from bot.core.ports import Adapter, Unreachable
from bot.delivery.limits import RateLimiter, RateLimits, limits_for
from bot.util.bounded import Bounded
from storage.db import Database
from storage.models import Media, OutboxMessage
from storage.repo import outbox

log = logging.getLogger(__name__)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY_GAP = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(days=1)
INLINE_MAX = 20  # messages sent inline after a handled event; the rest in the background
BATCH = 200  # rows read per query
CONCURRENCY = 8  # sends in flight at once per platform (round trips overlap)

Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
FetchPhoto = Callable[[str, str], Awaitable[bytes | None]]
# A room was made for a message (`NewRoom.key`, platform, room id), told in the transaction
# that marks the message sent; the app records it (an initiative's room).
RoomMade = Callable[[AsyncSession, str, str, str], Awaitable[None]]


def _kind(msg: OutboxMessage) -> Literal["group", "direct"]:
    return "group" if msg.chat_kind == "group" else "direct"


def next_try(attempts: int, now: datetime) -> datetime:
    return now + min(FIRST_RETRY * int(2 ** min(attempts, 12)), MAX_RETRY_GAP)


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


class PlatformQueue:
    """The sending state of one platform: its limiter, a lock (one pass at a time), a wake-up."""

    def __init__(self, platform: str, limits: RateLimits) -> None:
        self.platform = platform
        self.limiter = RateLimiter(limits)
        self.lock = asyncio.Lock()
        self.wake = asyncio.Event()
        self.recovered = False


class OutboxSender:
    def __init__(
        self,
        db: Database,
        adapters: dict[str, Adapter],
        clock: Clock,
        *,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        limits: Mapping[str, RateLimits] | None = None,
        fetch_photo: FetchPhoto | None = None,
        concurrency: int = CONCURRENCY,
        room_made: RoomMade | None = None,
    ) -> None:
        self.db = db
        self.room_made = room_made
        self.adapters = adapters
        self.clock = clock
        self.monotonic = monotonic
        self.sleep = sleep
        self.limits = dict(limits or {})
        self._queues: dict[str, PlatformQueue] = {}
        self.fetch_photo = fetch_photo
        self.concurrency = concurrency
        # Images sent to many chats are read (or downloaded) once: a small cache by key.
        self._images: Bounded[str, bytes | None] = Bounded(16)

    def queue(self, platform: str) -> PlatformQueue:
        q = self._queues.get(platform)
        if q is None:
            q = PlatformQueue(platform, self.limits.get(platform) or limits_for(platform))
            self._queues[platform] = q
        return q

    # -- the ways in ---------------------------------------------------------------------------

    async def flush(self) -> int:
        """Send everything due on every platform we have an adapter for; the number sent."""
        sent = 0
        for platform in list(self.adapters):
            q = self.queue(platform)
            async with q.lock:
                sent += (await self._drain(q, None))[0]
        return sent

    async def flush_some(self, max_messages: int = INLINE_MAX) -> int:
        """Send at most `max_messages` per platform now; wake the background loop for the rest.

        Never waits for a pass that is already running (a broadcast): it only wakes it.
        """
        sent = 0
        for platform in list(self.adapters):
            q = self.queue(platform)
            if q.lock.locked():
                q.wake.set()
                continue
            async with q.lock:
                done, more = await self._drain(q, max_messages)
            sent += done
            if more:
                q.wake.set()
        return sent

    def wake(self) -> None:
        """New rows are waiting: the background loop sends them now, not at its next tick."""
        for platform in list(self.adapters):
            self.queue(platform).wake.set()

    async def run_forever(self, interval: float = 5.0) -> None:
        """One loop per platform, woken by `wake()` or every `interval` s (for retries)."""
        loops: dict[str, asyncio.Task[None]] = {}
        try:
            while True:
                for platform in list(self.adapters):
                    if platform not in loops:
                        loops[platform] = asyncio.create_task(
                            self._run_platform(platform, interval), name=f"outbox-{platform}"
                        )
                await asyncio.sleep(interval)
        finally:
            for task in loops.values():
                task.cancel()
            for task in loops.values():
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _run_platform(self, platform: str, interval: float) -> None:
        q = self.queue(platform)
        while True:
            q.wake.clear()  # a wake-up during the pass below makes the loop go round again
            try:
                async with q.lock:
                    await self._drain(q, None)
            except Exception:
                log.exception("outbox: sending on %s failed", platform)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(q.wake.wait(), interval)

    # -- one pass ----------------------------------------------------------------------------

    async def _drain(self, q: PlatformQueue, budget: int | None) -> tuple[int, bool]:
        """Send due messages in order; (sent, whether some were left for lack of budget).

        Up to `concurrency` sends are in flight at once (round trips overlap), never two to
        the same chat (their order stays), and each starts only when the limiter allows.
        """
        adapter = self.adapters.get(q.platform)
        if adapter is None:
            return 0, False
        if not q.recovered:
            await self._report_in_doubt(q.platform)
            q.recovered = True
        attempted = 0
        after = 0
        flight = InFlight(self.concurrency)
        try:
            while True:
                async with self.db.transaction() as session:
                    batch = await outbox.pending(
                        session, q.platform, self.clock.now(), BATCH, after
                    )
                if not batch:
                    return await flight.finish(), False
                for msg in batch:
                    if budget is not None and attempted >= budget:
                        return await flight.finish(), True
                    assert msg.id is not None
                    after = msg.id
                    await flight.wait_for_chat(msg.chat_id)
                    attempted += 1
                    if not await self._claim(msg):
                        continue  # erased meanwhile (/vergeetmij) or sent already
                    await self._pace(q, msg)
                    q.limiter.record(msg.chat_id, msg.chat_kind, self.monotonic())
                    await flight.start(msg.chat_id, self._deliver(adapter, msg))
        finally:
            await flight.cancel()

    async def _report_in_doubt(self, platform: str) -> None:
        async with self.db.transaction() as session:
            doubt = await outbox.in_doubt(session, platform)
        if doubt:
            log.warning(
                "outbox: %d %s message(s) were being sent when the bot stopped; sending them "
                "again (their recipients may get them twice)",
                len(doubt),
                platform,
            )

    async def _pace(self, q: PlatformQueue, msg: OutboxMessage) -> None:
        while (wait := q.limiter.wait(msg.chat_id, msg.chat_kind, self.monotonic())) > 0:
            await self.sleep(wait)

    async def _reply(self, platform: str, msg: OutboxMessage) -> Reply:
        """The row as a Reply: text and buttons, plus a poll, an image or a photo."""
        extra = msg.extra or {}
        poll = extra.get("poll")
        photo: Attachment | None = None
        image: bytes | None = None
        if (media_id := extra.get("media_id")) is not None:
            image = await self._image(f"media:{media_id}", lambda: self._media(int(media_id)))
        elif (ph := extra.get("photo")) is not None:
            if ph["platform"] == platform:
                photo = Attachment("photo", ph["file_id"], platform)
            elif self.fetch_photo is not None:
                fetch = self.fetch_photo
                key = f"photo:{ph['platform']}:{ph['file_id']}"
                image = await self._image(key, lambda: fetch(ph["platform"], ph["file_id"]))
        ends = extra.get("ends")  # the poll message these results end
        room = extra.get("room")  # a room to create first (an introduction on Matrix)
        return Reply(
            text=msg.text,
            ends=MessageRef(ChatRef(platform, msg.chat_id, _kind(msg)), ends) if ends else None,
            buttons=stored_keyboard(msg.buttons),
            photo=photo,
            image=image,
            poll=PollSpec.from_row(poll) if poll else None,
            new_room=NewRoom.from_row(room) if room else None,
        )  # fmt: skip

    async def _tell_room_made(
        self, session: AsyncSession, msg: OutboxMessage, ref: MessageRef | None
    ) -> None:
        key = ((msg.extra or {}).get("room") or {}).get("key")
        if key and ref is not None and ref.chat.id != msg.chat_id and self.room_made is not None:
            await self.room_made(session, key, ref.chat.platform, ref.chat.id)

    async def _image(self, key: str, load: Callable[[], Awaitable[bytes | None]]) -> bytes | None:
        if key not in self._images:
            data = await load()  # an error: this message is retried later, not sent bare
            if data is None:
                shown = key.partition("#")[0]  # never a decryption key in the log
                log.warning("outbox: image %s unavailable; the text goes without it", shown)
            self._images[key] = data
        return self._images[key]

    async def _media(self, media_id: int) -> bytes | None:
        async with self.db.transaction() as session:
            media = await session.get(Media, media_id)
            return bytes(media.data) if media is not None else None

    async def _claim(self, msg: OutboxMessage) -> bool:
        """Step 1, committed before the platform is asked; False when there is nothing to send."""
        assert msg.id is not None
        async with self.db.transaction() as session:
            return await outbox.claim(session, msg.id, self.clock.now())

    async def _deliver(self, adapter: Adapter, msg: OutboxMessage) -> bool:
        """Steps 2 and 3: send, then mark sent (or failed, with its retry time)."""
        assert msg.id is not None
        chat = ChatRef(adapter.platform, msg.chat_id, _kind(msg))
        error: str | None = None
        give_up = False
        ref: MessageRef | None = None
        try:  # 2. send
            ref = await adapter.send(chat, await self._reply(adapter.platform, msg))
        except Unreachable as exc:
            error, give_up = f"unreachable: {exc}", True
        except Exception as exc:
            log.warning("outbox message %s failed: %s", msg.id, type(exc).__name__)
            error = f"{type(exc).__name__}: {exc}"
            give_up = self.clock.now() - msg.created_at > GIVE_UP_AFTER
        async with self.db.transaction() as session:  # 3. mark
            if error is None:
                await self._tell_room_made(session, msg, ref)
                return await outbox.mark_sent_id(session, msg.id, ref=ref.id if ref else None)
            # One UPDATE, no read first: on SQLite a transaction that reads and then writes
            # can fail at once while another send is being marked.
            await outbox.mark_failed(
                session, msg.id, msg.attempts + 1, error, give_up,
                next_try(msg.attempts, self.clock.now()),
            )  # fmt: skip
        return False
