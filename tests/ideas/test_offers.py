""" "I'll help": one offer per person per idea, batched news to the initiator, an answer
back to the helper; never the helper's name or handle (introductions come later)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.services.digests import send_digests
from storage.models import IdeaOffer
from tests.support.fake import Chat, FakeAdapter, MakeChat


async def _resident(make_chat: MakeChat, name: str, lang: str = "en") -> Chat:
    chat: Chat = make_chat(name, lang=lang)
    await chat.say("/wijk")
    await chat.press("Schalkwijk")
    return chat


async def _anna_with_idea(make_chat: MakeChat) -> Chat:
    anna = await _resident(make_chat, "anna")
    await anna.say("/idee Geveltuinen in de Amsterdamstraat")
    await anna.press("Post")
    return anna


async def _offers(app: App) -> list[IdeaOffer]:
    async with app.db.session() as s:
        return list((await s.exec(select(IdeaOffer).order_by(IdeaOffer.id))).all())


def _news(adapter: FakeAdapter, chat: str) -> list[str]:
    return [s.text for s in adapter.in_chat(chat) if "wants to help" in s.text]


async def test_forged_and_stale_offer_buttons_are_refused(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    anna = await _anna_with_idea(make_chat)
    [listing] = await anna.say("/ideeen")
    assert "Support I-1" in listing.labels and "I'll help I-1" not in listing.labels
    [own] = await anna.press_data("oh:1")
    assert "your own idea" in own.text and "Cancel" not in own.labels
    bob = await _resident(make_chat, "bob")
    [gone] = await bob.press_data("oh:99")
    assert "no longer exists" in gone.text
    [damaged] = await bob.press_data("oh:x")
    assert "no longer works" in damaged.text
    await bob.press_data("oh:1")
    await bob.press("Time")
    await bob.press("Send")
    # Bob presses an answer button for an offer on an idea that is not his: refused.
    carla = await _resident(make_chat, "carla")
    [refused] = await carla.press_data("oa:accept:1")
    assert "only the person who shared the idea" in refused.text
    [refused_bob] = await bob.press_data("oa:accept:1")
    assert "only the person who shared the idea" in refused_bob.text
    [gone_offer] = await anna.press_data("oa:accept:77")
    assert "no longer exists" in gone_offer.text
    [offer] = await _offers(app)
    assert offer.status == "open"
    assert not [s for s in adapter.in_chat("dm:bob") if "said yes" in s.text]


async def test_offer_from_ideas_with_a_typed_number_and_a_second_press_edits_it(
    app: App, make_chat: MakeChat
) -> None:
    await _anna_with_idea(make_chat)
    bob = await _resident(make_chat, "bob")
    [listing] = await bob.say("/ideeen")
    assert "Support I-1" in listing.labels and "I'll help I-1" in listing.labels
    [ask] = await bob.press("I'll help I-1")
    assert "What can you offer" in ask.text
    assert {"Time", "A skill", "Materials", "A place", "Cancel"} <= set(ask.labels)
    [words] = await bob.say("2")  # a typed number is text here, not the second button
    assert "a few words" in words.text and "a skill" not in words.text
    [confirm] = await bob.say("2 uur per week")
    assert "“2 uur per week”" in confirm.text and "name is not shown" in confirm.text
    [done] = await bob.press("Send")
    assert "Thank you" in done.text and "I-1" in done.text
    [offer] = await _offers(app)
    assert (offer.kind, offer.text) == ("other", "2 uur per week")
    # A second press changes the offer; still one per person.
    [again] = await bob.press("I'll help I-1")
    assert "You offered" in again.text
    await bob.press("Time")
    [confirm] = await bob.say("ik kan zaterdag")
    assert "time, “ik kan zaterdag”" in confirm.text
    await bob.press("Send")
    [offer] = await _offers(app)
    assert (offer.kind, offer.text, offer.status) == ("time", "ik kan zaterdag", "open")


async def test_offer_from_a_digest_and_from_a_group(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    await _anna_with_idea(make_chat)
    bob = await _resident(make_chat, "bob")
    clock.advance(timedelta(hours=1))
    assert await send_digests(app.db, clock, "weekly", group_locale="en") >= 1
    await app.flush_outbox()
    assert "I'll help I-1" in bob.last().labels
    [ask] = await bob.press("I'll help I-1")
    assert "What can you offer" in ask.text
    await bob.press("A place")
    [done] = await bob.press("Send")
    assert "Thank you" in done.text
    [offer] = await _offers(app)
    assert offer.kind == "place"
    # In a group chat, the offer is made in a private chat: the group does not see it.
    in_group = make_chat("bob", group="buurt", lang="en")
    [private] = await in_group.press_data("oh:1")
    assert "private chat" in private.text and "What can you offer" not in private.text


async def test_initiator_hears_in_a_batch_and_answers_reach_the_helpers(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    anna = await _anna_with_idea(make_chat)
    bob = await _resident(make_chat, "bob")
    carla = await _resident(make_chat, "carla", lang="nl")
    await bob.press_data("oh:1")
    await bob.press("Time")
    await bob.say("ik kan zaterdag")
    await bob.press("Send")
    await carla.press_data("oh:1")
    await carla.say("Ik heb een aanhanger")
    await carla.press("Versturen")
    assert _news(adapter, "dm:anna") == []  # not per press
    await app.run_jobs_now()
    [news] = _news(adapter, "dm:anna")
    assert "I-1" in news and "time, “ik kan zaterdag”" in news and "“Ik heb een aanhanger”" in news
    assert "bob" not in news and "carla" not in news  # no name, no handle
    await app.run_jobs_now()
    assert len(_news(adapter, "dm:anna")) == 1  # nothing new: nothing sent

    [mine] = await anna.say("/mijnideeen")
    assert "I-1 Geveltuinen in de Amsterdamstraat" in mine.text and "0 supporters" in mine.text
    assert "ik kan zaterdag" in mine.text and "Ik heb een aanhanger" in mine.text
    assert {"Accept 1", "Decline 1", "Accept 2", "Decline 2"} <= set(mine.labels)
    yes, ask = await anna.press("Accept 1")  # and whether she wants to meet the helper
    assert "said yes" in yes.text and "get in touch" in ask.text
    [no] = await anna.press_data("oa:decline:2")
    assert "said no" in no.text
    await app.flush_outbox()
    assert (
        bob.mine()[-2].text
        == "The initiator said yes to your offer for I-1 “Geveltuinen in de Amsterdamstraat”."
    )
    assert "bedankt" in carla.last().text.lower() and "I-1" in carla.last().text
    [twice] = await anna.press_data("oa:accept:1")
    assert "already" in twice.text
    [mine] = await anna.say("/myideas")
    assert "accepted" in mine.text and "declined" in mine.text and "Accept 1" not in mine.labels


async def test_my_ideas_when_there_are_none(make_chat: MakeChat) -> None:
    bob = await _resident(make_chat, "bob")
    [none] = await bob.say("/mijnideeen")
    assert "no ideas yet" in none.text and "/idea" in none.text


async def test_my_data_shows_offers_and_forget_me_erases_only_them(
    app: App, make_chat: MakeChat
) -> None:
    anna = await _anna_with_idea(make_chat)
    bob = await _resident(make_chat, "bob")
    carla = await _resident(make_chat, "carla")
    for helper, note in ((bob, "ik kan zaterdag"), (carla, "gereedschap")):
        await helper.press_data("oh:1")
        await helper.say(note)
        await helper.press("Send")
    [mine] = await bob.say("/mijngegevens")
    assert "Your offer to help with I-1: “ik kan zaterdag”" in mine.text
    await bob.say("/vergeetmij")
    await bob.press("Yes, erase my data")
    [left] = await _offers(app)
    assert left.text == "gereedschap"
    [ideas] = await anna.say("/mijnideeen")
    assert "gereedschap" in ideas.text and "ik kan zaterdag" not in ideas.text
