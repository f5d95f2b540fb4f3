"""Server time of a neighbourhood's public page with 10,000 reports.

    .venv/bin/python -m bench.web.bench_public [--reports 10000] [--runs 20]
        [--postgres postgresql://user@host/db]

A fresh SQLite file (or an empty PostgreSQL database) gets one public neighbourhood with
`--reports` reports (all categories; a fifth solved, a twentieth closed; each with two or
three status changes; solved ones spread over a year so "you said, we did" has work), 500
ideas with 5,000 supports and 100 finished initiatives, and 20 closed polls with votes.

The page is requested in-process through the ASGI app (httpx's ASGI transport; no network),
so the time is the server's: the queries and rendering the HTML. The first page and the
last page (the largest OFFSET) are each asked for `--runs` times after one warm-up; the
median and the slowest are printed, with the number of SQL statements for one page.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from bench.digest.bench_digest import count_queries, fresh_postgres, fresh_sqlite
from bot.config import Settings
from bot.core.clock import FrozenClock
from bot.web.app import create_app
from storage.db import Database
from storage.models import (
    Idea,
    IdeaSupport,
    Initiative,
    Neighbourhood,
    Person,
    Poll,
    PollVote,
    Signal,
    SignalUpdate,
)

NOW = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
CATEGORIES = ("road", "greenery", "waste", "lighting", "safety", "other")


async def _bulk(db: Database, model: type[Any], rows: list[dict[str, Any]]) -> None:
    async with db.transaction() as s:
        for i in range(0, len(rows), 5000):
            await s.exec(insert(model), params=rows[i : i + 5000])  # type: ignore[call-overload]


async def populate(db: Database, reports: int) -> None:
    async with db.transaction() as s:
        s.add(Neighbourhood(id=1, slug="bench", name="Benchwijk", public_page=True))
    await _bulk(db, Person, [{"id": i, "locale": "nl", "onboarded": True, "created_at": NOW}
                             for i in range(1, 2001)])  # fmt: skip
    signals, updates = [], []
    for i in range(1, reports + 1):
        created = NOW - timedelta(days=365 * i / reports)
        status = "resolved" if i % 5 == 0 else "closed" if i % 20 == 1 else "accepted"
        changed = created + timedelta(days=3)
        signals.append({
            "id": i, "neighbourhood_id": 1, "reporter_id": 1 + i % 2000,
            "category": CATEGORIES[i % 6], "text": f"Melding {i}", "address": f"Dorpsstraat {i}",
            "lat": 52.35 + (i % 100) / 2000, "lon": 4.63 + (i // 100) / 2000, "status": status,
            "created_at": created, "updated_at": changed,
        })  # fmt: skip
        updates.append({"signal_id": i, "status": "new", "kind": "status", "note": "",
                        "created_at": created})  # fmt: skip
        updates.append({"signal_id": i, "status": "accepted", "kind": "status", "note": "ok",
                        "created_at": created + timedelta(days=1)})  # fmt: skip
        if status != "accepted":
            updates.append({"signal_id": i, "status": status, "kind": "status", "note": "klaar",
                            "created_at": changed})  # fmt: skip
    await _bulk(db, Signal, signals)
    await _bulk(db, SignalUpdate, updates)
    await _bulk(db, Idea, [{"id": i, "neighbourhood_id": 1, "author_id": 1 + i, "title": f"Idee {i}",
                            "body": "", "status": "open",
                            "created_at": NOW - timedelta(days=i)} for i in range(1, 501)])  # fmt: skip
    await _bulk(db, IdeaSupport, [{"idea_id": 1 + i % 500, "person_id": 1 + i // 500,
                                   "author_notified": True, "created_at": NOW}
                                  for i in range(5000)])  # fmt: skip
    await _bulk(db, Initiative, [{"idea_id": i, "status": "done", "done_text": "",
                                  "created_at": NOW, "done_at": NOW - timedelta(days=2 * i)}
                                 for i in range(1, 101)])  # fmt: skip
    await _bulk(db, Poll, [{"id": i, "neighbourhood_id": 1, "question": f"Vraag {i}?",
                            "options": ["Ja", "Nee", "Weet niet"], "multiple": False,
                            "live_results": True, "named": False, "closes_at": NOW,
                            "sent_at": NOW, "closed_at": NOW - timedelta(days=i),
                            "recipients": 0, "groups": 0, "created_at": NOW}
                           for i in range(1, 21)])  # fmt: skip
    await _bulk(db, PollVote, [{"poll_id": p, "person_id": v, "option": v % 3, "created_at": NOW}
                               for p in range(1, 21) for v in range(1, 201)])  # fmt: skip


async def timed(client: httpx.AsyncClient, path: str, runs: int) -> list[float]:
    assert (await client.get(path)).status_code == 200  # warm-up
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        response = await client.get(path)
        seconds.append(time.perf_counter() - start)
        assert response.status_code == 200
    return seconds


async def measure(url: str, reports: int, runs: int, tmp: Path) -> None:
    db = Database(url)
    try:
        start = time.perf_counter()
        await populate(db, reports)
        print(f"{db.engine.dialect.name}: {reports} reports "
              f"(filled in {time.perf_counter() - start:.1f} s)")  # fmt: skip
        site = create_app(db, Settings(database_url=url, data_dir=tmp), FrozenClock(NOW))
        transport = httpx.ASGITransport(app=site)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            last = (reports + 49) // 50
            for name, path in (("first page", "/wijk/bench"),
                               (f"last page ({last})", f"/wijk/bench?page={last}")):  # fmt: skip
                seconds = await timed(c, path, runs)
                with count_queries(db.engine) as statements:
                    await c.get(path)
                print(f"    {name:<18} median {1000 * statistics.median(seconds):6.1f} ms"
                      f"   slowest {1000 * max(seconds):6.1f} ms"
                      f"   {len(statements)} SQL statements")  # fmt: skip
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--postgres", help="an admin URL; a database bench_public is made")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = (fresh_postgres(args.postgres, "bench_public") if args.postgres
               else fresh_sqlite(Path(tmp), "public.db"))  # fmt: skip
        asyncio.run(measure(url, args.reports, args.runs, Path(tmp)))


if __name__ == "__main__":
    main()
