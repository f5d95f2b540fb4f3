"""One eligible person, one vote: who may vote is the round's rule, not what /wijk says.

A round declares its voters: codes from letters (binding), members who chose the
neighbourhood before voting opened (informal, and the ballot and results say so), or both.
Each attack below worked before: picking a neighbourhood with /wijk to vote there, voting
with a code and then again as a member, voting in a second neighbourhood after switching.
"""

from __future__ import annotations

import asyncio

from sqlmodel import select

from bot.app import App
from bot.core.clock import FrozenClock
from storage.models import BudgetRound, SealedBallot
from storage.repo import ballots, budgets, people
from storage.repo.ballots import VoteResult
from tests.budget.test_bad_input import _open_knapsack_round
from tests.budget.test_round_in_chat import resident
from tests.support.fake import Chat, MakeChat


async def _open_round(
    app: App,
    make_chat: MakeChat,
    clock: FrozenClock,
    voters: str,
    residents: tuple[str, ...] = ("anna",),
) -> Chat:
    """A round in Schalkwijk with two projects; `residents` chose Schalkwijk before it opened."""
    projects = (("Bankjes", "12000"), ("Moestuin", "30000"))
    return await _open_knapsack_round(app, make_chat, clock, voters, residents, projects)


async def _codes(app: App, count: int) -> list[str]:
    async with app.db.transaction() as s:
        round_ = (await s.exec(select(BudgetRound))).one()
        return await budgets.create_codes(
            s, round_, count, key=app.ballot_keys.code_key(round_), now=round_.created_at
        )


async def _confirm(chat: Chat) -> str:
    await chat.press("Add 1 ")
    await chat.press("Check my vote")
    [receipt] = await chat.press("Confirm my vote")
    return receipt.text


async def _sealed(app: App) -> int:
    async with app.db.session() as s:
        return len((await s.exec(select(SealedBallot))).all())


async def test_switching_neighbourhood_during_voting_grants_no_vote(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    await _open_round(app, make_chat, clock, "Members (informal)")
    # Piet lives in Delftwijk; voting in Schalkwijk is open; he switches to Schalkwijk.
    piet = await resident(make_chat, "piet", hood="Delftwijk")
    [outsider] = await piet.say("/stem")
    assert "Only residents of the neighbourhood can vote" in outsider.text
    await piet.say("/wijk")
    await piet.press("Schalkwijk")
    [late] = await piet.say("/stem")
    assert "after voting opened" in late.text and "cannot vote" in late.text
    assert "Add 1 " not in " ".join(late.labels)
    # Anna chose Schalkwijk before it opened: she votes, and the ballot says it is informal.
    anna = await resident(make_chat, "anna")
    [ballot] = await anna.say("/stem")
    assert "informal vote" in ballot.text
    assert "is counted" in await _confirm(anna)
    # Switching away and back does not give Anna a second vote either.
    await anna.say("/wijk")
    await anna.press("Delftwijk")
    await anna.say("/wijk")
    await anna.press("Schalkwijk")
    [again] = await anna.say("/stem")
    assert "is counted" not in again.text and "Add 1 " not in " ".join(again.labels)
    assert await _sealed(app) == 1


async def test_a_codes_round_gives_members_no_vote_without_a_code(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    await _open_round(app, make_chat, clock, "Codes from letters")
    [code] = await _codes(app, 1)
    anna = await resident(make_chat, "anna")
    [ask] = await anna.say("/stem")
    assert "voting code" in ask.text and "without a code" not in ask.text
    await anna.say(code)
    assert "is counted" in await _confirm(anna)
    async with app.db.session() as s:
        round_ = (await s.exec(select(BudgetRound))).one()
        person = await people.person_for_account(s, "fake", "anna")
        assert person is not None and person.id is not None
    # The storage refuses a member vote in a codes round, whatever a handler does.
    result = await ballots.vote(
        app.db,
        round_.id or 0,
        ["1"],
        keys=app.ballot_keys,
        now=round_.opens_at or round_.created_at,
        person_id=person.id,
    )
    assert result is VoteResult.ALREADY_VOTED
    assert await _sealed(app) == 1


async def test_a_members_round_takes_no_codes(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    await _open_round(app, make_chat, clock, "Members (informal)")
    [code] = await _codes(app, 1)  # made by mistake: still they do not vote here
    stranger: Chat = make_chat("stranger", lang="en")
    [told] = await stranger.say(f"/stem {code}")
    assert "I don't know this code" in told.text
    assert await _sealed(app) == 0


async def test_an_unknown_account_votes_once_by_code_or_as_member(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    await _open_round(app, make_chat, clock, "Both")
    codes = await _codes(app, 2)
    # An account the bot does not know votes with a letter code…
    eve: Chat = make_chat("eve", lang="en")
    await eve.say(f"/stem {codes[0]}")
    assert "is counted" in await _confirm(eve)
    # … then picks the neighbourhood and tries again as a member, and with a second code.
    await eve.say("/wijk")
    await eve.press("Schalkwijk")
    [as_member] = await eve.say("/stem")
    assert "Add 1 " not in " ".join(as_member.labels)
    [second] = await eve.say(codes[1])
    assert "already voted" in second.text
    assert await _sealed(app) == 1
    # The second code is still unused: its letter's owner can vote with it.
    fay: Chat = make_chat("fay", lang="en")
    await fay.say(f"/stem {codes[1]}")
    assert "is counted" in await _confirm(fay)
    assert await _sealed(app) == 2


async def test_code_and_member_votes_at_once_count_once(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    await _open_round(app, make_chat, clock, "Both")
    codes = await _codes(app, 10)
    async with app.db.session() as s:
        round_ = (await s.exec(select(BudgetRound))).one()
        person = await people.person_for_account(s, "fake", "anna")
        assert person is not None and person.id is not None
    now = round_.opens_at or round_.created_at
    attempts = [
        ballots.vote(app.db, round_.id or 0, ["1"], keys=app.ballot_keys, now=now,
                     person_id=person.id, code=code)
        for code in codes
    ] + [
        ballots.vote(app.db, round_.id or 0, ["2"], keys=app.ballot_keys, now=now,
                     person_id=person.id)
        for _ in range(10)
    ]  # fmt: skip
    results = await asyncio.gather(*attempts)
    assert results.count(VoteResult.OK) == 1
    assert await _sealed(app) == 1
    async with app.db.session() as s:
        assert await budgets.turnout(s, round_.id or 0) == 1


async def test_results_say_who_could_vote(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    await _open_round(app, make_chat, clock, "Members (informal)", residents=("anna", "bob"))
    anna = await resident(make_chat, "anna")
    await anna.say("/stem")
    await _confirm(anna)
    clock.advance(clock.now().replace(month=12, day=15, hour=19, minute=1) - clock.now())
    await app.run_jobs_now()
    await app.flush_outbox()
    [result] = [s for s in make_chat("bob", lang="en").mine() if "Results of" in s.text]
    assert "Who could vote" in result.text and "informal" in result.text
