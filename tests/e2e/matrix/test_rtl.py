"""#16 on Matrix (Synapse): a resident chooses Arabic with /taal ar, reports a problem,
follows it, reads the help and the neighbourhood budget. Each body as the resident's nio
client decrypted it is laid out by an independent Unicode Bidirectional Algorithm
(tests/support/bidi.py): references, amounts, dates and commands keep their own order."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from bidi import get_base_level

from bot.adapters.matrix.render import KEYCAPS
from bot.core.clock import FrozenClock
from bot.core.i18n import translations, use_locale
from bot.ops.budget import import_round
from bot.services.budget.text import euros
from storage.repo import budgets, places
from tests.e2e.matrix.conftest import SQLITE_ONLY, Bot, direct_chat
from tests.e2e.matrix.resident import Resident, body
from tests.e2e.matrix.test_direct import number_of
from tests.support.bidi import out_of_order, visible

pytestmark = [pytest.mark.e2e, SQLITE_ONLY]
PROJECTS = "id,title,description,cost\nA,حديقة الحي,,12000\nB,Bankjes bij de vijver,,8500\n"


def ar(msgid: str) -> str:
    return visible(translations("ar").gettext(msgid))


async def test_an_arabic_conversation_on_matrix_keeps_references_and_amounts_in_order(
    bot: Bot, make_resident: Any, clock: FrozenClock, tmp_path: Path
) -> None:
    await bot.start(clock)
    salma: Resident = await make_resident("salma")
    room = await direct_chat(salma, bot, encrypted=True)

    async def say(text: str, needle: str) -> Any:
        mark = salma.mark()
        await salma.say(room, text)
        return await salma.message_from(bot.user_id, room, needle, mark)

    await say("/taal ar", "")
    await say("/wijk", "Schalkwijk")
    await say("Schalkwijk", "Schalkwijk")
    await say("/melding", "")
    await say("مصباح الشارع مكسور", "")
    mark = salma.mark()
    await salma.send(room, {"msgtype": "m.location", "body": "Kennemerplein",
                            "geo_uri": "geo:52.3678,4.6536;u=12"})  # fmt: skip
    photo = await salma.message_from(bot.user_id, room, "", mark)
    mark = salma.mark()
    await salma.react(room, photo.event_id, KEYCAPS[number_of(body(photo), ar("Skip")) - 1])
    kinds = await salma.message_from(bot.user_id, room, "", mark)
    mark = salma.mark()
    lighting = number_of(body(kinds), ar("Street lighting"))
    await salma.react(room, kinds.event_id, KEYCAPS[lighting - 1])
    await salma.message_from(bot.user_id, room, "M-1001", mark)
    await say("/mijnmeldingen", "M-1001")
    await say("/help", "melding")

    projects = tmp_path / "projects.csv"
    projects.write_text(PROJECTS, encoding="utf-8")
    await import_round(
        bot.settings, projects, "schalkwijk", "greedy", "Schalkwijk aan Zet", 70000, voters="both"
    )
    async with bot.app.db.transaction() as s:
        hood = await places.neighbourhood_by_slug(s, "schalkwijk")
        assert hood is not None and hood.id is not None
        [round_] = await budgets.rounds_in(s, [hood.id])
        opens = clock.now() - timedelta(minutes=30)
        await budgets.open_voting(s, round_, opens, opens + timedelta(days=14))
    await say("/wijkbudget", "W-1")

    texts = [body(e) for e in salma.messages_from(bot.user_id, room)]
    every = "\n".join(visible(t) for t in texts)
    with use_locale("ar"):
        amounts = [euros(70000), euros(12000)]
    # What #16 asks to see: a reference, amounts, a date (the month) and commands ("!melding").
    assert "M-1001" in every and "!melding" in every and "ديسمبر" in every
    assert all(a in every for a in amounts), amounts
    assert [w for t in texts for w in out_of_order(t)] == []
    # Arabic, as chosen with /taal: every message after that reads right to left.
    assert [t for t in texts[1:] if get_base_level(t) != 1] == []
