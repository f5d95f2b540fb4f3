"""Events: "I'm coming" under an announcement, a count for the organiser (hourly at most, no
names), a reminder of their own to those who come, and word to them when it is cancelled."""

from __future__ import annotations

from datetime import timedelta

from bot.app import App
from bot.core.clock import FrozenClock
from bot.ops.admin import grant_coordinator
from tests.announcements.test_announcements import _announce_event, _setup
from tests.support.fake import FakeAdapter, MakeChat

COMING = "people said they will come"


def _counts(chat_texts: list[str]) -> list[str]:
    return [t for t in chat_texts if "said they will come to" in t]


async def test_coming_taking_it_back_and_the_organiser_hears_the_count_hourly(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    coco, group, anna = await _setup(app, make_chat)
    await _announce_event(coco)
    await app.flush_outbox()
    assert "I'm coming" in anna.last().labels
    assert "Ik kom" in [lb for s in group.mine() for lb in s.labels]
    [yes] = await anna.press("I'm coming")
    assert "you are coming to “Plantjesmarkt" in yes.text and "5 December, 14:00" in yes.text
    assert yes.labels == ["Not coming after all"]
    [again] = await anna.press_data(anna.button("I'm coming")[1].data)  # again: a toggle
    assert "no longer coming" in again.text  # (a Matrix reaction taken back presses again)
    [back] = await anna.press("I'm coming")
    assert "you are coming to" in back.text
    # Bob presses in the group; he has no private chat yet: a neutral word, no name.
    bob = make_chat("bob", group="schalkwijk-app", lang="en")
    [noted] = await bob.press("Ik kom")  # the group reads Dutch
    assert "Thank you, noted" in noted.text and "bob" not in noted.text.lower()
    await app.run_jobs_now()
    assert _counts([s.text for s in coco.mine()])[-1].startswith(f"2 {COMING}")
    [no] = await anna.press("Not coming after all")
    assert "no longer coming" in no.text and no.labels == ["I'm coming"]
    await app.run_jobs_now()  # within the hour: the organiser is not told again yet
    assert len(_counts([s.text for s in coco.mine()])) == 1
    clock.advance(timedelta(hours=1))
    await app.run_jobs_now()
    news = _counts([s.text for s in coco.mine()])
    assert len(news) == 2 and news[-1].startswith("1 person said they will come")
    [listed] = await coco.say("/aankondigingen")
    assert "Plantjesmarkt" in listed.text and "1 person is coming" in listed.text
    assert "anna" not in listed.text.lower() and "bob" not in listed.text.lower()


async def test_those_coming_get_their_own_reminder_two_hours_before(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    coco, _group, anna = await _setup(app, make_chat)
    bert = make_chat("bert", lang="en")
    await bert.say("/wijk")
    await bert.press("Schalkwijk")
    await _announce_event(coco, "28-11 14:00")  # the 28th; it is the 26th, 19:00
    await app.flush_outbox()
    await anna.press("I'm coming")
    clock.advance(timedelta(hours=24))  # the 27th 19:00: the general reminder, to everyone
    await app.run_jobs_now()
    for who in (anna, bert):
        assert len([s for s in who.mine() if "A reminder of this event" in s.text]) == 1
    clock.advance(timedelta(hours=17, minutes=5))  # 12:05, less than two hours before
    await app.run_jobs_now()
    [own] = [s for s in anna.mine() if "you said you would come" in s.text]
    assert "28 November, 14:00" in own.text and own.labels == ["Not coming after all"]
    assert not any("you said you would come" in s.text for s in bert.mine())
    await app.run_jobs_now()
    assert len([s for s in anna.mine() if "you said you would come" in s.text]) == 1


async def test_when_the_general_reminder_is_two_hours_before_those_coming_get_one(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    coco, _group, anna = await _setup(app, make_chat)
    await _announce_event(coco, "27-11 12:00")  # tomorrow noon: reminded two hours before
    await app.flush_outbox()
    await anna.press("I'm coming")
    clock.advance(timedelta(hours=15, minutes=5))
    await app.run_jobs_now()
    reminders = [s for s in anna.mine() if "⏰" in s.text]
    assert len(reminders) == 1 and "you said you would come" in reminders[0].text
    assert any("A reminder of this event" in s.text for s in coco.mine())


async def test_cancelling_tells_those_coming_and_nobody_else(
    app: App, make_chat: MakeChat, adapter: FakeAdapter, clock: FrozenClock
) -> None:
    coco, _group, anna = await _setup(app, make_chat)
    bert = make_chat("bert", lang="en")
    await bert.say("/wijk")
    await bert.press("Schalkwijk")
    await _announce_event(coco)
    await app.flush_outbox()
    await anna.press("I'm coming")
    await coco.say("/aankondigingen")
    [ask] = await coco.press("Cancel event 1")
    assert "1 person said they will come; they will be told" in ask.text
    [done] = await coco.press("Yes, cancel it")
    assert "is cancelled" in done.text and "I told 1 person" in done.text
    await app.flush_outbox()
    assert "This event is cancelled" in anna.last().text
    assert not any("cancelled" in s.text for s in bert.mine())
    [late] = await anna.press("Not coming after all")
    assert "is cancelled" in late.text
    [none] = await coco.say("/aankondigingen")
    assert "There are no events to come" in none.text
    clock.advance(timedelta(days=9))
    await app.run_jobs_now()
    assert not any("⏰" in s.text for s in anna.mine())  # no reminder of a cancelled event


async def test_forged_and_past_buttons_are_refused_kindly(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    coco, _group, anna = await _setup(app, make_chat)
    await coco.say("/aankondiging De buurtbus rijdt weer!")  # news without an event
    await coco.press("No photo")
    await coco.press("No event")
    await coco.press("everyone in Schalkwijk")
    await coco.press("Send")
    await _announce_event(coco)
    # Someone from another neighbourhood, and made-up ids, and news without an event.
    eve = make_chat("eve", lang="en")
    await eve.say("/wijk")
    await eve.press("Delftwijk")
    for data in ("ev:yes:2", "ev:yes:99", "ev:yes:1", "ev:maybe:2", "ev:yes:99999999999"):
        [refused] = await eve.press_data(data)
        assert "This button no longer works" in refused.text, data
    [no_event] = await anna.press_data("ev:yes:1")
    assert "This button no longer works" in no_event.text
    [not_yours] = await eve.press_data("evc:2:yes")
    assert "Only a coordinator" in not_yours.text
    await grant_coordinator(app.settings, "fake", "eve", "delftwijk")  # of another place
    [forged] = await eve.press_data("evc:2:yes")
    assert "This button no longer works" in forged.text
    [still] = await coco.say("/aankondigingen")
    assert "Plantjesmarkt" in still.text  # not cancelled
    await app.flush_outbox()
    clock.advance(timedelta(days=10))  # after the market
    [late] = await anna.press("I'm coming")
    assert "has already started" in late.text


async def test_my_data_shows_the_events_and_forget_me_lowers_the_count(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    coco, _group, anna = await _setup(app, make_chat)
    await _announce_event(coco)
    await app.flush_outbox()
    await anna.press("I'm coming")
    mine = "\n".join(s.text for s in await anna.say("/mijngegevens"))
    assert "Events you said you would come to: “Plantjesmarkt" in mine
    [listed] = await coco.say("/aankondigingen")
    assert "1 person is coming" in listed.text
    await anna.say("/vergeetmij")
    [bye] = await anna.press("Yes, erase my data")
    assert "erased" in bye.text
    [listed] = await coco.say("/aankondigingen")
    assert "0 people are coming" in listed.text
