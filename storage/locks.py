"""PostgreSQL session advisory locks on one dedicated connection (the roles of a worker).

A lock is held as long as the connection lives: a worker that dies (or loses its
connection) loses its locks at once, and another worker can take them.
"""

from __future__ import annotations

import hashlib

import psycopg
from sqlalchemy.engine import make_url


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for a role name (the same in every worker and version)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), signed=True)


def conninfo(url: str) -> str:
    """A plain libpq URL for psycopg from a database URL (any SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class AdvisoryLocks:
    """Tries advisory locks on its own autocommit connection; closing it frees them all."""

    def __init__(self, url: str, name: str = "wijkbot-roles") -> None:
        self.conninfo = conninfo(url)
        if len(name.encode()) > 63:  # PostgreSQL would cut it, and nobody would see us live
            raise ValueError(f"connection name longer than 63 bytes: {name!r}")
        self.name = name  # shown as application_name: other workers see we live
        self.conn: psycopg.AsyncConnection[tuple[object, ...]] | None = None

    async def _connection(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        if self.conn is None or self.conn.closed:
            self.conn = await psycopg.AsyncConnection.connect(
                self.conninfo, autocommit=True, application_name=self.name
            )
        return self.conn

    async def try_lock(self, name: str) -> bool:
        conn = await self._connection()
        cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (lock_key(name),))
        row = await cur.fetchone()
        return bool(row and row[0])

    async def alive(self) -> bool:
        """Whether the connection (and so every lock taken on it) still lives."""
        if self.conn is None or self.conn.closed:
            return False
        await self.conn.execute("SELECT 1")
        return True

    async def backend_pid(self) -> int | None:
        if self.conn is None or self.conn.closed:
            return None
        return int(self.conn.info.backend_pid)

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.close()
        self.conn = None


HOLDERS = """
SELECT l.classid::bigint, l.objid::bigint, a.application_name
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
"""


def key_of(classid: int, objid: int) -> int:
    """The 64-bit key of an advisory lock as pg_locks shows it (high and low halves)."""
    unsigned = (classid << 32) | objid
    return unsigned - (1 << 64) if unsigned >= 1 << 63 else unsigned
