"""The database goes away mid-conversation, and the bot dies mid-batch, on a real Synapse:
every message is answered once it is back, and none twice.

PostgreSQL is really stopped and started (a server of the test's own); SQLite's file fails
every statement meanwhile (`tests/support/outage.py`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.core.clock import FrozenClock
from tests.e2e.matrix.conftest import Bot, direct_chat
from tests.e2e.matrix.resident import Resident, body
from tests.support.outage import Outage

pytestmark = pytest.mark.e2e

ENGLISH = "From now on I will write to you in English."
HELP_NL = "Dit kan ik voor je doen"
HELP_EN = "This is what I can do"
SORRY = ("Sorry", "Sorry, er ging iets mis")
WHILE_DOWN = 3.0  # seconds the database stays away: the bot tries several times meanwhile


@pytest.fixture
def db_url(outage: Outage) -> str:
    return outage.url


def said_since(resident: Resident, bot: Bot, room: str, mark: int) -> list[str]:
    return [
        body(e)
        for r, e in resident.seen[mark:]
        if r == room and getattr(e, "sender", None) == bot.user_id and body(e)
    ]


async def test_database_away_mid_conversation_every_message_answered_once(
    bot: Bot, make_resident: Any, clock: FrozenClock, outage: Outage
) -> None:
    await bot.start(clock)
    eva: Resident = await make_resident("eva")
    room = await direct_chat(eva, bot, encrypted=True)
    mark = eva.mark()
    await eva.say(room, "!help")
    await eva.message_from(bot.user_id, room, HELP_NL, mark)

    after = eva.mark()
    async with outage:
        await eva.say(room, "!taal en")
        await eva.say(room, "!help")
        await asyncio.sleep(WHILE_DOWN)
        assert said_since(eva, bot, room, after) == []  # no "something went wrong" either
        assert bot.running

    await eva.message_from(bot.user_id, room, ENGLISH, after, within=30)
    await eva.message_from(bot.user_id, room, HELP_EN, after, within=15)  # after the switch
    await asyncio.sleep(2)  # a sync round or two: nothing comes twice
    said = said_since(eva, bot, room, after)
    answers = [s for s in said if ENGLISH in s or HELP_EN in s or HELP_NL in s]
    assert len(answers) == 2, said  # each once, in the order she wrote
    assert ENGLISH in answers[0] and HELP_EN in answers[1]
    assert not any(s.startswith(SORRY) for s in said), said


async def test_dying_mid_batch_answers_the_rest_after_a_restart_and_nothing_twice(
    bot: Bot, make_resident: Any, clock: FrozenClock
) -> None:
    await bot.start(clock)
    eva: Resident = await make_resident("eva")
    room = await direct_chat(eva, bot, encrypted=True)
    mark = eva.mark()
    await eva.say(room, "!help")
    await eva.message_from(bot.user_id, room, HELP_NL, mark)
    await bot.stop()

    after = eva.mark()
    await eva.say(room, "!taal en")  # both come in the restarted bot's first sync
    await eva.say(room, "!help")
    await bot.start(clock, dies_at=2)  # dies as it begins the second, the first answered
    await bot.died()
    await eva.message_from(bot.user_id, room, ENGLISH, after)
    await bot.stop()

    await bot.start(clock)
    await eva.message_from(bot.user_id, room, HELP_EN, after, within=30)
    await asyncio.sleep(2)
    said = said_since(eva, bot, room, after)
    assert len([s for s in said if ENGLISH in s]) == 1  # the batch was not answered again
    assert len([s for s in said if HELP_EN in s]) == 1
