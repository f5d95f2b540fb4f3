"""The forum draw: a fair stratified lottery with the Sortition Foundation's
`sortition-algorithms` (maximin by default, or nash; leximin needs Gurobi, which is not
on PyPI for free, so it is not offered).

The library computes a distribution over panels that meet every quota and gives each pool
member as high a chance as the quotas allow; one panel is then drawn from it. Everything
random comes from the published seed (through a `random.Random` of its own, never Python's
global one), so the same pool answers, quotas, algorithm, library version and seed give the
same panel. No database and no chat here: pool numbers in, pool numbers out.

`draw` calls the library's steps itself instead of `core.run_stratification`, because that
returns the distribution only as a formatted report; it catches the same errors.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import TYPE_CHECKING

from sortition_algorithms import SortitionBaseError
from sortition_algorithms import utils as library_utils
from sortition_algorithms.committee_generation import (
    find_distribution_maximin,
    find_distribution_nash,
    standardize_distribution,
)
from sortition_algorithms.core import lottery_rounding
from sortition_algorithms.features import FeatureCollection, check_desired, read_in_features
from sortition_algorithms.people import People, check_enough_people_for_every_feature_value
from sortition_algorithms.utils import RandomProvider

if TYPE_CHECKING:
    from _typeshed import SupportsLenAndGetItem

ALGORITHMS = ("maximin", "nash")
HOUSEHOLD = "household"  # an optional answer: people at one address are not drawn together

LIBRARY = f"sortition-algorithms {version('sortition-algorithms')}"
# The library's one random source is a module global: one draw at a time (threads too).
_one_at_a_time = threading.Lock()
for _name in ("sortition_algorithms", "sortition_algorithms_user"):
    logging.getLogger(_name).setLevel(logging.WARNING)  # not every step in our logs

# {feature: {value: (min, max)}}
Quotas = dict[str, dict[str, tuple[int, int]]]


class DrawError(Exception):
    """The quotas cannot be met with this pool; the text says why (from the library)."""


@dataclass
class Draw:
    panel: list[int]  # pool numbers, sorted
    probabilities: dict[int, float]  # each pool member's chance of a seat
    seed: int
    algorithm: str
    composition: dict[str, dict[str, int]] = field(default_factory=dict)
    library: str = LIBRARY


def _seeded(seed: int) -> RandomProvider:
    """The library's random source, from a `random.Random` of our own (the library's
    `set_random_provider(seed)` seeds Python's global `random`, for every user of it)."""
    rng = random.Random(seed)  # reproducible on purpose: the seed is public

    class Seeded(RandomProvider):
        @classmethod
        def uniform(cls, lower: float, upper: float) -> float:
            return rng.uniform(lower, upper)

        @classmethod
        def randbelow(cls, upper: int) -> int:
            return rng.randrange(upper)

        @classmethod
        def choice(cls, seq: SupportsLenAndGetItem[str]) -> str:
            return rng.choice(seq)

    return Seeded()


@contextmanager
def _random_from(seed: int) -> Iterator[None]:
    with _one_at_a_time:
        before = library_utils._random_provider
        library_utils._random_provider = _seeded(seed)
        try:
            yield
        finally:
            library_utils._random_provider = before


def _features(quotas: Quotas) -> FeatureCollection:
    rows = [
        {"feature": f, "value": v, "min": str(lo), "max": str(hi)}
        for f, values in quotas.items()
        for v, (lo, hi) in values.items()
    ]
    features, _, _ = read_in_features(["feature", "value", "min", "max"], rows)
    return features


def _people(
    pool: dict[int, dict[str, str]], features: FeatureCollection, households: bool
) -> People:
    people = People([HOUSEHOLD] if households else [])
    for row, (number, answers) in enumerate(sorted(pool.items()), start=2):
        data = {f: answers.get(f, "") for f in features}
        if households:
            data[HOUSEHOLD] = answers.get(HOUSEHOLD) or f"own-{number}"
        people.add(str(number), data, features, row)
    return people


def composition(
    pool: dict[int, dict[str, str]], panel: list[int], quotas: Quotas
) -> dict[str, dict[str, int]]:
    """Counts per category of a panel (what a coordinator may see)."""
    counts = {f: dict.fromkeys(values, 0) for f, values in quotas.items()}
    for number in panel:
        for f in counts:
            value = pool[number].get(f)
            if value in counts[f]:
                counts[f][value] += 1
    return counts


def draw(
    pool: dict[int, dict[str, str]],
    quotas: Quotas,
    seats: int,
    seed: int,
    algorithm: str = "maximin",
) -> Draw:
    """Draw `seats` pool members meeting every quota; DrawError when that is impossible."""
    if algorithm not in ALGORITHMS:
        raise DrawError(f"unknown algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}")
    if seed <= 0:
        raise DrawError("the seed must be a positive whole number")
    households = any(HOUSEHOLD in a for a in pool.values())
    try:
        features = _features(quotas)
        people = _people(pool, features, households)
        check_desired(features, seats)
        check_enough_people_for_every_feature_value(features, people)
        find = find_distribution_nash if algorithm == "nash" else find_distribution_maximin
        with _random_from(seed):
            committees, probs, _ = find(features, people, seats, [HOUSEHOLD] if households else [])
            committees, probs = standardize_distribution(committees, probs)
            # The chances below are fixed here, before the one panel is picked from them.
            [panel_keys] = lottery_rounding(committees, probs, 1)
    except (SortitionBaseError, ValueError, RuntimeError, AssertionError) as exc:
        raise DrawError(str(exc) or type(exc).__name__) from None
    chances = dict.fromkeys(pool, 0.0)
    for committee, p in zip(committees, probs, strict=True):
        for key in committee:
            chances[int(key)] += p
    panel = sorted(int(k) for k in panel_keys)
    return Draw(
        panel=panel,
        probabilities={n: round(min(c, 1.0), 6) for n, c in chances.items()},
        seed=seed,
        algorithm=algorithm,
        composition=composition(pool, panel, quotas),
    )


async def draw_aside(
    pool: dict[int, dict[str, str]],
    quotas: Quotas,
    seats: int,
    seed: int,
    algorithm: str = "maximin",
) -> Draw:
    """`draw` in a worker thread: the solver can take seconds, the bot goes on meanwhile."""
    return await asyncio.to_thread(draw, pool, quotas, seats, seed, algorithm)


def remaining_quotas(quotas: Quotas, counts: dict[str, dict[str, int]]) -> Quotas:
    """The quotas left for replacements once `counts` seats are taken."""
    return {
        f: {v: (max(0, lo - counts[f].get(v, 0)), max(0, hi - counts[f].get(v, 0)))
            for v, (lo, hi) in values.items()}
        for f, values in quotas.items()
    }  # fmt: skip
