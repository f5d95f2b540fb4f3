"""Theme groups: following a theme offers the group chat linked to it in my neighbourhood;
the bot makes the way in (a link, an invite) only when asked, and welcomes a newcomer in the
group by first name only when they said yes to that."""

from __future__ import annotations

from sqlmodel import select

from bot.app import App
from bot.core.events import Incoming
from bot.ops.admin import grant_coordinator
from storage.models import Channel, GroupWelcome
from tests.support.fake import Chat, FakeAdapter, MakeChat


async def _resident(make_chat: MakeChat, name: str, hood: str = "Schalkwijk") -> Chat:
    chat: Chat = make_chat(name, lang="en")
    await chat.say("/wijk")
    await chat.press(hood)
    return chat


async def _link(app: App, make_chat: MakeChat, group: str, words: str) -> Chat:
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    await grant_coordinator(app.settings, "fake", "coco", "delftwijk")
    coco: Chat = make_chat("coco", group=group)
    await coco.say(f"/koppel {words}")
    return coco


async def _joins(make_chat: MakeChat, name: str, group: str) -> list[str]:
    """`name` joins the group chat; what the bot then says in the group."""
    member: Chat = make_chat(name, group=group, lang="en")
    sent = await member._feed(Incoming("member_joined", member.user, member.chat))
    return [s.text for s in sent]


async def _channel_id(app: App, group: str) -> int:
    async with app.db.session() as s:
        found = (await s.exec(select(Channel).where(Channel.chat_id == f"g:{group}"))).one()
        assert found.id is not None
        return found.id


async def _welcomes(app: App) -> list[GroupWelcome]:
    async with app.db.session() as s:
        return list((await s.exec(select(GroupWelcome))).all())


async def test_following_a_theme_offers_its_group_and_the_link_is_made_when_taken(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    await _link(app, make_chat, "groen", "schalkwijk vergroening")
    anna = await _resident(make_chat, "anna")
    [followed] = await anna.say("/volg vergroening")
    assert "You now follow Greening" in followed.text
    assert "group chat" in followed.text and "Join the group chat" in followed.labels
    assert adapter.invites == []  # nothing made before she asks for it
    [ask] = await anna.press("Join the group chat")
    assert "May I welcome you in the group with your first name?" in ask.text
    [way_in] = await anna.press("No thanks")
    assert adapter.invites == [("g:groen", "anna")]
    assert [b.url for b in way_in.reply.flat_buttons()] == ["https://fake.example/join/g:groen"]
    assert await _welcomes(app) == []
    assert await _joins(make_chat, "anna", "groen") == []  # she said no: no welcome
    # From /themas too: unfollowing and following again with the button offers it again.
    await anna.say("/themas")
    await anna.press("Unfollow Greening")
    [again] = await anna.press("Follow Greening")
    assert "Join the group chat" in again.labels


async def test_no_group_for_the_theme_or_only_in_another_neighbourhood_no_offer(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    await _link(app, make_chat, "delft-groen", "delftwijk vergroening")
    await _link(app, make_chat, "schalkwijk", "schalkwijk")  # no theme: not a theme group
    anna = await _resident(make_chat, "anna")
    [followed] = await anna.say("/volg vergroening")
    assert "You now follow Greening" in followed.text
    assert "group" not in followed.text and followed.labels == []
    [youth] = await anna.say("/volg jeugd")
    assert "group" not in youth.text
    assert adapter.invites == []


async def test_welcome_by_first_name_only_after_yes_and_forged_consent_is_refused(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    coco = await _link(app, make_chat, "groen", "schalkwijk vergroening")
    delft = await _link(app, make_chat, "delft-groen", "delftwijk vergroening")
    groen, delft_groen = await _channel_id(app, "groen"), await _channel_id(app, "delft-groen")
    bob = await _resident(make_chat, "bob")
    await bob.say("/volg vergroening")
    await bob.press("Join the group chat")
    [way_in] = await bob.press("Yes, welcome me")
    assert "https://fake.example/join/g:groen" in [b.url for b in way_in.reply.flat_buttons()]
    [mine] = await bob.say("/mijngegevens")
    assert "welcome you by first name in the group chat of Greening" in mine.text

    # Forged buttons: a group of a theme dirk does not follow, another neighbourhood's group.
    dirk = await _resident(make_chat, "dirk")
    [refused] = await dirk.press_data(f"tg:{groen}:yes")
    assert "no longer works" in refused.text
    await dirk.say("/volg vergroening")
    [other] = await dirk.press_data(f"tg:{delft_groen}:yes")
    assert "no longer works" in other.text
    assert len(await _welcomes(app)) == 1 and adapter.invites == [("g:groen", "bob")]

    # Someone who never said yes joins: no name in the group.
    assert await _joins(make_chat, "dirk", "groen") == []
    assert await _joins(make_chat, "carla", "groen") == []
    # Bob joins another group: not welcomed there.
    assert await _joins(make_chat, "bob", "delft-groen") == []
    [welcome] = await _joins(make_chat, "bob", "groen")
    assert "Welcome, bob!" in welcome
    assert await _welcomes(app) == []  # used once, then gone
    assert await _joins(make_chat, "bob", "groen") == []
    [mine] = await bob.say("/mijngegevens")
    assert "welcome you" not in mine.text
    assert not [s for s in coco.mine() + delft.mine() if "dirk" in s.text or "carla" in s.text]


async def test_forget_me_erases_a_waiting_welcome(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    await _link(app, make_chat, "groen", "schalkwijk vergroening")
    erik = await _resident(make_chat, "erik")
    await erik.say("/volg vergroening")
    await erik.press("Join the group chat")
    await erik.press("Yes, welcome me")
    assert len(await _welcomes(app)) == 1
    await erik.say("/vergeetmij")
    await erik.press("Yes, erase my data")
    assert await _welcomes(app) == []
    assert await _joins(make_chat, "erik", "groen") == []
