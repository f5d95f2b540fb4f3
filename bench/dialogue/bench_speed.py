"""Speed of a recompute (10,000 people x 1,000 statements) and of choosing the next statement.

    .venv/bin/python -m bench.dialogue.bench_speed [--people N] [--statements M]

The votes are generated with a realistic sparsity: how many statements a person votes on
is skewed (median about 30, some several hundred), older statements are seen more often,
and there are three opinion camps with noise and passes. Targets: recompute < 2 s,
next statement < 20 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np


def generate(people: int, statements: int, seed: int = 0) -> list[tuple[int, int, int]]:
    rng = np.random.default_rng(seed)
    camp = rng.integers(0, 3, people)
    leaning = rng.choice([-1, 1], size=(3, statements))
    popularity = 1.0 / np.arange(1, statements + 1) ** 0.5
    popularity /= popularity.sum()
    counts = np.clip(rng.lognormal(np.log(30), 0.9, people).astype(int), 1, statements)
    votes: list[tuple[int, int, int]] = []
    for p in range(people):
        seen = rng.choice(statements, size=counts[p], replace=False, p=popularity)
        base = leaning[camp[p], seen]
        noise = rng.random(len(seen))
        vote = np.where(noise < 0.15, 0, np.where(noise < 0.3, -base, base))
        votes.extend(zip([p] * len(seen), seen.tolist(), vote.tolist(), strict=True))
    return votes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--people", type=int, default=10_000)
    ap.add_argument("--statements", type=int, default=1_000)
    args = ap.parse_args(argv)
    from bot.services.dialogue.analysis import analyse, next_statement

    votes = generate(args.people, args.statements)
    print(f"{args.people} people, {args.statements} statements, {len(votes)} votes "
          f"({len(votes) / args.people / args.statements:.1%} of the matrix)")  # fmt: skip
    analyse(votes[:1000])  # imports and first-call costs out of the way
    times = []
    result = None
    for _ in range(3):
        start = time.perf_counter()
        result = analyse(votes, previous=result)
        times.append(time.perf_counter() - start)
    assert result is not None
    print(f"recompute: median {statistics.median(times):.2f} s of {len(times)} "
          f"(target < 2 s); {result.n_groups} groups, {len(result.groups)} placed")  # fmt: skip
    mine = {s: 1 for p, s, _ in votes if p == 0}
    t_next = []
    for _ in range(50):
        start = time.perf_counter()
        next_statement(mine, result.stats, result)
        t_next.append(time.perf_counter() - start)
    print(f"next statement: median {statistics.median(t_next) * 1000:.1f} ms, "
          f"max {max(t_next) * 1000:.1f} ms (target < 20 ms)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
