"""Initiatives: an idea with accepted helpers becomes an initiative with a group chat (a
room on Matrix, `/koppel I-1` on Telegram with a one-person link per helper), then done;
supporters and helpers hear it happened. Only the initiator may do any of it."""

from __future__ import annotations

from sqlmodel import select

from bot.app import App
from storage.models import Initiative
from tests.support.fake import Chat, FakeAdapter, MakeChat


async def _resident(make_chat: MakeChat, name: str, lang: str = "en") -> Chat:
    chat: Chat = make_chat(name, lang=lang)
    await chat.say("/wijk")
    await chat.press("Schalkwijk")
    return chat


async def _offer(helper: Chat, idea: int = 1, words: str = "ik kan zaterdag") -> None:
    await helper.press_data(f"oh:{idea}")
    await helper.say(words)
    [send] = [b for b in helper.last().labels if b in ("Send", "Versturen")]
    await helper.press(send)


async def _team(app: App, make_chat: MakeChat) -> tuple[Chat, Chat, Chat]:
    """Anna's idea I-1; Bob's offer accepted, Carla's declined."""
    anna = await _resident(make_chat, "anna")
    await anna.say("/idee Geveltuinen in de Amsterdamstraat")
    await anna.press("Post")
    bob = await _resident(make_chat, "bob")
    carla = await _resident(make_chat, "carla", lang="nl")
    await _offer(bob)
    await _offer(carla)
    await app.run_jobs_now()
    await anna.press_data("oa:accept:1")
    await anna.press_data("oa:decline:2")
    return anna, bob, carla


async def _initiatives(app: App) -> list[Initiative]:
    async with app.db.session() as s:
        return list((await s.exec(select(Initiative))).all())


def _links(chat: Chat) -> list[str]:
    return [s.text for s in chat.mine() if "fake.example/join/" in s.text]


async def test_start_link_a_group_invite_helpers_and_finish(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    anna, bob, carla = await _team(app, make_chat)
    dave = await _resident(make_chat, "dave", lang="nl")
    await dave.press_data("idea:support:1")
    [mine] = await anna.say("/mijnideeen")
    assert "Start an initiative I-1" in mine.labels
    [started] = await anna.press("Start an initiative I-1")
    assert "now an initiative" in started.text and "/link I-1" in started.text
    [mine] = await anna.say("/mijnideeen")
    assert "initiative, team of 1" in mine.text and "Mark I-1 done" in mine.labels

    group = make_chat("anna", group="team")
    [linked] = await group.say("/koppel I-1")
    assert "group of I-1" in linked.text and "1 helper" in linked.text
    assert adapter.invites == [("g:team", "bob")]
    await app.flush_outbox()
    [link] = _links(bob)
    assert "I-1" in link and "https://fake.example/join/g:team" in link
    assert _links(carla) == []  # declined: no way in

    # A helper accepted later gets a link too.
    erin = await _resident(make_chat, "erin")
    await _offer(erin, words="gereedschap")
    await anna.press_data("oa:accept:3")
    await app.flush_outbox()
    assert len(_links(erin)) == 1 and len(_links(bob)) == 1

    [ask] = await anna.press("Mark I-1 done")
    assert "What did you do" in ask.text
    [photo_q] = await anna.say("We plantten 12 geveltuinen")
    assert "photo" in photo_q.text
    [done] = await anna.photo("plants-1")
    assert "Congratulations" in done.text
    await app.flush_outbox()
    [news] = [s for s in dave.mine() if "gelukt" in s.text]  # Dutch, his language
    assert "I-1" in news.text and "We plantten 12 geveltuinen" in news.text
    assert news.reply.photo is not None and news.reply.photo.file_id == "plants-1"
    [helped] = [s for s in bob.mine() if "it happened" in s.text]
    assert "You helped with I-1" in helped.text
    assert not [s for s in anna.mine() if "it happened" in s.text]
    assert not [s for s in carla.mine() if "gelukt" in s.text]  # declined, not a supporter
    [mine] = await anna.say("/mijnideeen")
    assert "done" in mine.text and "Mark I-1 done" not in mine.labels
    [again] = await anna.press_data("ini:done:1")
    assert "already done" in again.text
    [listing] = await bob.say("/ideeen")
    assert "done" in listing.text


async def test_only_the_initiator_links_a_real_initiative_in_a_group(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    anna, bob, carla = await _team(app, make_chat)
    group = make_chat("anna", group="team")
    [early] = await group.say("/koppel I-1")  # not an initiative yet
    assert "don't know an initiative I-1" in early.text
    await anna.press_data("ini:start:1")
    [forged] = await bob.press_data("ini:done:1")
    assert "only the person who shared the idea" in forged.text
    [forged_start] = await carla.press_data("ini:start:1")
    assert "alleen" in forged_start.text.lower()
    [other] = await make_chat("bob", group="team").say("/koppel I-1")
    assert "Only the person who started I-1" in other.text
    [typo] = await group.say("/koppel I-19")
    assert "don't know an initiative I-19" in typo.text
    [direct] = await anna.say("/koppel I-1")
    assert "group chat of your team" in direct.text
    [plain] = await make_chat("bob", group="buurt").say("/koppel Schalkwijk")
    assert "Only a coordinator" in plain.text  # the neighbourhood link is unchanged
    [ini] = await _initiatives(app)
    assert (ini.platform, ini.chat_id) == (None, None)
    assert adapter.invites == []

    # A group already linked to another initiative stays with it.
    await carla.say("/idee Buurtbieb")
    await carla.press("Plaatsen")
    await _offer(bob, idea=2)
    await app.run_jobs_now()
    await carla.press_data("oa:accept:3")
    await carla.press_data("ini:start:2")
    carla_group = make_chat("carla", group="bieb")
    await carla_group.say("/koppel I-2")
    [taken] = await make_chat("anna", group="bieb").say("/koppel I-1")
    assert "already the group of I-2" in taken.text
    assert {(i.idea_id, i.chat_id) for i in await _initiatives(app)} == {
        (1, None),
        (2, "g:bieb"),
    }


async def test_an_initiative_needs_a_team_and_a_bot_that_may_invite(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    anna = await _resident(make_chat, "anna")
    await anna.say("/idee Geveltuinen in de Amsterdamstraat")
    await anna.press("Post")
    [mine] = await anna.say("/mijnideeen")
    assert not [b for b in mine.labels if "initiative" in b]
    [alone] = await anna.press_data("ini:start:1")
    assert "first accept at least one offer" in alone.text
    assert await _initiatives(app) == []

    bob = await _resident(make_chat, "bob")
    await _offer(bob)
    await app.run_jobs_now()
    await anna.press_data("oa:accept:1")
    await anna.press_data("ini:start:1")

    async def no_right(group_id: str, user_id: str, expires: object = None) -> None:
        return None

    adapter.group_invite = no_right  # type: ignore[method-assign]
    [told] = await make_chat("anna", group="team").say("/koppel I-1")
    assert "cannot invite people here" in told.text and "admin" in told.text
    await app.flush_outbox()
    assert _links(bob) == []


async def test_an_erased_helper_leaves_the_team_and_my_data_shows_it(
    app: App, make_chat: MakeChat
) -> None:
    anna, bob, _carla = await _team(app, make_chat)
    erin = await _resident(make_chat, "erin")
    await _offer(erin, words="gereedschap")
    await anna.press_data("oa:accept:3")
    await anna.press_data("ini:start:1")
    [mine] = await anna.say("/mijngegevens")
    assert "Your initiative I-1: initiative, team of 2" in mine.text
    [his] = await bob.say("/mijngegevens")
    assert "You are in the team of I-1" in his.text
    await bob.say("/vergeetmij")
    await bob.press("Yes, erase my data")
    [ideas] = await anna.say("/mijnideeen")
    assert "initiative, team of 1" in ideas.text and "Mark I-1 done" in ideas.labels
    await anna.press("Mark I-1 done")
    await anna.say("Twaalf geveltuinen")
    [done] = await anna.press("Skip")
    assert "Congratulations" in done.text
    [ini] = await _initiatives(app)
    assert ini.status == "done" and ini.photo_file_id is None


async def test_on_matrix_the_bot_makes_the_room_and_invites_the_team(app: App) -> None:
    matrix = FakeAdapter(platform="matrix", capabilities=frozenset({"edit", "rooms"}))
    app.add(matrix)  # type: ignore[arg-type]

    async def person(name: str, lang: str) -> Chat:
        chat = Chat(app, matrix, f"@{name}:wijk.example", lang=lang)  # type: ignore[arg-type]
        await chat.say("/wijk")
        await chat.press("Schalkwijk")
        return chat

    anna = await person("anna", "en")
    await anna.say("/idee Geveltuinen in de Amsterdamstraat")
    await anna.press("Post")
    bob = await person("bob", "nl")
    await _offer(bob)
    await app.run_jobs_now()
    await anna.press_data("oa:accept:1")
    started = await anna.press_data("ini:start:1")  # the fake sends the room's text here too
    assert "making a room" in started[0].text
    await app.flush_outbox()
    [room] = [s for s in matrix.sent if s.reply.new_room is not None]
    assert room.reply.new_room is not None
    assert room.reply.new_room.name == "I-1 Geveltuinen in de Amsterdamstraat"
    assert set(room.reply.new_room.invite) == {"@anna:wijk.example", "@bob:wijk.example"}
    assert "Welcome" in room.text and "Welkom" in room.text
