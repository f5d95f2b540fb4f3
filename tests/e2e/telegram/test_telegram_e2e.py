"""Wijkbot on Telegram, end to end over real HTTP against the Bot API stand-in."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from bot.core.clock import FrozenClock
from bot.core.events import ChatRef, Document, Reply
from bot.ops.admin import grant_coordinator
from storage.models import Channel, Signal, SyncCursor
from tests.e2e.telegram.conftest import BOT_NAME, RunningBot
from tests.standins.telegram_records import SentRecord

pytestmark = pytest.mark.e2e


def _data(record: SentRecord, label: str) -> str:
    return str(record.button(label)["callback_data"])


async def test_onboarding_in_a_direct_chat(tg: RunningBot) -> None:
    api = tg.api
    anna = api.user(1001, "Anna", language_code="en")
    dm = api.private_chat(anna)
    await api.send_text(anna, dm, "/start")
    [hello] = await tg.replies(dm.id)
    assert "Which language" in hello.plain_text and hello.parse_mode == "HTML"
    await api.press_button(anna, hello, _data(hello, "English"))
    [hood] = await tg.replies(dm.id)
    assert any(a.callback_query_id for a in api.callback_answers)  # the spinner stops
    await api.press_button(anna, hood, _data(hood, "Schalkwijk"))
    [themes] = await tg.replies(dm.id)
    await api.press_button(anna, themes, _data(themes, "Follow Greening"))
    [edited] = await tg.replies(dm.id)
    assert edited.method == "editMessageText" and edited.message_id == themes.message_id
    assert "✓ Greening" in edited.plain_text
    await api.press_button(anna, edited, _data(edited, "Done"))
    done = await tg.replies(dm.id, count=2)
    assert "All set" in done[0].plain_text and "/idea" in done[1].plain_text  # English names
    # The command menu was set per language and scope.
    assert api.commands[("all_private_chats", "nl")]
    nl_menu = {c["command"]: c["description"] for c in api.commands[("all_private_chats", "nl")]}
    en_menu = {c["command"]: c["description"] for c in api.commands[("all_private_chats", "en")]}
    assert nl_menu["idee"] == "deel een idee voor de wijk" and en_menu["idea"].startswith("share")
    assert "idee" not in en_menu and "idea" not in nl_menu  # each language its own names
    assert {c["command"] for c in api.commands[("all_group_chats", "nl")]} >= {"koppel", "help"}


async def test_user_text_is_escaped_for_html(tg: RunningBot) -> None:
    api = tg.api
    anna = api.user(1002, "Anna", language_code="en")
    dm = api.private_chat(anna)
    await api.send_text(anna, dm, "/idee <b>Gratis</b> & <i>kunst</i> in het park")
    [hood] = await tg.replies(dm.id)
    await api.press_button(anna, hood, _data(hood, "Molenwijk"))
    [confirm] = await tg.replies(dm.id)
    assert "<b>Gratis</b> & <i>kunst</i>" in confirm.plain_text  # shown literally, not as markup


async def test_deep_link_one_off_signal_with_location_and_photo(tg: RunningBot) -> None:
    api = tg.api
    passant = api.user(1003, "Passant", language_code="en")
    dm = api.private_chat(passant)
    await api.send_text(passant, dm, "/start melding-schalkwijk")
    await tg.replies(dm.id, count=2)
    await api.send_text(passant, dm, "Omgevallen boom op het fietspad")
    [where] = await tg.replies(dm.id)
    assert "Where is it" in where.plain_text
    await api.send_location(passant, dm, 52.3702, 4.6581)
    [photo_q] = await tg.replies(dm.id)
    photo = await api.send_photo(passant, dm)
    [category] = await tg.replies(dm.id)
    await api.press_button(passant, category, _data(category, "Trees and greenery"))
    [done] = await tg.replies(dm.id)
    assert "M-1001" in done.plain_text
    largest = max(photo.data["photo"], key=lambda p: p["width"] * p["height"])
    assert tg.app is not None
    async with tg.app.db.session() as s:
        sig = (await s.exec(select(Signal))).one()
        assert (sig.lat, sig.lon, sig.category) == (52.3702, 4.6581, "greenery")
        assert sig.photo_file_id == largest["file_id"] and sig.photo_platform == "telegram"
    assert photo_q.plain_text and "getFile" not in api.request_counts  # not downloaded yet
    assert tg.adapter is not None
    assert await tg.adapter.download(largest["file_id"]) == api.file_bytes(largest["file_id"])


async def test_group_commands_with_bot_name(tg: RunningBot) -> None:
    api = tg.api
    anna = api.user(1004, "Anna", language_code="en")
    group = api.group(-100500, "Buurtapp Schalkwijk", creator=anna)
    await api.add_bot_to_group(group, anna)
    [hello] = await tg.replies(group.id)
    assert "/link" in hello.plain_text  # English names for English
    await api.send_text(anna, group, f"/help@{BOT_NAME}")
    [help_reply] = await tg.replies(group.id)
    assert "/ideas" in help_reply.plain_text
    await api.send_text(anna, group, "/help@SomeOtherBot")
    await api.send_text(anna, group, "/melding")
    [moved] = await tg.replies(group.id)  # only the /melding answer, not the other bot's help
    assert "private chat" in moved.plain_text
    assert moved.button("private")["url"] == f"https://t.me/{BOT_NAME}?start=melding"


async def test_command_menus_in_each_persons_language(tg: RunningBot) -> None:
    """The menu Telegram shows next to the text field comes from the same list as /help."""
    api = tg.api
    anna = api.user(1012, "Anna", language_code="nl")
    ben = api.user(1013, "Ben", language_code="en")
    private = {
        c["command"]: c["description"] for c in api.visible_commands(anna, api.private_chat(anna))
    }
    assert private["melding"].startswith("meld een probleem")
    assert "wijkbudget" in private and "vergeetmij" in private
    english = {
        c["command"]: c["description"] for c in api.visible_commands(ben, api.private_chat(ben))
    }
    assert english["report"].startswith("report a problem")  # English names for English
    assert "forgetme" in english and "melding" not in english
    group = api.group(-100512, "Buurtapp", creator=anna)
    in_group = [c["command"] for c in api.visible_commands(anna, group)]
    assert "ideeen" in in_group and "vergeetmij" not in in_group  # nothing private in a group


async def test_group_linked_by_coordinator_and_refused_for_resident(tg: RunningBot) -> None:
    api = tg.api
    assert tg.app is not None
    await grant_coordinator(tg.settings, "telegram", "2001", "schalkwijk")
    coco = api.user(2001, "Coco", language_code="nl")
    bert = api.user(2002, "Bert", language_code="en")
    group = api.group(-100600, "Groen Schalkwijk", creator=coco)
    await api.set_member_status(group, bert, "member")
    await api.add_bot_to_group(group, coco)
    await tg.replies(group.id)
    await api.send_text(bert, group, "/koppel Schalkwijk")
    [refused] = await tg.replies(group.id)
    assert "Only a coordinator" in refused.plain_text
    await api.send_text(coco, group, "/koppel Schalkwijk vergroening")
    [linked] = await tg.replies(group.id)
    assert "gekoppeld aan Schalkwijk, thema Vergroening" in linked.plain_text
    async with tg.app.db.session() as s:
        channel = (await s.exec(select(Channel).where(Channel.chat_id == str(group.id)))).one()
        assert channel.neighbourhood_id is not None and channel.kind == "group"
    await api.remove_bot_from_group(group, coco)
    await asyncio.sleep(0)
    for _ in range(50):
        async with tg.app.db.session() as s:
            channel = (await s.exec(select(Channel).where(Channel.chat_id == str(group.id)))).one()
        if not channel.reachable:
            break
        await asyncio.sleep(0.05)
    assert channel.reachable is False


async def test_429_storm_is_honoured(tg: RunningBot) -> None:
    api = tg.api
    anna = api.user(1005, "Anna", language_code="en")
    dm = api.private_chat(anna)
    api.rate_limit_next("sendMessage", count=3, retry_after=1)
    await api.send_text(anna, dm, "/help")
    [reply] = await tg.replies(dm.id, within=10)
    assert "/idea" in reply.plain_text
    assert api.request_counts["sendMessage"] >= 4  # three refused, then delivered


async def test_blocked_user_is_marked_unreachable(tg: RunningBot) -> None:
    api = tg.api
    assert tg.app is not None
    await grant_coordinator(tg.settings, "telegram", "2001", "schalkwijk")
    anna = api.user(1006, "Anna", language_code="en")
    dm = api.private_chat(anna)
    await api.send_text(anna, dm, "melding: Kapotte lantaarnpaal")
    await tg.replies(dm.id)
    await api.send_text(anna, dm, "Kennemerplein")
    [skip] = await tg.replies(dm.id)
    await api.press_button(anna, skip, _data(skip, "Skip"))
    [hood] = await tg.replies(dm.id)
    await api.press_button(anna, hood, _data(hood, "Schalkwijk"))
    await tg.replies(dm.id)
    await api.block_bot(anna)
    coco = api.user(2001, "Coco", language_code="nl")
    coco_dm = api.private_chat(coco)
    await api.send_text(coco, coco_dm, "/status M-1001 opgelost Gerepareerd")
    [ok] = await tg.replies(coco_dm.id)
    assert "M-1001" in ok.plain_text  # the coordinator is not bothered by the block
    for _ in range(50):
        async with tg.app.db.session() as s:
            channel = (await s.exec(select(Channel).where(Channel.chat_id == str(dm.id)))).one()
        if not channel.reachable:
            break
        await asyncio.sleep(0.05)
    assert channel.reachable is False
    await api.send_text(coco, coco_dm, "/help")  # the bot still runs
    await tg.replies(coco_dm.id)


async def test_restart_neither_replays_nor_loses(tg: RunningBot) -> None:
    api = tg.api
    anna = api.user(1007, "Anna", language_code="en")
    dm = api.private_chat(anna)
    await api.send_text(anna, dm, "/idee")
    await tg.replies(dm.id)
    await tg.stop()
    await api.send_text(anna, dm, "Bankjes bij de vijver")  # arrives while the bot is down
    await tg.start()
    [reply] = await tg.replies(dm.id)
    assert "Tell a bit more" in reply.plain_text  # the dialog continued after the restart
    await asyncio.sleep(1.2)  # one more long-poll round: nothing is answered twice
    assert len([r for r in api.sent if r.chat_id == dm.id]) == 2
    assert tg.app is not None
    async with tg.app.db.session() as s:
        cursor = await s.get(SyncCursor, "telegram.123456789.update_id")
        assert cursor is not None and int(cursor.value) >= 2


async def test_webhook_mode_checks_the_secret(
    api,
    db_url: str,
    tmp_path,
    clock: FrozenClock,
) -> None:
    import socket

    import aiohttp

    from bot.config import Settings
    from tests.e2e.telegram.conftest import TOKEN

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings(
        database_url=db_url, data_dir=tmp_path, telegram_token=TOKEN,  # type: ignore[arg-type]
        telegram_base_url=api.base_url, telegram_base_file_url=api.base_file_url,
        telegram_webhook_url="https://wijkbot.invalid/telegram", telegram_webhook_port=port,
        telegram_webhook_secret="s3cret-for-tests",  # type: ignore[arg-type]
    )  # fmt: skip
    bot = RunningBot(api, settings, clock)
    bot.app = None
    from bot.adapters.telegram.adapter import TelegramAdapter
    from bot.app import App

    bot.app = App(settings, clock=clock)
    bot.adapter = TelegramAdapter(settings, bot.app.adapter_store)
    task = asyncio.create_task(bot.adapter.start(bot.app.dispatcher.feed_for(bot.adapter)))
    try:
        for _ in range(100):
            if api.webhook and api.webhook.get("url"):
                break
            await asyncio.sleep(0.05)
        assert api.webhook is not None and api.webhook["url"].endswith("/telegram")
        for _ in range(100):  # the webhook may be registered before its server listens
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            break
        anna = api.user(1010, "Anna", language_code="en")
        dm = api.private_chat(anna)
        await api.send_text(anna, dm, "/help")
        update = api.pending_updates[-1]
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{port}/telegram"
            bad = await http.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}
            )
            assert bad.status == 403
            good = await http.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-for-tests"}
            )
            assert good.status == 200
        [reply] = await bot.replies(dm.id)
        assert "/idea" in reply.plain_text
    finally:
        await bot.adapter.stop()
        await asyncio.wait_for(task, timeout=5)
        await bot.app.db.dispose()


async def test_a_week_old_cursor_is_not_trusted(tg: RunningBot) -> None:
    """After a week without updates Telegram may restart ids lower; an old cursor must not
    make the bot deaf."""
    from datetime import timedelta

    api = tg.api
    await tg.stop()
    assert tg.settings.database_url is not None
    from storage.db import Database

    db = Database(tg.settings.database_url)
    async with db.transaction() as s:
        s.add(
            SyncCursor(
                key="telegram.123456789.update_id",
                value="815000000",
                updated_at=tg.clock.now() - timedelta(days=8),  # the app's clock, not the wall's
            )
        )
    await db.dispose()
    anna = api.user(1011, "Anna", language_code="en")
    dm = api.private_chat(anna)
    await api.send_text(anna, dm, "/help")
    await tg.start()
    [reply] = await tg.replies(dm.id)
    assert "/idea" in reply.plain_text


async def test_a_file_is_sent_as_a_document_with_its_caption(tg: RunningBot) -> None:
    api = tg.api
    anna = api.user(1010, "Anna", language_code="en")
    dm = api.private_chat(anna)
    await api.send_text(anna, dm, "/start")
    await tg.replies(dm.id)
    assert tg.adapter is not None
    pb = b"META\nkey;value\nbudget;70000\n"
    reply = Reply("The anonymous ballots, as a Pabulib file.", document=Document("W-1.pb", pb))
    await tg.adapter.send(ChatRef("telegram", str(dm.id), "direct"), reply)
    [sent] = await api.wait_for_sent(lambda r: r.method == "sendDocument", count=1)
    assert sent.chat_id == dm.id and "Pabulib file" in sent.plain_text
    assert sent.message["document"]["file_name"] == "W-1.pb"
    assert api._files[sent.message["document"]["file_id"]].data == pb  # what Telegram keeps
