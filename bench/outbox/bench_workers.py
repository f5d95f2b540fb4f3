"""Broadcast with several worker processes on one PostgreSQL: one sender, or every worker.

    .venv/bin/python -m bench.outbox.bench_workers [--recipients 10000] [--repeat 2]
        [--postgres postgresql://…/postgres] [--runs 1:one,2:all,2:one] [--latency-ms 0]

Rate limits lifted. Each run has a fresh database (created and migrated), N residents with a
poll sent to them (`send_poll`), the Bot API stand-in in its own process and W worker
processes (bench/outbox/worker_child.py), each with an outbox sender as a worker has it:
`one` (the default: the worker holding `outbox-telegram` sends) or `all`
(WIJKBOT_OUTBOX_SENDERS=all: every worker). Timed from the start signal until every worker
has found nothing left. CPU time per message: the workers' (their own count), the
stand-in's and PostgreSQL's (all its processes, from /proc; only for a server this bench
started); commits per message from pg_stat_database (each transaction is two: the pool's ping on
taking a connection, then the transaction itself). The machine's busy share shows how much
else ran meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench.outbox.bench_broadcast import TOKEN, write_broadcast
from storage.db import Database
from storage.migrate import upgrade
from tests.support.pg import PostgresServer

TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pids: list[int]) -> float:
    """CPU seconds (user + system) of these processes, those still there."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def children_of(parent: int) -> list[int]:
    found = [parent]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            if ppid == parent:
                found.append(int(entry.name))
    return found


def machine_busy() -> tuple[int, int]:
    """(busy, all) clock ticks of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass
class Result:
    workers: int
    mode: str
    sent: list[int]
    wall: float
    cpu_workers: float
    cpu_standin: float
    cpu_postgres: float | None
    commits: int
    busy: float

    def show(self, n: int) -> str:
        pg = f"{self.cpu_postgres / n * 1000:5.2f}" if self.cpu_postgres is not None else "    -"
        return (
            f"{self.workers} worker(s) {self.mode:3}  {self.wall:6.1f} s  {n / self.wall:5.0f} msg/s"
            f"  CPU ms/msg: workers {self.cpu_workers / n * 1000:5.2f}"
            f" stand-in {self.cpu_standin / n * 1000:5.2f} PostgreSQL {pg}"
            f"  commits/msg {self.commits / n:4.2f}  machine busy {self.busy:3.0%}"
            f"  sent per worker {'/'.join(map(str, self.sent))}"
        )


async def spawn(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", *args,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def line(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None
    return (await proc.stdout.readline()).decode().strip()


def tell(proc: asyncio.subprocess.Process, what: str) -> None:
    assert proc.stdin is not None
    proc.stdin.write(what.encode() + b"\n")


def commits(admin: str, name: str) -> int:
    with psycopg.connect(admin, autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", [name]
        ).fetchone()
    return int(row[0]) if row else 0


async def one_run(
    admin: str,
    name: str,
    recipients: int,
    workers: int,
    mode: str,
    postmaster: int | None,
    latency_ms: float,
) -> Result:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    db = Database(url)
    await write_broadcast(db, recipients)
    await db.dispose()
    standin = await spawn("bench.outbox.standin_server", "--recipients", str(recipients),
                          "--token", TOKEN, "--latency-ms", str(latency_ms))  # fmt: skip
    api = f"http://127.0.0.1:{(await line(standin)).split()[1]}"
    procs = [await spawn("bench.outbox.worker_child", "--url", url, "--api", api, "--mode", mode)
             for _ in range(workers)]  # fmt: skip
    for p in procs:
        assert await line(p) == "READY"
    pg_pids = children_of(postmaster) if postmaster else []
    pg0, st0, c0, m0 = cpu_of(pg_pids), cpu_of([standin.pid]), commits(admin, name), machine_busy()
    start = time.perf_counter()
    for p in procs:
        tell(p, "go")
    done = [(await line(p)).split() for p in procs]
    wall = time.perf_counter() - start
    pg_pids = sorted(set(pg_pids) | set(children_of(postmaster))) if postmaster else []
    pg1, st1, m1 = cpu_of(pg_pids), cpu_of([standin.pid]), machine_busy()
    tell(standin, "count")
    _, delivered, chats, errors = (await line(standin)).split()
    assert int(delivered) == recipients == int(chats) and errors == "0", (delivered, errors)
    for p in [*procs, standin]:
        tell(p, "quit")
    for p in [*procs, standin]:
        await asyncio.wait_for(p.wait(), timeout=30)
    await asyncio.sleep(1.0)  # a backend reports its counts when it ends (or now and then)
    c1 = commits(admin, name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    return Result(
        workers, mode, [int(d[1]) for d in done], wall, sum(float(d[2]) for d in done),
        st1 - st0, pg1 - pg0 if postmaster else None, c1 - c0,
        (m1[0] - m0[0]) / max(1, m1[1] - m0[1]),
    )  # fmt: skip


async def bench(admin: str, recipients: int, repeat: int, runs: list[tuple[int, str]],
                postmaster: int | None, latency_ms: float) -> None:  # fmt: skip
    print(f"{recipients} recipients, limits lifted, each answer {latency_ms:g} ms on its way, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    results: list[Result] = []
    for r in range(repeat):
        for i, (workers, mode) in enumerate(runs):
            result = await one_run(admin, f"bench_{r}_{i}", recipients, workers, mode, postmaster,
                                   latency_ms)  # fmt: skip
            print(result.show(recipients), flush=True)
            results.append(result)
    base = [recipients / r.wall for r in results if r.workers == 1]
    if base:
        for workers, mode in runs:
            rates = [recipients / r.wall for r in results if (r.workers, r.mode) == (workers, mode)]
            print(f"{workers} {mode}: {min(rates):.0f} to {max(rates):.0f} msg/s, "
                  f"{min(rates) / max(base):.2f}x to {max(rates) / min(base):.2f}x one worker")  # fmt: skip
    # Each run against the one-worker run of its own round (the same moment's load).
    ones = [j for j, (workers, _) in enumerate(runs) if workers == 1]
    if not ones:
        return
    size = len(runs)
    for j, (workers, mode) in enumerate(runs):
        if j == ones[0]:
            continue
        speedups = [results[r * size + ones[0]].wall / results[r * size + j].wall
                    for r in range(repeat)]  # fmt: skip
        shown = ", ".join(f"{x:.2f}x" for x in speedups)
        print(f"{workers} {mode} against one worker, round by round: {shown} "
              f"(median {statistics.median(speedups):.2f}x)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--postgres", help="an admin URL (…/postgres); default: a throwaway server")
    parser.add_argument("--runs", default="1:one,2:all,2:one")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="the stand-in answers this much later, as over the internet")  # fmt: skip
    args = parser.parse_args()
    runs = [(int(w), m) for w, m in (r.split(":") for r in args.runs.split(","))]
    if args.postgres:
        asyncio.run(bench(args.postgres, args.recipients, args.repeat, runs, None, args.latency_ms))
        return
    server = PostgresServer()
    try:
        admin = server.start()
        postmaster = int((server.dir / "data" / "postmaster.pid").read_text().split()[0])
        asyncio.run(bench(admin, args.recipients, args.repeat, runs, postmaster, args.latency_ms))
    finally:
        server.stop()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory():
        main()
