"""Which worker does what: roles held by PostgreSQL advisory locks.

Several `wijkbot run --worker` processes can share one PostgreSQL database. Some work
must be done by exactly one of them at a time: polling Telegram ("telegram-poll"; with a
webhook every worker receives, and this role only sets the webhook and the menus), syncing
Matrix ("matrix-sync"), firing scheduled jobs ("scheduler": APScheduler 3 has no
coordination between processes) and sending each platform's outbox ("outbox-telegram":
Telegram's limits and each chat's order then hold across workers). A worker holds a role
while it holds the role's advisory lock on a connection of its own; a worker that dies
loses the connection and so its roles, and a waiting worker takes them over at its next
try (every `interval` seconds).

On SQLite there is one process: every role is always held.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from storage.locks import AdvisoryLocks
from storage.repo.outbox import WORKER_PREFIX

log = logging.getLogger(__name__)
INTERVAL = 1.5  # seconds between tries: takeover within a few seconds of a worker's death
SCHEDULER = "scheduler"
INBOUND = {"telegram": "telegram-poll", "matrix": "matrix-sync"}


def inbound_role(platform: str) -> str:
    return INBOUND.get(platform, f"{platform}-inbound")


def outbox_role(platform: str) -> str:
    return f"outbox-{platform}"


class Roles:
    """The roles this worker wants, and which of them it holds now."""

    def __init__(
        self,
        names: Iterable[str],
        url: str | None = None,
        interval: float = INTERVAL,
        worker: str = "",
    ) -> None:
        self.wanted = list(dict.fromkeys(names))
        # The connection is named after the worker: while it is open, the worker lives, and
        # its outbox leases hold (storage/repo/outbox.py).
        self.locks = AdvisoryLocks(url, WORKER_PREFIX + worker) if url is not None else None
        self.interval = interval
        self.held: set[str] = set() if self.locks else set(self.wanted)
        self.lost = asyncio.Event()  # set when a role held was lost (the connection broke)
        self._changed = asyncio.Event()

    @classmethod
    def for_database(
        cls, names: Iterable[str], url: str, interval: float = INTERVAL, worker: str = ""
    ) -> Roles:
        """Advisory locks on PostgreSQL; every role held on SQLite (one process)."""
        postgres = not url.startswith("sqlite")
        return cls(names, url if postgres else None, interval, worker)

    def holds(self, name: str) -> bool:
        return name in self.held

    def want(self, name: str) -> None:
        if name not in self.wanted:
            self.wanted.append(name)
            if self.locks is None:
                self.held.add(name)

    async def wait_for(self, name: str) -> None:
        """Return once this worker holds `name`."""
        self.want(name)
        while name not in self.held:
            self._changed.clear()
            await self._changed.wait()

    async def try_once(self) -> None:
        """One round: check the connection, try every role not held yet."""
        if self.locks is None:
            return
        try:
            if self.held and not await self.locks.alive():
                raise ConnectionError("the roles connection is closed")
            for name in self.wanted:
                if name not in self.held and await self.locks.try_lock(name):
                    self.held.add(name)
                    log.info("roles: this worker now holds %s", name)
                    self._changed.set()
        except Exception as exc:
            if self.held:
                log.error("roles: lost %s (%s)", ", ".join(sorted(self.held)), exc)
                self.held.clear()
                self.lost.set()
                self._changed.set()
            with contextlib.suppress(Exception):
                await self.locks.close()

    async def run(self) -> None:
        """Keep trying until cancelled; then free every role (close the connection)."""
        try:
            while True:
                await self.try_once()
                await asyncio.sleep(self.interval)
        finally:
            await self.release()

    async def release(self) -> None:
        if self.locks is not None:
            self.held.clear()
            with contextlib.suppress(Exception):
                await self.locks.close()
