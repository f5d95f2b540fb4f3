"""Issue 15 "done when", on a real Synapse: a coordinator opens a conversation, two residents
vote by typing the number of a choice, one adds a statement the coordinator rejects; twenty
more neighbours vote through the service layer (to keep it fast). "Tussenstand" and the end
report show groups and common ground with the opinion map as an image; the export, analysed
again, gives the same groups."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.clock import FrozenClock
from bot.ops.admin import grant_coordinator
from bot.ops.conversation_export import export_conversation
from bot.services.dialogue.polis_format import analyse_directory, read_conversation
from tests.dialogue.test_report import _camps
from tests.e2e.matrix.conftest import SQLITE_ONLY, Bot, direct_chat
from tests.e2e.matrix.resident import Resident, body
from tests.e2e.matrix.test_direct import number_of

pytestmark = [pytest.mark.e2e, SQLITE_ONLY]

LINE = "!nieuwgesprek Hoe maken we het plein fijner? | Meer bankjes | Minder auto's | Meer groen"


async def _choose(who: Resident, bot: Bot, room: str, shown: Any, label: str, expect: str) -> Any:
    """Type the number of the choice `label` in `shown`; the bot's answer containing `expect`."""
    mark = who.mark()
    await who.say(room, str(number_of(body(shown), label)))
    return await who.message_from(bot.user_id, room, expect, mark)


async def _resident(make_resident: Any, bot: Bot, name: str) -> tuple[Resident, str]:
    who: Resident = await make_resident(name)
    dm = await direct_chat(who, bot, encrypted=False)
    mark = who.mark()
    await who.say(dm, "!wijk")
    hood = await who.message_from(bot.user_id, dm, "Schalkwijk", mark)
    await _choose(who, bot, dm, hood, "Schalkwijk", "Schalkwijk")
    return who, dm


def _image_in(room: str) -> Any:
    def match(r: str, e: Any) -> bool:
        content = e.source.get("content", {})
        return r == room and content.get("msgtype") == "m.image" and "url" in content

    return match


async def test_conversation_report_with_map_and_export_round_trip(
    bot: Bot, make_resident: Any, clock: FrozenClock, tmp_path: Path
) -> None:
    await bot.start(clock)
    coco: Resident = await make_resident("coco")
    await grant_coordinator(bot.settings, "matrix", coco.user_id, "schalkwijk")
    anna, anna_dm = await _resident(make_resident, bot, "anna")
    bob, bob_dm = await _resident(make_resident, bot, "bob")
    coco_dm = await direct_chat(coco, bot, encrypted=False)
    mark = coco.mark()
    await coco.say(coco_dm, LINE)
    summary = await coco.message_from(bot.user_id, coco_dm, "Meer groen", mark)
    await _choose(coco, bot, coco_dm, summary, "Versturen", "Verstuurd naar")
    await bot.app.flush_outbox()

    # Two residents vote on Matrix; Bob adds a statement, the coordinator rejects it.
    for who, dm, label in ((anna, anna_dm, "Eens"), (bob, bob_dm, "Oneens")):
        invite = await who.message_from(bot.user_id, dm, "Gesprek: Hoe maken we")
        shown = await _choose(who, bot, dm, invite, "Meedoen", "Ben je het ermee eens?")
        for _ in range(2):
            shown = await _choose(who, bot, dm, shown, label, "Ben je het ermee eens?")
        shown = await _choose(who, bot, dm, shown, label, "Dat was alles")
    asked = await _choose(bob, bot, bob_dm, shown, "Zelf een stelling", "stelling")
    mark = bob.mark()
    await bob.say(bob_dm, "Een speeltuin voor kleine kinderen")
    await bob.message_from(bot.user_id, bob_dm, "coördinator", mark)
    assert asked is not None
    await bot.app.flush_outbox()
    review = await coco.message_from(bot.user_id, coco_dm, "Een speeltuin")
    await _choose(coco, bot, coco_dm, review, "Afwijzen", "reden")
    mark = coco.mark()
    await coco.say(coco_dm, "Dat past niet bij de vraag")
    await coco.message_from(bot.user_id, coco_dm, "Afgewezen", mark)
    conv_id, *_ = await _camps(bot.app, clock)

    # Tussenstand during the conversation: groups, common ground and the map as an image.
    mark = anna.mark()
    await anna.say(anna_dm, "!gesprek")
    listed = await anna.message_from(bot.user_id, anna_dm, "Gesprek:", mark)
    standing = await _choose(anna, bot, anna_dm, listed, "Tussenstand", "Wat Schalkwijk verbindt")
    assert "Waar meningen verschillen" in body(standing) and "Groep B" in body(standing)
    await anna.wait_for(_image_in(anna_dm), "the opinion map", mark)

    # The end: each participant gets the report with the map.
    mark = bob.mark()
    clock.advance(timedelta(days=15))
    await bot.app.run_jobs_now()
    end = await bob.message_from(bot.user_id, bob_dm, "is afgelopen", mark)
    assert "Waar meningen verschillen" in body(end)
    await bob.wait_for(_image_in(bob_dm), "the opinion map at the end", mark)

    # The export round-trips.
    out = tmp_path / "export"
    await export_conversation(bot.settings, conv_id, "csv", out)
    files = read_conversation(out)
    assert [s.text for s in files.statements.values() if s.moderated == -1] == [
        "Een speeltuin voor kleine kinderen"
    ]
    again = json.loads(analyse_directory(out, as_json=True))["groups"]
    assert again == {str(p): g for p, g in files.polis_groups.items()}
    assert len(set(again.values())) == 2
