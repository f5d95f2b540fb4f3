"""Killed mid-broadcast (SIGKILL, a real process), the bot resumes: nobody lost, and only
the messages in flight at the kill (at most the sender's concurrency) can come twice.

The bot runs in a child process (tests/support/outbox_kill_child.py) with the real Telegram
adapter against the Bot API stand-in, which runs here. The stand-in kills the child at the
worst moment: inside the sendMessage request, after the message is delivered and before
the bot hears so. That message is in flight, and so may be a few others the sender had
started at the same time; they are the only ones that may come twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlmodel import select

from bot.delivery.outbox import CONCURRENCY
from storage.db import Database
from storage.models import OutboxMessage
from storage.repo import outbox
from tests.standins.telegram_botapi import BotApiStandIn
from tests.standins.telegram_records import SentRecord

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456789:AAF-wijkbot_kill_token"
N = 300
KILL_AT = (100, 200)  # messages delivered when the bot is killed (twice)
FIRST_CHAT = 50_000


class KillingStandIn(BotApiStandIn):
    """Sends SIGKILL to `victim` once `kill_at` messages were delivered, before answering."""

    victim: int | None = None
    kill_at: int | None = None
    killed_at: list[int]

    def _record_sent(self, record: SentRecord) -> None:
        super()._record_sent(record)
        if self.victim is not None and len(self.sent) == self.kill_at:
            os.kill(self.victim, signal.SIGKILL)
            self.killed_at.append(len(self.sent))
            self.victim = None


async def start_bot(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as err:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.support.outbox_kill_child",
            cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=err, stderr=err,
        )  # fmt: skip


async def counts(db_url: str) -> dict[str, int]:
    db = Database(db_url)
    try:
        async with db.session() as s:
            rows = (await s.exec(select(OutboxMessage))).all()
            doubt = await outbox.in_doubt(s, "telegram")
    finally:
        await db.dispose()
    return {
        "sent": sum(r.sent_at is not None for r in rows),
        "in_doubt": len(doubt),
        "failed": sum(r.failed or r.attempts > 0 for r in rows),
    }


async def wait_until(check: Any, timeout: float, what: str, log: Path) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            text = await asyncio.to_thread(log.read_text)
            raise AssertionError(f"timed out waiting for {what}; bot log:\n{text}")
        await asyncio.sleep(0.05)


async def test_kill_9_mid_broadcast_loses_nobody_and_repeats_only_the_message_in_flight(
    db_url: str, tmp_path: Path, record_property: Any
) -> None:
    chats = [FIRST_CHAT + i for i in range(N)]
    db = Database(db_url)
    async with db.transaction() as s:
        for chat in chats:
            await outbox.enqueue(s, "telegram", str(chat), f"Uitnodiging voor de buurtavond {chat}")
    await db.dispose()

    log = tmp_path / "bot.log"
    async with KillingStandIn(token=TOKEN) as api:
        api.killed_at = []
        for chat in chats:
            api.private_chat(api.user(chat, f"Buur {chat}", f"buur{chat}"))
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "WIJKBOT_DATABASE_URL": db_url,
            "WIJKBOT_DATA_DIR": str(tmp_path),
            "WIJKBOT_TELEGRAM_TOKEN": TOKEN,
            "WIJKBOT_TELEGRAM_BASE_URL": api.base_url,
            "WIJKBOT_TELEGRAM_BASE_FILE_URL": api.base_file_url,
            "WIJKBOT_TEST_OUTBOX_PER_SECOND": "100",
        }
        observed: list[dict[str, int]] = []
        for kill_at in KILL_AT:
            bot = await start_bot(env, log)
            api.victim, api.kill_at = bot.pid, kill_at
            assert await asyncio.wait_for(bot.wait(), timeout=60) == -signal.SIGKILL
            state = await counts(db_url)
            reached = len({r.chat_id for r in api.sent})
            observed.append({"delivered": len(api.sent), "chats": reached, **state})
            # Every chat reached is marked sent, except those in flight at the kill.
            assert state["failed"] == 0 and 1 <= state["in_doubt"] <= CONCURRENCY, state
            assert state["sent"] < reached <= state["sent"] + state["in_doubt"], (state, log)

        bot = await start_bot(env, log)
        try:
            received: Counter[int] = Counter()

            def everyone_has_it() -> bool:
                received.clear()
                received.update(r.chat_id for r in api.sent)
                return len(received) == N

            await wait_until(everyone_has_it, 60, "the rest of the broadcast", log)
            await asyncio.sleep(0.3)  # anything sent twice after the last new chat shows up
        finally:
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.wait(), timeout=20)
        assert api.server_errors == []

    received = Counter(r.chat_id for r in api.sent)
    assert set(received) == set(chats)  # no recipient lost
    duplicates = sum(n - 1 for n in received.values())
    in_flight = sum(o["in_doubt"] for o in observed)
    # Only messages in flight at a kill come twice; the one being answered at each kill does.
    assert len(KILL_AT) <= duplicates <= in_flight
    assert (await counts(db_url)) == {"sent": N, "in_doubt": 0, "failed": 0}
    assert "were being sent when the bot stopped" in await asyncio.to_thread(log.read_text)
    record_property("kills", observed)
    record_property("duplicates", duplicates)
    print(f"\nkill test: {observed}; delivered {len(api.sent)} for {N} chats; "
          f"duplicates {duplicates}")  # fmt: skip
