"""Budget rounds in the database: import, codes, secret ballots, one vote each, export."""

from __future__ import annotations

import asyncio
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import JSON, Date, DateTime, Integer, Time
from sqlmodel import SQLModel, col, func, select

from bot.app import App
from bot.services.budget import imports, results
from bot.services.budget.counting.election import Ballot as PbBallot
from bot.services.budget.counting.election import Election, Project
from bot.services.budget.counting.pabulib import parse_pabulib
from bot.services.budget.counting.rules import count
from bot.services.budget.rounds import close_round
from storage.models import Ballot, BudgetRound, SealedBallot, VoterRoll, VotingCode
from storage.repo import ballots, budgets, people, places
from storage.repo.ballots import VoteResult
from storage.repo.budgets import BudgetError

ROOT = Path(__file__).resolve().parents[2]
PABULIB_DIR = Path(os.environ.get("WIJKBOT_PABULIB_DIR") or ROOT.parent / "shared/data/pabulib")
ASSEN = PABULIB_DIR / "Netherlands_Assen_2024.pb"
OPENS = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
CLOSES = datetime(2026, 11, 15, 17, 0, tzinfo=UTC)
DURING = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
CSV = """id,title,description,cost
A,Bankjes in het park,Zes bankjes,12.000
B,Moestuin,"Een tuin, met water",30000
C,Speeltuin,,45000
D,Buurtfeest,Eén keer per jaar,8000
"""


# --- secrecy by schema --------------------------------------------------------------------


def test_schema_cannot_link_a_ballot_to_its_voter() -> None:
    tables = SQLModel.metadata.tables
    ballot, roll = tables["ballot"], tables["voterroll"]
    identity = {"person", "account", "votingcode", "voterroll", "channel", "membership"}
    for box in (ballot, tables["sealedballot"]):
        for column in box.columns:
            for fk in column.foreign_keys:
                assert fk.column.table.name not in identity, column.name
            assert not re.search(r"person|account|voter|code|user|chat|roll", column.name)
            assert not isinstance(column.type, DateTime | Date | Time), column.name
        (pk,) = box.primary_key.columns
        assert not isinstance(pk.type, Integer) and pk.autoincrement is not True
        assert box.dialect_options["sqlite"]["with_rowid"] is False  # no hidden row order
    assert roll.dialect_options["sqlite"]["with_rowid"] is False
    (roll_pk,) = roll.primary_key.columns
    assert not isinstance(roll_pk.type, Integer)
    for column in roll.columns:
        assert not re.search(r"choice|vote|project|point|ballot", column.name), column.name
        assert not isinstance(column.type, DateTime | Date | Time | JSON), column.name
        # Only numbers and the short random key: no room for a list of choices.
        length = getattr(column.type, "length", None) or 999
        assert isinstance(column.type, Integer) or length <= 32, column.name
    for a, b in ((ballot, roll), (roll, ballot)):
        assert not any(fk.column.table is b for fk in a.foreign_keys)
    uniques = {
        tuple(c.columns.keys())
        for c in roll.constraints
        if c.__class__.__name__ == "UniqueConstraint"
    }
    assert {("round_id", "person_id"), ("round_id", "voting_code_id")} <= uniques


# --- helpers ------------------------------------------------------------------------------


async def _hood_id(app: App) -> int:
    async with app.db.session() as s:
        hood = await places.neighbourhood_by_slug(s, "schalkwijk")
        assert hood is not None and hood.id is not None
        return hood.id


async def _round(app: App, ballot_type: str = "knapsack", **kw: object) -> BudgetRound:
    hood_id = await _hood_id(app)
    async with app.db.transaction() as s:
        r = await imports.import_round(
            s,
            neighbourhood_id=hood_id,
            source=CSV,
            kind="csv",
            counting_rule="greedy",
            title="Schalkwijk aan Zet",
            budget=70000,
        )
        r.ballot_type = ballot_type
        r.voters = "both"  # members and codes; tests of who may vote say otherwise
        for key, value in kw.items():
            setattr(r, key, value)
        await budgets.open_voting(s, r, OPENS, CLOSES)
    return r


async def _vote(app: App, r: BudgetRound, choices: object, **kw: object) -> VoteResult:
    assert r.id is not None
    now = kw.pop("now", DURING)
    return await ballots.vote(app.db, r.id, choices, keys=app.ballot_keys, now=now, **kw)  # type: ignore[arg-type]


async def _person(app: App, name: str, since: datetime = OPENS - timedelta(days=30)) -> int:
    """A resident of Schalkwijk who chose it as home at ``since`` (before voting opened)."""
    hood_id = await _hood_id(app)
    async with app.db.transaction() as s:
        p = await people.get_or_create_person(s, "console", name, "nl")
        assert p.id is not None
        await people.set_home(s, p.id, hood_id)
        for m in await people.memberships_of(s, p.id):
            m.home_since = since
            s.add(m)
        return p.id


async def _count_rows(app: App, model: type[SQLModel]) -> int:
    async with app.db.session() as s:
        return int((await s.exec(select(func.count()).select_from(model))).one())


# --- import -------------------------------------------------------------------------------


async def test_import_csv(app: App) -> None:
    r = await _round(app)
    async with app.db.session() as s:
        projects = await budgets.projects_of(s, r.id or 0)
    assert [(p.code, p.title, p.cost) for p in projects] == [
        ("A", "Bankjes in het park", 12000),
        ("B", "Moestuin", 30000),
        ("C", "Speeltuin", 45000),
        ("D", "Buurtfeest", 8000),
    ]
    assert projects[1].description == "Een tuin, met water"
    assert r.locked and r.phase == "voting" and r.budget == 70000


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("id,name,cost\nA,x,1\n", 1, "header"),
        ("id,title,description,cost\nA,x,,1\nB,y,,twelve\n", 3, "not a whole number"),
        ("id,title,description,cost\nA,x,,1\n\nB,y,1\n", 4, "4 fields"),
        ("id,title,description,cost\nA,x,,1\nA,y,,2\n", 3, "twice"),
        ("id,title,description,cost\nA,x,,1.5\n", 2, "whole number"),
    ],
)
def test_malformed_csv_names_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(BudgetError) as err:
        imports.parse_csv_projects(text)
    assert err.value.line == line and words in str(err.value)


async def test_import_real_pabulib_file(app: App) -> None:
    if not ASSEN.exists():
        pytest.skip(f"{ASSEN} is not here")
    source = ASSEN.read_text(encoding="utf-8-sig")
    election = parse_pabulib(source)
    hood_id = await _hood_id(app)
    async with app.db.transaction() as s:
        r = await imports.import_round(
            s, neighbourhood_id=hood_id, source=source, kind="pb", counting_rule="mes"
        )
        projects = await budgets.projects_of(s, r.id or 0)
    assert r.title == "Assen Top Idee" and r.budget == 100000
    assert r.ballot_type == "approval" and r.min_projects == 2
    assert {p.code: p.cost for p in projects} == election.project_costs()
    assert {p.title for p in projects} >= {"PopUp Podium", "Jongerenplatform"}


# --- codes --------------------------------------------------------------------------------


async def test_codes_unique_well_formed_hashed_and_typo_tolerant(app: App) -> None:
    r = await _round(app)
    async with app.db.transaction() as s:
        codes = await budgets.create_codes(s, r, 500, key=app.ballot_keys.code_key(r), now=DURING)
    assert len(set(codes)) == 500
    pattern = re.compile(
        r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]$"
    )
    assert all(pattern.match(c) for c in codes)
    async with app.db.session() as s:
        hashes = set((await s.exec(select(VotingCode.code_hash))).all())
    assert len(hashes) == 500
    plain = {c.replace("-", "") for c in codes}
    assert not any(h.upper() in plain or any(p in h.upper() for p in plain) for h in hashes)
    code = codes[0]
    # Typed sloppily: lower case, spaces, O for 0, I/L for 1 — still the same code.
    sloppy = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert budgets.normalise_code(sloppy) == code.replace("-", "")
    # Every single wrong symbol is caught by the check symbol.
    symbols = code.replace("-", "")
    for i in range(len(symbols)):
        for other in budgets.ALPHABET:
            if other != symbols[i]:
                assert budgets.normalise_code(symbols[:i] + other + symbols[i + 1 :]) is None
    assert budgets.normalise_code(symbols[:-1]) is None
    await _add_voting_code_votes(app, r, codes)


async def _add_voting_code_votes(app: App, r: BudgetRound, codes: list[str]) -> None:
    code = codes[0]
    bad_check = code[:-1] + ("0" if code[-1] != "0" else "1")
    assert await _vote(app, r, ["A"], code=bad_check) is VoteResult.CODE_TYPO
    unknown = budgets.new_code()
    assert await _vote(app, r, ["A"], code=unknown) is VoteResult.WRONG_CODE
    assert await _vote(app, r, ["A", "B"], code=code.lower()) is VoteResult.OK
    assert await _vote(app, r, ["C"], code=code) is VoteResult.USED_CODE
    results = await asyncio.gather(*(_vote(app, r, ["D"], code=codes[1]) for _ in range(20)))
    assert results.count(VoteResult.OK) == 1
    assert set(results) == {VoteResult.OK, VoteResult.USED_CODE}
    assert await _count_rows(app, SealedBallot) == 2 and await _count_rows(app, VoterRoll) == 2


# --- casting ------------------------------------------------------------------------------


async def test_hundred_concurrent_votes_by_one_person_count_once(app: App) -> None:
    r = await _round(app)
    anna = await _person(app, "anna")
    results = await asyncio.gather(
        *(_vote(app, r, [["A"], ["B"], ["A", "D"]][i % 3], person_id=anna) for i in range(100))
    )
    assert results.count(VoteResult.OK) == 1
    assert results.count(VoteResult.ALREADY_VOTED) == 99
    assert await _count_rows(app, VoterRoll) == 1
    assert await _count_rows(app, SealedBallot) == 1


async def test_refusals(app: App) -> None:
    r = await _round(app)
    bob = await _person(app, "bob")
    before, after = OPENS - timedelta(seconds=1), CLOSES
    assert await _vote(app, r, ["A"], person_id=bob, now=before) is VoteResult.OUTSIDE_WINDOW
    assert await _vote(app, r, ["A"], person_id=bob, now=after) is VoteResult.OUTSIDE_WINDOW
    assert await _vote(app, r, ["B", "C"], person_id=bob) is VoteResult.OVER_BUDGET
    assert await _vote(app, r, ["A", "A"], person_id=bob) is VoteResult.INVALID
    assert await _vote(app, r, ["Z"], person_id=bob) is VoteResult.INVALID
    assert await _vote(app, r, [], person_id=bob) is VoteResult.INVALID
    assert await _vote(app, r, {"A": 1}, person_id=bob) is VoteResult.INVALID
    assert await _count_rows(app, SealedBallot) == 0 and await _count_rows(app, VoterRoll) == 0
    assert await _vote(app, r, ["A", "B", "D"], person_id=bob, now=OPENS) is VoteResult.OK
    assert await _vote(app, r, ["A"], person_id=bob) is VoteResult.ALREADY_VOTED


async def test_approval_and_cumulative_ballots(app: App) -> None:
    approval = await _round(app, "approval", min_projects=2, max_projects=3)
    cumulative = await _round(app, "cumulative", min_projects=2, points=10)
    p = await _person(app, "carla")
    assert await _vote(app, approval, ["A"], person_id=p) is VoteResult.INVALID
    assert await _vote(app, approval, ["A", "B", "C", "D"], person_id=p) is VoteResult.INVALID
    assert await _vote(app, approval, ["C", "B", "A"], person_id=p) is VoteResult.OK
    assert await _vote(app, cumulative, {"A": 10}, person_id=p) is VoteResult.INVALID
    assert await _vote(app, cumulative, {"A": 6, "B": 5}, person_id=p) is VoteResult.INVALID
    assert await _vote(app, cumulative, {"A": 0, "B": 5}, person_id=p) is VoteResult.INVALID
    assert await _vote(app, cumulative, ["A", "B"], person_id=p) is VoteResult.INVALID
    assert await _vote(app, cumulative, {"C": 3, "A": 7}, person_id=p) is VoteResult.OK
    async with app.db.transaction() as s:  # what closing does first: open the sealed ballots
        for r in (approval, cumulative):
            loaded = await budgets.get_round(s, r.id or 0)
            assert loaded is not None
            await ballots.open_sealed(s, loaded, app.ballot_keys)
    async with app.db.session() as s:
        stored = {b.round_id: b.choices for b in (await s.exec(select(Ballot))).all()}
    assert stored == {approval.id: ["A", "B", "C"], cumulative.id: {"A": 7, "C": 3}}


# --- export -------------------------------------------------------------------------------


async def test_export_refused_before_closing_then_recounts_the_same(app: App) -> None:
    r = await _round(app, counting_rule="mes")
    async with app.db.transaction() as s:
        codes = await budgets.create_codes(s, r, 12, key=app.ballot_keys.code_key(r), now=DURING)
    cast = [
        ["A", "D"],
        ["B"],
        ["B", "D"],
        ["C"],
        ["C", "D"],
        ["A", "B", "D"],
        ["D"],
        ["A"],
        ["C", "A"],
        ["B", "A"],
        ["D", "C"],
        ["A", "B"],
    ]
    for code, choices in zip(codes, cast, strict=True):
        assert await _vote(app, r, choices, code=code) is VoteResult.OK
    async with app.db.session() as s:
        with pytest.raises(BudgetError, match="not closed"):
            await results.export_pabulib(s, r, DURING)
        with pytest.raises(BudgetError, match="opened when the round is counted"):
            await results.export_pabulib(s, r, CLOSES)  # closed, but not counted yet
    async with app.db.transaction() as s:
        loaded = await budgets.get_round(s, r.id or 0)
        assert loaded is not None
        await close_round(s, loaded, CLOSES, app.ballot_keys)
        r = loaded
    async with app.db.session() as s:
        text = await results.export_pabulib(s, r, CLOSES)
    exported = parse_pabulib(text)
    assert sorted(b.voter_id for b in exported.ballots) == sorted(str(i) for i in range(1, 13))
    assert sorted(sorted(b.projects) for b in exported.ballots) == sorted(sorted(c) for c in cast)
    direct = Election(
        budget=70000,
        vote_type="approval",
        projects=(
            Project("A", 12000),
            Project("B", 30000),
            Project("C", 45000),
            Project("D", 8000),
        ),
        ballots=tuple(PbBallot(str(i), tuple(c)) for i, c in enumerate(cast)),
    )
    for rule in ("greedy", "mes", "mes-add1-greedy"):
        assert set(count(exported, rule).selected) == set(count(direct, rule).selected)
    assert exported.meta["max_sum_cost"] == "70000"
    # Voters are numbered in a random order: over a few exports the order changes.
    async with app.db.session() as s:
        orders = {
            tuple(
                tuple(b.projects)
                for b in parse_pabulib(await results.export_pabulib(s, r, CLOSES)).ballots
            )
            for _ in range(5)
        }
    assert len(orders) > 1
    async with app.db.session() as s:
        n = (await s.exec(select(func.count()).where(col(VotingCode.used)))).one()
    assert n == 12
