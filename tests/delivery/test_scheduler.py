"""A failing job store must not stop the scheduler (review: SQLite lock while a digest fired)."""

from __future__ import annotations

import asyncio
from typing import Any

from apscheduler.jobstores.memory import MemoryJobStore

from bot.delivery.scheduler import SafeScheduler


class FlakyStore(MemoryJobStore):
    """Fails to store the next run time once, like SQLite answering "database is locked"."""

    failures = 1

    def update_job(self, job: Any) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("database is locked")
        super().update_job(job)


async def test_scheduler_keeps_running_after_a_job_store_error() -> None:
    runs: list[int] = []

    async def tick() -> None:
        runs.append(len(runs))

    scheduler = SafeScheduler(jobstore_retry_interval=0.05)
    store = FlakyStore()
    scheduler.add_jobstore(store, "flaky")
    scheduler.start()
    try:
        scheduler.add_job(tick, "interval", seconds=0.1, jobstore="flaky", id="tick")
        for _ in range(200):  # up to 10 s on a busy machine; about 0.3 s usually
            if store.failures == 0 and len(runs) >= 3:
                break
            await asyncio.sleep(0.05)
    finally:
        scheduler.shutdown(wait=False)
    assert store.failures == 0  # the error happened …
    assert len(runs) >= 3  # … and the job kept running afterwards
