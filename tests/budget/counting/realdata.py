"""Where the real Pabulib elections live, and cached access to them."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

from bot.services.budget.counting.election import Election
from bot.services.budget.counting.pabulib import parse_pabulib

REPO = Path(__file__).resolve().parents[3]


def pabulib_dir() -> Path:
    """``$WIJKBOT_PABULIB_DIR``, else ``<repo>/../shared/data/pabulib``."""
    configured = os.environ.get("WIJKBOT_PABULIB_DIR")
    return Path(configured) if configured else REPO.parent / "shared" / "data" / "pabulib"


@cache
def expected_results() -> dict[str, dict[str, list[str]]]:
    """``expected.json``: per file, per rule, the winners; ``{}`` without the data."""
    path = pabulib_dir() / "expected.json"
    if not path.is_file():
        return {}
    data: dict[str, dict[str, list[str]]] = json.loads(path.read_text(encoding="utf-8"))
    return data


@cache
def load_election(name: str) -> Election:
    """Parse one real election (cached: several tests count the same file)."""
    with open(pabulib_dir() / name, encoding="utf-8", newline="") as fh:
        return parse_pabulib(fh)
