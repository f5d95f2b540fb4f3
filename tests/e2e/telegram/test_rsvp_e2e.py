"""Events on Telegram over real HTTP: "Ik kom" pressed in the group counts for the presser,
answered privately; the organiser hears the count, without names."""

from __future__ import annotations

import pytest

from bot.ops.admin import grant_coordinator
from tests.e2e.telegram.conftest import RunningBot
from tests.standins.telegram_records import SentRecord

pytestmark = pytest.mark.e2e


def _data(record: SentRecord, label: str) -> str:
    return str(record.button(label)["callback_data"])


async def test_im_coming_pressed_in_the_group(tg: RunningBot) -> None:
    api, app = tg.api, tg.app
    assert app is not None
    await grant_coordinator(tg.settings, "telegram", "2001", "schalkwijk")
    coco = api.user(2001, "Coco", language_code="nl")
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

    await api.send_text(coco, coco_dm, "/aankondiging Buurtfeest op het plein")
    [photo] = await tg.replies(coco_dm.id)
    await api.press_button(coco, photo, _data(photo, "Geen foto"))
    await tg.replies(coco_dm.id)
    await api.send_text(coco, coco_dm, "05-12 15:00")
    [place] = await tg.replies(coco_dm.id)
    await api.press_button(coco, place, _data(place, "Overslaan"))
    [step] = await tg.replies(coco_dm.id)
    if "iedereen in Schalkwijk" in [b["text"] for row in step.reply_markup["inline_keyboard"]
                                    for b in row]:  # fmt: skip
        await api.press_button(coco, step, _data(step, "iedereen in Schalkwijk"))
        [step] = await tg.replies(coco_dm.id)
    await api.press_button(coco, step, _data(step, "Versturen"))
    await app.flush_outbox()
    [in_group] = await api.wait_for_sent(
        lambda r: r.chat_id == group.id and "Buurtfeest" in r.plain_text, since=0
    )
    assert [b["text"] for row in in_group.reply_markup["inline_keyboard"] for b in row] == [
        "Ik kom"
    ]

    await api.press_button(anna, in_group, _data(in_group, "Ik kom"))
    await app.flush_outbox()
    [told] = await api.wait_for_sent(
        lambda r: r.chat_id == anna_dm.id and "you are coming to" in r.plain_text, since=0
    )
    assert "Not coming after all" in [
        b["text"] for row in told.reply_markup["inline_keyboard"] for b in row
    ]
    assert not any("Anna" in m.plain_text for m in api.sent if m.chat_id == group.id)
    await app.run_jobs_now()
    [count] = await api.wait_for_sent(
        lambda r: r.chat_id == coco_dm.id and "zei te komen" in r.plain_text, since=0
    )
    assert count.plain_text.startswith("1 persoon") and "Anna" not in count.plain_text
