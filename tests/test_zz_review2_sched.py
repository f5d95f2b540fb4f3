from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from bot.i18n import TIMEZONE
from bot.jobs import Job, build_scheduler, start_scheduler
from storage.db import Database, sync_url
from storage.migrate import upgrade


async def test_sqlite_jobstore_write_while_app_txn_open(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    db = Database(url)
    ran = []

    async def work() -> int:
        ran.append(1)
        return 0

    jobs = [Job("digest-daily", timedelta(days=1), work, cron="0 19 * * *")]
    sched = build_scheduler(jobs, None, sync_url(url))
    start_scheduler(sched, jobs)
    # make it due now
    sched.modify_job("digest-daily", "db", next_run_time=datetime.now(TIMEZONE) + timedelta(seconds=1))
    async with db.transaction() as s:  # any handler/outbox/job transaction (BEGIN IMMEDIATE)
        await s.exec(text("SELECT 1"))
        t0 = time.monotonic()
        await asyncio.sleep(1.5)  # the scheduler wakes up while we hold the write lock
        blocked = time.monotonic() - t0
    print("loop blocked for", blocked)
    await asyncio.sleep(0.5)
    print("ran", ran, "timer", getattr(sched, "_timeout", None))
    job = sched.get_job("digest-daily", "db")
    print("next", job.next_run_time)
    sched.shutdown(wait=False)
    await db.dispose()
