"""Scheduled jobs (APScheduler): support news for authors, forwarding, privacy clean-up."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock
from bot.conversation import purge_stale
from bot.handlers.ideas import tell_authors_about_support
from storage.db import Database
from storage.repo import outbox

log = logging.getLogger(__name__)


OUTBOX_KEEP = timedelta(days=30)


async def purge_dialogs(db: Database, clock: Clock) -> int:
    """Forget unfinished dialogs and old sent messages: both hold personal data."""
    async with db.transaction() as session:
        count = await purge_stale(session, clock.now())
        return count + await outbox.purge_sent(session, clock.now() - OUTBOX_KEEP)


async def support_batch(db: Database) -> int:
    async with db.transaction() as session:
        return await tell_authors_about_support(session)


@dataclass(frozen=True)
class Job:
    """Something done on a schedule; `run` returns how much it did (0: nothing new)."""

    id: str
    every: timedelta
    run: Callable[[], Awaitable[int]]


def build_scheduler(
    jobs: list[Job], after: Callable[[], Awaitable[object]] | None = None
) -> AsyncIOScheduler:
    """APScheduler runs each job on its interval; `after` (sending the outbox) follows work."""
    scheduler = AsyncIOScheduler(timezone="Europe/Amsterdam")

    def wrap(job: Job) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            try:
                done = await job.run()
            except Exception:
                log.exception("job %s failed", job.id)
                return
            log.info("job %s: %d", job.id, done)
            if done and after is not None:
                await after()

        return run

    for job in jobs:
        scheduler.add_job(
            wrap(job), "interval", seconds=job.every.total_seconds(), id=job.id,
            coalesce=True, max_instances=1, replace_existing=True,
        )  # fmt: skip
    return scheduler
