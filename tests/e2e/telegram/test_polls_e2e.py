"""Polls on Telegram over real HTTP: a vote in the group and one in the direct chat count once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.core.events import ChatRef, Reply
from bot.ops.admin import grant_coordinator
from bot.util.charts import bar_chart
from storage.models import Poll, PollVote
from tests.e2e.telegram.conftest import RunningBot
from tests.standins.telegram_records import SentRecord

pytestmark = pytest.mark.e2e


def _data(record: SentRecord, label: str) -> str:
    return str(record.button(label)["callback_data"])


async def test_poll_voted_in_group_and_direct_chat_counts_once(tg: RunningBot) -> None:
    api, app = tg.api, tg.app
    assert app is not None
    await grant_coordinator(tg.settings, "telegram", "2001", "schalkwijk")
    coco = api.user(2001, "Coco", language_code="en")
    anna = api.user(3001, "Anna", language_code="en")
    coco_dm, anna_dm = api.private_chat(coco), api.private_chat(anna)
    group = api.group(-100700, "Buurtapp Schalkwijk", creator=coco)
    await api.set_member_status(group, anna, "member")
    await api.add_bot_to_group(group, coco)
    await tg.replies(group.id)
    await api.send_text(coco, group, "/koppel Schalkwijk")
    await tg.replies(group.id)
    await api.send_text(anna, anna_dm, "/wijk")
    [hood] = await tg.replies(anna_dm.id)
    await api.press_button(anna, hood, _data(hood, "Schalkwijk"))
    await tg.replies(anna_dm.id)

    await api.send_text(coco, coco_dm, "/peiling Meer bankjes op het plein? | Ja | Nee")
    [summary] = await tg.replies(coco_dm.id)
    await api.press_button(coco, summary, _data(summary, "Versturen"))
    await app.flush_outbox()
    [in_group] = await api.wait_for_sent(
        lambda r: r.chat_id == group.id and "Meer bankjes" in r.plain_text, since=0
    )
    [in_dm] = await api.wait_for_sent(
        lambda r: r.chat_id == anna_dm.id and "Meer bankjes" in r.plain_text, since=0
    )
    assert [b["text"] for row in in_group.reply_markup["inline_keyboard"] for b in row] == [
        "Ja", "Nee", "Resultaten",
    ]  # fmt: skip

    await api.press_button(anna, in_group, _data(in_group, "Ja"))
    [told] = await api.wait_for_sent(
        lambda r: r.chat_id == anna_dm.id and "Your vote" in r.plain_text, since=0
    )
    assert "Ja" in told.plain_text  # confirmed privately, the group is not flooded
    await api.press_button(anna, in_dm, _data(in_dm, "Nee"))
    await api.wait_for_sent(
        lambda r: r.chat_id == anna_dm.id and "Your vote" in r.plain_text, count=2, since=0
    )
    async with app.db.session() as s:
        votes = (await s.exec(select(PollVote.option))).all()
    assert votes == [1]  # one person, one vote: the latest choice

    tg.clock.advance(timedelta(days=8))
    await app.run_jobs_now()
    [chart] = await api.wait_for_sent(
        lambda r: r.chat_id == group.id and r.method == "sendPhoto", since=0
    )
    assert "Uitslag: Meer bankjes" in chart.plain_text and "Nee: 1 (100%)" in chart.plain_text
    # The group and both residents (anna, coco) get the chart: uploaded once, then by file_id.
    charts = await api.wait_for_sent(lambda r: r.method == "sendPhoto", count=3, since=0)
    ids = {size["file_id"] for r in charts for size in r.message["photo"]}
    assert len([r for r in charts if r.params.get("photo") not in ids]) == 1
    # The poll messages lose their vote buttons: nobody can press a closed poll in a group.
    [in_group_now] = [m for m in api.messages_in(group) if m.message_id == in_group.message_id]
    assert "reply_markup" not in in_group_now.data and "Meer bankjes" in in_group_now.data["text"]
    # A press that raced the closing (the old buttons were still on anna's screen):
    await api.press_button(anna, in_dm, _data(in_dm, "Ja"), check=False)
    [late] = await api.wait_for_sent(
        lambda r: r.chat_id == anna_dm.id and "not counted" in r.plain_text, since=0
    )
    assert "closed" in late.plain_text
    async with app.db.session() as s:
        assert (await s.exec(select(Poll))).one().closed_at is not None
        assert (await s.exec(select(PollVote.option))).all() == [1]


async def test_a_stale_chart_file_id_is_uploaded_again(tg: RunningBot) -> None:
    """Telegram forgets file ids now and then: the chart is then uploaded again, not lost."""
    api, adapter = tg.api, tg.adapter
    assert adapter is not None
    anna = api.user(1201, "Anna", language_code="nl")
    dm = api.private_chat(anna)
    chart = Reply(text="Uitslag: Meer bankjes?", image=bar_chart("Meer bankjes?", ["Ja"], [1]))
    chat = ChatRef("telegram", str(dm.id), "direct")
    await adapter.send(chat, chart)
    api._photo_sets.clear()  # every photo id Telegram gave us is now unknown
    await adapter.send(chat, chart)
    sent = await api.wait_for_sent(
        lambda r: r.chat_id == dm.id and r.method == "sendPhoto", count=2, since=0
    )
    assert [r.plain_text for r in sent] == ["Uitslag: Meer bankjes?"] * 2
    assert all(r.message["photo"] for r in sent)
    photo_calls = [r.status for r in api.request_log if r.method.lower() == "sendphoto"]
    assert photo_calls == [200, 400, 200]  # upload; the forgotten id refused; upload again
