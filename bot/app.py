"""Wires settings, store, dispatcher, adapters, outbox and scheduler into one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import timedelta
from functools import partial

from bot.config import Settings
from bot.core.adapter_store import DatabaseAdapterStore
from bot.core.clock import Clock
from bot.core.dispatcher import Dispatcher
from bot.core.middlewares import DEFAULT_MIDDLEWARES
from bot.core.ports import Adapter
from bot.delivery.outbox import OutboxSender
from bot.delivery.scheduler import (
    Job,
    build_scheduler,
    purge_dialogs,
    start_scheduler,
)
from bot.handlers import build_router
from bot.handlers.help import MENU
from bot.services.announcements import remind_due
from bot.services.budget.rounds import sweep as budget_sweep
from bot.services.budget.sealing import keys_for
from bot.services.dialogue.conversations import close_due as close_conversations
from bot.services.dialogue.report import forget as forget_analyses
from bot.services.dialogue.report import recompute as analyse_conversations
from bot.services.digests import digest_jobs
from bot.services.ideas import support_batch
from bot.services.initiatives import room_made as initiative_room_made
from bot.services.offers import offer_batch
from bot.services.partners import partner_news
from bot.services.polls import close_due
from bot.services.signals.forwarding import ForwardingService
from bot.web.app import create_app
from bot.web.server import server as web_server
from storage.db import Database, sync_url
from storage.migrate import upgrade
from storage.models import use_clock

log = logging.getLogger(__name__)


class App:
    def __init__(
        self, settings: Settings, clock: Clock | None = None, db: Database | None = None
    ) -> None:
        self.settings = settings
        self.db = db or Database(settings.effective_database_url)
        self.dispatcher = Dispatcher(
            self.db, build_router(), settings, DEFAULT_MIDDLEWARES, clock=clock
        )
        # Rows are stamped by the same clock the bot reads (a test's clock, or the system's).
        use_clock(self.dispatcher.clock.now)
        self.adapters: dict[str, Adapter] = {}
        self.menu = MENU  # the commands platforms show in their menus
        self.adapter_store = DatabaseAdapterStore(self.db)  # all adapters see of the database
        self.outbox = OutboxSender(
            self.db, self.adapters, self.dispatcher.clock, fetch_photo=self.fetch_photo,
            room_made=initiative_room_made,
        )  # fmt: skip
        self.dispatcher.after_commit.append(self.send_outbox_soon)
        clock = self.dispatcher.clock
        self.forwarding = ForwardingService(self.db, clock, self.fetch_photo)
        # Hashes voting codes and seals ballots; read from outside the database.
        self.ballot_keys = keys_for(settings)
        forget_analyses()  # kept per process, for one database: a new app starts afresh
        self.jobs = [
            Job("support-batch", timedelta(minutes=settings.support_batch_minutes),
                partial(support_batch, self.db)),
            Job("partner-news", timedelta(minutes=settings.support_batch_minutes),
                partial(partner_news, self.db)),
            Job("offer-batch", timedelta(minutes=settings.support_batch_minutes),
                partial(offer_batch, self.db)),
            Job("forward-send", timedelta(minutes=1), self.forwarding.send_due),
            Job("forward-poll", timedelta(minutes=15), self.forwarding.poll),
            Job("purge", timedelta(hours=6), partial(purge_dialogs, self.db, clock)),
            Job("budget-rounds", timedelta(minutes=1),
                partial(budget_sweep, self.db, clock, self.ballot_keys, settings.default_locale)),
            Job("poll-close", timedelta(seconds=30),
                partial(close_due, self.db, clock, settings.default_locale)),
            Job("conversation-close", timedelta(minutes=1),
                partial(close_conversations, self.db, clock)),
            Job("conversation-analysis", timedelta(minutes=1),
                partial(analyse_conversations, self.db, clock)),
            Job("event-reminders", timedelta(minutes=5),
                partial(remind_due, self.db, clock, settings.default_locale)),
            *digest_jobs(self.db, clock, settings.default_locale),
        ]  # fmt: skip

    def add(self, adapter: Adapter) -> None:
        self.adapters[adapter.platform] = adapter

    async def flush_outbox(self) -> None:
        """Send everything the outbox holds, and return when it is sent (tests, `:jobs`)."""
        await self.outbox.flush()

    async def send_outbox_soon(self) -> None:
        """After a handled event: a few messages inline, the rest by the background sender."""
        await self.outbox.flush_some()

    async def wake_outbox(self) -> None:
        self.outbox.wake()

    async def run_jobs_now(self) -> None:
        """Every scheduled job once, now (the console's `:jobs`, and tests)."""
        for job in self.jobs:
            if await job.run():
                await self.flush_outbox()

    async def fetch_photo(self, platform: str, file_id: str) -> bytes | None:
        """A photo's bytes from the platform that holds it, when the adapter can fetch files."""
        download = getattr(self.adapters.get(platform), "download", None)
        return await download(file_id) if download is not None else None

    async def run(self) -> None:
        """Run every adapter until one stops (the console at end of input) or a signal."""
        scheduler = build_scheduler(self.jobs, self.wake_outbox, sync_url(self.db.url))
        start_scheduler(scheduler, self.jobs)  # cron jobs (digests) kept in the database
        sender = asyncio.create_task(self.outbox.run_forever())
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        tasks = [
            asyncio.create_task(a.start(self.dispatcher.feed_for(a)), name=a.platform)
            for a in self.adapters.values()
        ]
        stopper = asyncio.create_task(stop.wait())
        web = None  # the coordinators' web overview, when a port is configured
        if self.settings.web_port is not None:
            site = create_app(self.db, self.settings, self.dispatcher.clock, self.send_outbox_soon)
            web = web_server(site, self.settings.web_listen, self.settings.web_port)
            tasks.append(asyncio.create_task(web.serve(), name="web"))
        try:
            done, _pending = await asyncio.wait(
                [*tasks, stopper], return_when=asyncio.FIRST_COMPLETED
            )
            for t in done:
                if t is not stopper:
                    t.result()
        finally:
            if web is not None:
                web.should_exit = True
            for a in self.adapters.values():
                await a.stop()
            finished, pending = await asyncio.wait(tasks, timeout=10) if tasks else (set(), set())
            for t in finished:
                if not t.cancelled() and t.exception() is not None:
                    log.info("%s stopped with %r", t.get_name(), t.exception())
            for t in (*pending, stopper, sender):
                t.cancel()
            scheduler.shutdown(wait=False)
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
            await self.db.dispose()


def migrate(settings: Settings) -> None:
    upgrade(settings.effective_database_url)
