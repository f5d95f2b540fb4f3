"""Per-person limits an hour on ideas, budget proposals and poll votes: a kind answer that
says from when, nothing typed is lost, and the count holds across restarts and accounts."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, func, select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.ops.admin import grant_coordinator
from storage.models import Account, BudgetProject, CountedAction, Idea, PollVote
from storage.repo import people
from tests.support.fake import Chat, FakeAdapter, MakeChat


async def _resident(make_chat: MakeChat, name: str) -> Chat:
    chat: Chat = make_chat(name, lang="en")
    await chat.say("/wijk")
    await chat.press("Schalkwijk")
    return chat


async def _count(app: App, model: type[Idea] | type[BudgetProject]) -> int:
    async with app.db.session() as s:
        return int((await s.exec(select(func.count()).select_from(model))).one())


async def _second_account(app: App, user: str, other: str) -> None:
    """The same person on another platform account (as if linked)."""
    async with app.db.transaction() as s:
        person = await people.person_for_account(s, "fake", user)
        assert person is not None
        s.add(Account(person_id=person.id or 0, platform="fake", platform_user_id=other))


async def test_ten_ideas_an_hour_and_the_eleventh_is_kept(
    app: App, make_chat: MakeChat, adapter: FakeAdapter, clock: FrozenClock
) -> None:
    anna = await _resident(make_chat, "anna")
    for i in range(10):
        await anna.say(f"/idee Idee nummer {i}")
        [posted] = await anna.press("Post")
        assert f"I-{i + 1}" in posted.text
    clock.advance(timedelta(minutes=20))
    await anna.say("/idee Een moestuin achter de school")
    [held] = await anna.press("Post")
    assert "10 ideas in the past hour" in held.text and "kept" in held.text
    assert "from 26 November, 20:00" in held.text and "Post" in held.labels
    bare, *offer = await anna.say("/ideeen")  # looking is never limited
    assert "I-10" in bare.text
    # The kept idea is put aside while looking, and offered again after.
    assert offer and "Continue" in offer[-1].labels

    # After a restart the count still holds: it is read from the stored ideas.
    restarted = App(app.settings, clock=clock)
    restarted.add(adapter)  # type: ignore[arg-type]
    try:
        again = Chat(restarted, adapter, "anna", lang="en")
        [ask] = await again.say("/idee")  # the kept idea is still there: stop it first?
        assert "Stop it?" in ask.text
        [fresh] = await again.press("Stop, and go to /idee")
        assert "You can share a new idea from 26 November, 20:00" in fresh.text
        await again.say("/idee Een moestuin achter de school")
        [still] = await again.press("Post")
        assert "kept" in still.text
        clock.advance(timedelta(minutes=41))
        [posted] = await again.press("Post")
        assert "I-11" in posted.text
    finally:
        await restarted.db.dispose()
    async with app.db.session() as s:
        newest = (await s.exec(select(Idea).where(col(Idea.id) == 11))).one()
        assert newest.title == "Een moestuin achter de school"


async def test_coordinators_may_enter_many_reports_and_ideas(app: App, make_chat: MakeChat) -> None:
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco = await _resident(make_chat, "coco")
    await coco.say("/taal en")
    for i in range(12):  # what residents said at a meeting, entered afterwards
        await coco.say(f"/idee Uit de bewonersavond {i}")
        [posted] = await coco.press("Post")
        assert "Your idea has number" in posted.text
    for i in range(12):  # a neighbourhood walk
        [asked] = await coco.say("/melding")
        assert "What is wrong" in asked.text, i
        await coco.say(f"Schouw: kapotte lamp {i}")
        await coco.say(f"Lampenlaan {i}")
        await coco.press("Skip")
        [done] = await coco.press("Street lighting")
        if "reported this already" in done.text:
            [done] = await coco.press("No, this is something else")
        assert "Your report has number" in done.text
    assert await _count(app, Idea) == 12


async def _round_in_proposals(app: App, make_chat: MakeChat) -> None:
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    await coco.say("/budgetronde")
    await coco.press("New budget round")
    await coco.say("Schalkwijk aan Zet 2027")
    await coco.say("€ 70.000")
    await coco.press("a basket")
    await coco.press("greedy")
    await coco.press("Both")


async def _propose_until_confirm(chat: Chat, title: str) -> str:
    await chat.say("/wijkbudget")
    [asked] = await chat.press("Propose a project")
    if "short title" not in asked.text:
        return asked.text
    await chat.say(title)
    await chat.say("Wat, waar en voor wie: " + title)
    [confirm] = await chat.say("5000")
    assert "Shall I send it in?" in confirm.text
    return confirm.text


async def test_five_proposals_an_hour_across_accounts(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    await _round_in_proposals(app, make_chat)
    anna = await _resident(make_chat, "anna")
    for i in range(4):
        await _propose_until_confirm(anna, f"Project {i}")
        [done] = await anna.press("Send in")
        assert "Your proposal has number" in done.text
    await _propose_until_confirm(anna, "Speeltuin")  # the fifth, not yet sent in …
    await _second_account(app, "anna", "anna-elders")
    elsewhere: Chat = make_chat("anna-elders", lang="en")
    await _propose_until_confirm(elsewhere, "Bankjes")  # … when another account sends one
    [fifth] = await elsewhere.press("Send in")
    assert "Your proposal has number" in fifth.text
    [held] = await anna.press("Send in")
    assert "5 proposals in the past hour" in held.text and "kept" in held.text
    assert "Send in" in held.labels
    refused = await _propose_until_confirm(elsewhere, "Nog een")
    assert "You can propose a new project from 26 November, 20:00" in refused
    assert await _count(app, BudgetProject) == 5
    clock.advance(timedelta(hours=1))
    [sent] = await anna.press("Send in")
    assert "Your proposal has number" in sent.text
    async with app.db.session() as s:
        titles = (await s.exec(select(BudgetProject.title).order_by(col(BudgetProject.id)))).all()
        assert titles[-1] == "Speeltuin"


async def test_thirty_vote_changes_an_hour(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    anna = await _resident(make_chat, "anna")
    await coco.say("/peiling Meer bankjes? | Ja | Nee")
    await coco.press("Send")
    await app.flush_outbox()
    for i in range(30):
        [voted] = await anna.press("Ja" if i % 2 == 0 else "Nee")
        assert "Your vote" in voted.text
    [same] = await anna.press("Nee")  # no change: it does not count, and is no trouble
    [stopped] = await anna.press("Ja")
    assert "30 times in the past hour" in stopped.text
    assert "Your vote stays as it was" in stopped.text and "20:00" in stopped.text
    async with app.db.session() as s:
        assert (await s.exec(select(PollVote.option))).all() == [1]  # still "Nee"
    clock.advance(timedelta(hours=1))
    [changed] = await anna.press("Ja")
    assert "Your vote" in changed.text and "Ja" in changed.text
    assert "Your vote" in same.text
    clock.advance(timedelta(days=1, minutes=1))
    await app.run_jobs_now()  # what no longer counts is forgotten
    async with app.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(CountedAction))).one() == 0


async def test_what_counts_is_shown_and_erased_with_the_person(
    app: App, make_chat: MakeChat
) -> None:
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    anna = await _resident(make_chat, "anna")
    await coco.say("/peiling Meer bankjes? | Ja | Nee")
    await coco.press("Send")
    await app.flush_outbox()
    await anna.press("Ja")
    await anna.press("Nee")
    [mine] = await anna.say("/mijngegevens")
    assert "The times of 2 vote changes and proposals, for the hourly limits." in mine.text
    await anna.say("/vergeetmij")
    await anna.press("Yes, erase my data")
    async with app.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(CountedAction))).one() == 0
