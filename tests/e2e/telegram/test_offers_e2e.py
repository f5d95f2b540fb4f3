""" "I'll help" over real HTTP: the button under /ideeen, the offer, a forged answer refused,
the batched news to the initiator and her Accept reaching the helper — never a handle."""

from __future__ import annotations

import pytest
from sqlmodel import select

from storage.models import IdeaOffer
from tests.e2e.telegram.conftest import RunningBot
from tests.standins.telegram_records import SentRecord

pytestmark = pytest.mark.e2e


def _data(record: SentRecord, label: str) -> str:
    return str(record.button(label)["callback_data"])


async def test_offer_help_from_the_ideas_list_and_get_an_answer(tg: RunningBot) -> None:
    api, app = tg.api, tg.app
    assert app is not None
    anna = api.user(5001, "Anna", username="anna_tuin", language_code="en")
    bob = api.user(5002, "Bob", username="bob_helpt", language_code="en")
    anna_dm, bob_dm = api.private_chat(anna), api.private_chat(bob)
    for user, dm in ((anna, anna_dm), (bob, bob_dm)):
        await api.send_text(user, dm, "/wijk")
        [hood] = await tg.replies(dm.id)
        await api.press_button(user, hood, _data(hood, "Schalkwijk"))
        await tg.replies(dm.id)
    await api.send_text(anna, anna_dm, "/idee Geveltuinen in de Amsterdamstraat")
    [confirm] = await tg.replies(anna_dm.id)
    await api.press_button(anna, confirm, _data(confirm, "Post"))
    await tg.replies(anna_dm.id)

    await api.send_text(bob, bob_dm, "/ideeen")
    [listing] = await tg.replies(bob_dm.id)
    await api.press_button(bob, listing, _data(listing, "I'll help I-1"))
    [what] = await tg.replies(bob_dm.id)
    assert "What can you offer" in what.plain_text
    await api.press_button(bob, what, _data(what, "Time"))
    [sure] = await tg.replies(bob_dm.id)
    await api.send_text(bob, bob_dm, "ik kan zaterdag")
    [sure] = await tg.replies(bob_dm.id)
    await api.press_button(bob, sure, _data(sure, "Send"))
    [thanks] = await tg.replies(bob_dm.id)
    assert "Thank you" in thanks.plain_text
    async with app.db.session() as s:
        offer = (await s.exec(select(IdeaOffer))).one()
    # Bob forges the initiator's Accept for his own offer: refused, nothing changes.
    await api.press_button(bob, thanks, f"oa:accept:{offer.id}", check=False)
    [refused] = await tg.replies(bob_dm.id)
    assert "only the person who shared the idea" in refused.plain_text

    await app.run_jobs_now()
    [news] = await api.wait_for_sent(
        lambda r: r.chat_id == anna_dm.id and "wants to help" in r.plain_text, since=0
    )
    assert "time, “ik kan zaterdag”" in news.plain_text
    assert "bob" not in news.plain_text.lower()  # neither his name nor his @username
    await api.press_button(anna, news, _data(news, "Accept 1"))
    await app.flush_outbox()
    [yes] = await api.wait_for_sent(
        lambda r: r.chat_id == bob_dm.id and "said yes" in r.plain_text, since=0
    )
    assert "anna" not in yes.plain_text.lower()
    async with app.db.session() as s:
        assert (await s.exec(select(IdeaOffer.status))).one() == "accepted"
