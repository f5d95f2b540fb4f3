"""Restarts (no replay, nothing lost, same device and keys) and the homeserver's rate limit."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.core.clock import FrozenClock
from tests.e2e.matrix.conftest import SQLITE_ONLY, Bot, direct_chat
from tests.e2e.matrix.resident import Resident
from tests.support.synapse import SynapseServer

pytestmark = [pytest.mark.e2e, SQLITE_ONLY]

ENGLISH = "From now on I will write to you in English."
DUTCH = "Vanaf nu schrijf ik je in het Nederlands."


async def test_restart_answers_what_came_in_while_down_exactly_once(
    bot: Bot, make_resident: Any, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    await bot.start(clock)
    eva: Resident = await make_resident("eva")
    room = await direct_chat(eva, bot, encrypted=True)
    mark = eva.mark()
    await eva.say(room, "!taal en")
    await eva.message_from(bot.user_id, room, ENGLISH, mark)
    device = bot.adapter.client.device_id
    await bot.stop()

    # While the bot is down: more messages than the restarted bot's sync timeline holds,
    # so it must page back for the rest.
    for text in ("!help", "!taal nl", "!mijnmeldingen"):
        await eva.say(room, text)
    with caplog.at_level(logging.INFO, logger="bot.adapters.matrix.inbound"):
        restarted = await bot.start(clock, timeline_limit=2)
        assert restarted.client.device_id == device  # same device, same keys: it can decrypt
        await eva.message_from(bot.user_id, room, "Je hebt nog geen meldingen", mark)
    assert "events the sync left out" in caplog.text  # the third came from paging back

    after = eva.mark()
    await eva.say(room, "!wijk")
    await eva.message_from(bot.user_id, room, "In welke wijk woon je?", after)
    for needle in (ENGLISH, "This is what I can do", DUTCH, "Je hebt nog geen meldingen"):
        assert len(eva.messages_from(bot.user_id, room, needle)) == 1, needle

    # A reaction on a message from before a restart counts as the typed number.
    after = eva.mark()
    await eva.say(room, "!taal")
    question = await eva.message_from(bot.user_id, room, "Welke taal", after)
    await bot.stop()
    await bot.start(clock)
    after = eva.mark()
    await eva.react(room, question.event_id, "2️⃣", encrypted=True)
    await eva.message_from(bot.user_id, room, ENGLISH, after)


async def test_rate_limited_bot_still_delivers_every_reply(
    bot: Bot, synapse: SynapseServer, make_resident: Any, clock: FrozenClock
) -> None:
    synapse.override_ratelimit(bot.user_id, per_second=1, burst_count=2)
    await bot.start(clock)
    fien: Resident = await make_resident("fien")
    room = await direct_chat(fien, bot, encrypted=False)

    mark = fien.mark()
    for text in ("!taal en", "!help", "!mijnmeldingen", "!start"):
        await fien.say(room, text)
    ask = await fien.message_from(bot.user_id, room, "Which language", mark, within=30)
    await fien.reaction_from(bot.user_id, ask.event_id, "3️⃣", mark, within=30)
    for needle in (ENGLISH, "This is what I can do", "You have no reports yet", "Which language"):
        assert len(fien.messages_from(bot.user_id, room, needle)) == 1, needle
    assert bot.adapter.rate_limited > 0  # the limit was met, and waited out
