"""Matchmaking in digests: how many neighbours want to help with a theme I follow, and
which ideas of my themes still look for helpers. Counts only, never names."""

from __future__ import annotations

from datetime import timedelta

from bot.app import App
from bot.core.clock import FrozenClock
from bot.services.digests import send_digests
from storage.models import Channel
from storage.repo import places
from tests.support.fake import Chat, FakeAdapter, MakeChat


async def _resident(
    make_chat: MakeChat, name: str, hood: str = "Schalkwijk", lang: str = "en"
) -> Chat:
    chat: Chat = make_chat(name, lang=lang)
    await chat.say("/wijk")
    await chat.press(hood)
    return chat


async def _idea(chat: Chat, title: str, theme: str) -> None:
    await chat.say("/idee")
    await chat.say(title)
    await chat.press("Skip")
    await chat.press(theme)
    await chat.press("Post")


async def _offer(chat: Chat, idea: int) -> None:
    await chat.press_data(f"oh:{idea}")
    await chat.press("Time")
    await chat.press("Send")


def _digest_of(chat: Chat) -> str:
    [digest] = [s.text for s in chat.mine() if s.text.startswith(("Your digest", "Je overzicht"))]
    return digest


async def test_helpers_and_ideas_looking_for_helpers_per_followed_theme(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    anna = await _resident(make_chat, "anna")
    await anna.say("/volg vergroening")
    bob = await _resident(make_chat, "bob")
    await _idea(bob, "Geveltuinen in de Amsterdamstraat", "Greening")  # I-1
    await _idea(bob, "Voetbalkooi opknappen", "Youth")  # I-2: anna does not follow Youth
    await _idea(bob, "Boomspiegels in de Europawijk", "Greening")  # I-3
    dirk = await _resident(make_chat, "dirk", hood="Delftwijk")
    await _idea(dirk, "Groen schoolplein Delftwijk", "Greening")  # I-4: another neighbourhood
    carla, erik, fien = [await _resident(make_chat, n) for n in ("carla", "erik", "fien")]
    await _offer(carla, 1)
    await _offer(erik, 1)
    await _offer(erik, 3)  # erik counts once
    await _offer(fien, 3)
    await _offer(carla, 2)  # Youth: not in anna's digest
    await _offer(fien, 4)  # Delftwijk: not in anna's digest
    await bob.press_data("oa:accept:2")  # I-1 has a helper now (erik's offer)

    clock.advance(timedelta(hours=1))
    await send_digests(app.db, clock, "weekly", group_locale="en")
    await app.flush_outbox()

    digest = _digest_of(anna)
    assert "3 neighbours want to help with Greening: see I-1, I-3" in digest
    assert "Ideas that still need helpers: I-3" in digest
    assert "Youth" not in digest.split("want to help", 1)[1]
    assert "I-4" not in digest and "I-2," not in digest
    for name in ("carla", "erik", "fien"):
        assert name not in digest
    # Delftwijk's resident who follows nothing hears about Delftwijk, not Schalkwijk's helpers.
    assert "I-1" not in " ".join(s.text for s in dirk.mine() if s.text.startswith("Your digest"))


async def test_one_helper_in_the_singular_and_no_line_without_followed_themes(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    anna = await _resident(make_chat, "anna", lang="nl")
    await anna.say("/volg vergroening")
    gert = await _resident(make_chat, "gert")  # follows nothing
    bob = await _resident(make_chat, "bob")
    await _idea(bob, "Geveltuinen in de Amsterdamstraat", "Greening")
    carla = await _resident(make_chat, "carla")
    await _offer(carla, 1)

    clock.advance(timedelta(hours=1))
    await send_digests(app.db, clock, "weekly", group_locale="en")
    await app.flush_outbox()

    digest = _digest_of(anna)
    assert "1 buur wil helpen met Vergroening: zie I-1" in digest
    assert "Ideeën die nog helpers zoeken: I-1" in digest
    assert "want to help" not in _digest_of(gert) and "need helpers" not in _digest_of(gert)


async def test_a_theme_group_hears_who_wants_to_help_with_its_theme_only(
    app: App, make_chat: MakeChat, adapter: FakeAdapter, clock: FrozenClock
) -> None:
    bob = await _resident(make_chat, "bob")
    await _idea(bob, "Geveltuinen in de Amsterdamstraat", "Greening")  # I-1
    await _idea(bob, "Voetbalkooi opknappen", "Youth")  # I-2
    carla = await _resident(make_chat, "carla")
    await _offer(carla, 1)
    await _offer(carla, 2)
    async with app.db.transaction() as s:
        hood = await places.neighbourhood_by_slug(s, "schalkwijk")
        green = next(t for t in await places.themes_for(s, None) if t.slug == "vergroening")
        assert hood is not None
        s.add(Channel(platform="fake", chat_id="g:buurt", kind="group", neighbourhood_id=hood.id))
        s.add(Channel(platform="fake", chat_id="g:groen", kind="group", neighbourhood_id=hood.id,
                      theme_id=green.id))  # fmt: skip
    clock.advance(timedelta(hours=1))

    await send_digests(app.db, clock, "weekly", group_locale="en")
    await app.flush_outbox()
    [green_group] = [s.text for s in adapter.in_chat("g:groen")]
    assert "1 neighbour wants to help with Greening: see I-1" in green_group
    assert "Ideas that still need helpers: I-1" in green_group and "Youth" not in green_group
    [whole] = [s.text for s in adapter.in_chat("g:buurt")]
    assert "want to help" not in whole and "wants to help" not in whole
