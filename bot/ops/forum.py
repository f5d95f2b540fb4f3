"""Operator tasks behind ``wijkbot forum``: draw a forum's panel and print the report."""

from __future__ import annotations

import secrets

from bot.config import Settings
from bot.core.clock import Clock, SystemClock
from bot.services.forum import draw as drawing
from bot.services.forum.features import features_of
from bot.services.forum.panel import ForumError, run_draw
from storage.db import Database
from storage.repo import forums


def report(forum_id: int, quotas: dict[str, dict[str, list[int]]], result: drawing.Draw) -> str:
    """What anyone may check: the seed, quotas met, and each pool number's chance."""
    lines = [
        f"Forum {forum_id}: {len(result.panel)} seats drawn with {result.algorithm}, "
        f"seed {result.seed} (publish it: the same pool and seed give the same panel).",
        "Quotas (drawn, min–max):",
    ]
    for feature in features_of(quotas):
        for value, (lo, hi) in quotas[feature].items():
            n = result.composition[feature][value]
            mark = "ok" if lo <= n <= hi else "NOT MET"
            lines.append(f"  {feature} {value}: {n} ({lo}–{hi}) {mark}")
    chances = result.probabilities
    lines.append(
        f"Selection probability per person in the pool ({len(chances)} people, "
        f"min {min(chances.values()):.1%}, max {max(chances.values()):.1%}):"
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
        async with db.transaction() as session:
            forum = await forums.forum(session, forum_id)
            if forum is None:
                raise ForumError(f"unknown forum {forum_id}")
            result = await run_draw(session, forum, seed, clock or SystemClock(), algorithm)
            return report(forum_id, forum.quotas, result)
    finally:
        await db.dispose()
