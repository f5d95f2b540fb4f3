"""Scheduled jobs (APScheduler): the batched support news for idea authors."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
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


def build_scheduler(
    db: Database,
    minutes: int,
    clock: Clock,
    after: Callable[[], Awaitable[object]] | None = None,
) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="Europe/Amsterdam")

    async def run_support_batch() -> None:
        told = await support_batch(db)
        log.info("support batch: %d authors told", told)
        if told and after is not None:
            await after()

    scheduler.add_job(
        run_support_batch, "interval", minutes=minutes, id="support-batch", coalesce=True,
        max_instances=1, replace_existing=True,
    )  # fmt: skip
    scheduler.add_job(
        purge_dialogs, "interval", hours=6, args=(db, clock), id="purge-dialogs",
        coalesce=True, max_instances=1, replace_existing=True,
    )  # fmt: skip
    return scheduler
