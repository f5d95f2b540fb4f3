"""Theme groups on a real Synapse: following a theme offers its room; the bot invites the
resident when asked and welcomes them there by first name only after their yes."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.clock import FrozenClock
from bot.ops.admin import grant_coordinator
from tests.e2e.matrix.conftest import SQLITE_ONLY, Bot, direct_chat
from tests.e2e.matrix.resident import Resident, body
from tests.e2e.matrix.test_direct import number_of

pytestmark = [pytest.mark.e2e, SQLITE_ONLY]


async def _choose(resident: Resident, bot: Bot, dm: str, said: Any, label: str, then: str) -> Any:
    mark = resident.mark()
    await resident.say(dm, str(number_of(body(said), label)))
    return await resident.message_from(bot.user_id, dm, then, mark)


async def test_bot_invites_into_the_theme_room_and_welcomes_only_after_yes(
    bot: Bot, make_resident: Any, clock: FrozenClock
) -> None:
    await bot.start(clock)
    coco: Resident = await make_resident("coco")
    anna: Resident = await make_resident("anna")
    await grant_coordinator(bot.settings, "matrix", coco.user_id, "schalkwijk")
    room = await coco.create_room([bot.user_id], direct=False, encrypted=False, name="Groen")
    await coco.message_from(bot.user_id, room, "Hoi allemaal!")
    mark = coco.mark()
    await coco.say(room, "!koppel Schalkwijk vergroening")
    await coco.message_from(bot.user_id, room, "gekoppeld aan Schalkwijk", mark)

    await anna.client.set_displayname("Anna de Vries")
    dm = await direct_chat(anna, bot, encrypted=False)
    mark = anna.mark()
    await anna.say(dm, "!wijk")
    hood = await anna.message_from(bot.user_id, dm, "Schalkwijk", mark)
    await _choose(anna, bot, dm, hood, "Schalkwijk", "")
    mark = anna.mark()
    await anna.say(dm, "!volg vergroening")
    followed = await anna.message_from(bot.user_id, dm, "groepsgesprek", mark)
    ask = await _choose(anna, bot, dm, followed, "Naar het groepsgesprek", "welkom heten")
    way_in = await _choose(anna, bot, dm, ask, "Ja, heet me welkom", "matrix.to")
    assert f"https://matrix.to/#/{room}" in body(way_in)

    mark = coco.mark()
    await anna.join(room)  # a private room: she can join because the bot invited her
    welcome = await coco.message_from(bot.user_id, room, "Anna", mark)
    assert "Welkom, Anna!" in body(welcome) and "de Vries" not in body(welcome)
