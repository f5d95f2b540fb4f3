"""#13 "Done when" on a real Synapse, one conversation: A posts an idea; B and C offer help;
A accepts B and declines C (C is told, without names); A and B meet in a new room made for
them (both invited, nobody else); the initiative gets its room "I-1 …" with B invited; A
marks it done and a supporter is told; a partner answers as its organisation; an event
collects "I'm coming" and the own reminder goes only to those coming.

Choices are made by reacting with the number on the bot's menu (a typed number answers the
newest menu in the room); what is not under test (the partner, the announcement) is set up
through the ops and service layers."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from bot.adapters.matrix.render import KEYCAPS
from bot.core.clock import FrozenClock
from bot.ops.admin import add_partner
from bot.services.announcements import send_announcement
from storage.models import Announcement
from storage.repo import places
from tests.e2e.matrix.conftest import SQLITE_ONLY, Bot, direct_chat
from tests.e2e.matrix.resident import Resident, body
from tests.e2e.matrix.test_direct import number_of
from tests.e2e.matrix.test_introduction_room import _invite_to

pytestmark = [pytest.mark.e2e, SQLITE_ONLY]

ORG = "Buurtwerk Haarlem"
TITLE = "Geveltuinen in de Amsterdamstraat"
REMINDER = "je zei dat je naar dit evenement komt"


class Person:
    """A resident and their direct chat with the bot."""

    def __init__(self, bot: Bot, resident: Resident, dm: str) -> None:
        self.bot, self.resident, self.dm = bot, resident, dm

    async def heard(self, needle: str, after: int = 0, within: float = 15) -> Any:
        return await self.resident.message_from(self.bot.user_id, self.dm, needle, after, within)

    def mark(self) -> int:
        return self.resident.mark()

    async def say(self, text: str, then: str) -> Any:
        mark = self.mark()
        await self.resident.say(self.dm, text)
        return await self.heard(then, mark)

    async def press(self, menu: Any, label: str, then: str) -> Any:
        """React with the number of `label` on the bot's menu message."""
        mark = self.mark()
        key = KEYCAPS[number_of(body(menu), label) - 1]
        await self.resident.react(self.dm, menu.event_id, key)
        return await self.heard(then, mark)

    def texts(self) -> str:
        return "\n".join(body(e) for e in self.resident.messages_from(self.bot.user_id, self.dm))


async def _neighbour(bot: Bot, resident: Resident) -> Person:
    person = Person(bot, resident, await direct_chat(resident, bot, encrypted=False))
    hood = await person.say("!wijk", "Schalkwijk")
    await person.press(hood, "Schalkwijk", "")
    return person


async def _offer(helper: Person, words: str) -> None:
    listing = await helper.say("!ideeen", "Doe mee I-1")
    await helper.press(listing, "Doe mee I-1", "")
    await helper.say(words, "Versturen")
    await helper.say("Versturen", "Dank je")


def _invited_to(resident: Resident, name: str) -> bool:
    rooms = [*resident.client.invited_rooms.values(), *resident.client.rooms.values()]
    return any(r.name == name for r in rooms)


async def test_the_whole_network_on_matrix(
    bot: Bot, make_resident: Any, clock: FrozenClock
) -> None:
    await bot.start(clock)
    anna, bob, carla, dave, wim = [
        await _neighbour(bot, await make_resident(name))
        for name in ("anna", "bob", "carla", "dave", "wim")
    ]
    await add_partner(bot.settings, "matrix", wim.resident.user_id, "schalkwijk", ORG,
                      ["vergroening"], [])  # fmt: skip

    # A posts an idea of the theme Greening.
    await anna.say("!idee", "titel")
    await anna.say(TITLE, "Vertel")
    theme = await anna.say("Wie doet mee? Wij zorgen voor de plantjes.", "Vergroening")
    confirm = await anna.press(theme, "Vergroening", "Plaatsen")
    await anna.press(confirm, "Plaatsen", "I-1")

    # B and C offer help; D supports the idea.
    await _offer(bob, "ik kan zaterdag")
    await _offer(carla, "ik heb gereedschap")
    listing = await dave.say("!ideeen", "Steun I-1")
    await dave.press(listing, "Steun I-1", "")

    # The offers reach A without names; the partner hears of the idea.
    mark = anna.mark()
    await bot.app.run_jobs_now()
    await bot.app.flush_outbox()
    news = await anna.heard("Nee tegen 2", mark)
    assert "ik kan zaterdag" in body(news) and "ik heb gereedschap" in body(news)
    assert "bob" not in body(news) and "carla" not in body(news)
    partner_news = await wim.heard(ORG)

    # The partner answers as its organisation; A sees the organisation's name.
    mark = anna.mark()
    await wim.press(partner_news, "Wij kunnen helpen met I-1", ORG)
    await bot.app.flush_outbox()
    await anna.heard(f"{ORG} wil helpen met je idee I-1", mark)

    # A accepts B and declines C; C is told, without a name.
    b_mark, c_mark = bob.mark(), carla.mark()
    await anna.press(news, "Ja tegen 1", "")
    await anna.press(news, "Nee tegen 2", "")
    await bot.app.flush_outbox()
    told = await carla.heard("zegt deze keer nee tegen je aanbod", c_mark)
    assert "anna" not in body(told)
    ask_bob = await bob.heard("Wil je in contact komen", b_mark)
    ask_anna = await anna.heard("Wil je in contact komen met de helper")

    # A and B meet in a new room for the idea: both invited, nobody else.
    await anna.press(ask_anna, "Ja", "")
    await bob.press(ask_bob, "Ja", "")
    await bot.app.flush_outbox()
    met = await _invite_to(anna.resident, TITLE, within=30)
    assert await _invite_to(bob.resident, TITLE, within=30) == met
    await anna.resident.join(met)
    room = anna.resident.client.rooms[met]
    assert set(room.invited_users) | set(room.users) == {
        bot.user_id, anna.resident.user_id, bob.resident.user_id
    }  # fmt: skip
    await anna.resident.message_from(bot.user_id, met, "Welkom", 0)

    # The initiative gets its room; B is invited, C is not.
    mine = await anna.say("!mijnideeen", "Start een initiatief I-1")
    await anna.press(mine, "Start een initiatief I-1", "initiatief")
    await bot.app.flush_outbox()
    name = f"I-1 {TITLE}"
    made = await _invite_to(anna.resident, name, within=30)
    assert await _invite_to(bob.resident, name, within=30) == made

    # A marks it done: the supporter is told it happened.
    mine = await anna.say("!mijnideeen", "I-1 is klaar")
    await anna.press(mine, "I-1 is klaar", "Wat hebben jullie gedaan")
    await anna.say("We plantten 12 geveltuinen", "Overslaan")
    await anna.say("Overslaan", "Gefeliciteerd")
    await bot.app.flush_outbox()
    await dave.heard(f"Je steunde I-1 “{TITLE}”: het is gelukt!")
    await bob.heard("Je hielp mee met I-1")

    # An event: B says "I'm coming"; only B gets the own reminder.
    async with bot.app.db.transaction() as s:
        hood = await places.neighbourhood_by_slug(s, "schalkwijk")
        assert hood is not None and hood.id is not None
        market = Announcement(
            neighbourhood_id=hood.id, text="Plantjesmarkt op het Kennemerplein",
            event_at=clock.now() + timedelta(days=1, hours=19),  # the 28th, 14:00
        )  # fmt: skip
        await send_announcement(s, market, clock.now(), "nl")
    await bot.app.flush_outbox()
    event = await bob.heard("Plantjesmarkt")
    await bob.press(event, "Ik kom", "je komt naar")
    clock.advance(timedelta(hours=41, minutes=5))  # the 28th, 12:05
    await bot.app.run_jobs_now()
    await bot.app.flush_outbox()
    await bob.heard(REMINDER)
    await asyncio.sleep(1.5)  # a sync or two for the others
    for other in (anna, carla, dave, wim):
        assert REMINDER not in other.texts()
    assert not _invited_to(carla.resident, name) and not _invited_to(carla.resident, TITLE)
    assert not _invited_to(dave.resident, TITLE) and not _invited_to(wim.resident, TITLE)
    assert "it happened" not in carla.texts() and "gelukt" not in carla.texts()
