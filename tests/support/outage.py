"""A database that goes away in the middle of a test and comes back.

PostgreSQL: a server of the test's own, really stopped (`pg_ctl stop -m fast`, as an
operator's restart) and started again on the same port. SQLite has no server to stop, so
its file becomes unusable to every engine on it: each statement fails with the error a lost
disk gives ("disk I/O error"), raised by the sqlite3 driver, until the outage ends.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.support.pg import PostgresServer


class Outage:
    """`async with outage:` the database is down inside the block."""

    url: str
    down = False

    async def begin(self) -> None:
        raise NotImplementedError

    async def end(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """After the test: back up, also when the test failed inside the outage."""

    async def __aenter__(self) -> Outage:
        await self.begin()
        self.down = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.end()
        self.down = False


class PostgresOutage(Outage):
    def __init__(self, server: PostgresServer, url: str) -> None:
        self.server = server
        self.url = url

    async def begin(self) -> None:
        await asyncio.to_thread(self.server.pause)

    async def end(self) -> None:
        await asyncio.to_thread(self.server.resume)

    def close(self) -> None:
        if self.down:
            self.server.resume()
            self.down = False


class SqliteOutage(Outage):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"
        self.failed = 0  # statements refused while down

    def _refuse(self, conn: Any, *_args: Any) -> None:
        if self.down and Path(conn.engine.url.database or "") == self.path:
            self.failed += 1
            raise sqlite3.OperationalError("disk I/O error")

    async def begin(self) -> None:
        event.listen(Engine, "before_cursor_execute", self._refuse)

    async def end(self) -> None:
        event.remove(Engine, "before_cursor_execute", self._refuse)

    def close(self) -> None:
        if event.contains(Engine, "before_cursor_execute", self._refuse):
            event.remove(Engine, "before_cursor_execute", self._refuse)
        self.down = False
