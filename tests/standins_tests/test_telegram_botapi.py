"""The Telegram Bot API stand-in, driven by python-telegram-bot itself.

PTB parses every response strictly (missing required fields raise), so each test that
goes through ``telegram.Bot`` or an ``Application`` also checks the response shapes.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import aiohttp.web
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChatMember,
    CallbackQuery,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from tests.standins.telegram_botapi import BotApiStandIn, FloodLimits, tiny_png

TOKEN = "123456789:AAF-standin_test_token"
BOT_NAME = "WijkbotTestBot"


@pytest.fixture
async def api() -> AsyncIterator[BotApiStandIn]:
    async with BotApiStandIn(token=TOKEN, bot_username=BOT_NAME) as stand_in:
        yield stand_in
        assert stand_in.server_errors == []


@pytest.fixture
async def bot(api: BotApiStandIn) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as client:
        yield client


@contextlib.asynccontextmanager
async def running_app(
    api: BotApiStandIn, *handlers: BaseHandler[Update, ContextTypes.DEFAULT_TYPE, object]
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    for handler in handlers:
        app.add_handler(handler)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=5)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


# ---------------------------------------------------------------------- bot identity, auth


async def test_get_me(bot: Bot, api: BotApiStandIn) -> None:
    me = await bot.get_me()
    assert me.is_bot
    assert me.id == 123456789
    assert me.username == BOT_NAME
    assert me.can_join_groups is True
    assert me.can_read_all_group_messages is False  # privacy mode is on by default
    assert me.supports_inline_queries is False
    assert bot.username == BOT_NAME
    assert api.request_counts["getMe"] >= 1


async def test_wrong_or_malformed_token_is_invalid_token(api: BotApiStandIn) -> None:
    for token in ("123456789:wrong_secret", "not-a-token"):
        other = Bot(token, base_url=api.base_url, base_file_url=api.base_file_url)
        with pytest.raises(InvalidToken):
            await other.initialize()
        await other.shutdown()


async def test_unknown_method_answers_404_in_bot_api_shape(api: BotApiStandIn, bot: Bot) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{api.base_url}{TOKEN}/noSuchMethod", json={}) as response,
    ):
        assert response.status == 404
        assert await response.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found",
        }
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")


async def test_form_and_json_bodies_and_case_insensitive_methods(api: BotApiStandIn) -> None:
    alice = api.user(1001, "Alice")
    chat = api.private_chat(alice)
    async with aiohttp.ClientSession() as session:
        url = f"{api.base_url}{TOKEN}"
        async with session.post(f"{url}/sendmessage", data={"chat_id": "1001", "text": "1"}) as r:
            body = await r.json()
            assert body["ok"] is True
            assert body["result"]["text"] == "1"
        payload = {"chat_id": chat.id, "text": "json", "reply_markup": '{"inline_keyboard":[]}'}
        async with session.post(f"{url}/sendMessage", json=payload) as r:
            assert (await r.json())["result"]["message_id"] == 2
        async with session.get(f"{url}/getMe") as r:
            assert (await r.json())["result"]["is_bot"] is True


# ---------------------------------------------------------------------- getUpdates


async def test_get_updates_offset_confirms_and_drops(api: BotApiStandIn, bot: Bot) -> None:
    alice = api.user(1001, "Alice", "alice")
    chat = api.private_chat(alice)
    await api.send_text(alice, chat, "hallo")
    await api.send_text(alice, chat, "nog een")

    first = await bot.get_updates()
    assert [u.message.text for u in first if u.message] == ["hallo", "nog een"]
    assert first[0].message is not None
    assert first[0].message.from_user is not None
    assert first[0].message.from_user.language_code == "nl"
    assert first[0].message.date.tzinfo is not None
    assert abs(first[0].message.date.timestamp() - time.time()) < 5  # seconds, not ms

    again = await bot.get_updates()  # nothing confirmed yet: redelivered
    assert [u.update_id for u in again] == [u.update_id for u in first]

    rest = await bot.get_updates(offset=first[0].update_id + 1)
    assert [u.update_id for u in rest] == [first[1].update_id]
    assert await bot.get_updates(offset=first[1].update_id + 1, timeout=0) == ()
    assert api.pending_updates == []


async def test_get_updates_limit_and_negative_offset(api: BotApiStandIn, bot: Bot) -> None:
    alice = api.user(1001, "Alice")
    chat = api.private_chat(alice)
    for n in range(5):
        await api.send_text(alice, chat, f"m{n}")
    assert len(await bot.get_updates(limit=2)) == 2
    last_two = await bot.get_updates(offset=-2)
    assert [u.message.text for u in last_two if u.message] == ["m3", "m4"]
    assert len(api.pending_updates) == 2


async def test_long_poll_returns_promptly_when_update_arrives(api: BotApiStandIn, bot: Bot) -> None:
    alice = api.user(1001, "Alice")
    chat = api.private_chat(alice)
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    assert not poll.done()
    await api.send_text(alice, chat, "wake up")
    updates = await asyncio.wait_for(poll, 1.0)
    assert [u.message.text for u in updates if u.message] == ["wake up"]
    assert time.monotonic() - started < 1.0


async def test_long_poll_waits_for_timeout_when_idle(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=dtm.timedelta(seconds=0.3)) == ()
    assert 0.25 <= time.monotonic() - started < 1.0


async def test_new_get_updates_terminates_pending_one(api: BotApiStandIn, bot: Bot) -> None:
    pending = asyncio.create_task(bot.get_updates(timeout=5))
    await api.wait_until_polling(timeout=1.0)
    # a second bot instance (PTB's own getUpdates pool holds one connection)
    async with Bot(TOKEN, base_url=api.base_url) as second:
        assert await second.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates"):
        await asyncio.wait_for(pending, 1.0)


async def test_allowed_updates_filters_new_updates(api: BotApiStandIn, bot: Bot) -> None:
    alice = api.user(1001, "Alice")
    chat = api.private_chat(alice)
    await bot.get_updates(timeout=0, allowed_updates=["callback_query"])
    await api.send_text(alice, chat, "not wanted")
    assert api.pending_updates == []
    await bot.get_updates(timeout=0, allowed_updates=[])  # back to the default set
    await api.send_text(alice, chat, "wanted")
    assert len(api.pending_updates) == 1


async def test_webhook_blocks_get_updates(api: BotApiStandIn, bot: Bot) -> None:
    assert await bot.set_webhook("https://bot.example.invalid/hook")
    assert (api.webhook or {}).get("url") == "https://bot.example.invalid/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert api.webhook is None
    assert await bot.get_updates() == ()


async def test_webhook_delivery_keeps_an_update_until_the_bot_says_2xx(
    api: BotApiStandIn, bot: Bot
) -> None:
    """As Telegram: the secret token in a header, one update at a time and in order, and an
    update sent again after any answer other than 2xx."""
    answers = [503, 200, 200]
    seen: list[tuple[int, str]] = []

    async def hook(request: aiohttp.web.Request) -> aiohttp.web.Response:
        data = await request.json()
        seen.append((data["update_id"], request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")))
        return aiohttp.web.Response(status=answers.pop(0))

    server = aiohttp.web.Application()
    server.router.add_post("/hook", hook)
    runner = aiohttp.web.AppRunner(server)
    await runner.setup()
    site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        assert await bot.set_webhook("https://bot.example.invalid/hook", secret_token="s3cret")
        sender = api.deliver_webhooks(f"http://127.0.0.1:{port}/hook", retry_after=0.05)
        alice = api.user(1001, "Alice")
        chat = api.private_chat(alice)
        first = await api.send_text(alice, chat, "one")
        second = await api.send_text(alice, chat, "two")
        for _ in range(100):
            if not api.pending_updates:
                break
            await asyncio.sleep(0.02)
        assert api.pending_updates == []
        assert seen == [
            (first.update_id, "s3cret"), (first.update_id, "s3cret"), (second.update_id, "s3cret")
        ]  # fmt: skip
        assert sender.statuses(first.update_id) == [503, 200]
    finally:
        await runner.cleanup()


# ---------------------------------------------------------------------- sending, editing


async def test_send_message_html_with_inline_keyboard(api: BotApiStandIn, bot: Bot) -> None:
    alice = api.user(1001, "Alice")
    chat = api.private_chat(alice)
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Ja", callback_data="vote:yes")],
            [InlineKeyboardButton("Nee", callback_data="vote:no")],
        ]
    )
    text = "<b>Idee</b> &amp; <i>plan</i> 🏠 <a href='https://wijk.example/1'>link</a>"
    message = await bot.send_message(chat.id, text, parse_mode="HTML", reply_markup=keyboard)

    assert message.text == "Idee & plan 🏠 link"
    assert message.from_user is not None and message.from_user.is_bot
    assert message.reply_markup == keyboard
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        (MessageEntity.BOLD, 0, 4),
        (MessageEntity.ITALIC, 7, 4),
        (MessageEntity.TEXT_LINK, 15, 4),  # the emoji counts as 2 UTF-16 units
    ]
    assert message.parse_entity(message.entities[2]) == "link"
    assert message.entities[2].url == "https://wijk.example/1"

    [record] = await api.wait_for_sent()
    assert record.method == "sendMessage"
    assert record.text == text
    assert record.plain_text == "Idee & plan 🏠 link"
    assert record.parse_mode == "HTML"
    assert record.callback_data == ["vote:yes", "vote:no"]
    assert record.button("Nee")["callback_data"] == "vote:no"
    second = await bot.send_message(chat.id, "twee")
    assert (message.message_id, second.message_id) == (1, 2)
    assert [m.text for m in api.messages_in(chat)] == ["Idee & plan 🏠 link", "twee"]


async def test_reply_parameters(api: BotApiStandIn, bot: Bot) -> None:
    alice = api.user(1001, "Alice")
    chat = api.private_chat(alice)
    question = await api.send_text(alice, chat, "Wanneer is de vergadering?")
    reply = await bot.send_message(
        chat.id, "Dinsdag", reply_parameters=ReplyParameters(question.message_id)
    )
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.text == "Wanneer is de vergadering?"
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(chat.id, "x", reply_parameters=ReplyParameters(999))
    tolerant = ReplyParameters(999, allow_sending_without_reply=True)
    assert (
        await bot.send_message(chat.id, "x", reply_parameters=tolerant)
    ).reply_to_message is None


async def test_edit_message_text_and_reply_markup(api: BotApiStandIn, bot: Bot) -> None:
    chat = api.private_chat(api.user(1001, "Alice"))
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]])
    sent = await bot.send_message(chat.id, "Stem nu", reply_markup=keyboard)

    edited = await bot.edit_message_text(
        "Stem <b>nu</b>", chat.id, sent.message_id, parse_mode="HTML", reply_markup=keyboard
    )
    assert not isinstance(edited, bool)
    assert edited.text == "Stem nu"
    assert edited.edit_date is not None
    assert edited.reply_markup == keyboard
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "Stem <b>nu</b>", chat.id, sent.message_id, parse_mode="HTML", reply_markup=keyboard
        )
    without_markup = await bot.edit_message_reply_markup(chat.id, sent.message_id)
    assert not isinstance(without_markup, bool)
    assert without_markup.reply_markup is None
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat.id, 999)
    assert [r.method for r in api.sent] == [
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
    ]


# ---------------------------------------------------------------------- errors


async def test_message_too_long_and_empty(api: BotApiStandIn, bot: Bot) -> None:
    chat = api.private_chat(api.user(1001, "Alice"))
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(chat.id, "x" * 4097)
    assert (await bot.send_message(chat.id, "x" * 4096)).text == "x" * 4096
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(chat.id, "   ")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(chat.id, "<b></b>", parse_mode="HTML")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("a <foo>b</foo>", 'Unsupported start tag "foo" at byte offset 2'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("score < 5", 'Unsupported start tag "" at byte offset 6'),
        ("é <b", "Unclosed start tag at byte offset 3"),
    ],
)
async def test_bad_html_is_bad_request(
    api: BotApiStandIn, bot: Bot, text: str, problem: str
) -> None:
    chat = api.private_chat(api.user(1001, "Alice"))
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(chat.id, text, parse_mode="HTML")
    assert caught.value.message == f"Can't parse entities: {problem}".capitalize()
    assert api.request_log[-1].description == f"Bad Request: can't parse entities: {problem}"
    assert api.sent == []


async def test_callback_data_over_64_bytes_is_rejected(api: BotApiStandIn, bot: Bot) -> None:
    chat = api.private_chat(api.user(1001, "Alice"))
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 33)]])
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(chat.id, "kies", reply_markup=keyboard)


async def test_rate_limit_raises_retry_after(
    api: BotApiStandIn, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    chat = api.private_chat(api.user(1001, "Alice"))
    api.rate_limit_next("sendMessage", retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(chat.id, "hallo")
    assert caught.value.retry_after == dtm.timedelta(seconds=7)
    assert api.request_log[-1].status == 429
    assert (await bot.send_message(chat.id, "hallo")).text == "hallo"
    api.fail_next(error_code=502, description="Bad Gateway")
    with pytest.raises(Exception, match="Bad Gateway"):
        await bot.get_me()


async def test_flood_limits_with_fake_clock(
    api: BotApiStandIn, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    now = [1000.0]
    api.enable_flood_limits(FloodLimits(per_group=(3, 60.0)), clock=lambda: now[0])
    alice = api.user(1001, "Alice")
    chat = api.private_chat(alice)
    group = api.group(-1001234567890, "Wijk Noord")
    await api.add_bot_to_group(group, alice)
    await bot.send_message(chat.id, "1")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(chat.id, "2")
    assert caught.value.retry_after == dtm.timedelta(seconds=1)
    now[0] += 1.0
    await bot.send_message(chat.id, "2")
    for _ in range(3):
        now[0] += 1.0
        await bot.send_message(group.id, "groep")
    now[0] += 1.0
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(group.id, "te veel")
    assert caught.value.retry_after == dtm.timedelta(seconds=57)
    api.disable_flood_limits()
    await bot.send_message(group.id, "weer goed")


async def test_blocked_user_and_kicked_bot_are_forbidden(api: BotApiStandIn, bot: Bot) -> None:
    alice = api.user(1001, "Alice")
    chat = api.private_chat(alice)
    await api.block_bot(alice)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(chat.id, "hallo")
    group = api.group(-1001234567890, "Wijk Noord")
    await api.add_bot_to_group(group, alice)
    await bot.send_message(group.id, "hoi groep")
    await api.remove_bot_from_group(group, alice)
    with pytest.raises(Forbidden, match="bot was kicked from the supergroup chat"):
        await bot.send_message(group.id, "hallo?")

    updates = await bot.get_updates()
    member_updates = [u.my_chat_member for u in updates if u.my_chat_member]
    assert [(m.old_chat_member.status, m.new_chat_member.status) for m in member_updates] == [
        (ChatMember.MEMBER, ChatMember.BANNED),  # blocked in private
        (ChatMember.LEFT, ChatMember.MEMBER),  # added to the group
        (ChatMember.MEMBER, ChatMember.BANNED),  # kicked from the group
    ]
    joined = [u.message for u in updates if u.message and u.message.new_chat_members]
    assert joined[0].new_chat_members[0].username == BOT_NAME

    await api.send_text(alice, chat, "/start")  # restarting unblocks
    assert (await bot.send_message(chat.id, "welkom terug")).text == "welkom terug"


# ---------------------------------------------------------------------- chats


async def test_set_my_commands_with_scopes_and_languages(api: BotApiStandIn, bot: Bot) -> None:
    alice = api.user(1001, "Alice", language_code="nl")
    bob = api.user(1002, "Bob", language_code="en")
    group = api.group(-1001234567890, "Wijk Noord")
    await api.add_bot_to_group(group, alice)

    assert await bot.set_my_commands([BotCommand("start", "Begin")])
    assert await bot.set_my_commands(
        [BotCommand("idee", "Nieuw idee"), BotCommand("help", "Hulp")],
        scope=BotCommandScopeAllPrivateChats(),
        language_code="nl",
    )
    assert await bot.set_my_commands(
        [BotCommand("stem", "Stemmen")], scope=BotCommandScopeAllGroupChats()
    )
    assert await bot.set_my_commands(
        [BotCommand("beheer", "Beheer")], scope=BotCommandScopeChatMember(group.id, alice.id)
    )

    commands = api.commands  # what getMyCommands would answer, read from the stand-in
    assert [c["command"] for c in commands[("default", "")]] == ["start"]
    assert [c["command"] for c in commands[("all_private_chats", "nl")]] == ["idee", "help"]
    assert ("all_private_chats", "") not in commands
    assert set(api.commands) == {
        ("default", ""),
        ("all_private_chats", "nl"),
        ("all_group_chats", ""),
        (f"chat_member:{group.id}:{alice.id}", ""),
    }

    def names(user_chat: tuple[object, object]) -> list[str]:
        user, chat = user_chat
        return [c["command"] for c in api.visible_commands(user, chat)]  # type: ignore[arg-type]

    assert names((alice, api.private_chat(alice))) == ["idee", "help"]
    assert names((bob, api.private_chat(bob))) == ["start"]
    assert names((alice, group)) == ["beheer"]
    assert names((bob, group)) == ["stem"]

    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start", "hoofdletter")])


# ---------------------------------------------------------------------- media


async def test_photo_get_file_and_download(api: BotApiStandIn, bot: Bot) -> None:
    alice = api.user(1001, "Alice")
    chat = api.private_chat(alice)
    image = tiny_png(8, 6)
    sent = await api.send_photo(alice, chat, caption="Kapotte lantaarn /meld", data=image)
    [update] = await bot.get_updates()
    assert update.message is not None
    photo = update.message.photo
    assert len(photo) >= 3
    assert photo[-1].width == 1600 and photo[-1].height == 1200
    assert photo[0].width == 90
    assert update.message.caption == "Kapotte lantaarn /meld"
    assert update.message.caption_entities[0].type == MessageEntity.BOT_COMMAND
    assert update.message.message_id == sent.message_id

    file = await bot.get_file(photo[-1].file_id)
    assert file.file_path is not None and file.file_path.startswith(api.base_file_url)
    assert bytes(await file.download_as_bytearray()) == image
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("no-such-file")

    uploaded = await bot.send_photo(
        chat.id, tiny_png(640, 480), caption="<b>Gemeld</b>", parse_mode="HTML"
    )
    assert uploaded.photo[-1].width == 640
    assert uploaded.caption == "Gemeld"
    again = await bot.send_photo(chat.id, uploaded.photo[-1].file_id)
    assert again.photo[-1].file_id == uploaded.photo[-1].file_id
    with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
        await bot.send_photo(chat.id, b"not an image")
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(chat.id, "AgACunknown")


# ---------------------------------------------------------------------- Application


async def test_command_with_bot_name_reaches_command_handler(api: BotApiStandIn) -> None:
    seen: list[tuple[str, list[str]]] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_chat is not None
        seen.append((update.effective_message.text or "", list(context.args or [])))
        await context.bot.send_message(update.effective_chat.id, "Welkom!")

    alice = api.user(1001, "Alice")
    group = api.group(-1001234567890, "Wijk Noord")
    await api.add_bot_to_group(group, alice)
    async with running_app(api, CommandHandler("start", start)):
        other = await api.send_text(alice, group, "/start@OtherBot")
        assert other.update_id is None  # privacy mode: not for this bot
        chatter = await api.send_text(alice, group, "gewoon een bericht")
        assert chatter.update_id is None
        message = await api.send_text(alice, group, f"/start@{BOT_NAME} noord")
        assert message.data["entities"] == [
            {"offset": 0, "length": len(f"/start@{BOT_NAME}"), "type": "bot_command"}
        ]
        [reply] = await api.wait_for_sent(lambda r: r.chat_id == group.id)
        assert reply.text == "Welkom!"
    assert seen == [(f"/start@{BOT_NAME} noord", ["noord"])]


async def test_callback_query_round_trip(api: BotApiStandIn) -> None:
    async def show(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("👍", callback_data="like:7")]])
        await context.bot.send_message(update.effective_chat.id, "Idee 7", reply_markup=keyboard)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert isinstance(query, CallbackQuery)
        assert query.chat_instance
        assert query.message is not None
        await query.answer("Bedankt!")
        await query.edit_message_text(f"Idee 7 – gestemd ({query.data})")

    alice = api.user(1001, "Alice")
    chat = api.private_chat(alice)
    async with running_app(api, CommandHandler("idee", show), CallbackQueryHandler(pressed)):
        await api.send_text(alice, chat, "/idee")
        [shown] = await api.wait_for_sent()
        await api.press_button(alice, shown, "like:7")
        [edited] = await api.wait_for_sent(lambda r: r.method == "editMessageText")
    assert edited.message_id == shown.message_id
    assert edited.plain_text == "Idee 7 – gestemd (like:7)"
    assert edited.reply_markup is None
    [answer] = api.callback_answers
    assert answer.text == "Bedankt!"
    assert answer.query["data"] == "like:7"
    with pytest.raises(ValueError, match="no button"):
        await api.press_button(alice, shown, "like:7")  # keyboard is gone after the edit


async def test_wait_for_sent_times_out_with_context(api: BotApiStandIn, bot: Bot) -> None:
    chat = api.private_chat(api.user(1001, "Alice"))
    with pytest.raises(BadRequest):
        await bot.send_message(chat.id, "<b>", parse_mode="HTML")
    with pytest.raises(TimeoutError, match="can't parse entities"):
        await api.wait_for_sent(timeout=0.05)


# ---------------------------------------------------------------------- more behaviour


async def test_cannot_initiate_conversation_and_unknown_chat(api: BotApiStandIn, bot: Bot) -> None:
    stranger = api.user(1009, "Stranger")
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(stranger.id, "hallo")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "hallo")


async def test_privacy_mode_off_and_admin_bot_see_all_group_messages() -> None:
    async with BotApiStandIn(token=TOKEN, privacy_mode=False) as open_api:
        alice = open_api.user(1001, "Alice")
        group = open_api.group(-1001, "Oud", type="group")
        await open_api.add_bot_to_group(group, alice)
        assert (await open_api.send_text(alice, group, "praatje")).update_id is not None
    async with BotApiStandIn(token=TOKEN) as api:
        alice = api.user(1001, "Alice")
        group = api.group(-1001, "Oud", type="group")
        await api.add_bot_to_group(group, alice, as_admin=True)
        assert (await api.send_text(alice, group, "praatje")).update_id is not None
        await api.set_member_status(group, api.bot_user, "member")
        assert (await api.send_text(alice, group, "praatje")).update_id is None
        reply_to_bot = await api.send_text(alice, group, "/start")
        assert reply_to_bot.update_id is not None


async def test_answer_callback_query_once(api: BotApiStandIn, bot: Bot) -> None:
    alice = api.user(1001, "Alice")
    chat = api.private_chat(alice)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    await bot.send_message(chat.id, "kies", reply_markup=keyboard)
    [shown] = await api.wait_for_sent()
    query_id = await api.press_button(alice, shown, "a")
    [update] = await bot.get_updates()
    assert update.callback_query is not None and update.callback_query.id == query_id
    assert update.callback_query.message is not None
    assert update.callback_query.message.chat.id == chat.id
    assert await update.callback_query.answer("ok", show_alert=True)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await update.callback_query.answer()
    assert api.callback_answers[0].show_alert is True


async def test_user_edits_and_raw_updates(api: BotApiStandIn, bot: Bot) -> None:
    alice = api.user(1001, "Alice")
    chat = api.private_chat(alice)
    original = await api.send_text(alice, chat, "Typfout")
    await api.edit_text(alice, original, "Typo hersteld")
    await api.inject_update(
        "message_reaction",
        {
            "chat": chat.to_api(),
            "message_id": original.message_id,
            "user": alice.to_api(),
            "date": int(time.time()),
            "old_reaction": [],
            "new_reaction": [{"type": "emoji", "emoji": "👍"}],
        },
    )
    updates = await bot.get_updates()
    assert updates[-1].edited_message is not None
    assert updates[-1].edited_message.text == "Typo hersteld"
    await bot.get_updates(offset=updates[-1].update_id + 1, allowed_updates=["message_reaction"])
    await api.inject_update(
        "message_reaction",
        {
            "chat": chat.to_api(),
            "message_id": original.message_id,
            "user": alice.to_api(),
            "date": int(time.time()),
            "old_reaction": [],
            "new_reaction": [{"type": "emoji", "emoji": "👍"}],
        },
    )
    [reaction] = await bot.get_updates()
    assert reaction.message_reaction is not None
    assert api.request_counts["getUpdates"] == 3
