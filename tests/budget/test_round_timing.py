"""A coordinator opens, closes and extends voting, with a confirmation where it locks.

Opening voting locks the rules for good, so the bot says so and asks first. Closing now
counts and publishes at once (the same path as the scheduled close). Extending moves the
closing time later, never into the past, and the neighbourhood hears the new time.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.app import App
from bot.core.clock import FrozenClock
from storage.models import BudgetRound
from tests.budget.test_bad_input import _coordinator
from tests.budget.test_round_in_chat import create_round, resident
from tests.support.fake import Chat, FakeAdapter, MakeChat


async def _round_with_project(app: App, make_chat: MakeChat) -> Chat:
    coco = await _coordinator(app, make_chat)
    await create_round(coco)
    await coco.press("Add a project")
    await coco.say("Bankjes")
    await coco.say("Vier bankjes.")
    await coco.say("12000")
    return coco


async def _round(app: App) -> BudgetRound:
    async with app.db.session() as s:
        return (await s.exec(select(BudgetRound))).one()


async def test_opening_asks_first_and_cancel_locks_nothing(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    coco = await _round_with_project(app, make_chat)
    await coco.press("Plan voting")
    await coco.press("Now")
    [confirm] = await coco.say("15-12-2026 20:00")
    assert "locked" in confirm.text and "cannot change" in confirm.text
    assert "15 December" in confirm.text
    await coco.press("Cancel")
    round_ = await _round(app)
    assert round_.phase == "proposals" and not round_.locked and round_.opens_at is None
    # Still editable: the budget can be changed.
    await coco.say("/budgetronde")
    await coco.press("W-1")
    [ask] = await coco.press("Change budget")
    assert "new total budget" in ask.text

    # A planned opening asks too; confirming plans it (not open yet).
    await coco.press("Cancel")
    await coco.say("/budgetronde")
    await coco.press("W-1")
    await coco.press("Plan voting")
    await coco.say("1-12-2026 19:00")
    [confirm] = await coco.say("15-12-2026 20:00")
    assert "1 December" in confirm.text and "locked" in confirm.text
    [planned] = await coco.press("Yes, plan voting")
    assert "1 December" in planned.text and "15 December" in planned.text
    round_ = await _round(app)
    assert round_.phase == "proposals" and round_.opens_at is not None


async def test_close_now_asks_then_counts_and_publishes(
    app: App, make_chat: MakeChat, clock: FrozenClock, adapter: FakeAdapter
) -> None:
    coco = await _round_with_project(app, make_chat)
    anna = await resident(make_chat, "anna")
    clock.advance(timedelta(minutes=1))
    await coco.press("Plan voting")
    await coco.press("Now")
    await coco.say("15-12-2026 20:00")
    [opened, *_told] = await coco.press("Yes, open voting")
    assert "Voting is open now" in opened.text
    await anna.say("/stem")
    await anna.press("Add 1 ")
    await anna.press("Check my vote")
    await anna.press("Confirm my vote")

    await coco.say("/budgetronde")
    [view] = await coco.press("W-1")
    assert "Close voting now" in view.labels
    [ask] = await coco.press("Close voting now")
    assert "cannot be undone" in ask.text and "published" in ask.text
    [kept] = await coco.press("No, keep it open")  # the bad case: nothing closes
    assert "still open" in kept.text
    assert (await _round(app)).phase == "voting"

    await coco.say("/budgetronde")
    await coco.press("W-1")
    await coco.press("Close voting now")
    [closed, *_] = await coco.press("Yes, close voting now")
    assert "closed" in closed.text and "published" in closed.text
    round_ = await _round(app)
    assert round_.phase == "results" and round_.result is not None
    assert round_.result["voters"] == 1
    await app.flush_outbox()
    assert [s for s in adapter.in_chat("dm:anna") if "Results of" in s.text]
    [late] = await anna.say("/stem")
    assert "no neighbourhood budget vote open" in late.text


async def test_extend_refuses_the_past_and_tells_the_neighbourhood(
    app: App, make_chat: MakeChat, clock: FrozenClock, adapter: FakeAdapter
) -> None:
    coco = await _round_with_project(app, make_chat)
    await resident(make_chat, "anna")
    clock.advance(timedelta(minutes=1))
    await coco.press("Plan voting")
    await coco.press("Now")
    await coco.say("15-12-2026 20:00")
    await coco.press("Yes, open voting")
    await coco.say("/budgetronde")
    await coco.press("W-1")
    [ask] = await coco.press("Change closing time")
    assert "15 December" in ask.text
    [past] = await coco.say("1-11-2026 10:00")
    assert "already passed" in past.text
    [earlier] = await coco.say("10-12-2026 20:00")
    assert "later than" in earlier.text
    before = (await _round(app)).closes_at
    [done, *_] = await coco.say("20-12-2026 20:00")
    assert "20 December" in done.text and "told" in done.text
    after = (await _round(app)).closes_at
    assert before is not None and after is not None and after - before == timedelta(days=5)
    await app.flush_outbox()
    [told] = [s for s in adapter.in_chat("dm:anna") if "longer" in s.text]
    assert "20 December" in told.text and "/vote" in told.text


async def _second_open_round(coco: Chat) -> None:
    await coco.say("/budgetronde")
    await coco.press("New budget round")
    await coco.say("Speelplekken 2027")
    await coco.say("20000")
    await coco.press("a basket")
    await coco.press("greedy")
    await coco.press("Both")
    await coco.press("Add a project")
    await coco.say("Schommel")
    await coco.say("Een schommel.")
    await coco.say("5000")
    await coco.press("Plan voting")
    await coco.press("Now")
    await coco.say("15-12-2026 20:00")
    await coco.press("Yes, open voting")


async def test_two_open_rounds_stem_asks_which(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    coco = await _round_with_project(app, make_chat)
    anna = await resident(make_chat, "anna")
    clock.advance(timedelta(minutes=1))
    await coco.press("Plan voting")
    await coco.press("Now")
    await coco.say("15-12-2026 20:00")
    await coco.press("Yes, open voting")
    await _second_open_round(coco)

    [which] = await anna.say("/stem")  # not silently the first round
    assert "Which vote" in which.text
    assert which.labels[:2] == ["Schalkwijk aan Zet 2027", "Speelplekken 2027"]
    [basket] = await anna.press("Speelplekken 2027")
    assert "Vote in “Speelplekken 2027”" in basket.text and "Schommel" in basket.text
    await anna.press("Add 1 ")
    await anna.press("Check my vote")
    await anna.press("Confirm my vote")
    # One vote left to cast: straight to that ballot.
    [next_one] = await anna.say("/stem")
    assert "Vote in “Schalkwijk aan Zet 2027”" in next_one.text and "Bankjes" in next_one.text
