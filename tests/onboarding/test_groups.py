"""Group chats: brief answers, longer dialogs moved to a direct chat, linking by coordinators."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import select

from bot.app import App
from bot.core.events import Incoming
from bot.ops.admin import grant_coordinator
from storage.models import AuditEvent, Channel
from storage.repo import places
from tests.support.fake import Chat, MakeChat


async def test_dialog_commands_move_to_a_direct_chat(make_chat: MakeChat) -> None:
    chat: Chat = make_chat("anna", group="buurtapp", lang="en")
    [reply] = await chat.say("/melding")
    assert "private chat" in reply.text
    [button] = reply.reply.flat_buttons()
    assert button.url == "https://fake.example/bot?start=melding"
    [private] = await chat.say("/mijngegevens")  # personal data never shown in a group
    assert "private chat" in private.text


async def test_resident_cannot_link_a_group(app: App, make_chat: MakeChat) -> None:
    chat: Chat = make_chat("anna", group="buurtapp", lang="en")
    [reply] = await chat.say("/koppel Schalkwijk")
    assert "Only a coordinator" in reply.text
    async with app.db.session() as s:
        assert (await s.exec(select(Channel).where(Channel.kind == "group"))).first() is None


async def test_coordinator_links_and_unlinks(app: App, make_chat: MakeChat) -> None:
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", group="buurtapp")
    [other] = await coco.say("/koppel Delftwijk")
    assert "geen coördinator van Delftwijk" in other.text
    [linked] = await coco.say("/koppel schalkwijk vergroening")
    assert "Schalkwijk" in linked.text and "Vergroening" in linked.text
    async with app.db.session() as s:
        channel = (await s.exec(select(Channel).where(Channel.chat_id == "g:buurtapp"))).one()
        assert channel.neighbourhood_id == 5 or channel.neighbourhood_id is not None
        assert channel.theme_id is not None
        assert (await s.exec(select(AuditEvent).where(AuditEvent.action == "group.linked"))).first()
    resident: Chat = make_chat("anna", group="buurtapp", lang="en")
    [ideas] = await resident.say("/ideeen")  # answered in the group, for the linked neighbourhood
    assert "no ideas yet in Schalkwijk" in ideas.text
    [refused] = await resident.say("/ontkoppel")
    assert "Only a coordinator" in refused.text
    [unlinked] = await coco.say("/ontkoppel")
    assert "Schalkwijk" in unlinked.text
    [again] = await coco.say("/ontkoppel")
    assert "niet gekoppeld" in again.text


async def test_bot_added_and_removed(app: App, make_chat: MakeChat, adapter) -> None:
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", group="buurtapp")
    added = Incoming("joined", coco.user, coco.chat)
    [hello] = await coco._feed(added)
    assert "/koppel" in hello.text
    await coco.say("/koppel")  # the only neighbourhood coco coordinates
    removed = replace(added, kind="left")
    assert await coco._feed(removed) == []
    async with app.db.session() as s:
        channel = (await s.exec(select(Channel).where(Channel.chat_id == "g:buurtapp"))).one()
        assert channel.reachable is False


async def test_cannot_take_over_a_group_linked_elsewhere(app: App, make_chat: MakeChat) -> None:
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


async def test_group_chatter_never_answered(make_chat: MakeChat) -> None:
    chat: Chat = make_chat("anna", group="buurtapp", lang="en")
    for text in ("stop", "Annuleer", "x" * 5000, "1", "   "):
        assert await chat.say(text) == []


async def test_private_chat_link_from_a_group_opens_the_report(make_chat: MakeChat) -> None:
    group: Chat = make_chat("anna", group="buurtapp", lang="en")
    [moved] = await group.say("/melding")
    url = moved.reply.flat_buttons()[0].url or ""
    payload = url.rsplit("=", 1)[1]
    dm: Chat = make_chat("anna", lang="en")
    [opened] = await dm.say(f"/start {payload}")
    assert "What is wrong" in opened.text


@pytest.mark.parametrize("history", ["group only", "was a direct chat", "seen as a direct chat"])
async def test_a_group_link_outlives_the_coordinator_who_made_it(
    app: App, make_chat: MakeChat, history: str
) -> None:
    """The link belongs to the room: /vergeetmij of its coordinator leaves it linked.

    On Matrix one room id can be a direct chat first and a group later (or the reverse):
    a link made there must not be stored as the coordinator's own chat either.
    """
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", group="buurtapp")
    if history == "was a direct chat":
        coco.chat = replace(coco.chat, kind="direct")
        await coco.say("/help")  # the room was coco's direct chat with the bot
        coco.chat = replace(coco.chat, kind="group")
    [linked] = await coco.say("/koppel schalkwijk")
    assert "gekoppeld aan Schalkwijk" in linked.text
    if history == "seen as a direct chat":
        coco.chat = replace(coco.chat, kind="direct")
        await coco.say("/help")  # everyone else left the room for a moment
        coco.chat = replace(coco.chat, kind="group")

    private: Chat = make_chat("coco")
    await private.say("/vergeetmij")
    [bye] = await private.press("Ja, wis mijn gegevens")
    assert "gewist" in bye.text

    resident: Chat = make_chat("anna", group="buurtapp", lang="en")
    [ideas] = await resident.say("/ideeen")
    assert "no ideas yet in Schalkwijk" in ideas.text  # still linked
    async with app.db.session() as s:
        channel = (await s.exec(select(Channel).where(Channel.chat_id == "g:buurtapp"))).one()
        assert channel.kind == "group" and channel.person_id is None and channel.reachable
