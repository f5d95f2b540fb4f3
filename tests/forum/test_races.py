"""Things that happen at the same moment (on PostgreSQL they really run side by side; on
SQLite writers take turns): two declines, two joins, one letter code used twice. Each
ends as if they had happened one after the other."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.ops.forum import draw_forum, forum_codes
from storage.forum_models import CONFIRMED, DECLINED, INVITED, ForumMember
from storage.repo import forums, people
from tests.forum.test_draw import QUOTAS, open_forum, open_with_pool
from tests.support.fake import Chat, MakeChat


def _invitations(chat: Chat) -> int:
    return sum(1 for m in chat.mine() if "drawn by lot" in m.text)


async def test_two_declines_at_once_are_each_replaced_once(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    chats = {f"r{i}": make_chat(f"r{i}", lang="en") for i in range(40)}
    for chat in chats.values():
        await chat.say("/taal en")  # known chats, for the invitations
    forum_id = await open_with_pool(app, clock, 40, QUOTAS)
    await draw_forum(app.settings, forum_id, seed=5, clock=clock)
    await app.flush_outbox()
    async with app.db.session() as s:
        invited = await forums.members(s, forum_id, (INVITED,))
        names = {}
        for m in invited:
            account = await people.accounts_of(s, m.person_id)
            names[m.id] = account[0].platform_user_id
    # Two invitees with the same answers: the same replacement would suit both.
    alike: dict[tuple[str, str], list[int]] = {}
    for m in invited:
        alike.setdefault((m.answers["age"], m.answers["area"]), []).append(m.id)
    a, b = next(ids for ids in alike.values() if len(ids) >= 2)[:2]
    first, second = chats[names[a]], chats[names[b]]
    await asyncio.gather(first.press("No, thank you"), second.press("No, thank you"))
    assert "We will ask someone else" in first.text
    assert "We will ask someone else" in second.text

    clock.advance(timedelta(minutes=5))
    await app.run_jobs_now()
    async with app.db.session() as s:
        states = Counter(m.state for m in await forums.members(s, forum_id))
    assert states[INVITED] + states[CONFIRMED] == 12 and states[DECLINED] == 2
    asked = Counter({name: _invitations(chat) for name, chat in chats.items()})
    assert max(asked.values()) == 1, asked.most_common(2)  # nobody was asked twice
    assert sum(asked.values()) == 14  # twelve, then one for each decline


async def test_two_joins_at_once_both_get_a_pool_number(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    await open_forum(app, clock, "schalkwijk", QUOTAS)
    chats = []
    for name in ("ans", "bram"):
        chat = make_chat(name, lang="en")
        await chat.say("/wijk")
        await chat.press("Schalkwijk")
        await chat.say("/forum")
        await chat.press("65 or older")
        await chat.press("Noord")
        chats.append(chat)
    await asyncio.gather(*(c.press("Yes, put me in the pool") for c in chats))
    for chat in chats:
        assert "you are in the pool" in chat.text, chat.text
    async with app.db.session() as s:
        numbers = sorted(m.number for m in (await s.exec(select(ForumMember))).all())
    assert numbers == [1, 2]


async def test_one_letter_code_used_twice_at_once_lets_one_in(
    app: App, make_chat: MakeChat, clock: FrozenClock, tmp_path: Path
) -> None:
    forum_id = await open_forum(app, clock, "schalkwijk", QUOTAS)
    out = tmp_path / "codes.csv"
    await forum_codes(app.settings, forum_id, 1, out)
    code = out.read_text(encoding="utf-8").splitlines()[1]
    chats = []
    for name in ("ans", "bram"):
        chat = make_chat(name, lang="en")
        await chat.say("/taal en")
        await chat.say("/forum " + code)
        await chat.press("65 or older")
        await chat.press("Noord")
        chats.append(chat)
    await asyncio.gather(*(c.press("Yes, put me in the pool") for c in chats))
    replies = sorted(c.text for c in chats)
    assert "already been used" in replies[0] or "already been used" in replies[1], replies
    assert sum("you are in the pool" in r for r in replies) == 1, replies
    async with app.db.session() as s:
        assert len((await s.exec(select(ForumMember))).all()) == 1
