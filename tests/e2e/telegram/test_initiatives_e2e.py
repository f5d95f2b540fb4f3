"""Initiatives on Telegram over real HTTP: the initiator starts one from /mijnideeen, makes
a group, adds the bot and types `/koppel I-1`; the accepted helper gets a one-person invite
link the Bot API made (createChatInviteLink) in their direct chat, and can join with it.
Someone else's `/koppel I-1` changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.telegram.conftest import RunningBot
from tests.standins.telegram_records import SentRecord

pytestmark = pytest.mark.e2e


def _data(record: SentRecord, label: str) -> str:
    return str(record.button(label)["callback_data"])


async def test_koppel_in_a_group_sends_the_helper_a_real_invite_link(tg: RunningBot) -> None:
    api, app = tg.api, tg.app
    assert app is not None
    api.wall_clock = lambda: tg.clock.now().timestamp()  # links expire by the bot's clock
    anna = api.user(5101, "Anna", username="anna_tuin", language_code="en")
    bob = api.user(5102, "Bob", username="bob_helpt", language_code="nl")
    anna_dm, bob_dm = api.private_chat(anna), api.private_chat(bob)
    for user, dm, hood_label in ((anna, anna_dm, "Schalkwijk"), (bob, bob_dm, "Schalkwijk")):
        await api.send_text(user, dm, "/wijk")
        [hood] = await tg.replies(dm.id)
        await api.press_button(user, hood, _data(hood, hood_label))
        await tg.replies(dm.id)
    await api.send_text(anna, anna_dm, "/idee Geveltuinen in de Amsterdamstraat")
    [confirm] = await tg.replies(anna_dm.id)
    await api.press_button(anna, confirm, _data(confirm, "Post"))
    await tg.replies(anna_dm.id)
    await api.send_text(bob, bob_dm, "/ideeen")
    [listing] = await tg.replies(bob_dm.id)
    await api.press_button(bob, listing, _data(listing, "Doe mee I-1"))
    await tg.replies(bob_dm.id)
    await api.send_text(bob, bob_dm, "ik kan zaterdag")
    [sure] = await tg.replies(bob_dm.id)
    await api.press_button(bob, sure, _data(sure, "Versturen"))
    await tg.replies(bob_dm.id)
    await app.run_jobs_now()
    [news] = await api.wait_for_sent(
        lambda r: r.chat_id == anna_dm.id and "wants to help" in r.plain_text, since=0
    )
    await api.press_button(anna, news, _data(news, "Accept 1"))
    await api.wait_for_sent(lambda r: r.chat_id == anna_dm.id and "said yes" in r.plain_text)

    await api.send_text(anna, anna_dm, "/mijnideeen")
    [mine] = await api.wait_for_sent(
        lambda r: r.chat_id == anna_dm.id and "Your ideas" in r.plain_text
    )
    await api.press_button(anna, mine, _data(mine, "Start an initiative I-1"))
    [started] = await api.wait_for_sent(
        lambda r: r.chat_id == anna_dm.id and "now an initiative" in r.plain_text
    )
    assert "/link I-1" in started.plain_text

    group = api.group(-100900, "Team geveltuinen", creator=anna)
    await api.add_bot_to_group(group, anna, as_admin=True)
    await tg.replies(group.id)
    carla = api.user(5103, "Carla", language_code="nl")
    await api.send_text(carla, group, "/koppel I-1")  # not her initiative
    [refused] = await tg.replies(group.id)
    assert "Alleen de persoon die I-1 is begonnen" in refused.plain_text
    assert api.invite_links(group) == []

    await api.send_text(anna, group, "/koppel I-1")
    [linked] = await tg.replies(group.id)
    assert "group of I-1" in linked.plain_text and "1 helper" in linked.plain_text
    [made] = api.invite_links(group)
    assert made["member_limit"] == 1 and made["creator"]["id"] == api.bot_user.id
    week = tg.clock.now() + timedelta(days=7)
    assert made["expire_date"] == int(week.timestamp())
    await app.flush_outbox()
    [way_in] = await api.wait_for_sent(
        lambda r: r.chat_id == bob_dm.id and str(made["invite_link"]) in r.plain_text, since=0
    )
    assert "Je zit in het team" in way_in.plain_text  # in his language
    assert "De link werkt 7 dagen" in way_in.plain_text
    joined = await api.join_by_link(bob, str(made["invite_link"]))
    assert joined.id == group.id
