"""Scheduled jobs (APScheduler): support news, forwarding, clean-up, digests."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.core.clock import Clock
from bot.core.dialog import purge_stale
from bot.core.i18n import TIMEZONE
from bot.core.metrics import Metrics
from storage.db import Database
from storage.repo import inbox, limits, outbox, web

log = logging.getLogger(__name__)


OUTBOX_KEEP = timedelta(days=30)
COUNTED_KEEP = timedelta(days=1)  # longer than any per-hour limit looks back
# A handled inbox entry keeps only its key, so an update sent again is not answered twice;
# Telegram keeps an update one day, and picks ids afresh only after a week without any.
INBOX_KEEP = timedelta(days=2)


async def purge_dialogs(db: Database, clock: Clock) -> int:
    """Forget unfinished dialogs, old sent messages and counted actions (personal data), used
    or expired web login links and ended web sessions, and the keys of inbox entries handled
    long enough ago."""
    async with db.transaction() as session:
        count = await purge_stale(session, clock.now())
        count += await limits.purge(session, clock.now() - COUNTED_KEEP)
        count += await inbox.purge_handled(session, clock.now() - INBOX_KEEP)
        count += await web.purge_ended(session, clock.now())
        return count + await outbox.purge_sent(session, clock.now() - OUTBOX_KEEP)


@dataclass(frozen=True)
class Job:
    """Something done on a schedule; `run` returns how much it did (0: nothing new).

    Without `cron` it runs every `every`, kept in memory. With `cron` (a crontab line in
    Europe/Amsterdam) it is kept in the database job store, so a run missed while the bot
    was down happens once after the restart; `every` is then its period, and a missed run up
    to one period late still happens. `run` is what the console's `:jobs` does; the
    scheduler does `on_schedule` when given (digests: only the people who are due).
    """

    id: str
    every: timedelta
    run: Callable[[], Awaitable[int]]
    cron: str | None = None
    on_schedule: Callable[[], Awaitable[int]] | None = None


PERSISTENT = "db"
# What a stored job runs, by job id. A job in the database store names a module-level
# function and picklable arguments; the function (`run_registered`) looks up the live
# callable here, registered by `build_scheduler` in the running process.
_registry: dict[str, Callable[[], Awaitable[None]]] = {}


async def run_registered(job_id: str) -> None:
    run = _registry.get(job_id)
    if run is None:
        log.warning("stored job %s has nothing to run in this process", job_id)
        return
    await run()


class SafeScheduler(AsyncIOScheduler):  # type: ignore[misc]  # APScheduler 3 has no types
    """An AsyncIOScheduler that keeps going when its job store fails for a moment.

    It overrides APScheduler's private `_process_jobs`: fine while APScheduler is pinned
    below 3.12 (pyproject.toml); check it again on any upgrade.

    APScheduler lets an error from storing a job's next run time escape its wake-up, after
    which no timer is set and no job runs again. Here the error is logged and the pass
    retried after `jobstore_retry_interval`; a job that had run already is idempotent.
    """

    def _process_jobs(self) -> float | None:
        try:
            wait: float | None = super()._process_jobs()
            return wait
        except Exception:
            log.exception("scheduler: a pass failed; retrying")
            return float(self.jobstore_retry_interval)


def cron_trigger(line: str) -> CronTrigger:
    return CronTrigger.from_crontab(line, timezone=TIMEZONE)


def build_scheduler(
    jobs: list[Job],
    after: Callable[[], Awaitable[object]] | None = None,
    store_url: str | None = None,
) -> AsyncIOScheduler:
    """APScheduler runs each job on its interval; `after` (sending the outbox) follows work.

    Cron jobs are registered here and put in their store by `start_scheduler`; with a
    `store_url` (a blocking SQLAlchemy URL) that store is the database.
    """
    scheduler = SafeScheduler(timezone=TIMEZONE)
    if store_url is not None:
        # The job store is blocking and runs on the event loop. On SQLite it must not wait
        # long for the write lock: the app's transaction holding it needs the loop to
        # finish. It gives up quickly, and the pass is retried (SafeScheduler).
        sqlite = store_url.startswith("sqlite")
        options: dict[str, object] = {"hide_parameters": True}
        if sqlite:
            options["connect_args"] = {"timeout": 0.2}
        scheduler.add_jobstore(
            SQLAlchemyJobStore(url=store_url, engine_options=options), PERSISTENT
        )
    else:
        scheduler.add_jobstore(MemoryJobStore(), PERSISTENT)

    def wrap(job: Job) -> Callable[[], Awaitable[None]]:
        work = job.on_schedule or job.run

        async def run() -> None:
            try:
                done = await work()
            except Exception:
                log.exception("job %s failed", job.id)
                return
            log.info("job %s: %d", job.id, done)
            if done and after is not None:
                await after()

        return run

    for job in jobs:
        if job.cron is not None:
            _registry[job.id] = wrap(job)
            continue
        scheduler.add_job(
            wrap(job), "interval", seconds=job.every.total_seconds(), id=job.id,
            coalesce=True, max_instances=1, replace_existing=True,
        )  # fmt: skip
    return scheduler


def watch_lag(scheduler: AsyncIOScheduler, clock: Clock, metrics: Metrics) -> None:
    """Observe how late each job starts: when APScheduler hands it over, against the
    earliest planned time it stands for (a run coalesced after downtime shows the whole
    delay)."""

    def submitted(event: JobSubmissionEvent) -> None:
        if event.scheduled_run_times:
            late = clock.now() - min(event.scheduled_run_times)
            metrics.job_late(event.job_id, late.total_seconds())

    scheduler.add_listener(submitted, EVENT_JOB_SUBMITTED)


def start_scheduler(scheduler: AsyncIOScheduler, jobs: list[Job]) -> None:
    """Start, keeping each stored cron job's next run time: one missed while we were down
    is run once now (coalesce), not dropped and not once per missed time."""
    scheduler.start(paused=True)
    for job in jobs:
        if job.cron is None:
            continue
        trigger = cron_trigger(job.cron)
        options: dict[str, Any] = {
            "func": run_registered, "args": [job.id], "coalesce": True, "max_instances": 1,
            "misfire_grace_time": int(job.every.total_seconds()), "name": job.id,
        }  # fmt: skip
        stored = scheduler.get_job(job.id, jobstore=PERSISTENT)
        if stored is None:
            scheduler.add_job(id=job.id, trigger=trigger, jobstore=PERSISTENT, **options)
            continue
        scheduler.modify_job(job.id, PERSISTENT, **options)
        if repr(stored.trigger) != repr(trigger):  # the time changed in the code
            scheduler.reschedule_job(job.id, PERSISTENT, trigger=trigger)
    scheduler.resume()
