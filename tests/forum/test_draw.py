"""The forum draw (`wijkbot forum draw`): quotas that cannot be met draw nobody and say
why; a good draw meets every quota, publishes each pool number's chance and is the same
again from the same seed."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.ops.forum import draw_forum
from bot.services.forum.panel import ForumError
from storage.forum_models import INVITED, POOL, Forum, ForumMember
from storage.models import AuditEvent
from storage.repo import forums, people, places

AGES = ("15-24", "25-44", "45-64", "65+")
QUOTAS = {
    "age": {"15-24": [2, 4], "25-44": [2, 4], "45-64": [2, 4], "65+": [2, 4]},
    "area": {"Noord": [5, 7], "Zuid": [5, 7]},
}


async def open_forum(
    app: App,
    clock: FrozenClock,
    slug: str,
    quotas: dict[str, dict[str, list[int]]],
    seats: int = 12,
    by: str | None = None,
) -> int:
    """A forum opened directly (as `wijkbot`'s tests of other capabilities need one)."""
    async with app.db.transaction() as s:
        hood = await places.neighbourhood_by_slug(s, slug)
        assert hood is not None and hood.id is not None
        creator = await people.person_for_account(s, "fake", by) if by else None
        forum = await forums.add_forum(
            s,
            Forum(
                neighbourhood_id=hood.id,
                created_by_id=creator.id if creator else None,
                purpose="Een groener plein",
                seats=seats,
                quotas=quotas,
                pool_closes_at=clock.now() + timedelta(days=14),
                ends_at=clock.now() + timedelta(days=90),
            ),
        )
        assert forum.id is not None
        return forum.id


async def open_with_pool(
    app: App,
    clock: FrozenClock,
    size: int,
    quotas: dict[str, dict[str, list[int]]],
    seats: int = 12,
) -> int:
    """A forum in Schalkwijk and `size` generated residents in its pool (made directly)."""
    rng = random.Random(size)
    forum_id = await open_forum(app, clock, "schalkwijk", quotas, seats)
    async with app.db.transaction() as s:
        for i in range(size):
            person = await people.get_or_create_person(s, "fake", f"r{i}", "nl")
            assert person.id is not None
            answers = {"age": AGES[i % 4], "area": rng.choice(("Noord", "Zuid"))}
            await forums.add_member(s, forum_id, person.id, answers)
    return forum_id


async def _states(app: App, forum_id: int) -> list[str]:
    async with app.db.session() as s:
        rows = await s.exec(select(ForumMember.state).where(ForumMember.forum_id == forum_id))
        return list(rows.all())


async def test_quotas_that_cannot_be_met_draw_nobody_and_say_why(
    app: App, clock: FrozenClock
) -> None:
    # Four 65+ residents in the pool, but the quota asks for at least five of them.
    impossible = {"age": {"15-24": [1, 12], "25-44": [1, 12], "45-64": [1, 12], "65+": [5, 12]}}
    forum_id = await open_with_pool(app, clock, 16, impossible)
    with pytest.raises(ForumError) as caught:
        await draw_forum(app.settings, forum_id, seed=7, clock=clock)
    assert "nothing was drawn" in str(caught.value) and "65+" in str(caught.value)
    assert set(await _states(app, forum_id)) == {POOL}
    async with app.db.session() as s:
        forum = await s.get(Forum, forum_id)
        assert forum is not None and forum.seed is None


async def test_the_draw_meets_every_quota_publishes_chances_and_repeats_from_its_seed(
    app: App, clock: FrozenClock
) -> None:
    first = await open_with_pool(app, clock, 40, QUOTAS)
    again = await open_with_pool(app, clock, 40, QUOTAS)
    text = await draw_forum(app.settings, first, seed=2026, clock=clock)
    assert "seed 2026" in text and "NOT MET" not in text
    assert text.count(" ok") == 6  # four age bands and two areas
    assert "#40:" in text and "min " in text and "max " in text
    assert (await _states(app, first)).count(INVITED) == 12
    text_again = await draw_forum(app.settings, again, seed=2026, clock=clock)
    assert text_again.replace(f"Forum {again}", f"Forum {first}") == text
    with pytest.raises(ForumError, match="drawn already"):
        await draw_forum(app.settings, first, seed=1, clock=clock)
    # The seed matters: another seed picks another panel from the same kind of pool.
    other = await open_with_pool(app, clock, 40, QUOTAS)
    text_other = await draw_forum(app.settings, other, seed=2027, clock=clock)
    assert _panel(text_other) != _panel(text)
    chances = [
        float(line.split(": ")[1].rstrip("%"))
        for line in text.splitlines()
        if ": " in line and line.startswith("  #")
    ]
    assert round(sum(chances)) == 12 * 100  # the chances add up to the seats


def _panel(report: str) -> str:
    return next(line for line in report.splitlines() if line.startswith("Drawn pool numbers"))


async def test_the_draw_leaves_pythons_own_random_alone_and_is_recorded(
    app: App, clock: FrozenClock
) -> None:
    forum_id = await open_with_pool(app, clock, 40, QUOTAS)
    random.seed(99)
    expected = random.random()
    random.seed(99)
    await draw_forum(app.settings, forum_id, seed=2026, clock=clock)
    assert random.random() == expected  # nobody else's random numbers became predictable
    async with app.db.session() as s:
        [event] = (await s.exec(select(AuditEvent).where(AuditEvent.action == "forum.draw"))).all()
    assert event.detail["seed"] == 2026 and event.detail["algorithm"] == "maximin"
    assert event.detail["library"].startswith("sortition-algorithms ")
    assert len(event.detail["drawn"]) == 12


async def test_no_answer_by_the_deadline_counts_as_no_and_is_replaced(
    app: App, clock: FrozenClock
) -> None:
    forum_id = await open_with_pool(app, clock, 40, QUOTAS)
    await draw_forum(app.settings, forum_id, seed=5, clock=clock)
    clock.advance(timedelta(days=6))
    await app.run_jobs_now()
    assert (await _states(app, forum_id)).count(INVITED) == 12  # not yet
    clock.advance(timedelta(days=1, minutes=1))
    await app.run_jobs_now()
    states = await _states(app, forum_id)
    assert states.count("declined") == 12 and states.count(INVITED) == 12
