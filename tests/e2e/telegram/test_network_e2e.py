"""#13 "Done when" on Telegram over real HTTP (the Bot API stand-in), one conversation: A
posts an idea; B and C offer help; A accepts B and declines C; A and B get each other's
@username only after both said yes; the initiative gets a group (/koppel, a one-person
link); A marks it done and a supporter is told; a partner answers as its organisation; an
event collects "I'm coming" and the own reminder goes only to those coming."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from bot.ops.admin import add_partner, grant_coordinator
from tests.e2e.telegram.conftest import RunningBot
from tests.standins.telegram_records import SentRecord, TgChat, TgUser

pytestmark = pytest.mark.e2e
ORG = "Buurtwerk Haarlem"
HANDLES = ("anna_tuin", "bob_helpt", "carla_c")


def _data(record: SentRecord, label: str) -> str:
    return str(record.button(label)["callback_data"])


async def _resident(tg: RunningBot, user: TgUser) -> TgChat:
    dm = tg.api.private_chat(user)
    await tg.api.send_text(user, dm, "/wijk")
    [hood] = await tg.replies(dm.id)
    await tg.api.press_button(user, hood, _data(hood, "Schalkwijk"))
    await tg.replies(dm.id)
    return dm


async def test_the_whole_network_on_telegram(tg: RunningBot) -> None:
    api, app = tg.api, tg.app
    assert app is not None
    api.wall_clock = lambda: tg.clock.now().timestamp()  # links expire by the bot's clock

    def seen(chat: TgChat, text: str) -> Callable[[SentRecord], bool]:
        return lambda r: r.chat_id == chat.id and text in r.plain_text

    await grant_coordinator(tg.settings, "telegram", "2001", "schalkwijk")
    coco = api.user(2001, "Coco", language_code="nl")
    anna = api.user(5101, "Anna", username="anna_tuin", language_code="en")
    bob = api.user(5102, "Bob", username="bob_helpt", language_code="en")
    carla = api.user(5103, "Carla", username="carla_c", language_code="en")
    dave = api.user(5104, "Dave", language_code="en")
    wim = api.user(5105, "Wim", language_code="en")
    coco_dm = api.private_chat(coco)
    anna_dm, bob_dm, carla_dm, dave_dm, wim_dm = [
        await _resident(tg, u) for u in (anna, bob, carla, dave, wim)
    ]
    await add_partner(tg.settings, "telegram", "5105", "schalkwijk", ORG, ["vergroening"], [])

    # A posts an idea of the theme Greening.
    await api.send_text(anna, anna_dm, "/idee")
    await tg.replies(anna_dm.id)
    await api.send_text(anna, anna_dm, "Geveltuinen in de Amsterdamstraat")
    await tg.replies(anna_dm.id)
    await api.send_text(anna, anna_dm, "Wie doet mee?")
    [theme] = await tg.replies(anna_dm.id)
    await api.press_button(anna, theme, _data(theme, "Greening"))
    [confirm] = await tg.replies(anna_dm.id)
    await api.press_button(anna, confirm, _data(confirm, "Post"))
    await tg.replies(anna_dm.id)

    # B and C offer help; D supports the idea.
    for user, dm, words in ((bob, bob_dm, "ik kan zaterdag"), (carla, carla_dm, "gereedschap")):
        await api.send_text(user, dm, "/ideeen")
        [listing] = await tg.replies(dm.id)
        await api.press_button(user, listing, _data(listing, "I'll help I-1"))
        await tg.replies(dm.id)
        await api.send_text(user, dm, words)
        [sure] = await tg.replies(dm.id)
        await api.press_button(user, sure, _data(sure, "Send"))
        await tg.replies(dm.id)
    await api.send_text(dave, dave_dm, "/ideeen")
    [listing] = await tg.replies(dave_dm.id)
    await api.press_button(dave, listing, _data(listing, "Support I-1"))
    await tg.replies(dave_dm.id)

    # The partner hears of it and answers as its organisation.
    await app.run_jobs_now()
    await app.flush_outbox()
    [partner_news] = await api.wait_for_sent(seen(wim_dm, ORG), since=0)
    await api.press_button(wim, partner_news, _data(partner_news, "We can help with I-1"))
    await api.wait_for_sent(seen(wim_dm, f"{ORG} wants to help"), since=0)
    await app.flush_outbox()
    await api.wait_for_sent(seen(anna_dm, f"{ORG} wants to help with your idea I-1"), since=0)

    # A accepts B and declines C; handles are shared only after both said yes.
    await api.send_text(anna, anna_dm, "/mijnideeen")
    [mine] = await api.wait_for_sent(seen(anna_dm, "Your ideas"))
    assert f"{ORG} wants to help" in mine.plain_text and "Bob" not in mine.plain_text
    await api.press_button(anna, mine, _data(mine, "Accept 1"))
    await api.wait_for_sent(seen(anna_dm, "said yes"))
    await api.press_button(anna, mine, _data(mine, "Decline 2"))
    await app.flush_outbox()
    [ask_anna] = await api.wait_for_sent(seen(anna_dm, "get in touch"), since=0)
    [ask_bob] = await api.wait_for_sent(seen(bob_dm, "get in touch"), since=0)
    await api.press_button(anna, ask_anna, _data(ask_anna, "Yes"))
    await api.wait_for_sent(seen(anna_dm, "other person"), since=0)
    await app.flush_outbox()
    assert not [r for r in api.sent if any(h in r.plain_text for h in HANDLES)]
    await api.press_button(bob, ask_bob, _data(ask_bob, "Yes"))
    await app.flush_outbox()
    await api.wait_for_sent(seen(bob_dm, "@anna_tuin"), since=0)
    await api.wait_for_sent(seen(anna_dm, "@bob_helpt"), since=0)
    assert not [r for r in api.sent if "carla_c" in r.plain_text or (
        r.chat_id == carla_dm.id and "anna_tuin" in r.plain_text)]  # fmt: skip

    # The initiative gets a group: B gets a one-person link, C nothing.
    await api.send_text(anna, anna_dm, "/mijnideeen")
    [mine] = await api.wait_for_sent(seen(anna_dm, "Your ideas"))
    await api.press_button(anna, mine, _data(mine, "Start an initiative I-1"))
    await api.wait_for_sent(seen(anna_dm, "now an initiative"))
    group = api.group(-100900, "Team geveltuinen", creator=anna)
    await api.add_bot_to_group(group, anna, as_admin=True)
    await tg.replies(group.id)
    await api.send_text(anna, group, "/koppel I-1")
    [linked] = await tg.replies(group.id)
    assert "group of I-1" in linked.plain_text
    [made] = api.invite_links(group)
    await app.flush_outbox()
    await api.wait_for_sent(seen(bob_dm, str(made["invite_link"])), since=0)
    assert (await api.join_by_link(bob, str(made["invite_link"]))).id == group.id
    assert not [r for r in api.sent if r.chat_id == carla_dm.id and "t.me/+" in r.plain_text]

    # A marks it done: the supporter is told.
    await api.send_text(anna, anna_dm, "/mijnideeen")
    [mine] = await api.wait_for_sent(seen(anna_dm, "Your ideas"))
    await api.press_button(anna, mine, _data(mine, "Mark I-1 done"))
    await api.wait_for_sent(seen(anna_dm, "What did you do"))
    await api.send_text(anna, anna_dm, "We plantten 12 geveltuinen")
    [photo_q] = await api.wait_for_sent(seen(anna_dm, "photo"))
    await api.press_button(anna, photo_q, _data(photo_q, "Skip"))
    await api.wait_for_sent(seen(anna_dm, "Congratulations"))
    await app.flush_outbox()
    await api.wait_for_sent(seen(dave_dm, "You supported I-1"), since=0)

    # An event: B says "I'm coming"; only B gets the own reminder.
    await api.send_text(coco, coco_dm, "/aankondiging Plantjesmarkt op het Kennemerplein")
    [photo] = await tg.replies(coco_dm.id)
    await api.press_button(coco, photo, _data(photo, "Geen foto"))
    await tg.replies(coco_dm.id)
    await api.send_text(coco, coco_dm, "28-11 14:00")  # it is the 26th, 19:00
    [place] = await tg.replies(coco_dm.id)
    await api.press_button(coco, place, _data(place, "Overslaan"))
    [step] = await tg.replies(coco_dm.id)
    if "iedereen in Schalkwijk" in [b["text"] for row in step.reply_markup["inline_keyboard"]
                                    for b in row]:  # fmt: skip
        await api.press_button(coco, step, _data(step, "iedereen in Schalkwijk"))
        [step] = await tg.replies(coco_dm.id)
    await api.press_button(coco, step, _data(step, "Versturen"))
    await app.flush_outbox()
    [event] = await api.wait_for_sent(seen(bob_dm, "Plantjesmarkt"), since=0)
    await api.press_button(bob, event, _data(event, "I'm coming"))
    await api.wait_for_sent(seen(bob_dm, "you are coming to"), since=0)
    tg.clock.advance(timedelta(hours=41, minutes=5))  # the 28th, 12:05
    await app.run_jobs_now()
    await app.flush_outbox()
    await api.wait_for_sent(seen(bob_dm, "you said you would come"), since=0)
    for dm in (carla_dm, dave_dm, anna_dm):
        assert not [r for r in api.sent if r.chat_id == dm.id and "you said you would come" in
                    r.plain_text]  # fmt: skip
