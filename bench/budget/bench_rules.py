"""Benchmark our MES against pabutools on Warsaw 2024 (75,255 voters, 118 projects).

    .venv/bin/python -m bench.budget.bench_rules [--quick] [--pabutools-add1] [--file F.pb]

Every measurement runs in a fresh subprocess, so each reports its own wall time and peak
memory (``ru_maxrss``, which includes the interpreter and imported libraries). Winners are
compared with pabutools' where it ran, and always with ``expected.json``.

* default: our ``mes`` and ``mes-add1``, pabutools' ``mes``; pabutools' ``mes-add1`` (about
  17 minutes and 17 GB) is not run, the README's reference figure is shown instead;
* ``--pabutools-add1``: run pabutools' ``mes-add1`` as well;
* ``--quick``: run only our side, comparing with expected.json and the README figures;
* ``--whole``: whole processes, as a user runs them: ``wijkbot tally FILE --rule mes``
  against a Python process that imports pabutools, parses and counts (``--repeat N``: the
  best of N runs of each); ``wijkbot tally --rule mes-add1``; and the start-up of
  ``wijkbot tally`` on a tiny file against a bare ``python -c pass`` (best of 5).

Times are wall-clock seconds; the CPU seconds next to them (user + system) change less when
other programs share the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
WARSAW = "Poland_Warszawa_2024.pb"
# From the data README: pabutools 1.2.3 on a 2-core machine.
README_REFERENCE = {"mes": (30.0, None), "mes-add1": (1051.0, 17.4 * 1024)}


def data_dir() -> Path:
    configured = os.environ.get("WIJKBOT_PABULIB_DIR")
    return Path(configured) if configured else REPO.parent / "shared" / "data" / "pabulib"


# -- one measurement (runs in the child process) ---------------------------------------------


class _Clock:
    """Wall and CPU seconds of each phase."""

    def __init__(self) -> None:
        self.times: list[tuple[float, float]] = [(time.perf_counter(), time.process_time())]

    def lap(self) -> None:
        self.times.append((time.perf_counter(), time.process_time()))

    def phases(self) -> dict[str, float]:
        (w0, c0), (w1, c1), (w2, c2) = self.times
        return {"parse_s": w1 - w0, "count_s": w2 - w1, "parse_cpu": c1 - c0, "count_cpu": c2 - c1}


def _measure_ours(path: Path, rule: str) -> tuple[_Clock, list[str]]:
    # As `wijkbot tally` does it: the file straight into the counting profile.
    from bot.services.budget.counting.pabulib_fast import read_profile
    from bot.services.budget.counting.rules import count_profile

    clock = _Clock()
    profile = read_profile(path.read_bytes())
    clock.lap()
    outcome = count_profile(profile, rule)
    clock.lap()
    return clock, list(outcome.selected)


def _measure_pabutools(path: Path, rule: str) -> tuple[_Clock, list[str]]:
    from pabutools.election import Cost_Sat, parse_pabulib
    from pabutools.rules import method_of_equal_shares

    clock = _Clock()
    instance, profile = parse_pabulib(str(path))
    clock.lap()
    increment = {"mes": None, "mes-add1": 1}[rule]
    outcome = method_of_equal_shares(
        instance, profile, sat_class=Cost_Sat, voter_budget_increment=increment
    )
    clock.lap()
    return clock, [p.name for p in outcome]


def _cpu(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def measure(implementation: str, path: Path, rule: str) -> dict[str, Any]:
    run = _measure_ours if implementation == "wijkbot" else _measure_pabutools
    clock, winners = run(path, rule)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {**clock.phases(), "peak_mb": peak_mb, "winners": winners}


# -- whole processes ---------------------------------------------------------------------------

TINY = (
    "META\nkey;value\nbudget;100\nvote_type;approval\nPROJECTS\nproject_id;cost\n1;60\n2;50\n"
    "VOTES\nvoter_id;vote\n1;1,2\n2;2\n"
)
PABUTOOLS_WHOLE = (
    "import sys\nfrom pabutools.election import Cost_Sat, parse_pabulib\n"
    "from pabutools.rules import method_of_equal_shares\n"
    "instance, profile = parse_pabulib(sys.argv[1])\n"
    "print(len(method_of_equal_shares(instance, profile, sat_class=Cost_Sat)))\n"
)


def _wall(command: list[str], times: int = 1) -> tuple[float, float]:
    """The best wall time of `times` runs of `command`, and the CPU time of that run."""
    best = (float("inf"), float("inf"))
    for _ in range(times):
        cpu = _cpu(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, cwd=REPO, check=True, capture_output=True)
        best = min(best, (time.perf_counter() - start, _cpu(resource.RUSAGE_CHILDREN) - cpu))
    return best


def whole(path: Path, tiny: Path, repeat: int) -> None:
    wijkbot = str(Path(sys.executable).parent / "wijkbot")
    ours, ours_cpu = _wall([wijkbot, "tally", str(path), "--rule", "mes"], repeat)
    theirs, theirs_cpu = _wall([sys.executable, "-c", PABUTOOLS_WHOLE, str(path)], repeat)
    print(f"whole process, mes:      wijkbot tally {ours:.2f} s, pabutools {theirs:.2f} s "
          f"-> {theirs / ours:.1f}x   (CPU {ours_cpu:.2f} s and {theirs_cpu:.2f} s "
          f"-> {theirs_cpu / ours_cpu:.1f}x)")  # fmt: skip
    add1, add1_cpu = _wall([wijkbot, "tally", str(path), "--rule", "mes-add1"], repeat)
    print(f"whole process, mes-add1: wijkbot tally {add1:.2f} s (CPU {add1_cpu:.2f} s)")
    tiny.write_text(TINY, encoding="utf-8")
    start_up, _ = _wall([wijkbot, "tally", str(tiny), "--rule", "mes"], 5)
    bare, _ = _wall([sys.executable, "-c", "pass"], 5)
    print(f"start-up, tiny file: wijkbot tally {start_up:.3f} s, bare python {bare:.3f} s")


# -- the driver --------------------------------------------------------------------------------


def _in_subprocess(implementation: str, path: Path, rule: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.budget.bench_rules", "--measure", implementation]
    done = subprocess.run(
        [*command, "--file", str(path), "--rule", rule],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _row(rule: str, who: str, r: dict[str, Any], agree: str) -> str:
    total = r["parse_s"] + r["count_s"]
    return (
        f"{rule:<9} {who:<10} {r['parse_s']:>8.2f} {r['count_s']:>9.2f} {total:>9.2f} "
        f"{r['parse_cpu']:>10.2f} {r['count_cpu']:>6.2f} {r['peak_mb']:>8.0f}  "
        f"{len(r['winners'])} winners, {agree}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_rules", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only our side; no pabutools")
    parser.add_argument(
        "--pabutools-add1", action="store_true", help="also run pabutools mes-add1 (~17 GB)"
    )
    parser.add_argument("--whole", action="store_true", help="whole processes and start-up")
    parser.add_argument("--repeat", type=int, default=1, help="--whole: best of N runs each")
    parser.add_argument("--file", type=Path, help="a .pb file (default: Warsaw 2024)")
    parser.add_argument("--measure", choices=["wijkbot", "pabutools"], help=argparse.SUPPRESS)
    parser.add_argument("--rule", default="mes", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    path: Path = args.file or data_dir() / WARSAW
    if args.measure:
        print(json.dumps(measure(args.measure, path, args.rule)))
        return 0
    if not path.is_file():
        print(f"bench_rules: {path} not found (set WIJKBOT_PABULIB_DIR)", file=sys.stderr)
        return 2

    if args.whole:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            whole(path, Path(tmp) / "tiny.pb", args.repeat)
        return 0
    expected_file = path.parent / "expected.json"
    expected = json.loads(expected_file.read_text()) if expected_file.is_file() else {}
    print(f"{path.name}  (python {sys.version.split()[0]}, {os.cpu_count()} cpus)")
    print(f"{'rule':<9} {'impl':<10} {'parse s':>8} {'count s':>9} {'total s':>9}   "
          f"CPU: {'parse':>5} {'count':>6} {'peak MB':>8}")  # fmt: skip
    for rule in ("mes", "mes-add1"):
        want = expected.get(path.name, {}).get(rule)
        ours = _in_subprocess("wijkbot", path, rule)
        same_as_json = "no expected.json entry"
        if want is not None:
            same_as_json = (
                "= expected.json" if sorted(ours["winners"]) == sorted(want) else "DIFFERENT"
            )
        print(_row(rule, "wijkbot", ours, same_as_json))
        run_theirs = not args.quick and (rule == "mes" or args.pabutools_add1)
        if run_theirs:
            theirs = _in_subprocess("pabutools", path, rule)
            same = sorted(ours["winners"]) == sorted(theirs["winners"])
            print(_row(rule, "pabutools", theirs, "identical: " + ("yes" if same else "NO")))
            speed = theirs["count_s"] / ours["count_s"]
            end_to_end = (theirs["parse_s"] + theirs["count_s"]) / (
                ours["parse_s"] + ours["count_s"]
            )
            print(
                f"{'':<9} speed-up {speed:.0f}x counting, {end_to_end:.0f}x with parsing; "
                f"winners identical: {'yes' if same else 'NO'}"
            )
        elif path.name == WARSAW:
            seconds, mb = README_REFERENCE[rule]
            memory = f", {mb / 1024:.1f} GB" if mb else ""
            print(
                f"{rule:<9} pabutools  not run; README reference {seconds:,.0f} s{memory} "
                f"-> speed-up ~{seconds / ours['count_s']:.0f}x counting"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
