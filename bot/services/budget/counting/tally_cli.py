"""``wijkbot tally FILE.pb --rule RULE [--json]``: count a Pabulib election.

Prints the selected project ids, one per line, sorted the way Pabulib tools list them (natural
order: ``2`` before ``10``, ``c9`` before ``c10``), then ``total_cost: N``. With ``--json`` it
prints ``{"selected": [...], "total_cost": N}`` instead. A file that cannot be read or parsed
gives one line on stderr naming the file and line, and exit code 2.

Runnable on its own as ``python -m bot.services.budget.counting.tally_cli``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys

from bot.services.budget.counting.amounts import Number, format_amount
from bot.services.budget.counting.pabulib import PabulibError
from bot.services.budget.counting.pabulib_fast import read_profile
from bot.services.budget.counting.profile import Profile
from bot.services.budget.counting.rules import RULES, count_profile

EXIT_BAD_INPUT = 2

_DIGITS = re.compile(r"(\d+)")


def natural_key(project_id: str) -> tuple[tuple[int, str], ...]:
    """Sort key putting ``"2"`` before ``"10"`` and ``"c9"`` before ``"c10"``."""
    parts = _DIGITS.split(project_id)
    key = tuple((int(p), p) if i % 2 else (-1, p) for i, p in enumerate(parts))
    return key


def _json_number(value: Number) -> str:
    text = format_amount(value)
    return text if "/" not in text else json.dumps(text)


def render(selected: tuple[str, ...], total_cost: Number, *, as_json: bool) -> str:
    """The tally output for ``selected`` (any order) and ``total_cost``."""
    ordered = sorted(selected, key=natural_key)
    if as_json:
        return f'{{"selected": {json.dumps(ordered)}, "total_cost": {_json_number(total_cost)}}}'
    return "\n".join([*ordered, f"total_cost: {format_amount(total_cost)}"])


def _read(path: str) -> Profile:
    """Read and parse ``path``; raises ``OSError`` or ``PabulibError``."""
    with open(path, "rb") as fh:
        return read_profile(fh.read())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wijkbot tally",
        description="Count a participatory-budgeting election stored as a Pabulib .pb file.",
    )
    parser.add_argument("file", metavar="FILE.pb", help="the election, in Pabulib format")
    parser.add_argument(
        "--rule", required=True, choices=list(RULES), help="the counting rule to apply"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code (0 ok, 2 bad input or usage)."""
    args = _parser().parse_args(argv)
    try:
        profile = _read(args.file)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        print(f"wijkbot tally: {args.file}: cannot read: {reason}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except PabulibError as exc:
        print(f"wijkbot tally: {args.file}: line {exc.line}: {exc.problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    outcome = count_profile(profile, args.rule)
    print(render(outcome.selected, outcome.total_cost, as_json=args.json))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
