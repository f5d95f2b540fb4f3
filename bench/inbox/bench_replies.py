"""What keeping answers in the outbox costs a handled message (bot/core/replies.py).

    .venv/bin/python -m bench.inbox.bench_replies [--messages 400] [--rounds 5]

Since #17 an inbox event's answers are written to the outbox in its handling transaction
(with a look for earlier answers to take over) and deleted in one more transaction once
sent: one look, one INSERT per answer and one DELETE commit more per message. This measures
the whole `Dispatcher.handle` of a `/help` kept in the inbox (the handler, its transaction,
the send to a platform that answers at once) with answers kept and, in the same run, sent
directly as before (`dispatcher.replies = None`), in alternating rounds, on

- PostgreSQL started as in production (fsync on, synchronous commit: every commit waits for
  the disk), and
- SQLite (the single-process default, WAL, as the app opens it);

each with 100,000 sent messages kept (30 days of digests over 5,000 chats, 20 per chat),
the chats writing here among them. Reported, median over rounds: milliseconds per message
(wall and this process's CPU: what bounds a worker's throughput), milliseconds until the
answer arrived (what the person waits: the answer goes before the row is deleted), and the
ratios kept / direct.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bot.app import App
from bot.config import Settings
from bot.core.clock import FrozenClock
from bot.core.events import ChatRef, Incoming, MessageRef, Reply, UserRef
from bot.core.replies import Replies
from storage.migrate import upgrade
from storage.repo import inbox
from tests.support.pg import PostgresServer

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
KEPT = 100_000  # sent messages kept (30 days)
CHATS = 5_000
WRITERS = 200  # chats that write during the run


class Instant:
    """A platform that takes every message at once."""

    platform = "fake"
    capabilities = frozenset({"buttons", "edit"})

    def __init__(self) -> None:
        self.sent = 0
        self.at = 0.0  # when the last answer arrived

    async def send(self, chat: ChatRef, reply: Reply) -> MessageRef:
        self.sent += 1
        self.at = time.perf_counter()
        return MessageRef(chat, str(self.sent))

    async def edit(self, ref: MessageRef, reply: Reply) -> None:
        self.sent += 1

    def direct_link(self, payload: str) -> str | None:
        return None


def fill_sql(url: str) -> None:
    """The kept history, in one statement (PostgreSQL, or SQLite through its own driver)."""
    sql = (
        "INSERT INTO outboxmessage (platform, chat_id, chat_kind, text, buttons, extra, "
        "attempts, failed, created_at, claimed_at, sent_at, sent_ref) "
        "SELECT 'fake', 'c' || (g % {chats}), 'direct', 'Nieuws uit de wijk ' || g, '[]', '{{}}', "
        "0, {false}, {now}, {now}, {now}, g FROM {series}"
    )
    if url.startswith("sqlite"):
        import sqlite3

        path = url.split("///", 1)[1]
        with sqlite3.connect(path) as conn:
            series = f"(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {KEPT}) SELECT g FROM s)"
            conn.execute(
                sql.format(chats=CHATS, false=0, now="'2026-12-01 09:00:00'", series=series)
            )
            conn.execute("ANALYZE")
        return
    with psycopg.connect(url, autocommit=True) as conn:
        series = f"generate_series(1, {KEPT}) g"
        conn.execute(sql.format(chats=CHATS, false="false", now="now()", series=series))  # type: ignore[arg-type]
        conn.execute("ANALYZE")


async def events(app: App, n: int, start: int) -> list[Incoming]:
    """`n` /help messages from the writing chats, kept in the inbox as a platform would."""
    rows = []
    for i in range(start, start + n):
        chat = f"c{i % WRITERS}"
        rows.append((f"u{i}", chat, {}))
    async with app.db.transaction() as s:
        await inbox.keep(s, "fake", rows, NOW)
    async with app.db.session() as s:
        waiting = await inbox.waiting(s, "fake", n)
    out = []
    for entry in waiting:
        user = UserRef("fake", entry.chat_id, "Buur", "nl")
        chat = ChatRef("fake", entry.chat_id, "direct")
        out.append(Incoming("command", user, chat, text="/help", command="help", args="",
                            message=MessageRef(chat, entry.key), inbox_id=entry.id))  # fmt: skip
    return out


async def round_of(app: App, n: int, start: int, kept: bool) -> tuple[float, float, float]:
    """Handle `n` messages one after another; ms per message: wall, CPU, and the median time
    from the start of handling until the answer arrived."""
    app.dispatcher.replies = Replies(app.db, app.outbox.worker) if kept else None
    todo = await events(app, n, start)
    platform = Instant()
    answered = []
    wall, cpu = time.perf_counter(), time.process_time()
    for event in todo:
        began = time.perf_counter()
        await app.dispatcher.handle(platform, event)  # type: ignore[arg-type]
        answered.append(platform.at - began)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert platform.sent == n, (platform.sent, n)
    return wall / n * 1000, cpu / n * 1000, statistics.median(answered) * 1000


async def measure(name: str, url: str, tmp: Path, messages: int, rounds: int) -> None:
    upgrade(url)
    fill_sql(url)
    app = App(Settings(database_url=url, data_dir=tmp), clock=FrozenClock(NOW))
    await round_of(app, 100, 0, True)  # warm up: statements prepared, caches filled
    await round_of(app, 100, 100, False)
    results: dict[bool, list[tuple[float, float, float]]] = {True: [], False: []}
    start = 1_000
    for _ in range(rounds):
        for kept in (False, True):
            results[kept].append(await round_of(app, messages, start, kept))
            start += messages
    async with app.db.session() as s:
        left = await inbox.waiting(s, "fake", 10)
    assert left == [], "every message handled"
    await app.db.dispose()
    (dw, dc, da), (kw, kc, ka) = (
        tuple(statistics.median(r[i] for r in results[k]) for i in range(3)) for k in (False, True)
    )
    pairs = zip(results[False], results[True], strict=True)
    print(f"{name}: per message direct {dw:.2f} ms wall / {dc:.2f} ms CPU, kept {kw:.2f} / "
          f"{kc:.2f} ms ({kw / dw:.2f}× wall, {kc / dc:.2f}× CPU); until the answer arrived "
          f"direct {da:.2f} ms, kept {ka:.2f} ms ({ka / da:.2f}×). Rounds of {messages}, "
          f"median of {rounds}; kept/direct wall per round: "
          + ", ".join(f"{k[0] / d[0]:.2f}" for d, k in pairs))  # fmt: skip


async def main(messages: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        await measure("SQLite", f"sqlite:///{tmp}/bench.db", Path(tmp), messages, rounds)
    server = PostgresServer(durable=True)
    admin = server.start()
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        url = admin.rsplit("/", 1)[0] + "/bench"
        with tempfile.TemporaryDirectory() as tmp:
            await measure("PostgreSQL (fsync on)", url, Path(tmp), messages, rounds)
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.rounds))
