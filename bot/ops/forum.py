"""Operator tasks behind ``wijkbot forum``: draw a forum's panel and print the report."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from bot.config import Settings
from bot.core.clock import Clock, SystemClock
from bot.services.forum import draw as drawing
from bot.services.forum.codes import make_codes
from bot.services.forum.features import features_of
from bot.services.forum.panel import ForumError, run_draw
from bot.util.spreadsheet import csv_text
from storage.db import Database
from storage.repo import forums


def report(forum_id: int, quotas: dict[str, dict[str, list[int]]], result: drawing.Draw) -> str:
    """What anyone may check: the seed, quotas met, and each pool number's chance."""
    lines = [
        f"Forum {forum_id}: {len(result.panel)} seats drawn with {result.algorithm} "
        f"({result.library}), seed {result.seed} (publish it: the same pool, quotas, "
        "algorithm, library version and seed give the same panel).",
        "Quotas (drawn, min–max):",
    ]
    for feature in features_of(quotas):
        for value, (lo, hi) in quotas[feature].items():
            n = result.composition[feature][value]
            mark = "ok" if lo <= n <= hi else "NOT MET"
            lines.append(f"  {feature} {value}: {n} ({lo}–{hi}) {mark}")
    chances = result.probabilities
    lines.append(
        f"Selection probability per person in the pool, fixed before the panel was picked "
        f"({len(chances)} people, min {min(chances.values()):.1%}, "
        f"max {max(chances.values()):.1%}):"
    )
    lines += [f"  #{n}: {p:.1%}" for n, p in sorted(chances.items())]
    lines.append("Drawn pool numbers: " + ", ".join(f"#{n}" for n in result.panel))
    return "\n".join(lines)


async def draw_forum(
    settings: Settings,
    forum_id: int,
    seed: int | None = None,
    algorithm: str = "maximin",
    clock: Clock | None = None,
) -> str:
    seed = seed if seed is not None else secrets.randbelow(2**31 - 2) + 1
    db = Database(settings.effective_database_url)
    try:
        result = await run_draw(db, forum_id, seed, clock or SystemClock(), algorithm)
        async with db.session() as session:
            forum = await forums.forum(session, forum_id)
            assert forum is not None
            return report(forum_id, forum.quotas, result)
    finally:
        await db.dispose()


async def forum_codes(settings: Settings, forum_id: int, count: int, out: Path) -> int:
    """Write `count` one-time pool codes to a new CSV file (for letters to a random sample
    of addresses); only their hashes are stored."""
    if count <= 0:
        raise ForumError("the number of codes must be positive")
    db = Database(settings.effective_database_url)
    try:
        async with db.transaction() as session:
            forum = await forums.forum(session, forum_id)
            if forum is None:
                raise ForumError(f"unknown forum {forum_id}")
            made = await make_codes(session, settings, forum, count)
            try:  # written before the commit: no stored hash without its printable code
                fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                raise ForumError(f"{out} exists already; choose another file") from None
            except OSError as exc:
                raise ForumError(f"{out}: cannot write: {exc.strerror or exc}") from None
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(csv_text(["code"], ({"code": c} for c in made)))
    finally:
        await db.dispose()
    return len(made)
