"""#13 "Done when", on the fake platform (the console's adapter): one scripted conversation
through the whole network. A posts an idea; B and C offer help; A accepts B and declines C;
A and B are introduced (handles only after both said yes); the initiative gets a group;
A marks it done and supporters are told; a partner answers as an organisation; an event
collects "I'm coming" and the own reminder goes only to those coming."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from bot.app import App
from bot.core.clock import FrozenClock
from bot.ops.admin import add_partner
from tests.announcements.test_announcements import _announce_event, _setup
from tests.support.fake import Chat, FakeAdapter, MakeChat

ORG = "Buurtwerk Haarlem"
ANNA, BOB = "anna_tuin", "bob_helpt"


async def _resident(make_chat: MakeChat, name: str, handle: str | None = None) -> Chat:
    chat: Chat = make_chat(name, lang="en")
    chat.user = dataclasses.replace(chat.user, handle=handle)
    await chat.say("/wijk")
    await chat.press("Schalkwijk")
    return chat


async def _offer(helper: Chat, words: str) -> None:
    await helper.press_data("oh:1")
    await helper.say(words)
    await helper.press("Send")


def _texts(chat: Chat) -> str:
    return "\n".join(s.text for s in chat.mine())


async def test_the_whole_network_in_one_conversation(
    app: App, make_chat: MakeChat, adapter: FakeAdapter, clock: FrozenClock
) -> None:
    coco, _group, _anna_plain = await _setup(app, make_chat)  # a coordinator, a group
    anna = await _resident(make_chat, "anna", ANNA)
    bob = await _resident(make_chat, "bob", BOB)
    carla = await _resident(make_chat, "carla", "carla_c")
    dave = await _resident(make_chat, "dave")
    wim = await _resident(make_chat, "wim")
    await add_partner(app.settings, "fake", "wim", "schalkwijk", ORG, ["vergroening"], [])

    # A posts an idea; B and C offer help; D supports it.
    await anna.say("/idee")
    await anna.say("Geveltuinen in de Amsterdamstraat")
    await anna.say("Wie doet mee?")
    await anna.press("Greening")
    await anna.press("Post")
    await _offer(bob, "ik kan zaterdag")
    await _offer(carla, "ik heb gereedschap")
    await dave.press_data("idea:support:1")
    await app.run_jobs_now()
    await app.flush_outbox()
    news = _texts(anna)
    assert "ik kan zaterdag" in news and "ik heb gereedschap" in news
    assert "bob" not in news and "carla" not in news

    # A partner answers as its organisation.
    [thanks] = await wim.press("We can help with I-1")
    assert f"{ORG} wants to help" in thanks.text
    await app.flush_outbox()
    assert f"{ORG} wants to help with your idea I-1" in anna.last().text
    # /mijnideeen shows resident offers (no names) and the partner's answer together.
    [mine] = await anna.say("/mijnideeen")
    assert "Someone wants to help: “ik kan zaterdag”" in mine.text
    assert f"{ORG} wants to help" in mine.text.split("I-1", 1)[1]
    assert "bob" not in mine.text and "wim" not in mine.text

    # A accepts B and declines C; A and B are asked, and meet only after both said yes.
    await anna.press_data("oa:accept:1")
    await anna.press_data("oa:decline:2")
    await app.flush_outbox()
    assert not [s for s in adapter.log if ANNA in s.text or BOB in s.text]
    await anna.press("Yes")
    assert not [s for s in adapter.log if ANNA in s.text or BOB in s.text]
    await bob.press("Yes")
    await app.flush_outbox()
    assert BOB in _texts(anna) and ANNA in _texts(bob)
    assert ANNA not in _texts(carla) and "carla_c" not in _texts(anna)

    # The initiative gets a group: B gets a way in, C does not.
    await anna.press_data("ini:start:1")
    [linked] = await make_chat("anna", group="team").say("/koppel I-1")
    assert "group of I-1" in linked.text
    await app.flush_outbox()
    assert "fake.example/join/g:team" in _texts(bob)
    assert "fake.example/join/" not in _texts(carla)

    # A marks it done: supporters and helpers are told.
    await anna.press_data("ini:done:1")
    await anna.say("We plantten 12 geveltuinen")
    await anna.press("Skip")
    await app.flush_outbox()
    assert "You supported I-1 “Geveltuinen in de Amsterdamstraat”: it happened!" in _texts(dave)
    assert "You helped with I-1" in _texts(bob)
    assert "it happened" not in _texts(carla)

    # An event collects "I'm coming"; the own reminder goes only to those coming.
    await _announce_event(coco, "28-11 14:00")  # the 28th; it is the 26th, 19:00
    await app.flush_outbox()
    await bob.press("I'm coming")
    await dave.press("I'm coming")
    await dave.press("Not coming after all")
    clock.advance(timedelta(hours=41, minutes=5))  # the 28th, 12:05
    await app.run_jobs_now()
    await app.flush_outbox()
    assert "you said you would come" in _texts(bob)
    for other in (carla, dave, anna):
        assert "you said you would come" not in _texts(other)
