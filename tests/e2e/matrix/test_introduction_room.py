"""An introduction on a real Synapse: the bot makes a room for the idea (its name and
topic), invites both people, and welcomes them there without the group greeting."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from bot.core.clock import FrozenClock
from bot.core.events import NewRoom
from storage.repo import outbox
from tests.e2e.matrix.conftest import SQLITE_ONLY, Bot, direct_chat
from tests.e2e.matrix.resident import Resident, body

pytestmark = [pytest.mark.e2e, SQLITE_ONLY]


async def _invite_to(resident: Resident, name: str, within: float = 15) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for room_id, room in resident.client.invited_rooms.items():
            if room.name == name:
                return str(room_id)
        await asyncio.sleep(0.2)
    raise AssertionError(f"no invite to a room named {name!r}")


async def test_both_are_invited_into_a_new_room_for_the_idea(
    bot: Bot, make_resident: Any, clock: FrozenClock
) -> None:
    await bot.start(clock)
    anna: Resident = await make_resident("anna")
    bob: Resident = await make_resident("bob")
    dm = await direct_chat(anna, bot, encrypted=False)
    room = NewRoom("Geveltuinen", "Geveltuinen in de Amsterdamstraat", (anna.user_id, bob.user_id))
    async with bot.app.db.transaction() as s:
        await outbox.enqueue(
            s, "matrix", dm, "Welcome! This room is for I-1.", extra={"room": room.to_row()}
        )
    await bot.app.flush_outbox()
    made = await _invite_to(anna, "Geveltuinen")
    assert await _invite_to(bob, "Geveltuinen") == made
    mark = anna.mark()
    await anna.join(made)
    welcome = await anna.message_from(bot.user_id, made, "Welcome! This room is for I-1.", 0)
    assert welcome is not None
    assert anna.client.rooms[made].topic == "Geveltuinen in de Amsterdamstraat"
    await asyncio.sleep(1.5)  # a sync or two: no greeting as if someone had added the bot
    said = [
        body(e)
        for r, e in anna.seen[mark:]
        if r == made and getattr(e, "sender", "") == bot.user_id
    ]
    assert not [t for t in said if "Hi all" in t or "Hoi allemaal" in t]
    assert made != dm  # not the direct chat the row was queued for
