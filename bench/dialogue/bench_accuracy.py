"""Accuracy of the opinion groups against Pol.is's own, on the four real conversations.

    .venv/bin/python -m bench.dialogue.bench_accuracy [--no-red-dwarf]

For each conversation in ``../shared/data/polis`` (or ``$WIJKBOT_POLIS_DIR``): the adjusted
Rand index (ARI) between our groups and Pol.is's ``group-id`` over the participants both
place, and whether the number of groups matches. The same for red-dwarf 0.4.0 with its
default settings, in the same run. red-dwarf pins pandas and friends that need not agree
with our lock, so it runs in its own venv: ``$WIJKBOT_REDDWARF_PYTHON`` or
``.tmp/rd-venv/bin/python`` (make it with ``python -m venv .tmp/rd-venv &&
.tmp/rd-venv/bin/pip install red-dwarf==0.4.0 scikit-learn``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

RED_DWARF_CHILD = r"""
import json, sys, time
from bot.services.dialogue.polis_format import read_conversation
from reddwarf.implementations.base import run_pipeline
run_pipeline(votes=[{"participant_id": p, "statement_id": s, "vote": 1 if (p * s) % 3 else -1} for p in range(30) for s in range(10)], random_state=0)  # imports out of the timings
conv = read_conversation(__import__("pathlib").Path(sys.argv[1]))
votes = [{"participant_id": p, "statement_id": s, "vote": v} for p, s, v in conv.votes]
start = time.perf_counter()
result = run_pipeline(votes=votes, mod_out_statement_ids=sorted(conv.moderated_out),
                      random_state=0)
seconds = time.perf_counter() - start
df = result.participants_df
groups = {int(p): int(g) for p, g in df["cluster_id"].dropna().items()}
print(json.dumps({"groups": groups, "seconds": seconds}))
"""


def data_dir() -> Path:
    configured = os.environ.get("WIJKBOT_POLIS_DIR")
    return Path(configured) if configured else REPO.parent / "shared" / "data" / "polis"


def red_dwarf_python() -> Path | None:
    configured = os.environ.get("WIJKBOT_REDDWARF_PYTHON")
    path = Path(configured) if configured else REPO / ".tmp" / "rd-venv" / "bin" / "python"
    return path if path.exists() else None


def score(truth: dict[int, int], ours: dict[int, int]) -> tuple[float, int, int]:
    from sklearn.metrics import adjusted_rand_score

    common = [p for p in truth if p in ours]
    ari = adjusted_rand_score([truth[p] for p in common], [ours[p] for p in common])
    return float(ari), len(set(ours.values())), len(common)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--no-red-dwarf", action="store_true")
    args = ap.parse_args(argv)
    from bot.services.dialogue.analysis import analyse
    from bot.services.dialogue.polis_format import read_conversation

    analyse([(1, 1, 1), (2, 1, -1)])  # imports out of the timings
    rd_python = None if args.no_red_dwarf else red_dwarf_python()
    dirs = sorted(d for d in data_dir().iterdir() if (d / "comments.csv").exists())
    if not dirs:
        print(f"no conversations in {data_dir()}", file=sys.stderr)
        return 1
    rows: dict[str, list[tuple[float, bool]]] = {}
    header = f"{'conversation':34} {'method':22} {'k':>3} {'Pol.is k':>8} {'placed':>7} {'ARI':>6} {'s':>6}"
    print(header)
    for d in dirs:
        conv = read_conversation(d)
        polis_k = len(set(conv.polis_groups.values()))
        runs: list[tuple[str, dict[int, int], float]] = []
        for name, zero_out in (("ours", True), ("ours, mod-out dropped", False)):
            start = time.perf_counter()
            result = analyse(conv.votes, conv.moderated_out, zero_out=zero_out)
            groups = {int(p): g for p, g in result.groups.items()}
            runs.append((name, groups, time.perf_counter() - start))
        if rd_python:
            out = subprocess.run(
                [str(rd_python), "-c", RED_DWARF_CHILD, str(d)],
                capture_output=True, text=True, cwd=REPO,
                env={**os.environ, "PYTHONPATH": str(REPO)}, check=False,
            )  # fmt: skip
            if out.returncode == 0:
                doc = json.loads(out.stdout.strip().splitlines()[-1])
                runs.append(("red-dwarf 0.4.0", {int(k): v for k, v in doc["groups"].items()},
                             doc["seconds"]))  # fmt: skip
            else:
                print(f"red-dwarf failed on {d.name}: {out.stderr.strip()[-300:]}", file=sys.stderr)
        for name, groups, seconds in runs:
            ari, k, common = score(conv.polis_groups, groups)
            rows.setdefault(name, []).append((ari, k == polis_k))
            print(
                f"{d.name:34} {name:22} {k:>3} {polis_k:>8} {common:>7} {ari:>6.3f} {seconds:>6.2f}"
            )
    print()
    for name, results in rows.items():
        median = statistics.median(a for a, _ in results)
        right = sum(ok for _, ok in results)
        print(
            f"{name:22} median ARI {median:.3f}; number of groups right in {right} of {len(results)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
