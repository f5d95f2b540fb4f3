"""The shared inbox's SQL on PostgreSQL: what a worker's look costs, and draining a backlog.

    .venv/bin/python -m bench.inbox.bench_heads [--handled 100000] [--backlog 10000]

Starts a throwaway PostgreSQL (tests/support/pg.py; fsync off, as in the tests) with
`--handled` entries handled earlier (the inbox keeps keys two days) and measures:
(a) an idle worker's look for work (`heads` with nothing waiting), which every worker does
    every `LOOK_EVERY` seconds;
(b) a backlog of `--backlog` entries over 200 chats (as after an outage), drained by 1 and
    by 3 "workers" (asyncio tasks, each with its own connections, sharing this process's one
    CPU) doing what the inbox loop does without the handlers: `heads`, then per head one
    transaction with `claim`. It checks that every entry was claimed once and each chat in
    order, and counts the tries (a try that finds the chat taken by another worker is lost).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import UTC, datetime

import psycopg

from bot.core.inbox import TAKE
from storage.db import Database
from storage.migrate import upgrade
from storage.repo import inbox
from tests.support.pg import PostgresServer

SOURCE = "telegram.1"
CHATS = 200
NOW = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)


def fill(url: str, handled: int, backlog: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE inboxentry RESTART IDENTITY")
        conn.execute(
            "INSERT INTO inboxentry (source, key, chat_id, event, received_at, handled_at) "
            "SELECT %s, 'h' || g, (g %% 5000)::text, '{}', %s, %s FROM generate_series(1, %s) g",
            (SOURCE, NOW, NOW, handled),
        )
        conn.execute(
            "INSERT INTO inboxentry (source, key, chat_id, event, received_at) "
            "SELECT %s, 'w' || g, (g %% %s)::text, ('{\"n\": ' || g || '}')::json, %s "
            "FROM generate_series(1, %s) g",
            (SOURCE, CHATS, NOW, backlog),
        )
        conn.execute("ANALYZE inboxentry")


async def idle_look(db: Database, rounds: int = 200) -> list[float]:
    took = []
    for _ in range(rounds):
        started = time.perf_counter()
        async with db.transaction() as s:
            assert await inbox.heads(s, SOURCE, 100) == []
        took.append(time.perf_counter() - started)
    return took


async def worker(db: Database, claimed: list[tuple[str, int]], tries: list[int]) -> None:
    tried: set[int | None] = set()
    while True:
        async with db.transaction() as s:
            heads = [(e.id, e.chat_id) for e in await inbox.heads(s, SOURCE, 100)]
        fresh = [h for h in heads if h[0] not in tried]
        if not fresh:
            return
        # As the inbox loop does: a few at a time, in a random order.
        for entry, chat in random.sample(fresh, min(TAKE, len(fresh))):
            tried.add(entry)
            assert entry is not None
            tries.append(entry)
            async with db.transaction() as s:
                if await inbox.claim(s, entry, NOW):
                    claimed.append((chat, entry))


async def drain(url: str, workers: int) -> tuple[float, list[tuple[str, int]], int]:
    dbs = [Database(url) for _ in range(workers)]
    claimed: list[tuple[str, int]] = []
    tries: list[int] = []
    started = time.perf_counter()
    await asyncio.gather(*(worker(db, claimed, tries) for db in dbs))
    took = time.perf_counter() - started
    for db in dbs:
        await db.dispose()
    return took, claimed, len(tries)


def check(claimed: list[tuple[str, int]], backlog: int) -> None:
    assert len(claimed) == backlog == len({e for _c, e in claimed}), len(claimed)
    by_chat: dict[str, list[int]] = {}
    for chat, entry in claimed:
        by_chat.setdefault(chat, []).append(entry)
    assert all(ids == sorted(ids) for ids in by_chat.values())


async def main(handled: int, backlog: int) -> None:
    server = PostgresServer()
    admin = server.start()
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        url = admin.rsplit("/", 1)[0] + "/bench"
        upgrade(url)
        fill(url, handled, 0)
        db = Database(url)
        look = await idle_look(db)
        await db.dispose()
        print(f"(a) idle look, {handled:,} handled entries kept: median "
              f"{statistics.median(look) * 1000:.2f} ms, p95 "
              f"{sorted(look)[int(len(look) * 0.95)] * 1000:.2f} ms")  # fmt: skip
        for n in (1, 3):
            fill(url, handled, backlog)
            took, claimed, tries = await drain(url, n)
            check(claimed, backlog)
            print(f"(b) {backlog:,} waiting over {CHATS} chats, {n} worker(s) in one process: "
                  f"{took:.2f} s, {took / backlog * 1000:.2f} ms per entry, {tries / backlog:.2f} "
                  "tries per entry (claimed once each, in order)")  # fmt: skip
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--handled", type=int, default=100_000)
    parser.add_argument("--backlog", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(main(args.handled, args.backlog))
