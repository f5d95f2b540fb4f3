"""#16 on Telegram (the Bot API stand-in, over HTTP): an Arabic-speaking resident reports a
problem, follows it, reads /help and the neighbourhood budget and opens the ballot. Every
message is laid out by an independent Unicode Bidirectional Algorithm (tests/support/bidi.py)
and each reference, amount, date and command in it must read as it does on its own."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from bidi import get_base_level

from bot.core.i18n import use_locale, when
from bot.ops.admin import grant_coordinator
from bot.ops.budget import import_round
from bot.services.budget.text import euros
from storage.repo import budgets, places
from tests.e2e.telegram.conftest import RunningBot
from tests.standins.telegram_records import SentRecord, TgChat, TgUser
from tests.support.bidi import out_of_order, visible

pytestmark = pytest.mark.e2e
PROJECTS = "id,title,description,cost\nA,حديقة الحي,,12000\nB,Bankjes bij de vijver,,8500\n"


async def _step(tg: RunningBot, user: TgUser, chat: TgChat, text: str) -> SentRecord:
    await tg.api.send_text(user, chat, text)
    [reply] = await tg.replies(chat.id)
    return reply


async def _press(tg: RunningBot, user: TgUser, record: SentRecord, data: str) -> SentRecord:
    await tg.api.press_button(user, record, data)
    [reply] = await tg.replies(record.chat_id)
    return reply


async def _open_voting(tg: RunningBot, tmp_path: Path) -> None:
    """The operator imports a round (`wijkbot budget import`); voting opens after Salma
    chose her neighbourhood, so she may vote."""
    assert tg.app is not None
    projects = tmp_path / "projects.csv"
    projects.write_text(PROJECTS, encoding="utf-8")
    await import_round(
        tg.settings, projects, "schalkwijk", "greedy", "Schalkwijk aan Zet", 70000, voters="both"
    )
    opens = tg.clock.now() + timedelta(minutes=30)
    tg.clock.advance(timedelta(hours=1))
    async with tg.app.db.transaction() as s:
        hood = await places.neighbourhood_by_slug(s, "schalkwijk")
        assert hood is not None and hood.id is not None
        [round_] = await budgets.rounds_in(s, [hood.id])
        await budgets.open_voting(s, round_, opens, opens + timedelta(days=14))


async def test_an_arabic_conversation_keeps_references_and_amounts_in_order(
    tg: RunningBot, tmp_path: Path
) -> None:
    api, app = tg.api, tg.app
    assert app is not None
    salma = api.user(7101, "Salma", language_code="ar")  # the language hint: nothing chosen
    dm = api.private_chat(salma)

    hood = await _step(tg, salma, dm, "/wijk")
    await _press(tg, salma, hood, hood.button("Schalkwijk")["callback_data"])
    await _step(tg, salma, dm, "/melding")
    await _step(tg, salma, dm, "مصباح الشارع مكسور")
    photo = await _step(tg, salma, dm, "Kennemerplein")
    kind = await _press(tg, salma, photo, "@SignalForm.photo|skip")
    thanks = await _press(tg, salma, kind, "@SignalForm.category|lighting")
    assert "M-1001" in thanks.plain_text
    await _step(tg, salma, dm, "/mijnmeldingen")
    await _step(tg, salma, dm, "/help")

    await grant_coordinator(tg.settings, "telegram", "2001", "schalkwijk")
    coco = api.user(2001, "Coco", language_code="nl")
    await _step(tg, coco, api.private_chat(coco), "/status M-1001 opgelost Gerepareerd")
    await app.flush_outbox()
    [news] = await tg.replies(dm.id)
    assert "M-1001" in news.plain_text

    await _open_voting(tg, tmp_path)
    listing = await _step(tg, salma, dm, "/wijkbudget")
    ballot = await _press(tg, salma, listing, listing.callback_data[0])
    await _press(tg, salma, ballot, ballot.callback_data[0])  # the first project in the basket

    texts = [r.plain_text for r in api.sent if r.chat_id == dm.id]
    every = "\n".join(visible(t) for t in texts)
    with use_locale("ar"):
        closes = when(tg.clock.now() - timedelta(minutes=30) + timedelta(days=14))
        amounts = [euros(70000), euros(12000)]
    # What the brief asks to see: a reference, amounts, a date and commands.
    assert "M-1001" in every and "/melding" in every and closes in every
    assert all(a in every for a in amounts), amounts
    # Arabic, chosen by Telegram's language hint: every message reads right to left.
    assert [w for t in texts for w in out_of_order(t)] == []
    assert [t for t in texts if get_base_level(t) != 1] == []
