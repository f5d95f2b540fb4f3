"""Sends what the outbox holds; nothing is lost on a restart.

Messages go in batches: claim → send → mark. A batch of rows is claimed in one statement
(`claimed_at`, `claimed_by` this worker, `lease_until`) and committed, the platform is asked
to send each, and the batch is marked sent (or failed) in one transaction. Killed between
send and mark, the claimed rows are sent again after the restart: delivery is at least
once, and only the rows claimed at the kill (at most BATCH per platform) can reach their
recipients twice. `claimed_at` without `sent_at` marks them.

Several workers (PostgreSQL): by default one of them sends each platform's outbox at a
time, the one holding its role (bot/delivery/leader.py), so Telegram's limits and each
chat's order hold across workers. With WIJKBOT_OUTBOX_SENDERS=all every worker sends, and
the limits hold through a budget in the database (bot/delivery/send_budget.py). Rows
another worker claimed are taken over when their lease is over; the claim skips rows
locked by another claim (SKIP LOCKED), or whose worker is gone (PostgreSQL: it has no
connection open). On SQLite (one process) rows claimed before a restart are taken at once.

Answers to incoming messages pass through here too: the worker that handled the message
writes them claimed by itself and sends them at once (bot/core/replies.py). The sender never
takes a row its own worker holds; it sends an answer only when its worker is gone or the
send failed, and deletes it once sent (an answer is not kept).

Limits: each platform has a `RateLimits` (bot/delivery/limits.py); the sender waits before a
send until the limiter allows it, on an injectable monotonic clock and sleep (so tests and
benchmarks run on simulated time). Before it waits, the sends already started are let
finish, so none of them reaches the platform after the wait (in the next window). A message that fails is retried with exponential
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
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import replies
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
from bot.core.metrics import Metrics
from bot.core.ports import Adapter, Unreachable
from bot.delivery.flight import Attempt, InFlight
from bot.delivery.leader import Roles, outbox_role
from bot.delivery.limits import RateLimiter, RateLimits, limits_for
from bot.delivery.send_budget import SharedBudget, recent_since
from bot.util.bounded import Bounded
from storage.db import Database
from storage.models import Media
from storage.repo import outbox, outbox_replies
from storage.repo.outbox import Outgoing

log = logging.getLogger(__name__)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY_GAP = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(days=1)
INLINE_MAX = 20  # messages sent inline after a handled event; the rest in the background
CONCURRENCY = 32  # sends in flight at once per platform (round trips overlap)
# Rows claimed (and marked) per transaction. Claimed rows not yet marked are in doubt after
# a crash, so this bounds how many can reach their recipients twice.
BATCH = CONCURRENCY
LEASE = timedelta(seconds=30)  # how long a claim keeps other workers off its rows

Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
FetchPhoto = Callable[[str, str], Awaitable[bytes | None]]
# A room was made for a message (`NewRoom.key`, platform, room id), told in the transaction
# that marks the message sent; the app records it (an initiative's room).
RoomMade = Callable[[AsyncSession, str, str, str], Awaitable[None]]


def _kind(msg: Outgoing) -> Literal["group", "direct"]:
    return "group" if msg.chat_kind == "group" else "direct"


def next_try(attempts: int, now: datetime) -> datetime:
    return now + min(FIRST_RETRY * int(2 ** min(attempts, 12)), MAX_RETRY_GAP)


def worker_name(host: str, pid: int, token: str) -> str:
    """This worker's id: host, process and a random token, short enough to be a name.

    Other workers see it live as a PostgreSQL connection's application_name, which keeps
    63 bytes: the name with its prefix must fit whole, or it would never match (a long
    host name once made every lease look dead). The host is cut to ASCII and 30 characters.
    """
    short = host.encode("ascii", "replace").decode()[:30]
    return f"{short}:{pid}:{token}"


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
        batch: int = BATCH,
        roles: Roles | None = None,
        room_made: RoomMade | None = None,
        metrics: Metrics | None = None,
        shared: SharedBudget | None = None,
    ) -> None:
        self.db = db
        self.metrics = metrics or Metrics()  # counts sends (ok / failed) per platform
        self.room_made = room_made
        self.adapters = adapters
        self.clock = clock
        self.monotonic = monotonic
        self.sleep = sleep
        self.limits = dict(limits or {})
        self._queues: dict[str, PlatformQueue] = {}
        self.fetch_photo = fetch_photo
        self.concurrency = concurrency
        self.batch = batch
        self.roles = roles  # set by a running worker: send only while holding the role
        # Every worker sends (WIJKBOT_OUTBOX_SENDERS=all): the limits held across workers.
        self.shared = shared
        self.worker = worker_name(socket.gethostname(), os.getpid(), uuid.uuid4().hex[:8])
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

        Claims a batch (one statement), sends it with up to `concurrency` sends in flight
        at once (round trips overlap), never two to the same chat (their order stays),
        each when the limiter allows, and marks the batch (one transaction); then the next.
        """
        adapter = self.adapters.get(q.platform)
        if adapter is None or not self._may_send(q.platform):
            return 0, False
        if not q.recovered:
            await self._recover(q.platform)
            q.recovered = True
        attempted = sent = 0
        while True:
            size = self.batch if budget is None else min(self.batch, budget - attempted)
            if size <= 0:
                return sent, True
            now = self.clock.now()
            recent = recent_since(q.limiter.limits, now) if self.shared else None
            async with self.db.transaction() as session:
                batch = await outbox.claim_batch(
                    session, q.platform, now, self.worker, now + LEASE, size, recent
                )
            if not batch:
                return sent, False
            attempted += len(batch)
            sent += await self._send_batch(adapter, q, batch)

    async def _tokens(self, q: PlatformQueue, flight: InFlight, want: int) -> int:
        """How many of the next `want` sends may go now by the shared budget (at least one:
        waits while there are none). All of them without a shared budget or overall limit."""
        window = q.limiter.limits.overall
        if self.shared is None or window is None:
            return want
        while True:
            taken, wait = await self.shared.take(q.platform, window, want)
            if taken:
                return taken
            await flight.finish()  # as before any pause
            await self.sleep(wait)

    def _may_send(self, platform: str) -> bool:
        """One sender per platform across workers (its limits and each chat's order hold)."""
        return self.roles is None or self.roles.holds(outbox_role(platform))

    async def _send_batch(self, adapter: Adapter, q: PlatformQueue, batch: list[Outgoing]) -> int:
        """Send a claimed batch; mark what was sent or failed, free what never started."""
        flight = InFlight(self.concurrency)
        done: list[Attempt] = []
        started: set[int] = set()
        tokens = 0  # sends the shared budget allows now
        try:
            for i, msg in enumerate(batch):
                await flight.wait_for_chat(msg.chat_id)
                if q.limiter.wait(msg.chat_id, msg.chat_kind, self.monotonic()) > 0:
                    # Before a pause, every send started has reached the platform: it
                    # counts its window by arrival, and a simulated clock moves at once.
                    await flight.finish()
                    tokens = 0  # taken before the pause: used after it, they would bunch
                await self._pace(q, msg)
                if tokens == 0:
                    tokens = await self._tokens(q, flight, len(batch) - i)
                tokens -= 1
                q.limiter.record(msg.chat_id, msg.chat_kind, self.monotonic())
                started.add(msg.id)
                await flight.start(msg.chat_id, self._deliver(adapter, msg, done))
            await flight.finish()
        finally:
            await flight.cancel()
            unstarted = [m.id for m in batch if m.id not in started]
            await self._mark(done, unstarted)
        return sum(a.error is None for a in done)

    async def _mark(self, done: list[Attempt], unstarted: list[int]) -> None:
        """Step 3 for a batch, in one transaction."""
        if not done and not unstarted:
            return
        now = self.clock.now()
        # An answer is kept only until it arrived (or never can): bot/core/replies.py.
        over = [a for a in done if replies.is_answer(a.msg) and (a.error is None or a.give_up)]
        done = [a for a in done if all(a is not o for o in over)]
        async with self.db.transaction() as session:
            await outbox_replies.forget(await session.connection(), [a.msg.id for a in over])
            await outbox.mark_sent_many(
                session, [(a.msg.id, a.ref) for a in done if a.error is None], now
            )
            for a in done:
                if a.error is None and a.room is not None:
                    await self._tell_room_made(session, a.msg, a.room)
            for a in done:
                if a.error is not None:
                    # One UPDATE, no read first (on SQLite a read-then-write transaction can
                    # fail at once while another write is committed).
                    await outbox.mark_failed(
                        session, a.msg.id, a.msg.attempts + 1, a.error, a.give_up,
                        next_try(a.msg.attempts, now),
                    )  # fmt: skip
            await outbox.release(session, unstarted)

    async def _recover(self, platform: str) -> None:
        """Report what was in flight when the last sender stopped; on SQLite (one process)
        those rows are free at once, on PostgreSQL when their lease is over."""
        async with self.db.transaction() as session:
            # Rows other workers are sending now (a batch when every worker sends, the answers
            # each worker sends itself) are not in doubt.
            doubt = await outbox.in_doubt(
                session, platform, gone_only=not self.db.is_sqlite, not_of=self.worker
            )
            if self.db.is_sqlite:
                await outbox.release_all(session, platform, self.worker)
        if doubt:
            log.warning(
                "outbox: %d %s message(s) were being sent when the bot stopped; sending them "
                "again (their recipients may get them twice)",
                len(doubt),
                platform,
            )

    async def _pace(self, q: PlatformQueue, msg: Outgoing) -> None:
        while (wait := q.limiter.wait(msg.chat_id, msg.chat_kind, self.monotonic())) > 0:
            await self.sleep(wait)

    async def _reply(self, platform: str, msg: Outgoing) -> Reply:
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
        self, session: AsyncSession, msg: Outgoing, room: tuple[str, str]
    ) -> None:
        key = ((msg.extra or {}).get("room") or {}).get("key")
        if key and self.room_made is not None:
            await self.room_made(session, key, *room)

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

    async def _deliver(self, adapter: Adapter, msg: Outgoing, done: list[Attempt]) -> bool:
        """Step 2: send; the outcome goes to `done`, marked with its batch (step 3)."""
        chat = ChatRef(adapter.platform, msg.chat_id, _kind(msg))
        try:
            if replies.is_answer(msg):  # an answer its worker did not send (bot/core/replies.py)
                await replies.send_one(adapter, chat, *replies.from_row(chat, msg))
                ref = None
            else:
                ref = await adapter.send(chat, await self._reply(adapter.platform, msg))
        except Unreachable as exc:
            done.append(Attempt(msg, None, f"unreachable: {exc}", True))
            self.metrics.sent(adapter.platform, False)
            return False
        except Exception as exc:
            log.warning("outbox message %s failed: %s", msg.id, type(exc).__name__)
            give_up = self.clock.now() - msg.created_at > GIVE_UP_AFTER
            done.append(Attempt(msg, None, f"{type(exc).__name__}: {exc}", give_up))
            self.metrics.sent(adapter.platform, False)
            return False
        self.metrics.sent(adapter.platform, True)
        made = ref is not None and ref.chat.id != msg.chat_id
        room = (ref.chat.platform, ref.chat.id) if ref is not None and made else None
        done.append(Attempt(msg, ref.id if ref else None, room=room))
        return True
