"""The bot's account: login by access token, whom it accepts invites from, lost connections."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from pydantic import SecretStr

from bot.core.clock import FrozenClock
from storage.repo import cursors
from tests.e2e.matrix.conftest import SQLITE_ONLY, Bot, direct_chat
from tests.e2e.matrix.relay import Relay
from tests.e2e.matrix.resident import Resident
from tests.support.synapse import SynapseServer

pytestmark = [pytest.mark.e2e, SQLITE_ONLY]


async def test_login_by_access_token_keeps_its_device(
    bot: Bot, make_resident: Any, clock: FrozenClock
) -> None:
    bot.settings = bot.settings.model_copy(
        update={"matrix_password": None, "matrix_access_token": SecretStr(bot.account.access_token)}
    )
    await bot.start(clock)
    async with bot.app.db.session() as s:
        assert await cursors.get(s, "matrix.device_id") == bot.account.device_id
        assert await cursors.get(s, "matrix.next_batch")
    hanna: Resident = await make_resident("hanna")
    room = await direct_chat(hanna, bot, encrypted=True)
    mark = hanna.mark()
    await hanna.say(room, "!help")
    await hanna.message_from(bot.user_id, room, "Dit kan ik voor je doen", mark)


async def test_room_invites_only_from_allowed_inviters_direct_chats_from_anyone(
    bot: Bot, make_resident: Any, clock: FrozenClock
) -> None:
    coco: Resident = await make_resident("coco")
    await bot.start(clock, allowed_inviters=[coco.user_id])
    ivo: Resident = await make_resident("ivo")

    declined = await ivo.create_room([bot.user_id], direct=False, encrypted=False, name="Feest")
    await ivo.member(declined, bot.user_id, "leave")  # refused: ivo may not add the bot to rooms
    accepted = await coco.create_room([bot.user_id, ivo.user_id], direct=False, encrypted=False)
    await coco.message_from(bot.user_id, accepted, "Hoi allemaal!")
    direct = await direct_chat(ivo, bot, encrypted=False)  # but anyone may start a direct chat
    mark = ivo.mark()
    await ivo.say(direct, "!help")
    await ivo.message_from(bot.user_id, direct, "Dit kan ik voor je doen", mark)


async def test_lost_connection_is_retried_and_nothing_is_missed(
    bot: Bot,
    synapse: SynapseServer,
    make_resident: Any,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    relay = Relay(synapse.port)
    await relay.open()
    bot.settings = bot.settings.model_copy(update={"matrix_homeserver": relay.url})
    await bot.start(clock)
    jan: Resident = await make_resident("jan")
    room = await direct_chat(jan, bot, encrypted=False)

    with caplog.at_level(logging.WARNING, logger="bot.adapters.matrix.adapter"):
        await relay.cut()
        mark = jan.mark()
        await jan.say(room, "!help")
        with pytest.raises(AssertionError):  # no answer while the bot cannot reach its server
            await jan.message_from(bot.user_id, room, "Dit kan ik voor je doen", mark, within=1.5)
        await relay.open()
        await jan.message_from(bot.user_id, room, "Dit kan ik voor je doen", mark, within=30)
    assert "sync failed" in caplog.text
    await relay.cut()
