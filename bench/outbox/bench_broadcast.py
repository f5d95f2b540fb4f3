"""Broadcast one message to many recipients through the Telegram Bot API stand-in.

    .venv/bin/python -m bench.outbox.bench_broadcast [--recipients 10000] [--only a|b]

(a) Rate limits lifted: the outbox sender with no limits, the real TelegramAdapter
    (python-telegram-bot over HTTP) and a stand-in in a separate process, so the CPU time
    (`time.process_time`, every thread of this process: asyncio, aiosqlite) is the bot's
    alone. Reports messages per second and CPU time per message.
(b) Telegram's limits on a simulated clock: the sender paces itself with Telegram's limits
    (30/s overall, 1/s per chat, 20/min per group) on a simulated monotonic clock; the
    stand-in, in this process, enforces the same limits on the same clock and answers 429
    to any message over them. Reports the simulated time against the floor N / 30 s.

Both start from N rows written in one transaction (the broadcast), on a fresh SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from bot.adapters.telegram import TelegramAdapter
from bot.clock import SystemClock
from bot.config import Settings
from bot.outbox import OutboxSender
from bot.outbox_limits import NO_LIMITS, TELEGRAM_LIMITS
from storage.db import Database
from storage.migrate import upgrade
from storage.repo import outbox
from tests.standins.telegram_botapi import BotApiStandIn, FloodLimits
from tests.support.outbox_sim import SimTime

TOKEN = "123456789:AAF-wijkbot_bench_token"
FIRST_CHAT = 100_000
TEXT = "Nieuwe peiling in Schalkwijk: waar moet het nieuwe bankje komen? Stem in de chat."


def fresh_db(tmp: Path, name: str) -> str:
    url = f"sqlite:///{tmp / name}"
    upgrade(url)
    return url


async def write_broadcast(db: Database, recipients: int) -> float:
    start = time.perf_counter()
    async with db.transaction() as s:
        for i in range(recipients):
            await outbox.enqueue(s, "telegram", str(FIRST_CHAT + i), TEXT)
    return time.perf_counter() - start


def settings_for(url: str, tmp: Path, base_url: str, base_file_url: str) -> Settings:
    return Settings(
        database_url=url, data_dir=tmp, telegram_token=SecretStr(TOKEN),
        telegram_base_url=base_url, telegram_base_file_url=base_file_url,
    )  # fmt: skip


async def unsent(db: Database) -> int:
    async with db.session() as s:
        return len(await outbox.pending(s, "telegram", SystemClock().now(), limit=1_000_000))


# -- (a) --------------------------------------------------------------------------------------


async def bench_unlimited(recipients: int, tmp: Path) -> None:
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.outbox.standin_server",
        "--recipients", str(recipients), "--token", TOKEN,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert server.stdin is not None and server.stdout is not None
    try:
        port = int((await server.stdout.readline()).split()[1])
        url = f"http://127.0.0.1:{port}"
        db = Database(fresh_db(tmp, "a.db"))
        adapter = TelegramAdapter(settings_for(db.url, tmp, f"{url}/bot", f"{url}/file/bot"), db)
        await adapter.bot.initialize()
        sender = OutboxSender(db, {"telegram": adapter}, SystemClock(),  # type: ignore[dict-item]
                              limits={"telegram": NO_LIMITS})  # fmt: skip
        enqueue = await write_broadcast(db, recipients)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        sent = await sender.flush()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        server.stdin.write(b"count\n")
        _, delivered, chats, errors = (await server.stdout.readline()).decode().split()
        left = await unsent(db)
        await adapter.bot.shutdown()
        await db.dispose()
    finally:
        server.stdin.write(b"quit\n")
        server.stdin.close()
        await asyncio.wait_for(server.wait(), timeout=10)
    print("(a) rate limits lifted; stand-in in a separate process, CPU time is the bot's only")
    print(f"    recipients            {recipients}")
    print(f"    writing the broadcast {enqueue:.2f} s (one transaction)")
    print(f"    sent / delivered      {sent} / {delivered} to {chats} chats; "
          f"unsent left {left}; errors {errors}")  # fmt: skip
    print(f"    wall time             {wall:.2f} s")
    print(f"    messages per second   {sent / wall:.0f}")
    print(f"    CPU time              {cpu:.2f} s, {cpu / sent * 1000:.2f} ms per message")


# -- (b) --------------------------------------------------------------------------------------


async def bench_limited(recipients: int, tmp: Path) -> None:
    sim = SimTime()
    async with BotApiStandIn(token=TOKEN) as api:
        for i in range(recipients):
            api.private_chat(api.user(FIRST_CHAT + i, f"Buur {i}", f"buur{i}"))
        api.enable_flood_limits(FloodLimits(), clock=sim.now)
        db = Database(fresh_db(tmp, "b.db"))
        adapter = TelegramAdapter(settings_for(db.url, tmp, api.base_url, api.base_file_url), db)
        await adapter.bot.initialize()
        sender = OutboxSender(db, {"telegram": adapter}, SystemClock(),  # type: ignore[dict-item]
                              monotonic=sim.now, sleep=sim.sleep)  # fmt: skip
        assert sender.queue("telegram").limiter.limits == TELEGRAM_LIMITS
        await write_broadcast(db, recipients)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        sent = await sender.flush()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        left = await unsent(db)
        await adapter.bot.shutdown()
        await db.dispose()
        delivered = api.sent
        too_many = sum(r.status == 429 for r in api.request_log)
    floor = recipients / 30
    print("(b) Telegram's limits on a simulated clock (stand-in in this process, enforcing them)")
    print(f"    recipients            {recipients}")
    print(f"    sent / delivered      {sent} / {len(delivered)} to "
          f"{len({r.chat_id for r in delivered})} chats; unsent left {left}")  # fmt: skip
    print(f"    simulated time        {sim.now():.2f} s")
    print(f"    floor N / 30 s        {floor:.2f} s")
    least = math.ceil(recipients / 30) - 1  # bursts of 30 at 0, 1, 2 … s (a 1 s window)
    ratio = sim.now() / floor
    verdict = "meets" if ratio <= 1.05 else "MISSES"
    print(f"    least possible        {least:.2f} s (30 at once, each second)")
    print(f"    ratio to the floor    {ratio:.4f} ({verdict} the target: at most 1.05)")
    print(f"    429 answers           {too_many}")
    print(f"    real time, CPU        {wall:.2f} s, {cpu:.2f} s (bot and stand-in together)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--only", choices=["a", "b"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wijkbot-bench-") as tmp:
        if args.only in (None, "a"):
            asyncio.run(bench_unlimited(args.recipients, Path(tmp)))
        if args.only in (None, "b"):
            asyncio.run(bench_limited(args.recipients, Path(tmp)))


if __name__ == "__main__":
    main()
