"""One worker process of bench_workers: an outbox sender as `wijkbot run --worker` has it.

    python -m bench.outbox.worker_child --url URL --api URL --mode one|all

Limits lifted. Prints ``READY`` once connected, starts at a ``go`` line on stdin, sends until
nothing waits, prints ``DONE <sent> <cpu s>`` and stays connected until ``quit`` (so the
bench can read PostgreSQL's CPU time before the connections close).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from pathlib import Path

from bench.outbox.bench_broadcast import settings_for
from bot.adapters.telegram.adapter import TelegramAdapter
from bot.core.adapter_store import DatabaseAdapterStore
from bot.core.clock import SystemClock
from bot.delivery.leader import SCHEDULER, Roles, outbox_role
from bot.delivery.limits import NO_LIMITS
from bot.delivery.outbox import OutboxSender
from bot.delivery.send_budget import SharedBudget
from storage.db import Database
from storage.repo import outbox


async def waiting(db: Database) -> int:
    async with db.session() as s:
        return len(await outbox.pending(s, "telegram", SystemClock().now(), limit=1))


async def work(url: str, api: str, mode: str) -> None:
    db = Database(url)
    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory(prefix="wijkbot-worker-") as tmp:
        settings = settings_for(url, Path(tmp), f"{api}/bot", f"{api}/file/bot")
        adapter = TelegramAdapter(settings, DatabaseAdapterStore(db))
        await adapter.bot.initialize()
        shared = SharedBudget(db) if mode == "all" else None
        sender = OutboxSender(db, {"telegram": adapter}, SystemClock(),  # type: ignore[dict-item]
                              limits={"telegram": NO_LIMITS}, shared=shared)  # fmt: skip
        # As the app: a connection named after the worker (its leases count while it lives),
        # holding the scheduler role or waiting for it; with `one` the sender role too.
        roles = Roles.for_database([SCHEDULER], url, worker=sender.worker)
        if mode == "one":
            roles.want(outbox_role("telegram"))
            sender.roles = roles
        await roles.try_once()
        holding = asyncio.create_task(roles.run())
        print("READY", flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)  # go
        cpu0 = time.process_time()
        sent = 0
        while True:
            done = await sender.flush()
            sent += done
            if done == 0:
                if not await waiting(db):
                    break
                await asyncio.sleep(0.1)  # held by another worker (its role, its lease)
        print(f"DONE {sent} {time.process_time() - cpu0:.3f}", flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)  # quit
        holding.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await holding
        await adapter.bot.shutdown()
    await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--api", required=True)
    parser.add_argument("--mode", choices=["one", "all"], required=True)
    args = parser.parse_args()
    asyncio.run(work(args.url, args.api, args.mode))


if __name__ == "__main__":
    main()
