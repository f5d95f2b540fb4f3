"""A counted budget round of the coordinator's neighbourhoods as a Pabulib `.pb` download:
another neighbourhood's round and a made-up id answer 404 alike, a round not counted yet has
no file, the file holds the ballots and nothing that links one to a voter, and each
download is audited as `web.export`."""

from __future__ import annotations

from collections import Counter

import httpx
from sqlmodel import col, select

from bot.app import App
from bot.services.budget.counting.pabulib import parse_pabulib
from storage.db import Database
from storage.models import AuditEvent, Ballot, BudgetProject, BudgetRound, Person, VoterRoll
from tests.support.fake import MakeChat
from tests.web.conftest import coordinator, link_in, log_in

SCHALKWIJK, DELFTWIJK = 1, 2
# 30 different ballots (a fresh order of 30 is the stored one once in 30! ≈ 2.7e32).
PROJECTS = ("P1", "P2", "P3", "P4", "P5")
BALLOTS = [
    [p for bit, p in enumerate(PROJECTS) if (n >> bit) & 1] for n in range(1, 31)
]  # fmt: skip


async def a_round(
    db: Database, hood: int, title: str, phase: str = "results", ballots: int = len(BALLOTS)
) -> tuple[int, list[int], list[str]]:
    """A round with its projects, ``ballots`` anonymous ballots and a voter roll of as many
    people; (round id, the voters' person ids, the ballots' stored ids)."""
    async with db.transaction() as s:
        round_ = BudgetRound(neighbourhood_id=hood, title=title, budget=100000, phase=phase,
                             ballot_type="approval", voters="members",
                             result={"selected": ["P1"], "total_cost": 1, "votes": {"P1": 1}}
                             if phase == "results" else None)  # fmt: skip
        s.add(round_)
        await s.flush()
        rid = round_.id or 0
        s.add_all(BudgetProject(round_id=rid, code=p, title=f"Project {p}", cost=1000)
                  for p in PROJECTS)  # fmt: skip
        stored = [Ballot(round_id=rid, choices=choices) for choices in BALLOTS[:ballots]]
        s.add_all(stored)
        voters = [Person(locale="nl") for _ in range(ballots)]
        s.add_all(voters)
        await s.flush()
        s.add_all(VoterRoll(round_id=rid, person_id=v.id) for v in voters)
    return rid, [v.id or 0 for v in voters], [b.id for b in stored]


async def signed_in(app: App, make_chat: MakeChat, web: httpx.AsyncClient) -> None:
    coco = await coordinator(app, make_chat)  # of Schalkwijk
    await log_in(web, link_in(await coco.say("/dashboard")))


async def exports(db: Database) -> list[AuditEvent]:
    async with db.session() as s:
        stmt = select(AuditEvent).where(col(AuditEvent.action) == "web.export")
        return list((await s.exec(stmt)).all())


async def test_not_logged_in_gets_no_file(app: App, web: httpx.AsyncClient) -> None:
    rid, _voters, _ids = await a_round(app.db, SCHALKWIJK, "Wijkbudget Schalkwijk")
    page = await web.get(f"/rounds/{rid}.pb")
    assert page.status_code == 401 and "VOTES" not in page.text
    assert await exports(app.db) == []


async def test_another_neighbourhoods_round_is_as_one_that_does_not_exist(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient
) -> None:
    theirs, _voters, _ids = await a_round(app.db, DELFTWIJK, "Wijkbudget Delftwijk")
    await signed_in(app, make_chat, web)
    nowhere = await web.get("/rounds/999.pb")
    elsewhere = await web.get(f"/rounds/{theirs}.pb")
    assert nowhere.status_code == elsewhere.status_code == 404
    assert elsewhere.text == nowhere.text and "VOTES" not in elsewhere.text
    for forged in ("/rounds/-1.pb", f"/rounds/{theirs}.csv", "/rounds/1%20OR%201=1.pb",
                   "/rounds/99999999999999999999.pb",
                   f"/rounds/{theirs}.pb/../1.pb"):  # fmt: skip
        answer = await web.get(forged)
        assert answer.status_code == 404 and "VOTES" not in answer.text, forged
    listing = await web.get("/downloads")
    assert listing.status_code == 200 and "Wijkbudget Delftwijk" not in listing.text
    assert f"/rounds/{theirs}.pb" not in listing.text
    assert await exports(app.db) == []


async def test_a_round_not_counted_yet_has_no_file(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient
) -> None:
    voting, _voters, _ids = await a_round(app.db, SCHALKWIJK, "Nog aan het stemmen", "voting")
    closed, _voters, _ids = await a_round(app.db, SCHALKWIJK, "Net dicht", "closed")
    await signed_in(app, make_chat, web)
    for rid in (voting, closed):
        answer = await web.get(f"/rounds/{rid}.pb")
        assert answer.status_code == 409 and "VOTES" not in answer.text
        assert "The votes of this round are not counted yet" in answer.text
    listing = (await web.get("/downloads")).text
    assert "Nog aan het stemmen" in listing and "not counted yet" in listing
    assert f"/rounds/{voting}.pb" not in listing and f"/rounds/{closed}.pb" not in listing
    assert await exports(app.db) == []


async def test_a_counted_round_downloads_its_anonymous_ballots(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient
) -> None:
    rid, voters, stored = await a_round(app.db, SCHALKWIJK, "Wijkbudget Schalkwijk")
    await signed_in(app, make_chat, web)
    listing = (await web.get("/downloads")).text
    assert f'href="/rounds/{rid}.pb"' in listing
    got = await web.get(f"/rounds/{rid}.pb")
    assert got.status_code == 200
    assert got.headers["content-disposition"] == f'attachment; filename="wijkbudget-{rid}.pb"'
    assert got.headers["cache-control"] == "no-store"
    election = parse_pabulib(got.text)
    assert election.meta["description"] == "Wijkbudget Schalkwijk"
    assert Counter(b.projects for b in election.ballots) == Counter(tuple(b) for b in BALLOTS)
    # The voter ids are 1..30 in a fresh random order: not the order stored, nor a person.
    assert sorted(int(b.voter_id) for b in election.ballots) == list(range(1, 31))
    assert [list(b.projects) for b in election.ballots] != BALLOTS
    votes = got.text.split("VOTES", 1)[1]
    for ballot_id in stored:
        assert ballot_id not in got.text
    assert set(votes.split()[0].split(";")) == {"voter_id", "vote"}  # no other column
    second = parse_pabulib((await web.get(f"/rounds/{rid}.pb")).text)
    assert Counter(b.projects for b in second.ballots) == Counter(tuple(b) for b in BALLOTS)
    [first_audit, _second_audit] = await exports(app.db)
    assert first_audit.subject_type == "budgetround" and first_audit.subject_id == rid
    assert first_audit.detail == {"format": "pb"}
    assert first_audit.actor_person_id not in voters
