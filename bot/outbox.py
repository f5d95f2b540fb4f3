"""Sends what the outbox holds, one sender per platform; nothing is lost on a restart.

A message that fails is retried with exponential backoff (30 s, 1 min, 2 min … at most an
hour apart) for a day; a chat that is unreachable (blocked, kicked) is given up at once.
Rate limits per platform arrive with the broadcast work (issue 5).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from bot.adapters.base import Adapter, Unreachable
from bot.clock import Clock
from bot.conversation import aware
from bot.events import Button, ChatRef, Reply
from storage.db import Database
from storage.models import OutboxMessage
from storage.repo import outbox

log = logging.getLogger(__name__)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY_GAP = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(days=1)


def next_try(attempts: int, now: datetime) -> datetime:
    return now + min(FIRST_RETRY * (2 ** min(attempts, 12)), MAX_RETRY_GAP)


class OutboxSender:
    def __init__(self, db: Database, adapters: dict[str, Adapter], clock: Clock) -> None:
        self.db = db
        self.adapters = adapters
        self.clock = clock
        self._lock = asyncio.Lock()

    async def flush(self) -> int:
        """Send everything pending on every platform we have an adapter for."""
        sent = 0
        async with self._lock:
            for platform, adapter in self.adapters.items():
                sent += await self._flush_platform(platform, adapter)
        return sent

    async def _flush_platform(self, platform: str, adapter: Adapter) -> int:
        sent = 0
        while True:
            async with self.db.transaction() as session:
                batch = await outbox.pending(session, platform, self.clock.now())
            if not batch:
                return sent
            progress = False
            for msg in batch:
                ok = await self._send_one(adapter, msg)
                sent += ok
                progress = progress or ok
            if not progress:
                return sent

    async def _send_one(self, adapter: Adapter, msg: OutboxMessage) -> bool:
        reply = Reply(
            text=msg.text,
            buttons=tuple(tuple(Button(b["label"], b["data"]) for b in row) for row in msg.buttons),
        )
        chat = ChatRef(adapter.platform, msg.chat_id, "direct")
        error: str | None = None
        give_up = False
        try:
            await adapter.send(chat, reply)
        except Unreachable as exc:
            error, give_up = f"unreachable: {exc}", True
        except Exception as exc:
            log.warning("outbox message %s failed: %s", msg.id, type(exc).__name__)
            error = f"{type(exc).__name__}: {exc}"
            give_up = self.clock.now() - aware(msg.created_at) > GIVE_UP_AFTER
        async with self.db.transaction() as session:
            row = await session.get(OutboxMessage, msg.id)
            if row is None:
                return False
            if error is None:
                await outbox.mark_sent(session, row)
            else:
                await outbox.mark_failed(
                    session, row, error, give_up, next_try(row.attempts, self.clock.now())
                )
        return error is None

    async def run_forever(self, interval: float = 5.0) -> None:
        while True:
            try:
                await self.flush()
            except Exception:
                log.exception("outbox flush failed")
            await asyncio.sleep(interval)
