"""Budget rounds meet bad input: every mistake gets a clear, kind reply and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.ops.admin import grant_coordinator
from bot.services.budget.rounds import sweep
from bot.services.budget.text import parse_euros, parse_moment
from storage.models import (
    Ballot,
    BudgetProject,
    BudgetRound,
    ConversationState,
    Neighbourhood,
    SealedBallot,
    VoterRoll,
)
from storage.repo import ballots, budgets, people
from storage.repo.ballots import VoteResult
from tests.budget.test_round_in_chat import create_round, resident
from tests.support.fake import Chat, FakeAdapter, MakeChat

NOW = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "euros", "problem"),
    [
        ("70000", 70000, None), ("70.000", 70000, None), ("€ 70.000,-", 70000, None),
        ("70,000", 70000, None), ("70000,00", 70000, None), ("EUR 1 500", 1500, None),
        ("veel", None, "not_a_number"), ("1e9", None, "not_a_number"), ("", None, "not_a_number"),
        ("-500", None, "negative"), ("0", None, "zero"), ("12,50", None, "cents"),
        ("999999999999", None, "too_large"), ("٣٣", None, "not_a_number"),
    ],
)  # fmt: skip
def test_parse_euros(typed: str, euros: int | None, problem: str | None) -> None:
    amount = parse_euros(typed)
    assert (amount.euros, amount.problem) == (euros, problem)


def test_parse_moment_is_dutch_time() -> None:
    assert parse_moment("1-12-2026 19:00", NOW) == datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    assert parse_moment("1-12 19.30", NOW) == datetime(2026, 12, 1, 18, 30, tzinfo=UTC)
    assert parse_moment("1-7-2027 12:00", NOW) == datetime(2027, 7, 1, 10, 0, tzinfo=UTC)  # summer
    assert parse_moment("overmorgen 9:30", NOW) == datetime(2026, 11, 28, 8, 30, tzinfo=UTC)
    for bad in ("morgenavond", "31-2-2027 10:00", "1-13-2026", "12:00"):
        assert parse_moment(bad, NOW) is None


async def _coordinator(app: App, make_chat: MakeChat) -> Chat:
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    return coco


async def test_round_dialog_refuses_bad_amounts_and_titles(app: App, make_chat: MakeChat) -> None:
    coco = await _coordinator(app, make_chat)
    await coco.say("/budgetronde")
    await coco.press("New budget round")
    [empty] = await coco.say("   ")
    assert "empty message" in empty.text
    [symbols] = await coco.say("!!! ???")
    assert "a few words" in symbols.text
    [long] = await coco.say("Wijk aan Zet " * 20)
    assert "bit long for a title" in long.text
    await coco.say("Wijk aan Zet")
    for typed, words in [
        ("heel veel", "could not read that as an amount"),
        ("-70000", "cannot be negative"),
        ("0", "more than zero"),
        ("70000000000", "too large"),
        ("70.000,50", "whole euros"),
    ]:
        [reply] = await coco.say(typed)
        assert words in reply.text, typed
        assert "Cancel" in reply.labels
    [ok] = await coco.say("70000")
    assert "How do residents vote?" in ok.text
    await coco.press("choose a number of projects")  # approval
    [low] = await coco.say("nul")
    assert "whole number from 1" in low.text
    await coco.say("2")
    [high] = await coco.say("1")  # below the minimum
    assert "whole number from 2" in high.text
    await coco.say("3")
    await coco.press("mes")
    await coco.press("Both")
    async with app.db.session() as s:
        round_ = (await s.exec(select(BudgetRound))).one()
    assert (round_.ballot_type, round_.min_projects, round_.max_projects, round_.counting_rule) == (
        "approval", 2, 3, "mes",
    )  # fmt: skip

    # A project: empty, over-long, costlier than the whole budget.
    await coco.press("Add a project")
    await coco.say("Bankjes")
    [too_long] = await coco.say("x" * 1500)
    assert "too long for a short description" in too_long.text
    await coco.say("Vier bankjes.")
    [over] = await coco.say("80.000")
    assert "more than the whole budget of €70,000" in over.text
    [nan] = await coco.say("twaalf")
    assert "could not read" in nan.text
    await coco.say("12000")

    # Planning: unreadable, in the past, closing before opening.
    await coco.press("Plan voting")
    [bad] = await coco.say("volgende week")
    assert "could not read that as a day and time" in bad.text
    [past] = await coco.say("1-1-2026 10:00")
    assert "already passed" in past.text
    await coco.say("1-12-2026 19:00")
    [before] = await coco.say("30-11-2026 19:00")
    assert "close after it opens" in before.text


async def test_rules_locked_once_voting_opens(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    coco = await _coordinator(app, make_chat)
    await create_round(coco)
    await coco.press("Add a project")
    await coco.say("Bankjes")
    await coco.say("Vier bankjes.")
    await coco.say("12000")
    anna = await resident(make_chat, "anna")
    await anna.say("/wijkbudget")
    await anna.press("Propose a project")
    await coco.press("Change budget")  # a dialog started before voting opens …
    await coco.press("Plan voting")
    await coco.press("Now")
    await coco.say("15-12-2026 20:00")
    opened, *_told = await coco.press("Yes, open voting")  # coco lives there: told as well
    assert "Voting is open now" in opened.text and "locked" in opened.text
    for label in ("Change budget", "Change counting", "Add a project", "Plan voting"):
        [refused] = await coco.press(label)
        assert "locked" in refused.text and "Nothing was changed" in refused.text, label
    async with app.db.transaction() as s:
        round_ = (await s.exec(select(BudgetRound))).one()
        with pytest.raises(budgets.BudgetError):
            await budgets.update_rules(s, round_, budget=1)
    # … and a resident's proposal dialog started before opening cannot add to the ballot.
    await anna.say("Moestuin")
    await anna.say("Een moestuin.")
    await anna.say("5000")
    [late] = await anna.press("Send in")
    assert "is over" in late.text
    async with app.db.session() as s:
        assert len((await s.exec(select(BudgetProject))).all()) == 1


KNAPSACK_PROJECTS = (("Bankjes", "12000"), ("Speeltuin", "45000"), ("Moestuin", "30000"))


async def _open_knapsack_round(
    app: App,
    make_chat: MakeChat,
    clock: FrozenClock,
    voters: str = "Both",
    residents: tuple[str, ...] = ("anna", "bob", "dirk"),
    projects: tuple[tuple[str, str], ...] = KNAPSACK_PROJECTS,
) -> Chat:
    """A round in Schalkwijk, open now; `residents` chose Schalkwijk before it opened."""
    coco = await _coordinator(app, make_chat)
    await create_round(coco, voters=voters)
    for title, cost in projects:
        await coco.press("Add a project")
        await coco.say(title)
        await coco.say(f"Over {title.lower()}.")
        await coco.say(cost)
    for name in residents:  # before voting opens: members may vote
        await resident(make_chat, name)
    clock.advance(timedelta(minutes=1))
    await coco.press("Plan voting")
    await coco.press("Now")
    await coco.say("15-12-2026 20:00")
    await coco.press("Yes, open voting")
    return coco


async def test_voting_mistakes(
    app: App, make_chat: MakeChat, clock: FrozenClock, adapter: FakeAdapter
) -> None:
    await _open_knapsack_round(app, make_chat, clock)
    async with app.db.transaction() as s:
        round_ = (await s.exec(select(BudgetRound))).one()
        codes = await budgets.create_codes(
            s, round_, 2, key=app.ballot_keys.code_key(round_), now=clock.now()
        )
    anna = await resident(make_chat, "anna")
    await anna.say("/stem")
    # Over budget: the basket refuses what does not fit, and says how much is left.
    await anna.press("Add 2 ")
    [no_fit] = await anna.press("Add 3 ")
    assert "does not fit: €25,000 is left" in no_fit.text
    assert "In your basket: €45,000 of €70,000" in no_fit.text
    [typed] = await anna.say("alles")
    assert "use the buttons" in typed.text
    # A stale or forged press cannot sneak an over-budget basket through.
    await anna.press_data("@VoteForm.basket|add:3")
    [empty_check] = await anna.press("Remove 2 ")
    assert "€0 of €70,000" in empty_check.text
    [empty] = await anna.press("Check my vote")
    assert "basket is empty" in empty.text
    async with app.db.session() as s:
        member = await people.person_for_account(s, "fake", "anna")
    assert member is not None
    assert await ballots.vote(
        app.db, round_.id or 0, ["2", "3"], keys=app.ballot_keys, now=clock.now(),
        person_id=member.id,
    ) is (VoteResult.OVER_BUDGET)  # fmt: skip
    await anna.press("Add 1 ")
    await anna.press("Check my vote")
    # Cancel before confirming: nothing counted.
    [stopped] = await anna.press("Cancel")
    assert "Nothing was saved" in stopped.text
    await anna.say("/stem")
    await anna.press("Add 1 ")
    await anna.press("Check my vote")
    await anna.press("Confirm my vote")
    # Double vote: a second basket, confirmed, is not counted.
    [again] = await anna.say("/stem")
    assert "already voted" in again.text

    # Wrong and used codes.
    erik: Chat = make_chat("erik", lang="en")
    await erik.say("/stem")
    [typo] = await erik.say("hallo")
    assert "does not look right" in typo.text
    wrong = budgets.new_code()  # well formed, but not one of this round's
    [unknown] = await erik.say(wrong)
    assert "I don't know this code" in unknown.text
    await erik.say(codes[0])
    await erik.press("Add 3 ")
    await erik.press("Check my vote")
    fien: Chat = make_chat("fien", lang="en")
    await fien.say(f"/stem {codes[0]}")  # the same code, while erik has not confirmed yet
    await fien.press("Add 1 ")
    await fien.press("Check my vote")
    [fien_ok] = await fien.press("Confirm my vote")
    assert "is counted" in fien_ok.text
    [erik_late] = await erik.press("Confirm my vote")
    assert "already been used" in erik_late.text and "Nothing was counted" in erik_late.text

    # A second person in the same direct chat? Not possible; but a member typing a code
    # of a round they already voted in is refused by the code, not counted twice.
    async with app.db.session() as s:
        assert len((await s.exec(select(SealedBallot))).all()) == 2
        assert len((await s.exec(select(VoterRoll))).all()) == 2

    # Vote after closing: a basket left open is refused at confirmation.
    clock.advance(datetime(2026, 12, 15, 18, 59, tzinfo=UTC) - clock.now())
    gijs: Chat = make_chat("gijs", lang="en")
    await gijs.say(f"/stem {codes[1]}")
    await gijs.press("Add 1 ")
    await gijs.press("Check my vote")
    clock.advance(timedelta(minutes=2))
    [closed] = await gijs.press("Confirm my vote")
    assert "has closed" in closed.text
    await app.run_jobs_now()
    [after] = await make_chat("hans", lang="en").say(f"/stem {codes[1]}")
    assert "no neighbourhood budget vote open" in after.text
    [old_button] = await anna.press_data("bvo:1")
    assert "has closed" in old_button.text
    async with app.db.session() as s:  # counted: the sealed ballots were opened
        assert len((await s.exec(select(Ballot))).all()) == 2
        assert len((await s.exec(select(SealedBallot))).all()) == 0


async def test_approval_and_cumulative_baskets(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    await _open_knapsack_round(app, make_chat, clock)
    async with app.db.transaction() as s:
        round_ = (await s.exec(select(BudgetRound))).one()
        round_.ballot_type, round_.points, round_.min_projects = "cumulative", 3, 2
        s.add(round_)
    anna = await resident(make_chat, "anna")
    dirk = await resident(make_chat, "dirk")  # chose the neighbourhood before voting opened
    [start] = await anna.say("/stem")
    assert "Divide 3 points over at least 2 projects" in start.text
    await anna.press("+1 1 ")
    await anna.press("+1 1 ")
    [short] = await anna.press("Check my vote")
    assert "at least 2 projects" in short.text
    await anna.press("+1 2 ")
    [full] = await anna.press("+1 3 ")
    assert "given all 3 points" in full.text and "Points given: 3 of 3" in full.text
    [summary] = await anna.press("Check my vote")
    assert "2 points" in summary.text and "final" in summary.text
    await anna.press("Confirm my vote")
    async with app.db.transaction() as s:
        round_ = (await s.exec(select(BudgetRound))).one()
        sealed = (await s.exec(select(SealedBallot.sealed))).one()
        assert app.ballot_keys.open(round_, sealed) == {"1": 2, "2": 1}
        round_.ballot_type, round_.points, round_.min_projects, round_.max_projects = (
            "approval", None, 1, 2,
        )  # fmt: skip
        s.add(round_)
    bob = await resident(make_chat, "bob")
    await bob.say("/stem")
    await bob.press("Add 1 ")
    await bob.press("Add 2 ")
    [most] = await bob.press("Add 3 ")
    assert "at most 2 projects" in most.text
    await bob.press("Check my vote")
    [ok] = await bob.press("Confirm my vote")
    assert "is counted" in ok.text
    # One project only: said in the singular ("1 project", never "1 projects").
    async with app.db.transaction() as s:
        round_ = (await s.exec(select(BudgetRound))).one()
        round_.max_projects = 1
        s.add(round_)
    [one] = await dirk.say("/stem")
    assert "Choose 1 project." in one.text
    await dirk.press("Add 1 ")
    [only] = await dirk.press("Add 2 ")
    assert "at most 1 project." in only.text and "1 projects" not in only.text


async def test_overdue_rounds_open_and_close_at_once_after_a_restart(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    anna = await resident(make_chat, "anna")
    async with app.db.transaction() as s:
        [hood_id] = (
            await s.exec(select(Neighbourhood.id).where(Neighbourhood.name == "Schalkwijk"))
        ).all()
        round_ = await budgets.create_round(
            s, neighbourhood_id=hood_id, title="Oud", budget=1000, counting_rule="greedy"
        )
        await budgets.add_projects(s, round_, [budgets.ProjectSpec("A", "A", 500)])
        await budgets.schedule_voting(
            s, round_, clock.now() + timedelta(days=1), clock.now() + timedelta(days=2)
        )
    assert await sweep(app.db, clock, app.ballot_keys) == 0
    clock.advance(timedelta(days=3))  # the bot was down for the whole window
    assert await sweep(app.db, clock, app.ballot_keys) == 2  # opened, then closed and published
    assert await sweep(app.db, clock, app.ballot_keys) == 0  # never twice
    async with app.db.session() as s:
        done = (await s.exec(select(BudgetRound))).one()
        assert done.phase == "results" and done.locked and done.result is not None
        assert done.result["voters"] == 0
    # Residents are not invited to a vote that is already over: they get the results only.
    await app.flush_outbox()
    told = [s.text for s in anna.mine()]
    assert any("Oud" in t and "A" in t for t in told)
    assert not any("Voting has started" in t for t in told)


async def test_guessing_codes_is_limited(app: App, make_chat: MakeChat, clock: FrozenClock) -> None:
    await _open_knapsack_round(app, make_chat, clock)
    async with app.db.transaction() as s:
        round_ = (await s.exec(select(BudgetRound))).one()
        [code] = await budgets.create_codes(
            s, round_, 1, key=app.ballot_keys.code_key(round_), now=clock.now()
        )
    erik: Chat = make_chat("erik", lang="en")
    await erik.say("/stem")
    for _ in range(4):
        [unknown] = await erik.say(budgets.new_code())
        assert "I don't know this code" in unknown.text
    await erik.say("/stop")  # stopping does not reset the count
    [fifth] = await erik.say(f"/stem {budgets.new_code()}")
    assert "I don't know this code" in fifth.text
    # Even the right code waits now: a guesser can't tell a hit from a miss.
    [wait] = await erik.say(code)
    assert "too many wrong codes" in wait.text and "wait 15 minutes" in wait.text
    [mine] = await erik.say("/mijngegevens")  # what is kept, and for how long
    assert "You typed 5 unknown voting codes in the last 15 minutes" in mine.text
    clock.advance(timedelta(minutes=10))
    [still] = await erik.say(f"/stem {code}")
    assert "wait 5 minutes" in still.text
    clock.advance(timedelta(minutes=5, seconds=1))
    [nothing] = await erik.say("/mijngegevens")
    assert "We store nothing about you" in nothing.text
    async with app.db.session() as s:  # the row that held the times is gone, too
        rows = (await s.exec(select(ConversationState))).all()
        assert not [r for r in rows if r.user_id == "erik"]
    [basket] = await erik.say(f"/stem {code}")
    assert "In your basket: €0 of €70,000" in basket.text
    nl: Chat = make_chat("fien", lang="nl")  # in Dutch too; the count is per person
    await nl.say("/stem")
    for _ in range(5):
        await nl.say(budgets.new_code())
    [wacht] = await nl.say(code)
    assert "te veel verkeerde codes" in wacht.text and "wacht 15 minuten" in wacht.text


@pytest.mark.parametrize(
    "damage",
    [{"budget": "veel"}, {"min_projects": "twee"}, {"max_projects": "drie"}, {"points": 0},
     {"ballot_type": "loterij"}, {"neighbourhood_id": "Schalkwijk"}, {"title": None},
     {"counting_rule": 7}, {"round_id": "W-1", "edit": "voters"}],
)  # fmt: skip
async def test_a_damaged_round_draft_starts_again_kindly(
    app: App, make_chat: MakeChat, damage: dict[str, object]
) -> None:
    """A round draft from an old version or a tampered database copy makes no round with
    guessed rules: the coordinator is told, the round they had stays, and a new start works."""
    coco = await _coordinator(app, make_chat)
    await create_round(coco)
    await coco.say("/budgetronde")
    await coco.press("New budget round")
    await coco.say("Wijk aan Zet")
    await coco.say("70000")
    await coco.press("choose a number of projects")
    await coco.say("2")
    await coco.say("3")
    await coco.press("mes")
    async with app.db.transaction() as s:
        row = (
            await s.exec(select(ConversationState).where(ConversationState.user_id == "coco"))
        ).one()
        row.data = {**row.data, **damage}
    [lost] = await coco.press("Both")
    assert "lost track" in lost.text and "/budgetronde" in lost.text
    async with app.db.session() as s:
        [kept] = (await s.exec(select(BudgetRound))).all()
    assert kept.title == "Schalkwijk aan Zet 2027" and kept.budget == 70000
    await coco.say("/budgetronde")
    [ask] = await coco.press("New budget round")
    assert "title of the round" in ask.text
