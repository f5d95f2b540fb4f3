"""Introductions after an accepted offer: both sides are asked, each in the moment, and only
two "yes" answers share handles. The attack first: no handle in any message before that."""

from __future__ import annotations

import dataclasses

from sqlmodel import select

from bot.app import App
from storage.models import Introduction
from tests.support.fake import Chat, FakeAdapter, MakeChat

ANNA, BOB = "anna_handle", "bob_handle"


async def _resident(
    make_chat: MakeChat, name: str, lang: str = "en", handle: str | None = None
) -> Chat:
    chat: Chat = make_chat(name, lang=lang)
    chat.user = dataclasses.replace(chat.user, handle=handle)
    await chat.say("/wijk")
    await chat.press("Schalkwijk")
    return chat


async def _accepted(
    app: App, make_chat: MakeChat, bob_lang: str = "en", bob_handle: str | None = BOB
) -> tuple[Chat, Chat]:
    """Anna's idea I-1, Bob's offer, Anna accepts it: both are asked."""
    anna = await _resident(make_chat, "anna", handle=ANNA)
    await anna.say("/idee Geveltuinen in de Amsterdamstraat")
    await anna.press("Post")
    bob = await _resident(make_chat, "bob", lang=bob_lang, handle=bob_handle)
    await bob.press_data("oh:1")
    await bob.say("zaterdag")
    await bob.press("Send" if bob_lang == "en" else "Versturen")
    await app.run_jobs_now()
    await anna.press("Accept 1")
    await app.flush_outbox()
    return anna, bob


def _leaks(adapter: FakeAdapter) -> list[str]:
    return [s.text for s in adapter.log if ANNA in s.text or BOB in s.text]


async def _intros(app: App) -> list[Introduction]:
    async with app.db.session() as s:
        return list((await s.exec(select(Introduction))).all())


async def test_no_handle_before_both_said_yes_even_under_forged_presses(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    anna, bob = await _accepted(app, make_chat)
    asked = [s for s in adapter.log if "get in touch" in s.text]
    assert {s.chat.id for s in asked} == {"dm:anna", "dm:bob"}
    assert "helper of I-1" in anna.last().text and "share your" in anna.last().text
    assert "initiator of I-1" in bob.last().text
    # Carla presses the consent buttons of the others: refused, nothing recorded.
    carla = await _resident(make_chat, "carla", handle="carla_handle")
    [refused] = await carla.press_data("itr:yes:1")
    assert "not for you" in refused.text
    [refused] = await carla.press_data("itr:no:1")
    assert "not for you" in refused.text
    [gone] = await anna.press_data("itr:yes:42")
    assert "no longer open" in gone.text
    [damaged] = await anna.press_data("itr:maybe:1")
    assert "no longer works" in damaged.text
    # Anna says yes: Bob has not answered, so nothing is shared, and Bob hears nothing new.
    [wait] = await anna.press("Yes")
    assert "when the other person" in wait.text
    await app.flush_outbox()
    assert _leaks(adapter) == []
    [intro] = await _intros(app)
    assert (intro.status, intro.initiator_yes, intro.helper_yes) == ("asked", True, False)
    # Anna changes her mind and declines the offer: Bob's later "yes" shares nothing.
    await anna.press_data("oa:decline:1")
    [late] = await bob.press("Yes")
    assert "no longer open" in late.text
    await app.flush_outbox()
    assert _leaks(adapter) == []


async def test_both_say_yes_and_both_handles_are_shared(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    anna, bob = await _accepted(app, make_chat, bob_lang="nl")
    assert "Wil je in contact komen met de initiatiefnemer van I-1" in bob.last().text
    await bob.press("Ja")
    await app.flush_outbox()
    assert _leaks(adapter) == []
    [met] = await anna.press("Yes")
    assert BOB in met.text and ANNA not in met.text and "I-1" in met.text
    await app.flush_outbox()
    assert ANNA in bob.last().text and BOB not in bob.last().text
    assert "initiatiefnemer" in bob.last().text
    [again] = await anna.press_data("itr:yes:1")
    assert "no longer open" in again.text
    [mine] = await bob.say("/mijngegevens")
    assert "gedeeld met de initiatiefnemer van I-1" in mine.text


async def test_without_a_username_plain_advice_and_nothing_shared(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    anna, bob = await _accepted(app, make_chat, bob_handle=None)
    await anna.press("Yes")
    [advice] = await bob.press("Yes")
    assert "username" in advice.text and "Settings" in advice.text
    assert "Yes" in " ".join(advice.labels)  # press again after setting one
    await app.flush_outbox()
    assert _leaks(adapter) == []
    bob.user = dataclasses.replace(bob.user, handle=BOB)
    [met] = await bob.press("Yes")
    assert ANNA in met.text


async def test_a_no_ends_it_kindly_without_saying_who(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    anna, bob = await _accepted(app, make_chat)
    await anna.press("Yes")
    [ok] = await bob.press("No")
    assert "nothing" in ok.text.lower()
    await app.flush_outbox()
    told = anna.last().text
    assert "did not work out this time" in told and "bob" not in told.lower()
    assert "said no" not in told
    assert _leaks(adapter) == []
    [late] = await anna.press_data("itr:yes:1")
    assert "no longer open" in late.text


async def test_forget_me_cancels_a_pending_one_and_erases_the_records(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    anna, bob = await _accepted(app, make_chat)
    await anna.press("Yes")
    await bob.say("/vergeetmij")
    await bob.press("Yes, erase my data")
    await app.flush_outbox()
    assert "did not work out this time" in anna.last().text
    assert await _intros(app) == []
    [late] = await anna.press_data("itr:yes:1")
    assert "no longer open" in late.text
    assert _leaks(adapter) == []


async def test_forget_me_after_an_introduction_keeps_no_handle_of_the_erased(
    app: App, make_chat: MakeChat
) -> None:
    anna, bob = await _accepted(app, make_chat)
    await anna.press("Yes")
    await bob.press("Yes")
    await anna.say("/vergeetmij")
    await anna.press("Yes, erase my data")
    [intro] = await _intros(app)
    assert intro.initiator_id is None and intro.initiator_handle is None
    [mine] = await bob.say("/mydata")
    assert "shared with the initiator of I-1" in mine.text


async def test_a_changed_offer_makes_the_question_stale(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    anna, bob = await _accepted(app, make_chat)
    await anna.press("Yes")
    # Bob changes his offer: it waits for Anna's answer again, so the old question is stale.
    await bob.press_data("oh:1")
    await bob.say("zondag")
    await bob.press("Send")
    [stale] = await bob.press_data("itr:yes:1")
    assert "no longer open" in stale.text
    await app.flush_outbox()
    assert _leaks(adapter) == []
    assert await _intros(app) == []  # Anna's "yes" (and her handle) went with it
    # Anna accepts the new offer: both are asked anew, and two yeses introduce them.
    await anna.press_data("oa:accept:1")
    await app.flush_outbox()
    assert "get in touch" in bob.last().text
    await bob.press("Yes")
    [met] = await anna.press("Yes")
    assert BOB in met.text


async def _on_matrix(app: App, name: str, lang: str = "en") -> Chat:
    matrix = next((a for a in app.adapters.values() if a.platform == "matrix"), None)
    if matrix is None:
        matrix = FakeAdapter(platform="matrix", capabilities=frozenset({"edit", "rooms"}))
        app.add(matrix)  # type: ignore[arg-type]
    chat = Chat(app, matrix, f"@{name}:wijk.example", lang=lang)  # type: ignore[arg-type]
    await chat.say("/wijk")
    await chat.press("Schalkwijk")
    return chat


async def test_on_matrix_both_meet_in_a_new_room_for_the_idea(app: App) -> None:
    anna = await _on_matrix(app, "anna")
    await anna.say("/idee Geveltuinen in de Amsterdamstraat")
    await anna.press("Post")
    bob = await _on_matrix(app, "bob", lang="nl")
    await bob.press_data("oh:1")
    await bob.say("zaterdag")
    await bob.press("Versturen")
    await app.run_jobs_now()
    await anna.press("Accept 1")
    await app.flush_outbox()
    await anna.press("Yes")
    await app.flush_outbox()
    matrix = anna.adapter
    assert not [s for s in matrix.sent if "@bob:" in s.text or "@anna:" in s.text]
    assert not [s for s in matrix.sent if s.reply.new_room is not None]
    [met] = await bob.press("Ja")
    assert "kamer" in met.text  # he hears it in Dutch
    await app.flush_outbox()
    [room] = [s for s in matrix.sent if s.reply.new_room is not None]
    assert room.reply.new_room.name == "Geveltuinen in de Amsterdamstraat"
    assert set(room.reply.new_room.invite) == {"@anna:wijk.example", "@bob:wijk.example"}
    assert "Welcome" in room.text and "Welkom" in room.text
    assert "invited you both" in anna.last().text


async def test_across_platforms_the_address_and_username_are_shared_as_text(
    app: App, make_chat: MakeChat
) -> None:
    anna = await _on_matrix(app, "anna")
    await anna.say("/idee Geveltuinen in de Amsterdamstraat")
    await anna.press("Post")
    bob = await _resident(make_chat, "bob", handle=BOB)
    await bob.press_data("oh:1")
    await bob.say("zaterdag")
    await bob.press("Send")
    await app.run_jobs_now()
    await anna.press("Accept 1")
    await app.flush_outbox()
    assert "your Matrix address" in anna.last().text
    await bob.press("Yes")
    [met] = await anna.press("Yes")
    assert BOB in met.text
    await app.flush_outbox()
    assert "@anna:wijk.example" in bob.last().text
