"""Sends what the outbox holds, one sender per platform; nothing is lost on a restart.

This first version sends in order and retries failed rows a few times; rate limits per
platform and backoff schedules arrive with the broadcast work (issue 5).
"""

from __future__ import annotations

import asyncio
import logging

from bot.adapters.base import Adapter, Unreachable
from bot.events import Button, ChatRef, Reply
from storage.db import Database
from storage.models import OutboxMessage
from storage.repo import outbox

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


class OutboxSender:
    def __init__(self, db: Database, adapters: dict[str, Adapter]) -> None:
        self.db = db
        self.adapters = adapters
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
                batch = await outbox.pending(session, platform)
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
            log.exception("outbox message %s failed", msg.id)
            error = f"{type(exc).__name__}: {exc}"
            give_up = msg.attempts + 1 >= MAX_ATTEMPTS
        async with self.db.transaction() as session:
            row = await session.get(OutboxMessage, msg.id)
            if row is None:
                return False
            if error is None:
                await outbox.mark_sent(session, row)
            else:
                await outbox.mark_failed(session, row, error, give_up)
        return error is None

    async def run_forever(self, interval: float = 5.0) -> None:
        while True:
            try:
                await self.flush()
            except Exception:
                log.exception("outbox flush failed")
            await asyncio.sleep(interval)
