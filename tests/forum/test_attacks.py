"""Attacks and accidents: guessing letter codes, a replacement that fails, someone drawn
who erases their data, quotas typed with odd digits."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.ops.admin import grant_coordinator
from bot.ops.forum import draw_forum, forum_codes
from bot.ops.population import load_population
from bot.services.forum import draw as drawing
from bot.services.forum.features import parse_quota
from storage.forum_models import CONFIRMED, DECLINED, INVITED, Forum, ForumMember
from storage.repo import budgets, forums
from tests.forum.test_draw import QUOTAS, open_forum, open_with_pool
from tests.support.fake import Chat, MakeChat


async def test_guessing_forum_codes_stops_after_five(
    app: App, make_chat: MakeChat, clock: FrozenClock, tmp_path: Path
) -> None:
    forum_id = await open_forum(app, clock, "schalkwijk", QUOTAS)
    out = tmp_path / "codes.csv"
    await forum_codes(app.settings, forum_id, 1, out)
    good = out.read_text(encoding="utf-8").splitlines()[1]
    guesser: Chat = make_chat("guesser", lang="en")
    await guesser.say("/taal en")
    for _ in range(5):
        [wrong] = await guesser.say("/forum " + budgets.new_code())
        assert "I don't know this code" in wrong.text
    [stopped] = await guesser.say("/forum " + budgets.new_code())
    assert "too many wrong codes" in stopped.text and "15 minutes" in stopped.text
    [still] = await guesser.say("/forum " + good)  # even a good code waits
    assert "too many wrong codes" in still.text
    clock.advance(timedelta(minutes=16))
    *_, question = await guesser.say("/forum " + good)
    assert "age" in question.text


async def test_a_failing_replacement_does_not_stop_the_erasure_of_another_forum(
    app: App, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ending = await open_with_pool(app, clock, 40, QUOTAS)
    await draw_forum(app.settings, ending, seed=3, clock=clock)
    clock.advance(timedelta(days=89))
    running = await open_with_pool(app, clock, 40, QUOTAS)
    await draw_forum(app.settings, running, seed=4, clock=clock)
    async with app.db.transaction() as s:
        [first, *_] = await forums.members(s, running, (INVITED,))
        assert first.id is not None
        assert await forums.answer_invitation(s, first.id, DECLINED)

    async def broken(*args: object, **kwargs: object) -> drawing.Draw:
        raise KeyError("the library broke")

    monkeypatch.setattr(drawing, "draw_aside", broken)
    clock.advance(timedelta(days=1, minutes=1))  # `ending` has ended, `running` has not
    await app.run_jobs_now()
    async with app.db.session() as s:
        assert await forums.members(s, ending) == []
        ended = await s.get(Forum, ending)
        assert ended is not None and ended.erased_at is not None
        assert len(await forums.members(s, running, (INVITED, CONFIRMED))) == 11


async def test_a_drawn_member_who_erases_their_data_is_replaced(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    chats = {f"r{i}": make_chat(f"r{i}", lang="en") for i in range(40)}
    for chat in chats.values():
        await chat.say("/taal en")
    forum_id = await open_with_pool(app, clock, 40, QUOTAS)
    await draw_forum(app.settings, forum_id, seed=5, clock=clock)
    await app.flush_outbox()
    drawn = [c for c in chats.values() if any("drawn by lot" in m.text for m in c.mine())]
    await drawn[0].say("/vergeetmij")
    await drawn[0].press("Yes, erase my data")
    assert "Your data has been erased" in drawn[0].text
    clock.advance(timedelta(minutes=1))
    await app.run_jobs_now()
    async with app.db.session() as s:
        assert len(await forums.members(s, forum_id, (INVITED, CONFIRMED))) == 12
    again = [c for c in chats.values() if any("drawn by lot" in m.text for m in c.mine())]
    assert len(again) == 13


def test_quotas_typed_with_odd_digits_are_not_read() -> None:
    assert parse_quota("65+ ²-3", QUOTAS) is None
    assert parse_quota("65+ 2-99999999999999999999", QUOTAS) is None
    assert parse_quota("65+ ٢-٤", QUOTAS) == ("age", "65+", 2, 4)  # Arabic-Indic digits


async def test_a_quota_with_a_superscript_gets_a_kind_answer(app: App, make_chat: MakeChat) -> None:
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    await coco.say("/newforum")
    await coco.say("Een groener plein")
    await coco.press("12")
    await coco.press("In 14 days")
    await coco.press("In 90 days")
    await coco.press("Do not balance parts")
    await coco.press("Done")
    [unread] = await coco.say("65+ ²-3")
    assert "I could not read that" in unread.text


async def test_population_figures_with_a_superscript_are_refused(app: App, tmp_path: Path) -> None:
    bad = tmp_path / "bevolking.csv"
    bad.write_text(
        "regio;a_15_24;a_25_44;a_45_64;a_65_oo\nSchalkwijk;4120;9230;²;5550\n", encoding="utf-8"
    )
    said = await load_population(app.settings, bad)
    assert "Schalkwijk: a number is missing" in said and "for 0 neighbourhoods" in said


async def test_my_data_says_where_someone_stands_and_a_late_yes_is_refused(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    chats = {f"r{i}": make_chat(f"r{i}", lang="en") for i in range(40)}
    for chat in chats.values():
        await chat.say("/taal en")
    forum_id = await open_with_pool(app, clock, 40, QUOTAS)
    waiting = "\n".join(m.text for m in await chats["r0"].say("/mydata"))
    assert "The draw is after" in waiting
    await draw_forum(app.settings, forum_id, seed=5, clock=clock)
    await app.flush_outbox()
    drawn = [c for c in chats.values() if any("drawn by lot" in m.text for m in c.mine())]
    passed_over = next(c for c in chats.values() if c not in drawn)
    yes, no, late = drawn[0], drawn[1], drawn[2]
    await yes.press("Yes, I take part")
    await no.press("No, thank you")

    async def my_data(chat: Chat) -> str:
        return "\n".join(m.text for m in await chat.say("/mydata"))

    assert "You take part in the forum" in await my_data(yes)
    said_no = await my_data(no)
    assert "You said no" in said_no and "65 or older" not in said_no  # answers dropped
    assert "please answer the invitation before" in await my_data(late)
    assert "You were not drawn" in await my_data(passed_over)

    clock.advance(timedelta(days=7, seconds=1))  # past the deadline, before the job ran
    await late.press("Yes, I take part")
    assert "no longer open" in late.text


async def test_leaving_the_pool_and_removing_an_age_group_keep_the_account(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    await open_forum(app, clock, "schalkwijk", QUOTAS)
    ans: Chat = make_chat("ans", lang="en")
    await ans.say("/wijk")
    await ans.press("Schalkwijk")
    await ans.say("/forum")
    await ans.press("65 or older")
    await ans.press("Noord")
    await ans.press("Yes, put me in the pool")
    assert "To leave the pool, type /forum" in ans.text  # /wijkforum, in English
    [again] = await ans.say("/forum")
    assert "You are in the pool" in again.text
    await ans.press("Leave the pool")
    assert "You left the pool" in ans.text
    async with app.db.session() as s:
        assert (await s.exec(select(ForumMember))).all() == []
    await ans.press("Leave the pool")  # pressed again
    assert "You are not in the pool" in ans.text

    await ans.say("/age")
    await ans.press("65 or older")
    [shared] = await ans.say("/age")
    assert "You shared your age group: 65 or older" in shared.text
    await ans.press("Remove my age group")
    assert "Your age group is removed" in ans.text
    [asked] = await ans.say("/age")
    assert "Would you share your age group?" in asked.text
    mine = "\n".join(m.text for m in await ans.say("/mydata"))
    assert "Schalkwijk" in mine  # the account and its neighbourhood stay


async def test_a_seat_nobody_fits_is_told_to_the_coordinator_once(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    # Four seats, one per age band; the pool has one extra 15-24 and nobody else. When the
    # 65+ member says no, nobody left fits: the coordinator hears it, once.
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    one_each = {"age": {band: [1, 1] for band in ("15-24", "25-44", "45-64", "65+")}}
    forum_id = await open_with_pool(app, clock, 5, one_each, seats=4)
    await draw_forum(app.settings, forum_id, seed=8, clock=clock)
    async with app.db.transaction() as s:
        [oldest] = [
            m for m in await forums.members(s, forum_id, (INVITED,)) if m.answers["age"] == "65+"
        ]
        assert oldest.id is not None
        assert await forums.answer_invitation(s, oldest.id, DECLINED)
    for _ in range(3):
        clock.advance(timedelta(minutes=6))
        await app.run_jobs_now()
    await app.flush_outbox()
    told = [m.text for m in coco.mine() if "stays empty" in m.text]
    assert told == [
        "1 seat of the forum “Een groener plein” stays empty: nobody in the pool fits the quotas."
    ]
