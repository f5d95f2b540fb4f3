from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text
from sqlmodel import select

from bot.admin import grant_coordinator
from bot.app import App
from bot.budget_admin import make_codes
from bot.clock import FrozenClock
from storage.models import Ballot, VoterRoll
from tests.support.fake import Chat, FakeAdapter
from tests.test_budget_round import OPENS, create_round, propose, resident, vote


async def setup_round(app, make_chat, clock, with_unchecked: bool = False):  # type: ignore[no-untyped-def]
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    await create_round(coco)
    await coco.press("Add a project")
    await coco.say("Bankjes")
    await coco.say("Vier bankjes.")
    await coco.say("12.000")
    prop = None
    if with_unchecked:
        prop = await resident(make_chat, "prop")
        assert await propose(prop, "Gouden fontein", "Een fontein.", "60000") == "2"
    await coco.say("/budgetronde")
    await coco.press("W-1")
    await coco.press("Plan voting")
    await coco.say("1-12-2026 19:00")
    await coco.say("15-12-2026 20:00")
    clock.advance(OPENS - clock.now() + timedelta(seconds=30))
    await app.run_jobs_now()
    return coco, prop


async def test_erase_then_vote_again(app: App, make_chat, adapter: FakeAdapter, clock: FrozenClock) -> None:  # type: ignore[no-untyped-def]
    await setup_round(app, make_chat, clock)
    anna = await resident(make_chat, "anna")
    await vote(anna, ["1"], start=True)
    await anna.say("/vergeetmij")
    await anna.press("Yes, erase my data")
    anna2: Chat = make_chat("anna", lang="en")
    await anna2.say("/wijk")
    await anna2.press("Schalkwijk")
    await vote(anna2, ["1"], start=True)
    async with app.db.session() as s:
        print("ballots", len((await s.exec(select(Ballot))).all()))
        assert len((await s.exec(select(Ballot))).all()) == 2


async def test_member_votes_twice_with_code(app: App, make_chat, adapter: FakeAdapter, clock: FrozenClock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    await create_round(coco)
    await coco.press("Add a project")
    await coco.say("Bankjes")
    await coco.say("Vier bankjes.")
    await coco.say("12.000")
    f = tmp_path / "codes.csv"
    await make_codes(app.settings, 1, 1, f)
    code = list(csv.reader(f.open()))[1][0]
    await coco.say("/budgetronde")
    await coco.press("W-1")
    await coco.press("Plan voting")
    await coco.say("1-12-2026 19:00")
    await coco.say("15-12-2026 20:00")
    clock.advance(OPENS - clock.now() + timedelta(seconds=30))
    await app.run_jobs_now()
    anna = await resident(make_chat, "anna")
    await vote(anna, ["1"], start=True)
    await anna.say(f"/stem {code}")
    await vote(anna, ["1"])
    async with app.db.session() as s:
        assert len((await s.exec(select(Ballot))).all()) == 2


async def test_erased_proposer_puts_unchecked_project_on_ballot(app: App, make_chat, adapter: FakeAdapter, clock: FrozenClock) -> None:  # type: ignore[no-untyped-def]
    _coco, prop = await setup_round(app, make_chat, clock, with_unchecked=True)
    bob = await resident(make_chat, "bob")
    [start] = await bob.say("/stem")
    assert "Gouden fontein" not in start.text
    await bob.say("/stop")
    await prop.say("/vergeetmij")
    await prop.press("Yes, erase my data")
    [start] = await bob.say("/stem")
    print(start.text)
    assert "Gouden fontein" in start.text  # unchecked proposal now on the ballot, mid-vote


async def test_pg_xmin_links_voter_to_ballot(app: App, make_chat, adapter: FakeAdapter, clock: FrozenClock) -> None:  # type: ignore[no-untyped-def]
    if app.db.is_sqlite:
        return
    await setup_round(app, make_chat, clock)
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    anna = await resident(make_chat, "anna")
    bob = await resident(make_chat, "bob")
    await vote(anna, ["1"], start=True)
    await vote(bob, ["1"], start=True)
    async with app.db.session() as s:
        rows = (await s.exec(text(
            "SELECT v.person_id, b.choices FROM ballot b JOIN voterroll v ON b.xmin::text = v.xmin::text"
        ))).all()
    print(rows)
    assert len(rows) == 2
