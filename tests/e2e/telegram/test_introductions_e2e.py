"""An introduction over real HTTP: after Anna accepts Bob's offer both are asked; a forged
"yes" from Carla and Anna's own "yes" share nothing; Bob's "yes" shares both @usernames."""

from __future__ import annotations

import pytest

from tests.e2e.telegram.conftest import RunningBot
from tests.standins.telegram_records import SentRecord, TgChat, TgUser

pytestmark = pytest.mark.e2e


def _data(record: SentRecord, label: str) -> str:
    return str(record.button(label)["callback_data"])


async def _resident(tg: RunningBot, user: TgUser) -> TgChat:
    dm = tg.api.private_chat(user)
    await tg.api.send_text(user, dm, "/wijk")
    [hood] = await tg.replies(dm.id)
    await tg.api.press_button(user, hood, _data(hood, "Schalkwijk"))
    await tg.replies(dm.id)
    return dm


async def test_introduced_only_after_both_said_yes(tg: RunningBot) -> None:
    api, app = tg.api, tg.app
    assert app is not None
    anna = api.user(5101, "Anna", username="anna_tuin", language_code="en")
    bob = api.user(5102, "Bob", username="bob_helpt", language_code="nl")
    carla = api.user(5103, "Carla", username="carla_c", language_code="en")
    anna_dm, bob_dm, carla_dm = [await _resident(tg, u) for u in (anna, bob, carla)]
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
    await app.flush_outbox()
    [ask_anna] = await api.wait_for_sent(
        lambda r: r.chat_id == anna_dm.id and "get in touch" in r.plain_text, since=0
    )
    assert "your Telegram name" in ask_anna.plain_text
    [ask_bob] = await api.wait_for_sent(
        lambda r: r.chat_id == bob_dm.id and "in contact komen" in r.plain_text, since=0
    )
    assert "je Telegram-naam" in ask_bob.plain_text

    # Carla forges Bob's "yes"; Anna says yes: nothing is shared yet.
    [carla_msg, *_] = await api.wait_for_sent(lambda r: r.chat_id == carla_dm.id, since=0)
    await api.press_button(carla, carla_msg, _data(ask_bob, "Ja"), check=False)
    await api.wait_for_sent(
        lambda r: r.chat_id == carla_dm.id and "not for you" in r.plain_text, since=0
    )
    await api.press_button(anna, ask_anna, _data(ask_anna, "Yes"))
    await api.wait_for_sent(
        lambda r: r.chat_id == anna_dm.id and "other person" in r.plain_text, since=0
    )
    await app.flush_outbox()
    handles = ("anna_tuin", "bob_helpt", "carla_c")
    assert not [r for r in api.sent if any(h in r.plain_text for h in handles)]

    await api.press_button(bob, ask_bob, _data(ask_bob, "Ja"))
    await api.wait_for_sent(lambda r: r.chat_id == bob_dm.id and "anna_tuin" in r.plain_text)
    await app.flush_outbox()
    [to_bob] = await api.wait_for_sent(
        lambda r: r.chat_id == bob_dm.id and "anna_tuin" in r.plain_text, since=0
    )
    assert "https://t.me/anna_tuin" in to_bob.plain_text and "bob_helpt" not in to_bob.plain_text
    [to_anna] = await api.wait_for_sent(
        lambda r: r.chat_id == anna_dm.id and "@bob_helpt" in r.plain_text, since=0
    )
    assert "anna_tuin" not in to_anna.plain_text
    assert not [r for r in api.sent if "carla_c" in r.plain_text]
