"""One person floods the bot with reports: they are stopped kindly, and no real report gets
lost behind the junk in the coordinator's list."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, func, select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.ops.admin import grant_coordinator
from storage.models import Signal
from tests.support.fake import Chat, MakeChat


async def _resident(make_chat: MakeChat, name: str) -> Chat:
    chat: Chat = make_chat(name, lang="en")
    await chat.say("/wijk")
    await chat.press("Schalkwijk")
    return chat


async def _finish_report(chat: Chat, text: str, place: str) -> str:
    """Type the report after /melding; the last reply (its number, or why not)."""
    await chat.say(text)
    await chat.say(place)
    await chat.press("Skip")
    [last] = await chat.press("Something else")
    if "reported this already" in last.text:
        [last] = await chat.press("No, this is something else")
    return last.text


async def _reports_of(app: App) -> int:
    async with app.db.session() as s:
        return int((await s.exec(select(func.count()).select_from(Signal))).one())


async def test_two_hundred_reports_from_one_person(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    anna = await _resident(make_chat, "anna")
    await anna.say("/melding")
    assert "M-1001" in await _finish_report(anna, "Lantaarnpaal brandt niet", "Kennemerplein 5")

    troll = await _resident(make_chat, "troll")
    refused: list[str] = []
    for attempt in range(200):
        if attempt in (70, 140):
            clock.advance(timedelta(hours=1))  # a new hour: ten more may come in
        [first] = await troll.say("/melding")
        if "What is wrong" not in first.text:
            refused.append(first.text)
            continue
        done = await _finish_report(troll, f"Rommel nummer {attempt}", f"Nergensstraat {attempt}")
        assert "Your report has number" in done
    assert len(refused) == 170 and await _reports_of(app) == 31
    # In the troll's language, saying when they can try again (the hour after the tenth).
    assert "10 reports in the past hour" in refused[0]
    assert "from 26 November, 20:00" in refused[0] and "/report" in refused[0]
    await troll.say("/taal nl")
    [dutch] = await troll.say("/melding")
    assert (
        "het afgelopen uur 10 meldingen" in dutch.text and "Vanaf 26 november, 22:00" in dutch.text
    )
    await troll.say("/taal en")

    bob = await _resident(make_chat, "bob")
    await bob.say("/melding")
    assert "M-1032" in await _finish_report(bob, "Boom omgewaaid", "Reinaldapark")

    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    [first_page] = await coco.say("/meldingen")
    assert "1–8 of 32" in first_page.text
    assert first_page.labels[0] == "M-1001" and "Next ▶" in first_page.labels
    assert len(first_page.labels) <= 10  # Matrix: one keycap reaction per button, at most ten
    annas_button = first_page.reply.flat_buttons()[0].data
    pages = [first_page.text]
    while "Next ▶" in coco.last().labels:
        [page] = await coco.press("Next ▶")  # the list is edited in place
        pages.append(page.text)
        assert len(pages) < 10
    assert len(pages) == 4 and "25–32 of 32" in pages[-1]
    assert coco.last().labels[-2:] == ["M-1032", "◀ Previous"]
    [bobs] = await coco.press("M-1032")
    assert "Boom omgewaaid" in bobs.text
    [back] = await coco.press("◀ Previous")
    assert "17–24 of 32" in back.text
    [annas] = await coco.press_data(annas_button)
    assert "Lantaarnpaal brandt niet" in annas.text

    [mine] = await troll.say("/mijnmeldingen")
    assert "1–8 of 30" in mine.text and "Next ▶" in mine.labels
    async with app.db.session() as s:
        rubbish = select(func.count()).where(col(Signal.text).startswith("Rommel"))
        assert (await s.exec(rubbish)).one() == 30


async def test_a_report_over_the_limit_is_kept_until_it_may_be_sent(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    anna = await _resident(make_chat, "anna")
    for i in range(10):
        await anna.say("/melding")
        await _finish_report(anna, f"Losse tegel {i}", f"Tegelstraat {i}")
    clock.advance(timedelta(minutes=30))
    # Written in her own words (no /melding): she is asked only at the end, and keeps it.
    await anna.say("Er ligt overal glas op het fietspad bij de school")
    await anna.press("It is a problem")
    await anna.say("Schoolstraat")
    [held] = await anna.press("Skip")
    if "reported this already" in held.text:
        [held] = await anna.press("No, this is something else")
    assert "10 reports in the past hour" in held.text and "kept" in held.text
    assert "from 26 November, 20:00" in held.text and "Send" in held.labels
    [again] = await anna.press("Send")
    assert "kept" in again.text and await _reports_of(app) == 10
    clock.advance(timedelta(minutes=31))
    [sent] = await anna.press("Send")
    if "reported this already" in sent.text:
        [sent] = await anna.press("No, this is something else")
    assert "Your report has number M-1011" in sent.text
    async with app.db.session() as s:
        newest = (await s.exec(select(Signal).order_by(col(Signal.id).desc()))).first()
        assert newest is not None and newest.text.startswith("Er ligt overal glas")
