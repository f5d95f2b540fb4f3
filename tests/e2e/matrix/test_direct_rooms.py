"""Which rooms are private on a real Synapse: marked direct by the resident, with just the
two of them. Private things never go to a room with anyone else."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest
from nio import RoomMessageText
from sqlmodel import select

from bot.core.clock import FrozenClock
from bot.delivery.notify import tell
from storage.models import Channel, OutboxMessage
from storage.repo import people
from tests.e2e.matrix.conftest import SQLITE_ONLY, Bot, direct_chat
from tests.e2e.matrix.resident import Resident, body
from tests.support.synapse import SynapseServer

pytestmark = [pytest.mark.e2e, SQLITE_ONLY]

NO_LONGER_PRIVATE = "niet meer privé"
NOT_PRIVATE = "alleen privé"
NEW_CHAT = "nieuw privégesprek"


async def onboard(resident: Resident, bot: Bot, room: str) -> None:
    """The resident picks a neighbourhood, so the bot knows them and their direct chat."""
    mark = resident.mark()
    await resident.say(room, "!wijk")
    await resident.message_from(bot.user_id, room, "In welke wijk", mark)
    await resident.say(room, "Schalkwijk")
    await resident.message_from(bot.user_id, room, "Je wijk is nu Schalkwijk", mark)


async def tell_privately(bot: Bot, resident: Resident, text: str) -> bool:
    """What a coordinator's answer or a report's feedback does: queue it to their direct chat."""
    async with bot.app.db.transaction() as s:
        person = await people.person_for_account(s, "matrix", resident.user_id)
        assert person is not None
        queued = await tell(s, person, lambda: text)
    await bot.app.flush_outbox()
    return queued


def bot_said(resident: Resident, bot: Bot, room: str) -> list[str]:
    return [body(e) for e in resident.messages_from(bot.user_id, room)]


def said_since(resident: Resident, bot: Bot, room: str, mark: int) -> list[str]:
    return [
        body(e)
        for r, e in resident.seen[mark:]
        if r == room
        and getattr(e, "sender", None) == bot.user_id
        and isinstance(e, RoomMessageText)
    ]


async def test_an_outsider_cannot_make_a_group_of_a_direct_chat(
    bot: Bot, make_resident: Any, clock: FrozenClock
) -> None:
    coco: Resident = await make_resident("coco")
    await bot.start(clock, allowed_inviters=[coco.user_id])
    mallory: Resident = await make_resident("mallory")
    anna: Resident = await make_resident("anna")

    # A direct chat is accepted from anyone …
    room = await direct_chat(mallory, bot, encrypted=False)
    mark = mallory.mark()
    await mallory.say(room, "!help")
    await mallory.message_from(bot.user_id, room, "Dit kan ik voor je doen", mark)

    # … but once someone else is invited it is no longer one: the bot says so and leaves.
    mark = mallory.mark()
    await mallory.client.room_invite(room, anna.user_id)
    notice = await mallory.message_from(bot.user_id, room, NO_LONGER_PRIVATE, mark)
    assert NEW_CHAT in body(notice)
    await mallory.member(room, bot.user_id, "leave")
    await anna.join(room)
    mark = anna.mark()
    await anna.say(room, "!help")
    with pytest.raises(AssertionError):
        await anna.message_from(bot.user_id, room, "Dit kan ik voor je doen", mark, within=2)

    # A "direct" invite into a room that already has someone else is refused at once.
    crowded = await mallory.create_room(
        [bot.user_id, anna.user_id], direct=True, encrypted=False, name="Feest"
    )
    said = await mallory.message_from(bot.user_id, crowded, NOT_PRIVATE)
    assert NEW_CHAT in body(said)
    await mallory.member(crowded, bot.user_id, "leave")
    assert not [t for t in bot_said(mallory, bot, crowded) if "Hoi allemaal" in t]


async def test_a_third_person_ends_a_direct_chat_also_while_the_bot_was_down(
    bot: Bot, make_resident: Any, clock: FrozenClock
) -> None:
    await bot.start(clock)
    anna: Resident = await make_resident("anna")
    bea: Resident = await make_resident("bea")
    room = await direct_chat(anna, bot, encrypted=True)
    await onboard(anna, bot, room)
    assert await tell_privately(bot, anna, "Je melding M-1001 is opgelost.")
    await anna.message_from(bot.user_id, room, "M-1001")

    # While the bot is down, anna asks for her data and then adds bea to the chat.
    await bot.stop()
    mark = anna.mark()
    await anna.say(room, "!mijngegevens")
    await anna.client.room_invite(room, bea.user_id)
    await bea.join(room)
    await bot.start(clock)

    notice = await anna.message_from(bot.user_id, room, NO_LONGER_PRIVATE, mark)
    assert NEW_CHAT in body(notice)
    await anna.member(room, bot.user_id, "leave")
    assert said_since(anna, bot, room, mark) == [body(notice)]  # her data was not shown
    assert not [t for t in bot_said(bea, bot, room) if "Schalkwijk" in t or "M-1001" in t]

    # Something private for anna now has no direct chat to go to: it is not sent there.
    assert not await tell_privately(bot, anna, "Je melding M-1002 is opgelost.")
    assert not anna.messages_from(bot.user_id, room, "M-1002")
    async with bot.app.db.session() as s:
        old = (await s.exec(select(Channel).where(Channel.chat_id == room))).one()
        assert not old.reachable

    # A new direct chat is private again, and private messages go there.
    fresh = await direct_chat(anna, bot, encrypted=True)
    mark = anna.mark()
    await anna.say(fresh, "!mijngegevens")
    await anna.message_from(bot.user_id, fresh, "Schalkwijk", mark)
    assert await tell_privately(bot, anna, "Je melding M-1003 is opgelost.")
    await anna.message_from(bot.user_id, fresh, "M-1003")
    assert not bea.messages_from(bot.user_id, room, "M-1003")


async def test_a_message_queued_before_the_third_person_is_not_sent_after(
    bot: Bot, make_resident: Any, clock: FrozenClock
) -> None:
    await bot.start(clock)
    anna: Resident = await make_resident("anna")
    bea: Resident = await make_resident("bea")
    room = await direct_chat(anna, bot, encrypted=False)
    await onboard(anna, bot, room)

    async with bot.app.db.transaction() as s:  # queued, not yet sent
        person = await people.person_for_account(s, "matrix", anna.user_id)
        assert person is not None
        assert await tell(s, person, lambda: "Je stemcode is ABCD-1234.")
    mark = anna.mark()
    await anna.client.room_invite(room, bea.user_id)
    await anna.message_from(bot.user_id, room, NO_LONGER_PRIVATE, mark)
    await bot.app.flush_outbox()
    await bea.join(room)
    assert not anna.messages_from(bot.user_id, room, "ABCD-1234")
    async with bot.app.db.session() as s:
        msg = (await s.exec(select(OutboxMessage).where(OutboxMessage.chat_id == room))).all()
        assert [m.sent_at for m in msg if "ABCD" in m.text] == [None]


async def test_two_members_alone_do_not_make_a_direct_chat(
    bot: Bot, make_resident: Any, clock: FrozenClock
) -> None:
    await bot.start(clock)
    coco: Resident = await make_resident("coco")
    room = await coco.create_room([bot.user_id], direct=False, encrypted=False, name="Buurt")
    hello = await coco.message_from(bot.user_id, room, "Hoi allemaal!")  # a group room
    assert "!koppel" in body(hello)
    await onboard_elsewhere(coco, bot)
    mark = coco.mark()
    await coco.say(room, "!mijngegevens")
    moved = await coco.message_from(bot.user_id, room, "privégesprek", mark)
    assert "Schalkwijk" not in body(moved)


async def onboard_elsewhere(resident: Resident, bot: Bot) -> None:
    dm = await direct_chat(resident, bot, encrypted=False)
    await onboard(resident, bot, dm)


def set_direct_marks(synapse: SynapseServer, bot: Bot, marks: dict[str, list[str]]) -> None:
    user = urllib.parse.quote(bot.user_id)
    path = f"/_matrix/client/v3/user/{user}/account_data/m.direct"
    synapse.request("PUT", path, marks, token=bot.account.access_token)


def direct_marks(synapse: SynapseServer, bot: Bot) -> dict[str, Any]:
    user = urllib.parse.quote(bot.user_id)
    path = f"/_matrix/client/v3/user/{user}/account_data/m.direct"
    return synapse.request("GET", path, token=bot.account.access_token)


async def test_direct_chats_from_before_the_marks(
    bot: Bot, synapse: SynapseServer, make_resident: Any, clock: FrozenClock
) -> None:
    """An upgrade: the bot kept no `m.direct` marks then; its own invite still says direct.
    Such a room with just the two of them stays direct; one with more people is left."""
    await bot.start(clock)
    anna: Resident = await make_resident("anna")
    bea: Resident = await make_resident("bea")
    carl: Resident = await make_resident("carl")
    room = await direct_chat(anna, bot, encrypted=False)
    await onboard(anna, bot, room)
    crowded = await direct_chat(carl, bot, encrypted=False)
    await onboard(carl, bot, crowded)
    assert direct_marks(synapse, bot) == {anna.user_id: [room], carl.user_id: [crowded]}
    await bot.stop()
    set_direct_marks(synapse, bot, {})
    mark = carl.mark()
    await carl.client.room_invite(crowded, bea.user_id)
    await bot.start(clock)

    await carl.message_from(bot.user_id, crowded, NO_LONGER_PRIVATE, mark)
    await carl.member(crowded, bot.user_id, "leave")
    mark = anna.mark()
    await anna.say(room, "!mijngegevens")
    await anna.message_from(bot.user_id, room, "Schalkwijk", mark)
    assert direct_marks(synapse, bot) == {anna.user_id: [room]}
    mark = anna.mark()
    await anna.client.room_invite(room, bea.user_id)
    await anna.message_from(bot.user_id, room, NO_LONGER_PRIVATE, mark)
    await anna.member(room, bot.user_id, "leave")
    assert direct_marks(synapse, bot) == {}
