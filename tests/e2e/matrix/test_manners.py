"""Matrix manners on a real Synapse: read receipts, typing while slow, a final answer that
notifies, answered questions lose their number reactions, and keys that come late."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from nio import ReceiptEvent, RedactionEvent, RoomKeyRequest, RoomMessageText, TypingNoticeEvent
from nio.event_builders import ToDeviceMessage

from bot.adapters.matrix.render import KEYCAPS
from bot.app import App
from bot.core.clock import FrozenClock
from tests.e2e.matrix.conftest import SQLITE_ONLY, Bot, direct_chat
from tests.e2e.matrix.resident import Resident, body, is_edit_of
from tests.e2e.matrix.test_direct import number_of
from tests.e2e.matrix.test_signal import tiny_png

pytestmark = [pytest.mark.e2e, SQLITE_ONLY]


def slow_down(app: App, seconds: float, when: str) -> None:
    """Handling an event whose text contains `when` takes `seconds` longer (a test hook)."""
    handle = app.dispatcher.handle

    async def slow(adapter: Any, event: Any) -> None:
        if when in event.text:
            await asyncio.sleep(seconds)
        await handle(adapter, event)

    app.dispatcher.handle = slow  # type: ignore[method-assign]


def typing(bot: Bot, room: str, on: bool) -> Any:
    def match(r: str, e: Any) -> bool:
        return r == room and isinstance(e, TypingNoticeEvent) and (bot.user_id in e.users) == on

    return match


async def our_reactions(resident: Resident, bot: Bot, question: Any, count: int) -> list[str]:
    return [
        (await resident.reaction_from(bot.user_id, question.event_id, KEYCAPS[i])).event_id
        for i in range(count)
    ]


async def test_a_report_with_manners(bot: Bot, make_resident: Any, clock: FrozenClock) -> None:
    await bot.start(clock)
    slow_down(bot.app, 1.5, "Kapotte")
    dirk: Resident = await make_resident("dirk")
    room = await direct_chat(dirk, bot, encrypted=False)
    mxc = await dirk.upload_png(tiny_png())

    mark = dirk.mark()
    image = {"msgtype": "m.image", "body": "tegel.png", "url": mxc, "info": {"mimetype": "image/png"}}  # fmt: skip
    sent = await dirk.send(room, image)
    await dirk.message_from(bot.user_id, room, "Wat is er mis?", mark)

    def read(r: str, e: Any) -> bool:  # the bot marked the photo read
        return (
            r == room
            and isinstance(e, ReceiptEvent)
            and any(x.user_id == bot.user_id and x.event_id == sent for x in e.receipts)
        )

    await dirk.wait_for(read, "a read receipt from the bot", mark)

    # Slow work (over a second): the bot is seen typing, then the answer, then no more typing.
    mark = dirk.mark()
    await dirk.say(room, "Kapotte stoeptegel")
    await dirk.wait_for(typing(bot, room, True), "the bot typing", mark)
    answer = await dirk.message_from(bot.user_id, room, "Waar is het?", mark)
    after = dirk.seen.index((room, answer))
    await dirk.wait_for(typing(bot, room, False), "the bot stopped typing", after)

    mark = dirk.mark()
    location = {"msgtype": "m.location", "body": "Hier", "geo_uri": "geo:52.3678,4.6536"}
    await dirk.send(room, location)
    kinds = await dirk.message_from(bot.user_id, room, "Wat voor probleem", mark)
    kind_reactions = await our_reactions(dirk, bot, kinds, len(number_of_all(kinds)))

    mark = dirk.mark()
    await dirk.react(room, kinds.event_id, KEYCAPS[number_of(body(kinds), "Straat") - 1])
    hood = await dirk.message_from(bot.user_id, room, "Over welke wijk", mark)
    hood_reactions = await our_reactions(dirk, bot, hood, len(number_of_all(hood)))

    mark = dirk.mark()
    await dirk.react(room, hood.event_id, KEYCAPS[number_of(body(hood), "Schalkwijk") - 1])
    done = await dirk.message_from(bot.user_id, room, "Je melding heeft nummer", mark)
    assert is_edit_of(done) is None  # a new message, which notifies; not only an edit

    # The answered questions lose the bot's number reactions.
    for reaction in [*kind_reactions, *hood_reactions]:

        def redacted(r: str, e: Any, reaction: str = reaction) -> bool:
            return r == room and isinstance(e, RedactionEvent) and e.redacts == reaction

        await dirk.wait_for(redacted, f"reaction {reaction} taken away", 0)


def number_of_all(question: Any) -> list[str]:
    return [line for line in body(question).splitlines() if line[:1].isdigit() and ". " in line]


async def withheld_message(resident: Resident, bot: Bot, room: str, text: str) -> dict[str, Any]:
    """Send `text` in a new Megolm session kept from the bot's device (as a client that
    excludes the bot's device would); returns the room key, to share later."""
    olm = resident.client.olm
    assert olm is not None
    device = olm.device_store[bot.user_id][bot.adapter.client.device_id]
    olm.blacklist_device(device)
    olm.outbound_group_sessions.pop(room, None)
    olm.create_outbound_group_session(room)
    outbound = olm.outbound_group_sessions[room]
    key = {
        "algorithm": "m.megolm.v1.aes-sha2",
        "room_id": room,
        "session_id": outbound.id,
        "session_key": outbound.session_key,  # from index 0: this message on
    }
    await resident.say(room, text)
    olm.unblacklist_device(device)
    return key


async def share_key(resident: Resident, bot: Bot, key: dict[str, Any]) -> None:
    """The resident's client sends the room key to the bot's device after all."""
    olm = resident.client.olm
    assert olm is not None
    device = olm.device_store[bot.user_id][bot.adapter.client.device_id]
    session = olm.session_store.get(device.curve25519)
    assert session is not None
    sealed = olm._olm_encrypt(session, device, "m.room_key", key)
    await resident.client.to_device(
        ToDeviceMessage("m.room.encrypted", bot.user_id, device.id, sealed)
    )


async def test_a_message_whose_key_comes_late_is_answered(
    bot: Bot, make_resident: Any, clock: FrozenClock
) -> None:
    await bot.start(clock, undecryptable_grace=20.0)
    bram: Resident = await make_resident("bram")
    room = await direct_chat(bram, bot, encrypted=True)
    mark = bram.mark()
    await bram.say(room, "!start")
    await bram.message_from(bot.user_id, room, "Welke taal", mark)

    mark = bram.mark()
    key = await withheld_message(bram, bot, room, "2")

    def asked(_r: str, e: Any) -> bool:  # the bot asks the sender's devices for the key
        return isinstance(e, RoomKeyRequest) and e.sender == bot.user_id

    await bram.wait_for(asked, "a key request from the bot", mark)
    await share_key(bram, bot, key)
    await bram.message_from(bot.user_id, room, "Which neighbourhood", mark)
    assert not bram.messages_from(bot.user_id, room, "could not read")


async def test_a_key_that_never_comes_is_explained_once(
    bot: Bot, make_resident: Any, clock: FrozenClock
) -> None:
    await bot.start(clock)
    cees: Resident = await make_resident("cees")
    room = await direct_chat(cees, bot, encrypted=True)
    group = await cees.create_room([bot.user_id], direct=False, encrypted=True, name="Straat")
    await cees.member(group, bot.user_id)
    mark = cees.mark()
    await cees.say(room, "!start")
    await cees.message_from(bot.user_id, room, "Welke taal", mark)

    mark = cees.mark()
    await withheld_message(cees, bot, room, "1")
    await withheld_message(cees, bot, group, "!help")

    def told(r: str, e: Any) -> bool:
        return (
            r in (room, group)
            and getattr(e, "sender", "") == bot.user_id
            and "niet lezen" in body(e)
        )

    explained = await cees.wait_for(told, "a plain explanation", mark)
    assert isinstance(explained, RoomMessageText)  # readable: it decrypted for the resident
    await asyncio.sleep(4)  # real time on a real homeserver: the grace is 1 s
    everywhere = cees.messages_from(bot.user_id, room, "niet lezen") + cees.messages_from(
        bot.user_id, group, "niet lezen"
    )
    assert len(everywhere) == 1  # at most once an hour per resident
