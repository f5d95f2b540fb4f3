"""An initiative on a real Synapse: the initiator starts it from /mijnideeen and the bot
makes the room "I-1 <title>" (topic: the idea) with her and the accepted helper invited."""

from __future__ import annotations

from typing import Any

import pytest

from bot.adapters.matrix.render import KEYCAPS
from bot.core.clock import FrozenClock
from bot.core.events import ChatRef, NewRoom, Reply
from tests.e2e.matrix.conftest import SQLITE_ONLY, Bot, direct_chat
from tests.e2e.matrix.resident import Resident, body
from tests.e2e.matrix.test_direct import number_of
from tests.e2e.matrix.test_introduction_room import _invite_to

pytestmark = [pytest.mark.e2e, SQLITE_ONLY]

TITLE = "Geveltuinen in de Amsterdamstraat"


async def _choose(resident: Resident, bot: Bot, dm: str, said: Any, label: str, then: str) -> Any:
    mark = resident.mark()
    await resident.say(dm, str(number_of(body(said), label)))
    return await resident.message_from(bot.user_id, dm, then, mark)


async def _ask(resident: Resident, bot: Bot, dm: str, text: str, then: str) -> Any:
    mark = resident.mark()
    await resident.say(dm, text)
    return await resident.message_from(bot.user_id, dm, then, mark)


async def test_the_bot_makes_the_initiative_room_and_invites_the_team(
    bot: Bot, make_resident: Any, clock: FrozenClock
) -> None:
    await bot.start(clock)
    anna: Resident = await make_resident("anna")
    bob: Resident = await make_resident("bob")
    anna_dm = await direct_chat(anna, bot, encrypted=False)
    bob_dm = await direct_chat(bob, bot, encrypted=False)
    for who, dm in ((anna, anna_dm), (bob, bob_dm)):
        hood = await _ask(who, bot, dm, "!wijk", "Schalkwijk")
        await _choose(who, bot, dm, hood, "Schalkwijk", "")
    confirm = await _ask(anna, bot, anna_dm, f"!idee {TITLE}", "Plaatsen")
    await _choose(anna, bot, anna_dm, confirm, "Plaatsen", "I-1")
    listing = await _ask(bob, bot, bob_dm, "!ideeen", "Doe mee I-1")
    await _choose(bob, bot, bob_dm, listing, "Doe mee I-1", "")
    sure = await _ask(bob, bot, bob_dm, "ik kan zaterdag", "Versturen")
    assert "- Versturen" in body(sure)  # a text step: the choice is typed
    await _ask(bob, bot, bob_dm, "Versturen", "Dank je")
    mark = anna.mark()
    await bot.app.run_jobs_now()
    news = await anna.message_from(bot.user_id, anna_dm, "Ja tegen 1", mark)
    await _choose(anna, bot, anna_dm, news, "Ja tegen 1", "")
    mine = await _ask(anna, bot, anna_dm, "!mijnideeen", "Start een initiatief I-1")
    await _choose(anna, bot, anna_dm, mine, "Start een initiatief I-1", "initiatief")
    await bot.app.flush_outbox()
    name = f"I-1 {TITLE}"
    made = await _invite_to(anna, name, within=30)
    assert await _invite_to(bob, name, within=30) == made
    await anna.join(made)
    welcome = await anna.message_from(bot.user_id, made, "initiatief I-1", 0)
    assert welcome is not None
    assert anna.client.rooms[made].topic == TITLE


async def test_a_helper_accepted_later_is_invited_into_the_room_made_before(
    bot: Bot, make_resident: Any, clock: FrozenClock
) -> None:
    """The room the outbox made is recorded as the initiative's group: Carla, accepted after
    it was made, is invited into that same room; a resend makes no second room."""
    await bot.start(clock)
    anna: Resident = await make_resident("anna")
    bob: Resident = await make_resident("bob")
    carla: Resident = await make_resident("carla")
    dms = {}
    for who in (anna, bob, carla):
        dm = dms[who.user_id] = await direct_chat(who, bot, encrypted=False)
        hood = await _ask(who, bot, dm, "!wijk", "Schalkwijk")
        await _choose(who, bot, dm, hood, "Schalkwijk", "")
    anna_dm = dms[anna.user_id]
    confirm = await _ask(anna, bot, anna_dm, f"!idee {TITLE}", "Plaatsen")
    await _choose(anna, bot, anna_dm, confirm, "Plaatsen", "I-1")

    async def offer(helper: Resident) -> None:
        dm = dms[helper.user_id]
        listing = await _ask(helper, bot, dm, "!ideeen", "Doe mee I-1")
        await _choose(helper, bot, dm, listing, "Doe mee I-1", "")
        await _ask(helper, bot, dm, "ik kan zaterdag", "Versturen")
        await _ask(helper, bot, dm, "Versturen", "Dank je")

    await offer(bob)
    mark = anna.mark()
    await bot.app.run_jobs_now()
    news = await anna.message_from(bot.user_id, anna_dm, "Ja tegen 1", mark)
    await _choose(anna, bot, anna_dm, news, "Ja tegen 1", "")
    mine = await _ask(anna, bot, anna_dm, "!mijnideeen", "Start een initiatief I-1")
    await _choose(anna, bot, anna_dm, mine, "Start een initiatief I-1", "initiatief")
    await bot.app.flush_outbox()
    name = f"I-1 {TITLE}"
    made = await _invite_to(bob, name, within=30)

    await offer(carla)
    mark = anna.mark()
    await bot.app.run_jobs_now()
    news = await anna.message_from(bot.user_id, anna_dm, "Ja tegen", mark)
    # by reaction on the news itself (a typed number answers the newest menu: /mijnideeen)
    await anna.react(anna_dm, news.event_id, KEYCAPS[number_of(body(news), "Ja tegen 1") - 1])
    await bot.app.flush_outbox()
    assert await _invite_to(carla, name, within=30) == made

    # The same room message sent again (a crash between sending and marking it sent).
    spec = NewRoom(name, TITLE, (), key="initiative:1")
    ref = await bot.adapter.send(
        ChatRef("matrix", anna_dm, "direct"), Reply("again", new_room=spec)
    )
    assert ref.chat.id == made
