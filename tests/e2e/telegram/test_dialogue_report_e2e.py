"""Issue 15 "done when", on Telegram over real HTTP: a coordinator opens a conversation, two
residents vote by button and one adds a statement the coordinator rejects; twenty more
neighbours vote through the service layer (to keep it fast). "How it stands" and the end
report show groups and common ground with the opinion map as a photo; the export, analysed
again, gives the same groups."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.ops.admin import grant_coordinator
from bot.ops.conversation_export import export_conversation
from bot.services.dialogue.polis_format import analyse_directory, read_conversation
from tests.dialogue.test_report import _camps
from tests.e2e.telegram.conftest import RunningBot
from tests.standins.telegram_records import SentRecord

pytestmark = pytest.mark.e2e

LINE = "/nieuwgesprek Hoe maken we het plein fijner? | Meer bankjes | Minder auto's | Meer groen"


def _data(record: SentRecord, label: str) -> str:
    return str(record.button(label)["callback_data"])


async def _press(
    tg: RunningBot, user: Any, chat: Any, record: SentRecord, label: str
) -> SentRecord:
    since = len(tg.api.sent)
    await tg.api.press_button(user, record, _data(record, label))
    [reply] = await tg.api.wait_for_sent(lambda r: r.chat_id == chat.id, since=since)
    return reply


async def _resident(tg: RunningBot, user_id: int, name: str, lang: str) -> tuple[Any, Any]:
    user = tg.api.user(user_id, name, language_code=lang)
    dm = tg.api.private_chat(user)
    await tg.api.send_text(user, dm, "/wijk")
    [hood] = await tg.replies(dm.id)
    await tg.api.press_button(user, hood, _data(hood, "Schalkwijk"))
    await tg.replies(dm.id)
    return user, dm


async def test_conversation_report_with_map_and_export_round_trip(
    tg: RunningBot, tmp_path: Path
) -> None:
    api, app = tg.api, tg.app
    assert app is not None
    await grant_coordinator(tg.settings, "telegram", "2001", "schalkwijk")
    coco = api.user(2001, "Coco", language_code="nl")
    coco_dm = api.private_chat(coco)
    anna, anna_dm = await _resident(tg, 3001, "Anna", "en")
    bob, bob_dm = await _resident(tg, 3002, "Bob", "nl")
    await api.send_text(coco, coco_dm, LINE)
    [summary] = await tg.replies(coco_dm.id)
    await api.press_button(coco, summary, _data(summary, "Versturen"))
    await tg.replies(coco_dm.id)
    await app.flush_outbox()
    [invite] = await api.wait_for_sent(
        lambda r: r.chat_id == anna_dm.id and "Conversation:" in r.plain_text, since=0
    )
    [uitnodiging] = await api.wait_for_sent(
        lambda r: r.chat_id == bob_dm.id and "Gesprek:" in r.plain_text, since=0
    )
    # Two residents vote through Telegram; Anna adds a statement, which is rejected.
    shown = await _press(tg, anna, anna_dm, invite, "Take part")
    for _ in range(3):
        shown = await _press(tg, anna, anna_dm, shown, "Agree")
    assert "That was all" in shown.plain_text
    shown = await _press(tg, bob, bob_dm, uitnodiging, "Meedoen")
    for label in ("Oneens", "Oneens", "Eens"):
        shown = await _press(tg, bob, bob_dm, shown, label)
    asked = await _press(tg, bob, bob_dm, shown, "Zelf een stelling toevoegen")
    assert "stelling" in asked.plain_text.lower()
    since = len(api.sent)
    await api.send_text(bob, bob_dm, "Een speeltuin voor kleine kinderen")
    await api.wait_for_sent(lambda r: r.chat_id == bob_dm.id, since=since)
    await app.flush_outbox()
    [review] = await api.wait_for_sent(
        lambda r: r.chat_id == coco_dm.id and "Een speeltuin" in r.plain_text, since=0
    )
    await _press(tg, coco, coco_dm, review, "Afwijzen, met een reden")
    since = len(api.sent)
    await api.send_text(coco, coco_dm, "Dat past niet bij de vraag")
    await api.wait_for_sent(lambda r: r.chat_id == coco_dm.id, since=since)
    conv_id, *_ = await _camps(app, tg.clock)

    # How it stands, during the conversation: groups, common ground, and the map as a photo.
    standing = await _press(tg, anna, anna_dm, shown_anna(api, anna_dm.id), "How it stands")
    assert standing.method == "sendPhoto"
    assert "What unites Schalkwijk" in standing.plain_text
    assert "Where opinions differ" in standing.plain_text and "Group B" in standing.plain_text

    # The end: everyone who took part gets the report with the map, in their language.
    since = len(api.sent)
    tg.clock.advance(timedelta(days=15))
    await app.run_jobs_now()
    await app.flush_outbox()
    [end] = await api.wait_for_sent(
        lambda r: r.chat_id == bob_dm.id and r.method == "sendPhoto", since=since
    )
    assert "is afgelopen" in end.plain_text and "Waar meningen verschillen" in end.plain_text
    await api.wait_for_sent(
        lambda r: r.chat_id == anna_dm.id and r.method == "sendPhoto", since=since
    )

    # The export round-trips: analysed again, the files give the groups they say.
    out = tmp_path / "export"
    await export_conversation(tg.settings, conv_id, "csv", out)
    files = read_conversation(out)
    assert [s.text for s in files.statements.values() if s.moderated == -1] == [
        "Een speeltuin voor kleine kinderen"
    ]
    again = json.loads(analyse_directory(out, as_json=True))["groups"]
    assert again == {str(p): g for p, g in files.polis_groups.items()}
    assert len(set(again.values())) == 2


def shown_anna(api: Any, chat_id: int) -> SentRecord:
    """Anna's latest message with the "How it stands" button."""
    for record in reversed(api.sent):
        if (
            record.chat_id == chat_id
            and record.reply_markup
            and "How it stands" in json.dumps(record.reply_markup)
        ):
            return record  # type: ignore[no-any-return]
    raise AssertionError("no How it stands button")
