"""Regression tests for problems found in review."""

from __future__ import annotations

from sqlmodel import select

from bot.app import App
from bot.core.commands import addressed_elsewhere, parse_command
from bot.ops.admin import grant_coordinator
from storage.models import Channel
from storage.repo import places
from tests.support.fake import Chat


def test_commands_with_punctuation() -> None:
    assert parse_command("/melding: glas op het fietspad") == ("melding", "glas op het fietspad")
    assert parse_command("/idee, meer bankjes") == ("idee", "meer bankjes")
    assert parse_command("/help@OtherBot", "WijkbotBot") is None
    assert addressed_elsewhere("/help@OtherBot", "WijkbotBot")
    assert not addressed_elsewhere("/help@wijkbotbot", "WijkbotBot")
    assert parse_command("/ hallo") is None


async def test_double_tap_on_follow_keeps_following(app: App, make_chat) -> None:  # type: ignore[no-untyped-def]
    chat: Chat = make_chat("anna", lang="en")
    await chat.say("/wijk")
    await chat.press("Schalkwijk")
    await chat.say("/themas")
    sent, follow = chat.button("Follow Greening")
    await chat.press_data(follow.data, sent.ref)
    [second] = await chat.press_data(follow.data, sent.ref)  # the same, stale button again
    assert "✓ Greening" in second.text
    async with app.db.session() as s:
        assert len(await places.followed_theme_ids(s, 1)) == 1


async def test_cannot_take_over_a_group_linked_elsewhere(app: App, make_chat) -> None:  # type: ignore[no-untyped-def]
    await grant_coordinator(app.settings, "fake", "dana", "delftwijk")
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    dana: Chat = make_chat("dana", group="delftgroep", lang="en")
    await dana.say("/koppel Delftwijk")
    coco: Chat = make_chat("coco", group="delftgroep", lang="en")  # Dutch: granted by CLI
    [refused] = await coco.say("/koppel Schalkwijk")
    assert "geen coördinator van Delftwijk" in refused.text
    async with app.db.session() as s:
        channel = (await s.exec(select(Channel).where(Channel.chat_id == "g:delftgroep"))).one()
        hood = await places.neighbourhood(s, channel.neighbourhood_id or 0)
        assert hood is not None and hood.slug == "delftwijk"


async def test_group_chatter_never_answered(make_chat) -> None:  # type: ignore[no-untyped-def]
    chat: Chat = make_chat("anna", group="buurtapp", lang="en")
    for text in ("stop", "Annuleer", "x" * 5000, "1", "   "):
        assert await chat.say(text) == []


async def test_private_chat_link_from_a_group_opens_the_report(make_chat) -> None:  # type: ignore[no-untyped-def]
    group: Chat = make_chat("anna", group="buurtapp", lang="en")
    [moved] = await group.say("/melding")
    url = moved.reply.flat_buttons()[0].url or ""
    payload = url.rsplit("=", 1)[1]
    dm: Chat = make_chat("anna", lang="en")
    [opened] = await dm.say(f"/start {payload}")
    assert "What is wrong" in opened.text
