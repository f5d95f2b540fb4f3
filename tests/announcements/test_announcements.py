"""Announcements: text, photo and event to a neighbourhood or theme; a reminder the day before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.ops.admin import grant_coordinator
from storage.models import Announcement, ConversationState
from tests.support.fake import Chat, FakeAdapter, MakeChat


async def _setup(app: App, make_chat: MakeChat) -> tuple[Chat, Chat, Chat]:
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    group: Chat = make_chat("coco", group="schalkwijk-app", lang="en")
    await group.say("/koppel schalkwijk")
    anna: Chat = make_chat("anna", lang="en")
    await anna.say("/wijk")
    await anna.press("Schalkwijk")
    return coco, group, anna


async def _announce_event(coco: Chat, when: str = "05-12 14:00") -> None:
    await coco.say("/aankondiging Plantjesmarkt op het Kennemerplein, neem een tas mee!")
    await coco.photo("market-photo")
    await coco.say(when)
    await coco.say("Kennemerplein")
    [target] = coco.mine()[-1:]
    assert "Who should get this message?" in target.text
    [summary] = await coco.press("everyone in Schalkwijk")
    assert "This goes to everyone in Schalkwijk" in summary.text
    assert "· 📍 Kennemerplein" in summary.text and "with your photo" in summary.text
    await coco.press("Send")


async def test_event_announcement_with_photo_and_reminder(
    app: App, make_chat: MakeChat, adapter: FakeAdapter, clock: FrozenClock
) -> None:
    coco, group, anna = await _setup(app, make_chat)
    await _announce_event(coco)
    assert "Sent to 1 group chat and 2 residents" in coco.mine()[-2].text + coco.text
    await app.flush_outbox()
    news = anna.last()
    assert "🗓 5 December, 14:00" in news.text
    assert news.text.startswith("📣 Plantjesmarkt") and "📍 Kennemerplein" in news.text
    assert news.reply.photo is not None and news.reply.photo.file_id == "market-photo"
    assert any("Plantjesmarkt" in s.text and s.reply.photo for s in group.mine())
    clock.advance(timedelta(days=7))  # 3 December: more than a day before the market
    await app.run_jobs_now()
    assert not any("reminder" in s.text for s in anna.mine())
    clock.advance(timedelta(days=1, hours=1))  # 4 December 19:00, the day before
    await app.run_jobs_now()
    reminders = [s for s in anna.mine() if "A reminder of this event" in s.text]
    assert len(reminders) == 1 and "5 December, 14:00" in reminders[0].text
    await app.run_jobs_now()
    assert len([s for s in anna.mine() if "A reminder of this event" in s.text]) == 1


async def test_an_event_within_a_day_is_reminded_two_hours_before(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    coco, _group, anna = await _setup(app, make_chat)
    await _announce_event(coco, "27-11 12:00")  # tomorrow noon; it is the 26th, 19:00
    await app.run_jobs_now()
    assert not any("A reminder" in s.text for s in anna.mine())
    clock.advance(timedelta(hours=15, minutes=5))  # 10:05, less than two hours before
    await app.run_jobs_now()
    assert len([s for s in anna.mine() if "A reminder" in s.text]) == 1
    async with app.db.session() as s:
        assert (await s.exec(select(Announcement))).one().reminder_sent


async def test_photo_reaches_another_platform_as_bytes(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    other = FakeAdapter(platform="other")
    app.add(other)  # type: ignore[arg-type]
    zoe = Chat(app, other, "zoe", lang="en")
    await zoe.say("/wijk")
    await zoe.press("Schalkwijk")
    coco, _group, _anna = await _setup(app, make_chat)
    await _announce_event(coco)
    await app.flush_outbox()
    news = zoe.last()
    assert news.text.startswith("📣 Plantjesmarkt")
    assert news.reply.photo is None and news.reply.image == await adapter.download("market-photo")


async def test_plain_news_and_bad_input(app: App, make_chat: MakeChat, clock: FrozenClock) -> None:
    coco, _group, anna = await _setup(app, make_chat)
    [refused] = await anna.say("/aankondiging Hallo")
    assert "Only a coordinator" in refused.text
    [ask] = await coco.say("/aankondiging")
    assert "What do you want to tell" in ask.text
    [long] = await coco.say("woord " * 500)
    assert "too long" in long.text
    await coco.say("De buurtbus rijdt weer!")
    [photo_q] = await coco.say("geen foto")
    assert "Please choose" in photo_q.text
    await coco.press("No photo")
    [bad, _again] = await coco.say("morgenavond")
    assert "could not read that date" in bad.text
    [past, _again2] = await coco.say("01-01-2020 10:00")
    assert "already passed" in past.text
    await coco.press("No event")
    await coco.press("followers of Greening")
    [summary] = coco.mine()[-1:]
    assert "followers of Greening in Schalkwijk" in summary.text
    [nobody, *_rest] = await coco.press("Send")  # nobody follows Greening yet
    assert "Nobody would get this yet" in nobody.text
    await coco.press("everyone in Schalkwijk")
    await coco.press("Send")
    await app.flush_outbox()
    assert anna.text == "📣 De buurtbus rijdt weer!"
    async with app.db.session() as s:
        assert len((await s.exec(select(Announcement))).all()) == 1


@pytest.mark.parametrize(
    "damage",
    [{"event_at": "zaterdag"}, {"photo": "market-photo"}, {"text": ""},
     {"place": "p" * 500}, {"neighbourhood_id": None}],
)  # fmt: skip
async def test_a_damaged_announcement_draft_starts_again_kindly(
    app: App,
    make_chat: MakeChat,
    damage: dict[str, object],
) -> None:
    coco, _group, _anna = await _setup(app, make_chat)
    await coco.say("/aankondiging De buurtbus rijdt weer!")
    await coco.press("No photo")
    async with app.db.transaction() as s:
        row = (
            await s.exec(select(ConversationState).where(ConversationState.user_id == "coco"))
        ).one()
        row.data = {**row.data, **damage}
    [lost] = await coco.press("No event")
    assert "lost track" in lost.text
    async with app.db.session() as s:
        assert (await s.exec(select(Announcement))).all() == []
    [ask] = await coco.say("/aankondiging")
    assert "What do you want to tell" in ask.text
