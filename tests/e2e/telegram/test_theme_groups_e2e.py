"""Theme groups on Telegram over real HTTP: following a theme offers its group; the bot
makes a one-person invite link (createChatInviteLink) only when asked, and welcomes the
newcomer by first name in the group only after their yes."""

from __future__ import annotations

import pytest

from bot.ops.admin import grant_coordinator
from tests.e2e.telegram.conftest import RunningBot
from tests.standins.telegram_records import SentRecord, TgChat, TgUser

pytestmark = pytest.mark.e2e


def _data(record: SentRecord, label: str) -> str:
    return str(record.button(label)["callback_data"])


async def _take_link(tg: RunningBot, user: TgUser, answer: str) -> str:
    """`user` follows Greening, takes the group's link and answers the welcome question."""
    api = tg.api
    dm = api.private_chat(user)
    await api.send_text(user, dm, "/wijk")
    [hood] = await tg.replies(dm.id)
    await api.press_button(user, hood, _data(hood, "Schalkwijk"))
    await tg.replies(dm.id)
    await api.send_text(user, dm, "/volg vergroening")
    [followed] = await tg.replies(dm.id)
    assert "group chat" in followed.plain_text
    await api.press_button(user, followed, _data(followed, "Join the group chat"))
    [ask] = await tg.replies(dm.id)
    assert "May I welcome you in the group with your first name?" in ask.plain_text
    await api.press_button(user, ask, _data(ask, answer))
    [way_in] = await tg.replies(dm.id)
    return str(way_in.button("Open the group chat")["url"])


async def test_invite_link_made_through_the_bot_api_and_a_welcome_only_after_yes(
    tg: RunningBot,
) -> None:
    api = tg.api
    await grant_coordinator(tg.settings, "telegram", "2001", "schalkwijk")
    coco = api.user(2001, "Coco", language_code="nl")
    group: TgChat = api.group(-100800, "Groen Schalkwijk", creator=coco)
    await api.add_bot_to_group(group, coco, as_admin=True)
    await tg.replies(group.id)
    await api.send_text(coco, group, "/koppel Schalkwijk vergroening")
    await tg.replies(group.id)
    assert api.invite_links(group) == []

    anna = api.user(3001, "Anna", language_code="en", last_name="de Vries")
    link = await _take_link(tg, anna, "Yes, welcome me")
    [made] = api.invite_links(group)
    assert made["invite_link"] == link and made["member_limit"] == 1
    assert made["creator"]["id"] == api.bot_user.id and made["is_revoked"] is False
    await api.join_by_link(anna, link)
    [welcome] = await tg.replies(group.id)
    assert welcome.plain_text.startswith("Welcome, Anna!") and "de Vries" not in welcome.plain_text

    bert = api.user(3002, "Bert", language_code="en")
    other = await _take_link(tg, bert, "No thanks")
    assert other != link and len(api.invite_links(group)) == 2
    await api.join_by_link(bert, other)
    await api.send_text(coco, group, "/help")  # something the bot does answer, after the join
    [after] = await tg.replies(group.id)
    assert "Bert" not in after.plain_text
    assert not any("Bert" in m.plain_text for m in api.sent if m.chat_id == group.id)
