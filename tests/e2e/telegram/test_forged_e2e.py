"""Forged presses over real HTTP: a callback query with data we never sent to this person,
and a deep link to a coordinator's command. Kind answers, the spinner stops, nothing changes."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from bot.ops.admin import grant_coordinator
from storage.models import AuditEvent, Poll, PollVote
from tests.e2e.telegram.conftest import RunningBot
from tests.standins.telegram_records import SentRecord

pytestmark = pytest.mark.e2e


def _data(record: SentRecord, label: str) -> str:
    return str(record.button(label)["callback_data"])


async def test_a_forged_vote_from_another_neighbourhood_is_refused(tg: RunningBot) -> None:
    api, app = tg.api, tg.app
    assert app is not None
    await grant_coordinator(tg.settings, "telegram", "2001", "schalkwijk")
    coco = api.user(2001, "Coco", language_code="en")
    dirk = api.user(4001, "Dirk", language_code="en")
    coco_dm, dirk_dm = api.private_chat(coco), api.private_chat(dirk)
    await api.send_text(coco, coco_dm, "/peiling Meer bankjes op het plein? | Ja | Nee")
    [summary] = await tg.replies(coco_dm.id)
    await api.press_button(coco, summary, _data(summary, "Versturen"))
    await tg.replies(coco_dm.id)
    await api.send_text(dirk, dirk_dm, "/wijk")
    [hood] = await tg.replies(dirk_dm.id)
    await api.press_button(dirk, hood, _data(hood, "Delftwijk"))
    [home] = await tg.replies(dirk_dm.id)
    async with app.db.session() as s:
        poll_id = (await s.exec(select(Poll.id))).one()
        audit_before = (await s.exec(select(func.count()).select_from(AuditEvent))).one()

    answered = len(api.callback_answers)
    await api.press_button(dirk, home, f"pv:{poll_id}:0", check=False)
    [refused] = await tg.replies(dirk_dm.id)
    assert "This button no longer works" in refused.plain_text
    assert len(api.callback_answers) > answered  # the spinner stops
    await api.press_button(dirk, home, f"pv:{poll_id}:0:0;DROP", check=False)
    [absurd] = await tg.replies(dirk_dm.id)
    assert "no longer works" in absurd.plain_text and "went wrong" not in absurd.plain_text

    await api.send_text(dirk, dirk_dm, "/start peiling")
    [deep_link] = await tg.replies(dirk_dm.id)
    assert "Only a coordinator" in deep_link.plain_text

    async with app.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(PollVote))).one() == 0
        assert (await s.exec(select(func.count()).select_from(AuditEvent))).one() == audit_before
