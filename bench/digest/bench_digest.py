"""Build the weekly digests for 10,000 residents and 5,000 new items.

    .venv/bin/python -m bench.digest.bench_digest [--residents 10000] [--compare 1000]
        [--items 5000] [--postgres postgresql://user:pass@host/db]

A fresh SQLite file (or an empty PostgreSQL database, `--postgres`) is filled with seven
neighbourhoods, six themes and the residents: each with a direct chat, a home neighbourhood
and two followed themes; a fifth on daily digests, a tenth on none, the rest on the default
(weekly, no Preference row). The new items: 60 % ideas (with 10,000 supports), 40 % status
changes of reports (a new report and its acceptance, some with followers), and 14 polls —
half closing within two days, half closed yesterday — with votes.

One weekly run (residents and linked groups) is measured in a fresh process (so the filling
is not in its memory), twice, each rolled back so the next starts from the same state: wall
time, CPU time, the process's peak resident memory (RSS: imports and all) and the SQL
statements sent (`before_cursor_execute`; on PostgreSQL the FETCHes of a server-side cursor
are not statements and not counted); then peak Python memory (tracemalloc) of a run alone.
The same is done for `--compare` residents: the statements other than the outbox INSERTs
(one per 1,000 digests) do not depend on how many residents there are.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import event, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.services.digests import queue_digests
from bot.services.digests import run as digest_run
from bot.services.digests.run import OUTBOX_BATCH
from storage.db import Database
from storage.migrate import upgrade
from storage.models import (
    Channel,
    Idea,
    IdeaSupport,
    Membership,
    Neighbourhood,
    OutboxMessage,
    Person,
    Poll,
    PollVote,
    Preference,
    Signal,
    SignalFollower,
    SignalUpdate,
    Theme,
    ThemeFollow,
)

NOW = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)  # a Monday, 19:00 in Amsterdam
HOODS, THEMES, GROUPS_PER_HOOD = 7, 6, 2


@contextmanager
def count_queries(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every statement sent to the database while inside, as a list of their SQL."""
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)


async def _bulk(db: Database, model: type[Any], rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    async with db.transaction() as s:
        await s.exec(insert(model), params=rows)  # type: ignore[call-overload]
        if db.engine.dialect.name == "postgresql" and "id" in rows[0]:  # explicit ids
            table = model.__tablename__
            await s.exec(text(  # type: ignore[call-overload]
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            ))  # fmt: skip


async def populate(db: Database, residents: int, items: int, now: datetime = NOW) -> None:
    """The neighbourhood platform of the docstring, written in bulk."""
    await add_places(db, now)
    await add_residents(db, 1, residents, now)
    await add_items(db, residents, items, now)


async def add_places(db: Database, now: datetime = NOW) -> None:
    await _bulk(db, Neighbourhood, [
        {"id": h, "slug": f"wijk-{h}", "name": f"Wijk {h}", "forwarding": {}, "created_at": now}
        for h in range(1, HOODS + 1)
    ])  # fmt: skip
    await _bulk(db, Theme, [
        {"id": t, "slug": f"thema-{t}", "names": {"nl": f"Thema {t}", "en": f"Theme {t}"},
         "neighbourhood_id": None, "created_at": now}
        for t in range(1, THEMES + 1)
    ])  # fmt: skip
    await _bulk(db, Channel, [
        {"platform": "telegram", "chat_id": f"-{h}{g}", "kind": "group", "neighbourhood_id": h,
         "theme_id": g or None, "reachable": True, "created_at": now}
        for h in range(1, HOODS + 1) for g in range(GROUPS_PER_HOOD)
    ])  # fmt: skip


async def add_residents(db: Database, first: int, count: int, now: datetime = NOW) -> None:
    people = range(first, first + count)
    await _bulk(db, Person, [
        {"id": p, "locale": "nl" if p % 3 else "en", "onboarded": True, "created_at": now}
        for p in people
    ])  # fmt: skip
    await _bulk(db, Channel, [
        {"platform": "telegram", "chat_id": str(100_000 + p), "kind": "direct", "person_id": p,
         "reachable": True, "created_at": now}
        for p in people
    ])  # fmt: skip
    hood_of = {p: 1 + p % HOODS for p in people}
    await _bulk(db, Membership, [
        {"person_id": p, "neighbourhood_id": hood_of[p], "role": "resident", "is_home": True,
         "created_at": now}
        for p in people
    ])  # fmt: skip
    await _bulk(db, ThemeFollow, [
        {"person_id": p, "theme_id": 1 + (p + k) % THEMES, "created_at": now}
        for p in people for k in (0, 1)
    ])  # fmt: skip
    await _bulk(db, Preference, [
        {"person_id": p, "digest": "daily" if p % 10 < 2 else "never", "broadcasts": p % 4 != 0,
         "last_digest_at": now - timedelta(days=1)}
        for p in people if p % 10 < 3
    ])  # fmt: skip


async def add_items(db: Database, residents: int, items: int, now: datetime = NOW) -> None:
    """New ideas, report changes and polls by (and voted in by) residents 1 … `residents`."""
    rnd = random.Random(42)
    people = range(1, residents + 1)
    n_ideas, n_signals = items * 6 // 10, items * 2 // 10  # a report counts twice: new, accepted
    at = [now - timedelta(minutes=rnd.randint(1, 3 * 24 * 60)) for _ in range(n_ideas)]
    await _bulk(db, Idea, [
        {"id": i + 1, "neighbourhood_id": 1 + i % HOODS,
         "theme_id": None if i % 5 == 0 else 1 + i % THEMES, "author_id": rnd.choice(people),
         "title": f"Idee {i + 1}: meer groen in de straat", "body": "", "status": "open",
         "created_at": at[i]}
        for i in range(n_ideas)
    ])  # fmt: skip
    supports = {(rnd.randint(1, n_ideas), rnd.choice(people)) for _ in range(10_000)}
    await _bulk(db, IdeaSupport, [
        {"idea_id": i, "person_id": p, "author_notified": True, "created_at": now}
        for i, p in supports
    ])  # fmt: skip
    await _bulk(db, Signal, [
        {"id": s + 1, "neighbourhood_id": 1 + s % HOODS, "reporter_id": rnd.choice(people),
         "category": "road", "text": f"Losse stoeptegel {s + 1}", "status": "accepted",
         "created_at": now - timedelta(days=2), "updated_at": now - timedelta(days=1)}
        for s in range(n_signals)
    ])  # fmt: skip
    await _bulk(db, SignalUpdate, [
        {"signal_id": s + 1, "status": status, "kind": "status", "note": "",
         "by_person_id": None, "created_at": now - timedelta(days=days, minutes=s % 600)}
        for s in range(n_signals) for status, days in (("new", 2), ("accepted", 1))
    ])  # fmt: skip
    follows = {(rnd.randint(1, n_signals), rnd.choice(people)) for _ in range(n_signals // 2)}
    await _bulk(db, SignalFollower, [
        {"signal_id": s, "person_id": p, "created_at": now} for s, p in follows
    ])  # fmt: skip
    await _bulk(db, Poll, [
        {"id": k + 1, "neighbourhood_id": 1 + k % HOODS, "theme_id": None if k % 2 else 1,
         "question": f"Peiling {k + 1}: een bankje op het plein?", "options": ["Ja", "Nee"],
         "multiple": False, "live_results": True, "named": False,
         "closes_at": now + timedelta(days=1) if k < 7 else now - timedelta(days=1),
         "closed_at": None if k < 7 else now - timedelta(days=1),
         "sent_at": now - timedelta(days=5), "recipients": 0, "groups": 0, "created_at": now}
        for k in range(14)
    ])  # fmt: skip
    voters = {(rnd.randint(1, 14), rnd.choice(people)) for _ in range(min(residents, 2_000))}
    await _bulk(db, PollVote, [
        {"poll_id": q, "person_id": p, "option": p % 2, "created_at": now} for q, p in voters
    ])  # fmt: skip


class Run(NamedTuple):
    """One weekly run, as measured."""

    messages: int
    made: int  # digests assembled one by one (the others: shared, see digests.run)
    seconds: float  # wall time
    cpu: float  # this process's CPU time (the database server's is not in it)
    reads: int  # statements other than the outbox INSERTs: claims, items, the streams
    writes: int  # outbox INSERTs, one per OUTBOX_BATCH digests
    peak_mb: float  # tracemalloc, when traced


def is_outbox_write(statement: str) -> bool:
    return statement.lstrip().startswith(f"INSERT INTO {OutboxMessage.__tablename__} ")


async def build_once(db: Database, *, trace: bool = False) -> Run:
    """One weekly run, rolled back."""
    made = 0
    make = digest_run._ResidentDigests._make

    def counted(*args: Any) -> Any:
        nonlocal made
        made += 1
        return make(*args)

    digest_run._ResidentDigests._make = counted  # type: ignore[method-assign]
    try:
        async with db.session() as s:
            with count_queries(db.engine) as statements:
                if trace:
                    tracemalloc.start()
                start, cpu = time.perf_counter(), time.process_time()
                messages = await queue_digests(s, NOW, "weekly", group_locale="nl")
                seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
                peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else 0.0
                if trace:
                    tracemalloc.stop()
            await s.rollback()
    finally:
        digest_run._ResidentDigests._make = make  # type: ignore[method-assign]
    writes = sum(1 for q in statements if is_outbox_write(q))
    return Run(messages, made, seconds, cpu, len(statements) - writes, writes, peak)


def rss_mb(field: str = "VmHWM") -> float:
    """This process's resident memory: its peak (VmHWM) or now (VmRSS), from /proc.

    Not `ru_maxrss`: Linux carries that over from the parent through fork and exec.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


def restart_peak() -> None:
    """The peak resident memory counts again from now (Linux)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


async def measure_run(url: str) -> dict[str, float]:
    """In a process of its own (the filling is not in its memory): one run measured for time,
    statements and the process's peak RSS, then one traced for peak Python memory."""
    db = Database(url)
    try:
        async with db.session() as s:  # connect and load what a running bot has loaded
            await s.exec(text("SELECT 1"))  # type: ignore[call-overload]
        before = rss_mb("VmRSS")
        restart_peak()
        run = await build_once(db)
        peak_rss = rss_mb()
        traced = await build_once(db, trace=True)
    finally:
        await db.dispose()
    return {**run._asdict(), "peak_mb": traced.peak_mb, "rss_before_mb": before,
            "rss_peak_mb": peak_rss}  # fmt: skip


async def measure(url: str, residents: int, items: int, unshared: bool) -> dict[str, float]:
    db = Database(url)
    try:
        start = time.perf_counter()
        await populate(db, residents, items)
        filled = time.perf_counter() - start
    finally:
        await db.dispose()
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.digest.bench_digest", "--run-only", url,
        *(["--unshared"] if unshared else []), stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _err = await child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"the measuring process failed ({child.returncode})")
    return {"residents": residents, "items": items, "filled": filled, **json.loads(out)}


def fresh_sqlite(tmp: Path, name: str) -> str:
    url = f"sqlite:///{tmp / name}"
    upgrade(url)
    return url


def fresh_postgres(admin_url: str, name: str) -> str:
    import psycopg

    plain = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = plain.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    return url


def report(backend: str, r: dict[str, float]) -> None:
    print(f"{backend}: {int(r['residents']):,} residents, {int(r['items']):,} new items")
    print(f"    filling the database  {r['filled']:.1f} s (not part of the digest)")
    print(f"    digests written       {int(r['messages']):,} (outbox rows; one per resident/group "
          f"with something new), {int(r['made']):,} of them assembled one by one")  # fmt: skip
    print(f"    building them         {r['seconds']:.2f} s wall, {r['cpu']:.2f} s CPU of this "
          "process")  # fmt: skip
    print(f"    peak Python memory    {r['peak_mb']:.1f} MB (tracemalloc, the run alone)")
    print(f"    process memory (RSS)  {r['rss_peak_mb']:.0f} MB at its peak, {r['rss_before_mb']:.0f}"
          " MB before the run (imports, a connection)")  # fmt: skip
    print(f"    SQL statements        {int(r['reads']) + int(r['writes'])}: {int(r['reads'])} "
          f"claims, items and streams + {int(r['writes'])} outbox INSERTs "
          f"(one per {OUTBOX_BATCH:,} digests)")  # fmt: skip


def load() -> str:
    return (
        "load average "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
        + f" on {os.cpu_count()} cores"
    )


async def run(args: argparse.Namespace) -> None:
    if args.run_only:
        if args.unshared:
            digest_run.SHARED = 0
        print(json.dumps(await measure_run(args.run_only)))
        return
    print(f"start: {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        results = []
        for i, n in enumerate((args.compare, args.residents)):  # the same n twice: two databases
            if args.postgres:
                url = fresh_postgres(args.postgres, f"bench_digest_{i}_{n}")
                backend = "PostgreSQL"
            else:
                url = fresh_sqlite(Path(tmp), f"digest-{i}-{n}.db")
                backend = "SQLite (file, WAL)"
            results.append(await measure(url, n, args.items, args.unshared))
            report(backend, results[-1])
    small, large = results
    same = "the same" if small["reads"] == large["reads"] else "NOT the same"
    print(f"statements besides the outbox INSERTs: {int(small['reads'])} for "
          f"{int(small['residents']):,} residents, {int(large['reads'])} for "
          f"{int(large['residents']):,}: {same}")  # fmt: skip
    print(f"end: {load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--residents", type=int, default=10_000)
    parser.add_argument("--compare", type=int, default=1_000)
    parser.add_argument("--items", type=int, default=5_000)
    parser.add_argument("--postgres", help="an admin URL; databases bench_digest_N are made")
    parser.add_argument(
        "--unshared",
        action="store_true",
        help="every digest assembled one by one (digests.run.SHARED = 0)",
    )
    parser.add_argument("--run-only", metavar="URL", help=argparse.SUPPRESS)  # the child
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
