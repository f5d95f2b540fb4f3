"""Wires settings, store, dispatcher, adapters, outbox and scheduler into one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import Settings
from bot.core.adapter_store import DatabaseAdapterStore
from bot.core.clock import Clock
from bot.core.dispatcher import Dispatcher
from bot.core.metrics import Metrics, RateLimitCollector
from bot.core.middlewares import DEFAULT_MIDDLEWARES
from bot.core.ports import Adapter, SharedInbound, shared_inbound
from bot.core.replies import Replies
from bot.delivery.leader import SCHEDULER, Roles, inbound_role, outbox_role
from bot.delivery.outbox import OutboxSender
from bot.delivery.scheduler import (
    Job,
    build_scheduler,
    purge_dialogs,
    start_scheduler,
    watch_lag,
)
from bot.delivery.send_budget import SharedBudget
from bot.handlers import build_router
from bot.handlers.help import MENU
from bot.services.announcements import remind_due
from bot.services.budget.rounds import sweep as budget_sweep
from bot.services.budget.sealing import keys_for
from bot.services.dialogue.conversations import close_due as close_conversations
from bot.services.dialogue.report import forget as forget_analyses
from bot.services.dialogue.report import recompute as analyse_conversations
from bot.services.digests import digest_jobs
from bot.services.forum.panel import sweep as forum_sweep
from bot.services.ideas import support_batch
from bot.services.initiatives import room_made as initiative_room_made
from bot.services.offers import offer_batch
from bot.services.partners import partner_news
from bot.services.polls import close_due
from bot.services.signals.forwarding import ForwardingService
from bot.web.app import create_app
from bot.web.metrics import create_metrics_app
from bot.web.server import server as web_server
from storage.db import Database, sync_url
from storage.migrate import upgrade
from storage.models import use_clock

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger(__name__)


class App:
    def __init__(
        self, settings: Settings, clock: Clock | None = None, db: Database | None = None
    ) -> None:
        self.settings = settings
        self.db = db or Database(settings.effective_database_url)
        self.metrics = Metrics()  # this app's own registry: /metrics (bot/web/metrics.py)
        self.metrics.add(RateLimitCollector(lambda: self.adapters.values()))
        self.dispatcher = Dispatcher(
            self.db, build_router(), settings, DEFAULT_MIDDLEWARES, clock=clock,
            metrics=self.metrics,
        )  # fmt: skip
        # Rows are stamped by the same clock the bot reads (a test's clock, or the system's).
        use_clock(self.dispatcher.clock.now)
        self.adapters: dict[str, Adapter] = {}
        self.menu = MENU  # the commands platforms show in their menus
        self.adapter_store = DatabaseAdapterStore(self.db)  # all adapters see of the database
        self.outbox = OutboxSender(
            self.db, self.adapters, self.dispatcher.clock, fetch_photo=self.fetch_photo,
            room_made=initiative_room_made, metrics=self.metrics, shared=self._shared_budget(),
        )  # fmt: skip
        # What only one worker may do at a time (PostgreSQL); all held on SQLite.
        self.roles = Roles.for_database([SCHEDULER], self.db.url, worker=self.outbox.worker)
        self.dispatcher.after_commit.append(self.send_outbox_soon)
        # Replies to what the inbox holds are kept in the outbox until sent, under this name.
        self.dispatcher.replies = Replies(self.db, self.outbox.worker)
        clock = self.dispatcher.clock
        self.forwarding = ForwardingService(self.db, clock, self.fetch_photo, metrics=self.metrics)
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
            Job("forum-sweep", timedelta(minutes=1), partial(forum_sweep, self.db, clock)),
            Job("event-reminders", timedelta(minutes=5),
                partial(remind_due, self.db, clock, settings.default_locale)),
            *digest_jobs(self.db, clock, settings.default_locale),
        ]  # fmt: skip

    def add(self, adapter: Adapter) -> None:
        self.adapters[adapter.platform] = adapter

    def _shared_budget(self) -> SharedBudget | None:
        """Every worker sends (WIJKBOT_OUTBOX_SENDERS=all, PostgreSQL): the shared limits."""
        if self.settings.outbox_senders != "all":
            return None
        if self.db.is_sqlite:  # the settings refuse this; a database handed in may differ
            log.warning("outbox: WIJKBOT_OUTBOX_SENDERS=all ignored on SQLite (one process)")
            return None
        return SharedBudget(self.db)

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

    async def _when_held(self, role: str, work: Awaitable[None]) -> None:
        """Do `work` once this worker holds `role` (at once on SQLite)."""
        await self.roles.wait_for(role)
        await work

    async def _lead(self, adapter: SharedInbound, platform: str) -> None:
        """Once this worker holds the platform's inbound role: what one worker does for all
        (Telegram: setWebhook, the menus). Then it waits to be cancelled; if it fails, the
        worker stops (restarted, it tries again)."""
        await self.roles.wait_for(inbound_role(platform))
        await adapter.lead()
        await asyncio.Event().wait()

    def _receive(self, adapter: Adapter) -> tuple[asyncio.Task[None], asyncio.Task[None] | None]:
        """The adapter's task, and its leading task if every worker receives. On PostgreSQL
        a Telegram webhook runs in every worker (any may receive); otherwise the adapter runs
        in the worker holding its inbound role (polling Telegram, syncing Matrix)."""
        feed = self.dispatcher.feed_for(adapter)
        shared = None if self.db.is_sqlite else shared_inbound(adapter)
        if shared is None:
            work = self._when_held(inbound_role(adapter.platform), adapter.start(feed))
            return asyncio.create_task(work, name=adapter.platform), None
        lead = asyncio.create_task(self._lead(shared, adapter.platform), name="lead")
        return asyncio.create_task(adapter.start(feed), name=adapter.platform), lead

    async def _schedule(self, scheduler: AsyncIOScheduler) -> None:
        await self.roles.wait_for(SCHEDULER)
        start_scheduler(scheduler, self.jobs)  # cron jobs (digests) kept in the database

    def _web(self) -> uvicorn.Server | None:
        """The coordinators' web overview, when a port is configured."""
        if self.settings.web_port is None:
            return None
        site = create_app(self.db, self.settings, self.dispatcher.clock, self.send_outbox_soon)
        return web_server(site, self.settings.web_listen, self.settings.web_port)

    def metrics_server(self) -> uvicorn.Server | None:
        """/metrics for Prometheus on its own port, when one is configured."""
        if self.settings.metrics_port is None:
            return None
        site = create_metrics_app(
            self.db, self.settings, self.dispatcher.clock, self.metrics, lambda: list(self.adapters)
        )
        return web_server(site, self.settings.metrics_listen, self.settings.metrics_port)

    def want_roles(self) -> None:
        """Receiving on each platform, and sending its outbox unless every worker sends."""
        for platform in self.adapters:
            self.roles.want(inbound_role(platform))
        if self.outbox.shared is None:  # one sender per platform: the one holding its role
            for platform in self.adapters:
                self.roles.want(outbox_role(platform))
            self.outbox.roles = self.roles

    async def run(self) -> None:
        """Run every adapter until one stops (the console at end of input) or a signal.

        With several workers on PostgreSQL, polling, the scheduler and each platform's
        outbox (unless WIJKBOT_OUTBOX_SENDERS=all: every worker sends) run in one worker at
        a time (bot/delivery/leader.py); a worker that loses a role it held (its database
        connection broke) stops, to be restarted. A Telegram webhook runs in every worker,
        which all handle the inbox (bot/core/inbox.py).
        """
        self.want_roles()
        # The worker's named connection is open before it handles anything: while it is, the
        # answers it is sending are its own (bot/core/replies.py), not a dead worker's.
        await self.roles.try_once()
        holder = asyncio.create_task(self.roles.run(), name="roles")
        scheduler = build_scheduler(self.jobs, self.wake_outbox, sync_url(self.db.url))
        watch_lag(scheduler, self.dispatcher.clock, self.metrics)
        scheduling = asyncio.create_task(self._schedule(scheduler), name="scheduler")
        sender = asyncio.create_task(self.outbox.run_forever(self.outbox_interval))
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        receiving = [self._receive(a) for a in self.adapters.values()]
        tasks = [task for task, _lead in receiving]
        leads = [lead for _task, lead in receiving if lead is not None]
        stopper = asyncio.create_task(stop.wait())
        servers = [s for s in (self._web(), self.metrics_server()) if s is not None]
        tasks += [asyncio.create_task(s.serve(), name="web") for s in servers]
        lost = asyncio.create_task(self.roles.lost.wait())
        try:
            done, _pending = await asyncio.wait(
                [*tasks, *leads, stopper, lost], return_when=asyncio.FIRST_COMPLETED
            )
            for t in done:
                if t is lost:
                    log.error("a role was lost: stopping this worker")
                elif t is not stopper:
                    t.result()
        finally:
            for s in servers:
                s.should_exit = True
            await self._stop(tasks, [*leads, stopper, lost, sender, scheduling], scheduler, holder)

    async def _stop(
        self,
        tasks: list[asyncio.Task[None]],
        helpers: list[asyncio.Task[Any]],
        scheduler: AsyncIOScheduler,
        holder: asyncio.Task[None],
    ) -> None:
        """Stop the adapters (their tasks get 10 s), the helpers, the scheduler and the roles."""
        for a in self.adapters.values():
            await a.stop()
        finished, pending = await asyncio.wait(tasks, timeout=10) if tasks else (set(), set())
        for t in finished:
            if not t.cancelled() and t.exception() is not None:
                log.info("%s stopped with %r", t.get_name(), t.exception())
        for t in (*pending, *helpers):
            t.cancel()
        if scheduler.running:
            scheduler.shutdown(wait=False)
        holder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await holder  # frees the roles at once: another worker takes them over
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        await self.db.dispose()

    @property
    def outbox_interval(self) -> float:
        """How often the sender looks for rows another worker wrote (it is woken for its own)."""
        return 5.0 if self.db.is_sqlite else 1.0


def migrate(settings: Settings) -> None:
    upgrade(settings.effective_database_url)
