"""The database goes away in the middle of a conversation, and the bot crashes: on Telegram,
in polling and in webhook mode, no message is lost and none is answered twice.

PostgreSQL is really stopped and started (a server of the test's own); SQLite's file fails
every statement meanwhile (`tests/support/outage.py`).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.delivery.scheduler import purge_dialogs
from storage.models import InboxEntry
from tests.e2e.telegram.conftest import RunningBot
from tests.standins.telegram_botapi import BotApiStandIn
from tests.standins.telegram_records import TgChat
from tests.support.outage import Outage

pytestmark = pytest.mark.e2e

TITLE_ASKED = "What is your idea?"
BODY_ASKED = "Tell a bit more"
HELP = "/idea"  # the help text lists the commands (English names for English users)
WHILE_DOWN = 2.0  # seconds the database stays away: the bot tries several times meanwhile


@pytest.fixture
def db_url(outage: Outage) -> str:
    return outage.url


def texts(api: BotApiStandIn, chat: TgChat) -> list[str]:
    return [r.plain_text for r in api.sent if r.chat_id == chat.id]


async def settled(tg: RunningBot) -> None:
    """Long enough for anything still coming (a poll round, a redelivery) to arrive."""
    await asyncio.sleep(1.5)


async def test_polling_waits_for_the_database_then_answers_everything_once_in_order(
    tg: RunningBot, outage: Outage
) -> None:
    api = tg.api
    anna = api.user(1101, "Anna", language_code="en")
    ben = api.user(1102, "Ben", language_code="en")
    anna_dm, ben_dm = api.private_chat(anna), api.private_chat(ben)
    await api.send_text(anna, anna_dm, "/idee")
    [asked] = await tg.replies(anna_dm.id)
    assert TITLE_ASKED in asked.plain_text

    async with outage:
        await api.send_text(anna, anna_dm, "Bankjes bij de vijver")
        await api.send_text(ben, ben_dm, "/help")
        await api.send_text(anna, anna_dm, "/help")  # after her title: must come after it
        await asyncio.sleep(WHILE_DOWN)
        assert texts(api, anna_dm) == [asked.plain_text]  # no "something went wrong" either
        assert texts(api, ben_dm) == []
        assert len(api.pending_updates) == 3  # nothing confirmed to Telegram while down
        assert tg.running  # the polling loop did not give up

    chats = (anna_dm.id, ben_dm.id)
    await api.wait_for_sent(lambda r: r.chat_id in chats, count=3, timeout=20)
    await settled(tg)
    body, help_anna, offer = texts(api, anna_dm)[1:]
    [help_ben] = texts(api, ben_dm)
    assert BODY_ASKED in body  # the title was taken first, in the order she wrote
    assert HELP in help_anna and HELP in help_ben
    # /help in the middle of her idea: the idea is kept and offered again (issue #18 §3).
    assert "Continue?" in offer
    assert api.pending_updates == []


async def test_webhook_is_answered_only_once_stored_and_handled_once_back(
    tg_webhook: RunningBot, outage: Outage
) -> None:
    tg = tg_webhook
    api = tg.api
    anna = api.user(1201, "Anna", language_code="en")
    dm = api.private_chat(anna)
    await api.send_text(anna, dm, "/idee")
    [asked] = await tg.replies(dm.id)
    assert TITLE_ASKED in asked.plain_text

    async with outage:
        title = await api.send_text(anna, dm, "Bankjes bij de vijver")
        await api.send_text(anna, dm, "/help")
        await asyncio.sleep(WHILE_DOWN)
        assert title.update_id is not None
        refused = api.webhook_sender.statuses(title.update_id)
        assert refused and all(s >= 500 for s in refused)  # Telegram keeps it and tries again
        assert len(api.pending_updates) == 2
        assert texts(api, dm) == [asked.plain_text]
        assert tg.running

    [body] = await tg.replies(dm.id, within=20)
    await settled(tg)
    help_reply, offer = texts(api, dm)[2:]
    assert BODY_ASKED in body.plain_text and HELP in help_reply
    assert "Continue?" in offer  # the idea is kept while /help runs (issue #18 §3)
    assert len(texts(api, dm)) == 4 and api.pending_updates == []


async def test_webhook_update_stored_before_a_crash_is_answered_after_the_restart(
    tg_webhook: RunningBot,
) -> None:
    tg = tg_webhook
    api = tg.api
    anna = api.user(1301, "Anna", language_code="en")
    dm = api.private_chat(anna)
    await tg.stop()
    await tg.start(dies_at=1)  # dies as it begins to handle the first update
    await api.send_text(anna, dm, "/help")
    await tg.died()
    assert api.pending_updates == []  # Telegram had its 200: it will not send it again
    await tg.stop()

    await tg.start()
    [reply] = await tg.replies(dm.id, within=10)
    assert HELP in reply.plain_text
    await settled(tg)
    assert len(texts(api, dm)) == 1


async def test_webhook_update_sent_again_after_a_restart_is_answered_once(
    tg_webhook: RunningBot,
) -> None:
    """Telegram sends an update again when our 200 did not reach it (a timeout, a restart)."""
    tg = tg_webhook
    api = tg.api
    anna = api.user(1401, "Anna", language_code="en")
    dm = api.private_chat(anna)
    sent = await api.send_text(anna, dm, "/help")
    [reply] = await tg.replies(dm.id)
    assert sent.update_id is not None and api.webhook_sender.statuses(sent.update_id) == [200]
    await tg.stop()
    await tg.start()
    api.webhook_sender.resend(sent.update_id)
    await settled(tg)
    assert api.webhook_sender.statuses(sent.update_id) == [200, 200]
    assert texts(api, dm) == [reply.plain_text]


async def test_the_inbox_keeps_no_message_once_handled_and_forgets_its_keys(
    tg: RunningBot,
) -> None:
    api = tg.api
    anna = api.user(1501, "Anna", language_code="en")
    dm = api.private_chat(anna)
    await api.send_text(anna, dm, "/idee")
    await tg.replies(dm.id)
    await api.send_text(anna, dm, "Bankjes bij de vijver")
    await tg.replies(dm.id)
    assert tg.app is not None
    async with tg.app.db.session() as s:
        entries = (await s.exec(select(InboxEntry))).all()
    assert len(entries) == 2
    assert all(e.handled_at is not None and e.event == {} for e in entries)  # no text kept

    tg.clock.advance(timedelta(days=3))
    await purge_dialogs(tg.app.db, tg.clock)
    async with tg.app.db.session() as s:
        assert (await s.exec(select(InboxEntry))).all() == []
