"""Letter codes for the pool: a mistyped or unknown code is answered kindly and changes
nothing; a good code lets someone without a neighbourhood in the bot join, once."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.ops.forum import forum_codes
from bot.services.forum.panel import ForumError
from storage.forum_models import ForumMember
from storage.repo import budgets
from tests.forum.test_draw import QUOTAS, open_forum
from tests.support.fake import Chat, MakeChat


async def _members(app: App) -> int:
    async with app.db.session() as s:
        return len((await s.exec(select(ForumMember))).all())


async def test_codes_from_letters_let_a_reader_join_once(
    app: App, make_chat: MakeChat, clock: FrozenClock, tmp_path: Path
) -> None:
    forum_id = await open_forum(app, clock, "schalkwijk", QUOTAS)
    out = tmp_path / "codes.csv"
    assert await forum_codes(app.settings, forum_id, 3, out) == 3
    with pytest.raises(ForumError, match="exists already"):
        await forum_codes(app.settings, forum_id, 3, out)
    codes = [row["code"] for row in csv.DictReader(out.open(encoding="utf-8"))]
    assert len(set(codes)) == 3

    reader: Chat = make_chat("lezer", lang="en")
    await reader.say("/taal en")
    [typo] = await reader.say("/forum " + codes[0][:-1] + ("0" if codes[0][-1] != "0" else "1"))
    assert "does not look right" in typo.text
    [unknown] = await reader.say("/forum " + budgets.new_code())  # well-formed, not ours
    assert "I don't know this code" in unknown.text
    assert await _members(app) == 0
    await reader.say("/forum " + codes[0].lower())
    await reader.press("65 or older")
    await reader.press("Noord")
    await reader.press("Yes, put me in the pool")
    assert "you are in the pool" in reader.text
    assert await _members(app) == 1

    other: Chat = make_chat("buur", lang="en")
    await other.say("/taal en")
    used = (await other.say("/forum " + codes[0]))[-1]
    assert "already been used" in used.text
    assert await _members(app) == 1
