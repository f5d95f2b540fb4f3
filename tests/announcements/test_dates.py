"""Moments typed as words ("morgen 10:00"), kindly refused in the past, reminded in time."""

from __future__ import annotations

from datetime import timedelta

from bot.app import App
from bot.core.clock import FrozenClock
from tests.announcements.test_announcements import _setup
from tests.support.fake import Chat, MakeChat


async def _announce(coco: Chat, typed: str) -> list[str]:
    await coco.say("/aankondiging Koffie in het buurthuis")
    await coco.press("No photo")
    return [s.text for s in await coco.say(typed)]


async def test_a_time_earlier_today_is_refused_kindly(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    coco, _group, _anna = await _setup(app, make_chat)
    past, _again = await _announce(coco, "vandaag 9:00")  # it is Thursday 19:00
    assert "already passed" in past and "26 November, 19:00" in past
    [where] = await coco.say("morgen 10:00")
    assert "Where is it?" in where.text
    await coco.press("Skip")
    await coco.press("everyone in Schalkwijk")
    assert "27 November, 10:00" in coco.mine()[-1].text


async def test_an_event_tomorrow_is_reminded_two_hours_before(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    coco, _group, anna = await _setup(app, make_chat)
    await _announce(coco, "morgen 10:00")
    await coco.press("Skip")
    await coco.press("everyone in Schalkwijk")
    await coco.press("Send")
    await app.flush_outbox()
    assert "27 November, 10:00" in anna.text
    await app.run_jobs_now()
    assert not any("A reminder" in s.text for s in anna.mine())
    clock.advance(timedelta(hours=12, minutes=50))  # Friday 07:50
    await app.run_jobs_now()
    assert not any("A reminder" in s.text for s in anna.mine())
    clock.advance(timedelta(minutes=15))  # 08:05, less than two hours before
    await app.run_jobs_now()
    await app.run_jobs_now()
    reminders = [s for s in anna.mine() if "A reminder of this event" in s.text]
    assert len(reminders) == 1 and "27 November, 10:00" in reminders[0].text


async def test_an_event_within_two_hours_gets_no_reminder(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    coco, _group, anna = await _setup(app, make_chat)
    await _announce(coco, "today 20:30")
    await coco.press("Skip")
    await coco.press("everyone in Schalkwijk")
    await coco.press("Send")
    await app.run_jobs_now()
    await app.flush_outbox()
    assert "26 November, 20:30" in anna.text
    assert not any("A reminder" in s.text for s in anna.mine())


async def test_dutch_day_words_in_a_dutch_conversation(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    await _setup(app, make_chat)
    coco: Chat = make_chat("coco")
    await coco.say("/taal nl")
    await coco.say("/aankondiging Rommelmarkt")
    await coco.press("Geen foto")
    [past, _again] = await coco.say("vandaag 9:00")
    assert "al voorbij" in past.text
    [where] = await coco.say("zaterdag 14:00")
    assert "Waar" in where.text
