"""Initiatives in digests, by followed theme: an idea became an initiative with a team of N,
or it is done with "what we did"; who supported it reads "you supported it, it happened"."""

from __future__ import annotations

from datetime import timedelta

from bot.app import App
from bot.core.clock import FrozenClock
from bot.services.digests import send_digests
from tests.support.fake import Chat, MakeChat


async def _resident(make_chat: MakeChat, name: str, lang: str = "en") -> Chat:
    chat: Chat = make_chat(name, lang=lang)
    await chat.say("/wijk")
    await chat.press("Schalkwijk")
    return chat


async def _digests(app: App, clock: FrozenClock, days: int = 7) -> None:
    clock.advance(timedelta(days=days))
    await send_digests(app.db, clock, "weekly", group_locale="en")
    await app.flush_outbox()


def _last_digest(chat: Chat) -> str:
    found = [s.text for s in chat.mine() if s.text.startswith(("Your digest", "Je overzicht"))]
    return found[-1] if found else ""


async def test_a_followed_theme_shows_the_initiative_then_that_it_happened(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    anna = await _resident(make_chat, "anna")
    await anna.say("/idee")
    await anna.say("Geveltuinen in de Amsterdamstraat")
    await anna.press("Skip")
    await anna.press("Greening")
    await anna.press("Post")
    eve = await _resident(make_chat, "eve")
    await eve.say("/volg vergroening")
    dave = await _resident(make_chat, "dave", lang="nl")
    await dave.say("/volg vergroening")
    await dave.press_data("idea:support:1")
    gert = await _resident(make_chat, "gert")
    await gert.say("/volg jeugd")  # another theme: none of this
    bob = await _resident(make_chat, "bob")
    await bob.press_data("oh:1")
    await bob.press("Time")
    await bob.press("Send")
    await anna.press_data("oa:accept:1")
    await anna.press_data("ini:start:1")

    await _digests(app, clock, days=0)
    started = _last_digest(eve)
    assert "I-1 “Geveltuinen in de Amsterdamstraat” is now an initiative, team of 1" in started
    assert "bob" not in started
    assert "I-1 “Geveltuinen" not in _last_digest(gert)

    clock.advance(timedelta(hours=1))
    await anna.press_data("ini:done:1")
    await anna.say("We plantten 12 geveltuinen")
    await anna.press("Skip")
    await _digests(app, clock)
    done = _last_digest(eve)
    assert "I-1 “Geveltuinen in de Amsterdamstraat” is done. What we did: We plantten" in done
    assert "You supported" not in done
    supported = _last_digest(dave)
    assert "Je steunde I-1 “Geveltuinen in de Amsterdamstraat”: het is gelukt!" in supported
    assert "We plantten 12 geveltuinen" in supported
    assert "is nu een initiatief" not in supported  # last week's news is not repeated
    assert "I-1 “Geveltuinen" not in _last_digest(gert)

    await _digests(app, clock)  # nothing new: no repeat
    assert _last_digest(eve) == done
