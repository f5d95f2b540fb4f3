"""One claim of the outbox sender, with many sent rows kept: does it walk past them?

    .venv/bin/python -m bench.outbox.bench_claim [--sent 200000] [--waiting 10000]
        [--claims 200] [--postgres postgresql://…/postgres]

Sent rows stay 30 days (the privacy clean-up removes them then), so a busy bot keeps
hundreds of thousands. Each database (SQLite in a temporary file, and PostgreSQL: a
throwaway server unless `--postgres` names one) gets `--sent` sent rows and then
`--waiting` rows to send, newest last, as after a month of broadcasts. Timed: `claim_batch`
of 32 rows (what the sender does before every batch), each in a transaction rolled back,
so every claim sees the same rows. Measured with the index of waiting rows
(`ix_outbox_waiting`, migration 0027) and, in the same run on the same rows, without it
(dropped, then made again): the claim as it was before.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import psycopg

from storage.db import Database
from storage.migrate import upgrade
from storage.repo import outbox
from tests.support.outbox_plan import LEASE, NOW, TABLE, claim_plan, fill
from tests.support.pg import PostgresServer

BATCH = 32
WAITING_INDEX = next(ix for ix in TABLE.indexes if ix.name == "ix_outbox_waiting")


async def claims(db: Database, n: int) -> list[float]:
    times = []
    for _ in range(n):
        async with db.session() as s:
            start = time.perf_counter()
            got = await outbox.claim_batch(s, "telegram", NOW, "me", LEASE, BATCH)
            times.append((time.perf_counter() - start) * 1000)
            await s.rollback()
        assert len(got) == BATCH, len(got)
    return times


async def plan(db: Database) -> str:
    async with db.session() as s:
        return "\n      " + "; ".join(await claim_plan(await s.connection()))


async def index(db: Database, make: bool) -> None:
    """Make or drop ix_outbox_waiting, from the model's own definition."""
    async with db.session() as s:
        conn = await s.connection()
        await conn.run_sync(
            lambda sync: (WAITING_INDEX.create if make else WAITING_INDEX.drop)(sync)
        )
        await s.commit()


def show(name: str, times: list[float]) -> str:
    q = statistics.quantiles(times, n=20)
    return f"{name:<16} median {statistics.median(times):7.2f} ms   p95 {q[18]:7.2f} ms"


async def bench(url: str, sent: int, waiting: int, n: int) -> None:
    upgrade(url)
    db = Database(url)
    started = time.perf_counter()
    await fill(db, sent, waiting)
    dialect = "sqlite" if db.is_sqlite else "postgresql"
    print(f"{dialect}: {sent:,} sent, {waiting:,} waiting ({time.perf_counter() - started:.0f} s)")
    with_index = await claims(db, n)
    print("  " + show("waiting index", with_index), plan_with := await plan(db))
    await index(db, make=False)
    without = await claims(db, n)
    print("  " + show("without (before)", without), plan_without := await plan(db))
    await index(db, make=True)
    again = await claims(db, n)
    print("  " + show("waiting index", again))
    best = min(statistics.median(with_index), statistics.median(again))
    same = " (the same plan: the difference is noise)" if plan_with == plan_without else ""
    print(f"  {statistics.median(without) / best:.1f}x as fast with the index{same}")
    await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sent", type=int, default=200_000)
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--claims", type=int, default=200, help="at least 2")
    parser.add_argument("--postgres", help="an admin URL (…/postgres); default: a throwaway server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'claim.db'}"
        asyncio.run(bench(url, args.sent, args.waiting, args.claims))
    server = None if args.postgres else PostgresServer()
    admin = args.postgres or server.start()  # type: ignore[union-attr]
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute('DROP DATABASE IF EXISTS "bench_claim"')
            conn.execute('CREATE DATABASE "bench_claim"')
        asyncio.run(bench(admin.rsplit("/", 1)[0] + "/bench_claim", args.sent, args.waiting,
                          args.claims))  # fmt: skip
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
