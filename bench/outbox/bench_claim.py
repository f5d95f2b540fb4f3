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
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import insert, text

from storage.db import Database
from storage.migrate import upgrade
from storage.models import OutboxMessage
from storage.repo import outbox
from storage.repo.outbox_claim import _claim_statement as claim_statement
from tests.support.pg import PostgresServer

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BATCH = 32
TABLE = OutboxMessage.__table__  # type: ignore[attr-defined]
DROP = "DROP INDEX ix_outbox_waiting"
MAKE = {  # as migration 0027 makes it
    "sqlite": "CREATE INDEX ix_outbox_waiting ON outboxmessage (platform, id) "
    "WHERE sent_at IS NULL AND failed IS 0",
    "postgresql": "CREATE INDEX ix_outbox_waiting ON outboxmessage (platform, id) "
    "WHERE sent_at IS NULL AND failed IS false",
}


def row(i: int, sent: bool) -> dict[str, object]:
    at = NOW - timedelta(days=30) + timedelta(seconds=i)
    return {
        "platform": "telegram", "chat_id": str(100_000 + i % 50_000), "chat_kind": "direct",
        "text": f"Nieuws uit de wijk {i}", "buttons": [], "extra": {}, "attempts": 0,
        "created_at": at, "claimed_at": at if sent else None,
        "claimed_by": "w" if sent else None, "sent_at": at if sent else None, "failed": False,
    }  # fmt: skip


async def fill(db: Database, sent: int, waiting: int) -> None:
    for start in range(0, sent + waiting, 10_000):
        rows = [row(i, i < sent) for i in range(start, min(start + 10_000, sent + waiting))]
        async with db.transaction() as s:
            await s.exec(insert(TABLE), params=rows)  # type: ignore[call-overload]
    async with db.transaction() as s:
        await s.exec(text("ANALYZE"))  # type: ignore[call-overload]


async def claims(db: Database, n: int) -> list[float]:
    times = []
    for _ in range(n):
        async with db.session() as s:
            start = time.perf_counter()
            got = await outbox.claim_batch(
                s, "telegram", NOW, "me", NOW + timedelta(minutes=5), BATCH
            )
            times.append((time.perf_counter() - start) * 1000)
            await s.rollback()
        assert len(got) == BATCH, len(got)
    return times


async def plan(db: Database) -> str:
    """Which index each read of the claim uses (EXPLAIN)."""
    dialect = "sqlite" if db.is_sqlite else "postgresql"
    async with db.session() as s:
        conn = await s.connection()
        compiled = claim_statement(dialect, False).compile(dialect=conn.dialect)
        params: dict[str, object] = compiled.construct_params({
            "b_platform": "telegram", "b_now": NOW, "b_worker": "me",
            "b_lease": NOW + timedelta(minutes=5), "b_size": BATCH,
        })  # fmt: skip
        if db.is_sqlite:
            positional = tuple(params[k] for k in compiled.positiontup or [])
            sql = "EXPLAIN QUERY PLAN " + compiled.string
            lines = [r[3] for r in (await conn.exec_driver_sql(sql, positional)).all()]
        else:
            sql = "EXPLAIN " + compiled.string
            lines = [r[0] for r in (await conn.exec_driver_sql(sql, params)).all()]
        await s.rollback()
    reads = [line.strip().removeprefix("-> ").split("  (")[0] for line in lines
             if ("Scan" in line and " outboxmessage" in line) or line.startswith("SEARCH")]  # fmt: skip
    return "\n      " + "; ".join(reads)


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
    print("  " + show("waiting index", with_index), await plan(db))
    async with db.transaction() as s:
        await s.exec(text(DROP))  # type: ignore[call-overload]
    without = await claims(db, n)
    print("  " + show("without (before)", without), await plan(db))
    async with db.transaction() as s:
        await s.exec(text(MAKE[dialect]))  # type: ignore[call-overload]
    again = await claims(db, n)
    print("  " + show("waiting index", again))
    best = min(statistics.median(with_index), statistics.median(again))
    print(f"  {statistics.median(without) / best:.1f}x as fast with the index")
    await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sent", type=int, default=200_000)
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--claims", type=int, default=200)
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
