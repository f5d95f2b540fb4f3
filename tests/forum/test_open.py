"""A coordinator opens a forum in chat: wrong seats, dates and quotas are answered kindly
and open nothing; residents cannot open one."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.ops.admin import grant_coordinator
from storage.forum_models import Forum
from storage.models import ConversationState
from tests.support.fake import Chat, MakeChat


async def _forums(app: App) -> list[Forum]:
    async with app.db.session() as s:
        return list((await s.exec(select(Forum))).all())


async def open_in_chat(app: App, make_chat: MakeChat) -> tuple[Chat, int]:
    """Coco opens "Een groener plein": 12 seats, parts Noord and Zuid, quotas as in QUOTAS."""
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    await coco.say("/newforum")
    await coco.say("Een groener plein")
    await coco.press("12")
    await coco.press("In 14 days")
    await coco.press("In 90 days")
    await coco.say("Noord, Zuid")
    [quotas] = await coco.press("Done")
    assert (
        "age: 15–24 years 1–5" in quotas.text
        and "part of the neighbourhood: Noord 3–9" in quotas.text
    )
    for band in ("15-24", "25-44", "45-64", "65+"):
        await coco.say(f"{band} 2-4")
    await coco.say("Noord 5-7")
    [shown] = await coco.say("zuid 5-7")
    assert "Noord 5–7, Zuid 5–7" in shown.text and "65 or older 2–4" in shown.text
    [opened] = await coco.press("Open the forum")
    assert "wijkbot forum draw" in opened.text
    [forum] = await _forums(app)
    assert forum.id is not None
    return coco, forum.id


async def test_a_resident_cannot_open_a_forum_and_bad_answers_open_nothing(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    anna: Chat = make_chat("anna", lang="en")
    await anna.say("/taal en")
    [refused] = await anna.say("/newforum")
    assert "Only a coordinator" in refused.text
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    await coco.say("/newforum")
    await coco.say("Een groener plein")
    [few] = await coco.say("2")
    assert "from 4 to 200" in few.text
    await coco.say("12")
    [past] = await coco.say("1-1-2020")
    assert "already passed" in past.text
    await coco.press("In 14 days")
    [early] = await coco.press("In 90 days")
    await coco.say("Noord")
    assert "2 to 8 parts" in coco.text
    await coco.say("Noord، Zuid")  # the Arabic comma, as an Arabic keyboard types it
    await coco.press("Done")
    [unread] = await coco.say("jong 3")
    assert "I could not read that" in unread.text
    await coco.say("65+ 10-12")  # with the other age bands at least 1 each: 13 > 12 seats
    [problem] = await coco.press("Open the forum")
    assert "the minimums add up to 13" in problem.text and "12 seats" in problem.text
    assert await _forums(app) == []
    await coco.say("65+ 2-4")
    await coco.press("Open the forum")
    assert len(await _forums(app)) == 1
    assert "Which parts of the neighbourhood" in early.text  # the end date was accepted


async def test_dates_years_ahead_are_refused_kindly(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    """Balancing answers are kept until the forum ends: not for decades."""
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    await coco.say("/newforum")
    await coco.say("Een groener plein")
    await coco.press("12")
    later = clock.now().year + 5
    [far] = await coco.say(f"1-6-{later}")
    assert "more than a year from now" in far.text
    await coco.press("In 14 days")
    [too_late] = await coco.say(f"1-6-{later}")
    assert "more than two years after the pool closes" in too_late.text
    [asked] = await coco.press("In 180 days")
    assert "Which parts of the neighbourhood" in asked.text


GONE = "<gone>"  # a key missing from the draft


@pytest.mark.parametrize(
    "damage",
    [{"seats": "twaalf"}, {"seats": 2}, {"pool_closes": "morgen"}, {"ends": GONE},
     {"neighbourhood": None}, {"purpose": ""}, {"quotas": {"age": {"65+": "2-4"}}},
     {"areas": "Noord, Zuid"}, {"extras": ["eye colour"]}, {"ends": "2099-01-01T00:00:00Z"}],
)  # fmt: skip
async def test_a_damaged_forum_draft_starts_again_kindly(
    app: App, make_chat: MakeChat, damage: dict[str, object]
) -> None:
    """A forum draft from an old version or a tampered database copy opens nothing and does
    not fail half-way: the coordinator is told, the forum they had stays, and /nieuwwijkforum
    works again."""
    coco, first = await open_in_chat(app, make_chat)
    await coco.say("/newforum")
    await coco.say("Nog een plein")
    await coco.press("12")
    await coco.press("In 14 days")
    await coco.press("In 90 days")
    await coco.say("Noord, Zuid")
    await coco.press("Done")
    async with app.db.transaction() as s:
        row = (
            await s.exec(select(ConversationState).where(ConversationState.user_id == "coco"))
        ).one()
        row.data = {k: v for k, v in {**row.data, **damage}.items() if v != GONE}
    [lost] = await coco.press("Open the forum")
    assert "lost track" in lost.text and "/nieuwwijkforum" in lost.text
    assert [f.id for f in await _forums(app)] == [first]
    [again] = await coco.say("/newforum")
    assert "Type its purpose" in again.text


async def test_cancel_in_the_middle_opens_nothing(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    await coco.say("/newforum")
    await coco.say("Een groener plein")
    await coco.press("12")
    [stopped] = await coco.press("Cancel")
    assert "Nothing was saved" in stopped.text
    assert await _forums(app) == []
    [again] = await coco.say("/newforum")
    assert "Type its purpose" in again.text
