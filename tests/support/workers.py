"""Real `wijkbot run --worker` processes for the tests of several workers on one PostgreSQL.

Each runs tests/support/worker_child.py with the environment it is given, writing its output
to a log file of its own; a test may kill one (`kill -9`) and start it again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from storage.locks import conninfo, lock_key

ROOT = Path(__file__).resolve().parents[2]


class Worker:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.support.worker_child",
                cwd=ROOT, env=self.env, stdin=asyncio.subprocess.DEVNULL,
                stdout=out, stderr=out,
            )  # fmt: skip

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        await self.proc.wait()

    def dump_stacks(self) -> None:
        """Ask the worker for its threads' and tasks' stacks (into its log)."""
        if self.proc is not None and self.proc.returncode is None:
            for sig in (signal.SIGUSR1, signal.SIGUSR2):
                os.kill(self.proc.pid, sig)

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


async def until(check: object, within: float, what: Callable[[], str]) -> None:
    """Wait for `check`; else fail, showing `what` (read then: the logs of that moment)."""
    deadline = time.monotonic() + within
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what()}")
        await asyncio.sleep(0.1)


def role_holder(db_url: str, role: str) -> int | None:
    """The OS pid of the worker holding `role` (its connection's application_name), if any."""
    key = lock_key(role) & 0xFFFF_FFFF_FFFF_FFFF
    with psycopg.connect(conninfo(db_url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s "
            "AND l.objid = %s AND l.objsubid = 1",
            (key >> 32, key & 0xFFFF_FFFF),
        ).fetchone()
    return int(str(row[0]).split(":")[2]) if row is not None else None  # wijkbot:<host>:<pid>:…
