"""Conversations on Telegram over real HTTP: a coordinator opens one, a resident votes by
button one statement at a time and adds a statement of her own (waiting for approval)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.ops.admin import grant_coordinator
from storage.models import Statement, StatementVote
from tests.e2e.telegram.conftest import RunningBot
from tests.standins.telegram_records import SentRecord

pytestmark = pytest.mark.e2e


def _data(record: SentRecord, label: str) -> str:
    return str(record.button(label)["callback_data"])


async def test_coordinator_opens_resident_votes_and_adds_a_statement(tg: RunningBot) -> None:
    api, app = tg.api, tg.app
    assert app is not None
    await grant_coordinator(tg.settings, "telegram", "2001", "schalkwijk")
    coco = api.user(2001, "Coco", language_code="nl")
    anna = api.user(3001, "Anna", language_code="en")
    coco_dm, anna_dm = api.private_chat(coco), api.private_chat(anna)
    await api.send_text(anna, anna_dm, "/wijk")
    [hood] = await tg.replies(anna_dm.id)
    await api.press_button(anna, hood, _data(hood, "Schalkwijk"))
    await tg.replies(anna_dm.id)

    await api.send_text(
        coco, coco_dm, "/nieuwgesprek Hoe maken we het plein fijner? | Meer bankjes | Minder auto's"
    )
    [summary] = await tg.replies(coco_dm.id)
    assert "Meer bankjes" in summary.plain_text
    await api.press_button(coco, summary, _data(summary, "Versturen"))
    await tg.replies(coco_dm.id)
    await app.flush_outbox()
    [invite] = await api.wait_for_sent(
        lambda r: r.chat_id == anna_dm.id and "Conversation:" in r.plain_text, since=0
    )
    since = len(api.sent)
    await api.press_button(anna, invite, _data(invite, "Take part"))
    [first] = await api.wait_for_sent(lambda r: r.chat_id == anna_dm.id, since=since)
    assert "“Meer bankjes”" in first.plain_text
    since = len(api.sent)
    await api.press_button(anna, first, _data(first, "Agree"))
    [second] = await api.wait_for_sent(lambda r: r.chat_id == anna_dm.id, since=since)
    assert "agree" in second.plain_text and "“Minder auto's”" in second.plain_text
    since = len(api.sent)
    await api.press_button(anna, second, _data(second, "Add my own statement"))
    await api.wait_for_sent(lambda r: r.chat_id == anna_dm.id, since=since)
    since = len(api.sent)
    await api.send_text(anna, anna_dm, "Een speeltuin voor kleine kinderen")
    [waits] = await api.wait_for_sent(lambda r: r.chat_id == anna_dm.id, since=since)
    assert "coordinator looks at your statement first" in waits.plain_text
    await app.flush_outbox()
    await api.wait_for_sent(
        lambda r: r.chat_id == coco_dm.id and "Een speeltuin" in r.plain_text, since=0
    )
    async with app.db.session() as s:
        votes = (await s.exec(select(StatementVote.value))).all()
        waiting = (await s.exec(select(Statement.text).where(Statement.status == "waiting"))).all()
    assert votes == [1] and waiting == ["Een speeltuin voor kleine kinderen"]
