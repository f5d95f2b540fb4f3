"""Direct chats with the bot on a real Synapse: onboarding, plain and end-to-end encrypted."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlmodel import select

from bot.adapters.matrix.render import KEYCAPS
from bot.core.clock import FrozenClock
from storage.models import Account, Person
from tests.e2e.matrix.conftest import SQLITE_ONLY, Bot, direct_chat
from tests.e2e.matrix.resident import Resident, body, is_edit_of

pytestmark = [pytest.mark.e2e, SQLITE_ONLY]


def number_of(text: str, label: str) -> int:
    """The number in front of the first numbered choice containing `label`."""
    for line in text.splitlines():
        m = re.match(r"^(\d+)\. (.*)$", line)
        if m and label in m.group(2):
            return int(m.group(1))
    raise AssertionError(f"no choice {label!r} in {text!r}")


async def edit_of(
    resident: Resident, bot: Bot, event: Any, needle: str, after: int, absent: str = ""
) -> Any:
    def match(_room: str, e: Any) -> bool:
        return (
            getattr(e, "sender", None) == bot.user_id
            and is_edit_of(e) == event.event_id
            and needle in body(e)
            and not (absent and absent in body(e))
        )

    return await resident.wait_for(match, f"edit with {needle!r}", after)


async def test_onboarding_in_a_plain_direct_chat(
    bot: Bot, make_resident: Any, clock: FrozenClock
) -> None:
    await bot.start(clock)
    anna: Resident = await make_resident("anna")
    room = await direct_chat(anna, bot, encrypted=False)

    mark = anna.mark()
    await anna.say(room, "!start")
    ask = await anna.message_from(bot.user_id, room, "Welke taal", mark)
    languages = "1. Nederlands\n2. English\n3. Türkçe\n4. Polski\n5. العربية\n6. Українська"
    assert languages + "\n7. Annuleer" in body(ask)
    assert "<ol><li>Nederlands</li>" in ask.source["content"]["formatted_body"]
    await anna.reaction_from(bot.user_id, ask.event_id, "7️⃣")  # the bot offers reactions

    mark = anna.mark()
    await anna.react(room, ask.event_id, "2️⃣")  # English, by reaction
    hood = await anna.message_from(bot.user_id, room, "Which neighbourhood", mark)
    schalkwijk = number_of(body(hood), "Schalkwijk")

    mark = anna.mark()
    await anna.say(room, str(schalkwijk))  # by typed number
    themes = await anna.message_from(bot.user_id, room, "Welcome to Schalkwijk!", mark)
    follow = number_of(body(themes), "Follow")

    mark = anna.mark()
    pressed = await anna.react(room, themes.event_id, KEYCAPS[follow - 1])
    following = await edit_of(anna, bot, themes, "(following)", mark)
    mark = anna.mark()
    await anna.client.room_redact(room, pressed)  # taking the reaction back: unfollow
    await edit_of(anna, bot, themes, "Which themes", mark, absent="(following)")

    done = number_of(body(following), "Done")
    mark = anna.mark()
    await anna.react(room, themes.event_id, KEYCAPS[done - 1])
    all_set = await anna.message_from(bot.user_id, room, "All set!", mark)
    assert is_edit_of(all_set) is None  # the end of the dialog: a new message, which notifies
    help_text = await anna.message_from(bot.user_id, room, "This is what I can do", mark)
    assert "!idea" in body(help_text) and "/idea" not in body(help_text)  # English names, ! prefix

    async with bot.app.db.session() as s:
        account = (
            await s.exec(select(Account).where(Account.platform_user_id == anna.user_id))
        ).one()
        person = await s.get(Person, account.person_id)
        assert person is not None and person.onboarded and person.locale == "en"


async def test_onboarding_in_an_encrypted_direct_chat(
    bot: Bot, make_resident: Any, clock: FrozenClock
) -> None:
    await bot.start(clock)
    bram: Resident = await make_resident("bram")
    room = await direct_chat(bram, bot, encrypted=True)

    mark = bram.mark()
    await bram.say(room, "!start")
    ask = await bram.message_from(bot.user_id, room, "Welke taal", mark)
    assert ask.decrypted  # the bot answered encrypted

    mark = bram.mark()
    await bram.say(room, "2")  # English, by typed number
    hood = await bram.message_from(bot.user_id, room, "Which neighbourhood", mark)

    schalkwijk = number_of(body(hood), "Schalkwijk")
    mark = bram.mark()
    await bram.react(room, hood.event_id, KEYCAPS[schalkwijk - 1], encrypted=True)  # as Element
    themes = await bram.message_from(bot.user_id, room, "Welcome to Schalkwijk!", mark)
    assert themes.decrypted

    done = number_of(body(themes), "Done")
    mark = bram.mark()
    await bram.react(room, themes.event_id, KEYCAPS[done - 1], encrypted=True)
    await bram.message_from(bot.user_id, room, "All set!", mark)

    # A message whose key never reaches the bot: it says so instead of staying silent.
    mark = bram.mark()
    bogus = {
        "algorithm": "m.megolm.v1.aes-sha2",
        "sender_key": bram.client.olm.account.identity_keys["curve25519"],
        "device_id": bram.client.device_id,
        "session_id": "no-such-session",
        "ciphertext": "AwgAEnB4om3Xyr2b",
    }
    await bram.put_raw(room, "m.room.encrypted", bogus)
    await bram.message_from(bot.user_id, room, "I could not read your message", mark)
