"""Typed numbers and labels (issue #18, points 1 and 2): they press only what is on screen
now, and in a step that expects text a number is the text."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.ops.admin import grant_coordinator
from bot.services.digests import send_digests
from storage.models import ConversationState, Idea, IdeaSupport, PollVote
from tests.support.fake import Chat, MakeChat


async def _resident(make_chat: MakeChat, name: str) -> Chat:
    chat: Chat = make_chat(name, lang="en")
    await chat.say("/wijk")
    await chat.press("Schalkwijk")
    return chat


async def _idea(chat: Chat, title: str) -> None:
    await chat.say("/idee")
    await chat.say(title)
    await chat.press("Skip")
    await chat.press("No theme")
    await chat.press("Post")


async def _supports(app: App) -> list[int]:
    async with app.db.session() as s:
        return sorted(r.idea_id for r in (await s.exec(select(IdeaSupport))).all())


async def _digest_for_anna(app: App, make_chat: MakeChat, clock: FrozenClock) -> Chat:
    anna = await _resident(make_chat, "anna")
    bob = await _resident(make_chat, "bob")
    await _idea(bob, "Geveltuinen")
    await _idea(bob, "Bankjes bij de vijver")
    clock.advance(timedelta(hours=1))
    await send_digests(app.db, clock, "weekly", group_locale="en")
    await app.flush_outbox()
    assert {"Support I-1", "Support I-2"} <= set(anna.last().labels)
    clock.advance(timedelta(minutes=1))
    return anna


async def test_a_number_after_help_asks_before_supporting(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    """Digest, then /help, then "2": the 2 is not silently a support of the digest's idea."""
    anna = await _digest_for_anna(app, make_chat, clock)
    third = anna.last().labels[2]  # the second idea's Support (each idea: Support, I'll help)
    assert third.startswith("Support")
    await anna.say("/help")
    clock.advance(timedelta(minutes=1))
    [asked] = await anna.say("3")
    assert f"Do you mean: {third}?" in asked.text and asked.labels[:2] == ["Yes", "No"]
    assert await _supports(app) == []
    [nothing] = await anna.say("No")
    assert "did nothing" in nothing.text
    assert await _supports(app) == []
    await anna.say("3")
    [done] = await anna.say("1")  # "Yes", by number: the question is what is on screen now
    assert "You now support" in done.text
    assert len(await _supports(app)) == 1


async def test_a_number_for_a_newer_list_does_not_press_an_old_digest(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    """A list answered once, then "2" meant for that list: never the old digest's button."""
    anna = await _digest_for_anna(app, make_chat, clock)
    await anna.say("/themas")
    clock.advance(timedelta(minutes=1))
    [first] = await anna.say("1")
    assert "follow" in first.text.lower()
    clock.advance(timedelta(minutes=1))
    [second] = await anna.say("2")
    assert "follow" in second.text.lower()
    assert await _supports(app) == []


async def test_a_number_right_after_the_digest_presses_it(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    anna = await _digest_for_anna(app, make_chat, clock)
    [done] = await anna.say("1")
    assert "You now support" in done.text
    assert len(await _supports(app)) == 1


async def test_a_number_is_an_answer_in_a_poll_step(app: App, make_chat: MakeChat) -> None:
    """In a step that expects text, "1" is the text "1": not Cancel, not Done."""
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    await coco.say("/peiling")
    [asked] = await coco.say("Hoeveel bankjes?")
    assert "Type answer 1" in asked.text
    [next_] = await coco.say("1")  # not Cancel, the only button of this step
    assert "Type answer 2" in next_.text
    [third] = await coco.say("3")
    assert "Type answer 3" in third.text
    [fourth] = await coco.say("2")  # this step also has a Done button: still an answer
    assert "Type answer 4" in fourth.text
    *_, fifth = await coco.say("Klaar")  # not a label here: Done is "Done"
    assert "Type answer 5" in fifth.text
    [summary] = await coco.say("Done")  # the label still presses the button
    assert "Your poll" in summary.text and "1. 1" in summary.text and "3. 2" in summary.text


async def test_cancel_is_a_word_in_a_poll_answer_step(app: App, make_chat: MakeChat) -> None:
    """In a text step "1" is an answer, so Cancel is typed as a word: it still stops."""
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    await coco.say("/peiling")
    await coco.say("Hoeveel bankjes?")
    await coco.say("1")
    [stopped] = await coco.say("Annuleer")
    assert "Stopped" in stopped.text
    [nothing] = await coco.say("/stop")
    assert "nothing to stop" in nothing.text


async def test_a_number_after_help_asks_even_without_earlier_buttons(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    """Someone who never pressed a button of ours gets a digest, reads /help, types 2."""
    bob = await _resident(make_chat, "bob")
    await _idea(bob, "Geveltuinen")
    await _idea(bob, "Bankjes bij de vijver")
    anna: Chat = make_chat("anna", lang="en")
    await anna.say("/wijk")
    await anna.say("Schalkwijk")  # typed: the spent buttons are not kept
    async with app.db.session() as s:
        assert (await s.exec(select(ConversationState))).all() == []
    clock.advance(timedelta(hours=1))
    await send_digests(app.db, clock, "weekly", group_locale="en")
    await app.flush_outbox()
    clock.advance(timedelta(minutes=1))
    await anna.say("/help")
    [asked] = await anna.say("3")  # each idea has Support and I'll help
    assert "Do you mean: Support" in asked.text
    assert await _supports(app) == []


async def test_a_plain_reply_keeps_no_dialog_row(app: App, make_chat: MakeChat) -> None:
    """Least data: a chat that never had buttons keeps no state after plain replies."""
    chat: Chat = make_chat("anna", lang="en")
    await chat.say("/help")
    await chat.say("hallo")
    async with app.db.session() as s:
        assert (await s.exec(select(ConversationState))).all() == []


async def test_asking_first_keeps_a_draft_put_aside(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    """A draft put aside by /help stays while an older button is asked about."""
    anna = await _digest_for_anna(app, make_chat, clock)
    await anna.say("/idee")
    await anna.say("Een moestuin")  # now asked for more
    replies = await anna.say("/help")
    assert "Continue?" in replies[-1].text
    clock.advance(timedelta(minutes=1))
    await anna.say("/help")  # the Continue question is no longer the newest
    [asked] = await anna.say("1")
    assert "Do you mean: Continue?" in asked.text
    [back] = await anna.say("Yes")
    assert "Tell a bit more" in back.text
    await anna.press("Skip")
    await anna.press("No theme")
    await anna.press("Post")
    async with app.db.session() as s:
        assert "Een moestuin" in [i.title for i in (await s.exec(select(Idea))).all()]
    assert await _supports(app) == []


async def test_a_number_is_a_cost_and_cancel_is_a_word(app: App, make_chat: MakeChat) -> None:
    """Text steps show Cancel as a word; "Cancel" typed still stops."""
    chat: Chat = make_chat("anna", lang="en")
    await chat.say("/idee")
    [asked] = await chat.say("1")
    assert "Stopped" not in asked.text
    [stopped] = await chat.say("Cancel")
    assert "Stopped" in stopped.text
    async with app.db.session() as s:
        assert (await s.exec(select(Idea))).all() == []


async def test_typing_a_broadcast_buttons_label_votes(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    anna = await _resident(make_chat, "anna")
    clock.advance(timedelta(minutes=1))
    await coco.say("/peiling Waar? | Plein | Park")
    await coco.press("Send")
    await app.flush_outbox()
    [voted] = await anna.say("plein")
    assert "“Waar?”: Plein." in voted.text
    async with app.db.session() as s:
        assert [v.option for v in (await s.exec(select(PollVote))).all()] == [0]


async def test_a_number_after_a_list_answered_once_never_supports_the_digest(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    """Digest, then /wijk → 1 (a plain answer), then 2 meant for the list: the digest's
    second button is not pressed unasked."""
    anna = await _digest_for_anna(app, make_chat, clock)
    await anna.say("/wijk")
    clock.advance(timedelta(minutes=1))
    [moved] = await anna.say("1")
    assert "Your neighbourhood is now" in moved.text
    clock.advance(timedelta(minutes=1))
    [reply] = await anna.say("2")
    assert "You now support" not in reply.text
    assert await _supports(app) == []
