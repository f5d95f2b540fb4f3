"""Group rooms on a real Synapse: joining, linking by a coordinator, being removed."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlmodel import select

from bot.core.clock import FrozenClock
from bot.core.events import ChatRef, Reply
from bot.core.ports import Unreachable
from bot.ops.admin import grant_coordinator
from storage.models import Channel, Neighbourhood
from tests.e2e.matrix.conftest import SQLITE_ONLY, Bot
from tests.e2e.matrix.resident import Resident

pytestmark = [pytest.mark.e2e, SQLITE_ONLY]


async def channel_of(bot: Bot, room_id: str) -> Channel | None:
    async with bot.app.db.session() as s:
        stmt = select(Channel).where(Channel.platform == "matrix", Channel.chat_id == room_id)
        return (await s.exec(stmt)).first()


async def test_coordinator_links_a_room_and_a_resident_is_refused(
    bot: Bot, make_resident: Any, clock: FrozenClock
) -> None:
    await bot.start(clock)
    coco: Resident = await make_resident("coco")
    anna: Resident = await make_resident("anna")
    await grant_coordinator(bot.settings, "matrix", coco.user_id, "schalkwijk")

    room = await coco.create_room(
        [bot.user_id, anna.user_id], direct=False, encrypted=False, name="Buurtapp Schalkwijk"
    )
    await anna.join(room)
    hello = await coco.message_from(bot.user_id, room, "Hoi allemaal!")
    assert "!koppel" in hello.body  # Element eats unknown /commands: the bot says "!"

    mark = anna.mark()
    await anna.say(room, "!koppel Schalkwijk")
    await anna.message_from(bot.user_id, room, "Dit kan alleen een coördinator", mark)
    assert (
        await channel_of(bot, room) is None
        or (await channel_of(bot, room)).neighbourhood_id is None
    )  # type: ignore[union-attr]

    mark = coco.mark()
    # A mention of the bot first, as Element writes it when you pick the bot's name.
    await coco.say(room, f"{bot.account.localpart}: !koppel Schalkwijk")
    await coco.message_from(bot.user_id, room, "Deze groep is nu gekoppeld aan Schalkwijk", mark)
    channel = await channel_of(bot, room)
    assert channel is not None and channel.kind == "group" and channel.reachable
    async with bot.app.db.session() as s:
        hood = await s.get(Neighbourhood, channel.neighbourhood_id)
        assert hood is not None and hood.slug == "schalkwijk"

    # Removed from the room: the core marks the channel unreachable, sending raises.
    await coco.client.room_kick(room, bot.user_id, reason="test")
    deadline = time.monotonic() + 10
    while (ch := await channel_of(bot, room)) is not None and ch.reachable:
        assert time.monotonic() < deadline, "channel still reachable 10 s after the kick"
        await asyncio.sleep(0.1)
    with pytest.raises(Unreachable):
        await bot.adapter.send(ChatRef("matrix", room, "group"), Reply("Hallo?"))
