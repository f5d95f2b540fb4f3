"""Polls on a real Synapse: an MSC3381 poll in a room and a direct chat; one vote per person."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.adapters.matrix.render import KEYCAPS, POLL_END, POLL_START
from bot.core.clock import FrozenClock
from bot.ops.admin import grant_coordinator
from storage.models import Poll, PollVote
from tests.e2e.matrix.conftest import SQLITE_ONLY, Bot, direct_chat
from tests.e2e.matrix.resident import Resident, body
from tests.e2e.matrix.test_direct import number_of

pytestmark = [pytest.mark.e2e, SQLITE_ONLY]
RESPONSE = "org.matrix.msc3381.poll.response"


async def poll_in(resident: Resident, bot: Bot, room: str, after: int = 0) -> Any:
    def match(r: str, e: Any) -> bool:
        return (
            r == room
            and getattr(e, "sender", None) == bot.user_id
            and e.source.get("type") == POLL_START
        )

    return await resident.wait_for(match, f"a poll in {room}", after)


async def votes(bot: Bot) -> list[int]:
    async with bot.app.db.session() as s:
        return list((await s.exec(select(PollVote.option))).all())


async def test_poll_in_room_and_direct_chat_counts_once(
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
    await coco.message_from(bot.user_id, room, "Hoi allemaal!")
    mark = coco.mark()
    await coco.say(room, "!koppel Schalkwijk")
    await coco.message_from(bot.user_id, room, "gekoppeld aan Schalkwijk", mark)

    anna_dm = await direct_chat(anna, bot, encrypted=False)
    mark = anna.mark()
    await anna.say(anna_dm, "!wijk")
    hood = await anna.message_from(bot.user_id, anna_dm, "Schalkwijk", mark)
    mark = anna.mark()
    await anna.say(anna_dm, str(number_of(body(hood), "Schalkwijk")))
    await anna.message_from(bot.user_id, anna_dm, "Schalkwijk", mark)

    coco_dm = await direct_chat(coco, bot, encrypted=False)
    mark = coco.mark()
    await coco.say(coco_dm, "!peiling Meer bankjes op het plein? | Ja | Nee")
    summary = await coco.message_from(bot.user_id, coco_dm, "Je peiling", mark)
    mark = coco.mark()
    await coco.say(coco_dm, str(number_of(body(summary), "Versturen")))
    await coco.message_from(bot.user_id, coco_dm, "Verstuurd naar 1 groepschat en", mark)
    await bot.app.flush_outbox()

    in_room = await poll_in(anna, bot, room)
    start = in_room.source["content"][POLL_START]
    assert start["question"]["body"] == "Meer bankjes op het plein?"
    assert [a["org.matrix.msc1767.text"] for a in start["answers"]] == ["Ja", "Nee"]
    assert "1. Ja" in in_room.source["content"]["body"]  # the text fallback
    in_dm = await poll_in(anna, bot, anna_dm)

    # A native answer in the room (as Element sends it) …
    relation = {"rel_type": "m.reference", "event_id": in_room.event_id}
    answer = {"m.relates_to": relation, RESPONSE: {"answers": [start["answers"][0]["id"]]}}
    mark = anna.mark()
    await anna.send(room, answer, RESPONSE)
    await anna.message_from(bot.user_id, anna_dm, "Ja", mark)  # confirmed in the direct chat
    assert await votes(bot) == [0]
    # … then a keycap reaction in the direct chat: the latest choice counts, once.
    mark = anna.mark()
    await anna.react(anna_dm, in_dm.event_id, KEYCAPS[1])
    await anna.message_from(bot.user_id, anna_dm, "Nee", mark)
    assert await votes(bot) == [1]
    # After a restart the reaction still presses that message's button, also in a room:
    # the outbox kept the poll's buttons with the event id it was sent as.
    await bot.stop()
    await bot.start(clock)
    mark = anna.mark()
    await anna.react(room, in_room.event_id, KEYCAPS[0])
    await anna.message_from(bot.user_id, anna_dm, "Ja", mark)
    assert await votes(bot) == [0]

    clock.advance(timedelta(days=8))
    mark = anna.mark()
    await bot.app.run_jobs_now()
    results = await anna.message_from(bot.user_id, room, "Uitslag: Meer bankjes", mark)
    assert "Ja: 1 (100%)" in body(results)

    def chart(r: str, e: Any) -> bool:
        content = e.source.get("content", {})
        return r == room and content.get("msgtype") == "m.image" and "url" in content

    await anna.wait_for(chart, "the results chart", mark)

    def ended(poll_event: Any, r_expected: str) -> Any:
        def match(r: str, e: Any) -> bool:
            content = e.source.get("content", {})
            return (
                r == r_expected
                and e.source.get("type") == POLL_END
                and getattr(e, "sender", None) == bot.user_id
                and content.get("m.relates_to", {}).get("event_id") == poll_event.event_id
            )

        return match

    # Element stops taking answers: the poll is ended where it was posted, room and direct chat.
    end = await anna.wait_for(ended(in_room, room), "the poll's end event in the room", mark)
    assert body(end).startswith("Uitslag: Meer bankjes")  # the fallback for other clients
    await anna.wait_for(ended(in_dm, anna_dm), "the poll's end event in the direct chat", mark)
    async with bot.app.db.session() as s:
        assert (await s.exec(select(Poll))).one().closed_at is not None
