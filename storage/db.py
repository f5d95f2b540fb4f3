"""Engines and sessions: SQLite file by default (WAL mode), PostgreSQL by URL."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger(__name__)
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def _with_driver(url: str, sqlite_driver: str) -> str:
    u = make_url(url)
    backend = u.get_backend_name()
    if backend == "sqlite":
        return str(u.set(drivername=sqlite_driver))
    if backend in ("postgresql", "postgres"):
        # psycopg 3 serves both the asyncio engine and the blocking one.
        return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database: {backend}")


def async_url(url: str) -> str:
    """The asyncio driver for a plain database URL."""
    return _with_driver(url, "sqlite+aiosqlite")


def sync_url(url: str) -> str:
    """The blocking driver, for Alembic and the APScheduler job store."""
    return _with_driver(url, "sqlite")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # The sqlite3 module would not BEGIN before a SAVEPOINT, so a nested transaction
    # could commit the outer one; we issue BEGIN ourselves (SQLAlchemy's recipe).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    # IMMEDIATE: take the write lock up front (waiting up to busy_timeout). A deferred
    # transaction that reads and then writes fails at once in WAL mode when another
    # connection committed meanwhile (the outbox sender runs next to the dispatcher).
    conn.exec_driver_sql("BEGIN IMMEDIATE")


# Errors that say the database was away, busy or restarting, not that the work was wrong.
_SQLITE_AWAY = ("locked", "disk i/o error", "unable to open", "readonly", "disk is full")
_POSTGRES_AWAY = (
    psycopg.InterfaceError,  # the connection is closed
    psycopg.errors.ConnectionException,
    psycopg.errors.OperatorIntervention,  # shutting down, starting up, statement cancelled
    psycopg.errors.TransactionRollback,  # serialization failure, deadlock: try again
    psycopg.errors.InsufficientResources,  # disk full, too many connections
    psycopg.errors.SystemError,  # I/O error
    psycopg.errors.LockNotAvailable,
)


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` is the database being away (down, restarting, locked, full), so the same
    work may well succeed later; False for anything that says the work itself was wrong."""
    if isinstance(exc, DisconnectionError | PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if isinstance(orig, sqlite3.OperationalError):
        return any(m in str(orig).lower() for m in _SQLITE_AWAY)
    # A plain psycopg.OperationalError: the connection failed or broke.
    return type(orig) is psycopg.OperationalError or isinstance(orig, _POSTGRES_AWAY)


def sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def private_dir(path: Path) -> None:
    """Create `path` and any missing parent for the owner only (0700), whatever the umask.

    A directory that exists already is left as the operator made it.
    """
    for missing in reversed([p for p in (path, *path.parents) if not p.exists()]):
        missing.mkdir(mode=0o700, exist_ok=True)
        missing.chmod(0o700)


def private_sqlite_file(path: Path) -> None:
    """The database holds residents' words: its directory 0700 when we make it, the file
    0600. SQLite gives the -wal and -shm files the database file's mode; files an earlier
    version left readable to others are tightened."""
    private_dir(path.parent)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for file in (path, *(path.with_name(path.name + s) for s in SQLITE_COMPANIONS)):
        try:
            if file.exists() and file.stat().st_mode & 0o077:
                file.chmod(0o600)
        except OSError as exc:
            log.warning("database file %s stays readable by others: %s", file.name, exc)


def create_engine(url: str) -> AsyncEngine:
    path = sqlite_path(url)
    if path is not None:
        private_sqlite_file(path)
    # A failing statement's parameters are residents' words: never in an exception text.
    engine = create_async_engine(async_url(url), pool_pre_ping=path is None, hide_parameters=True)
    if make_url(url).get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


class Database:
    """Owns the engine and hands out one session per unit of work."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.url).get_backend_name() == "sqlite"

    def session(self) -> AsyncSession:
        return self._sessions()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One transaction: commit on success, roll back on any error."""
        async with self._sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def answers(self, within: float = 5.0) -> bool:
        """Whether the database answers a trivial query now."""
        try:
            async with asyncio.timeout(within), self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def is_away(self, exc: BaseException) -> bool:
        """Whether `exc` came from the database being away (see `is_transient`), or the
        database does not answer now; then the work that failed should be tried again later."""
        return is_transient(exc) or not await self.answers()

    async def dispose(self) -> None:
        await self.engine.dispose()
