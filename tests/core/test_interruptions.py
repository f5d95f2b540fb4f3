"""A command in the middle of a dialog never loses the dialog silently (issue #18, §3 and §9)."""

from __future__ import annotations

from sqlmodel import func, select

from bot.app import App
from storage.models import Idea
from tests.support.fake import Chat, MakeChat


async def test_settings_command_runs_then_offers_to_continue_the_report(
    make_chat: MakeChat,
) -> None:
    chat: Chat = make_chat("anna", lang="en")
    await chat.say("/melding")
    await chat.say("Kapotte lantaarnpaal")  # now asked where it is
    question = chat.text
    replies = await chat.say("/taal")
    assert "Which language" in replies[-1].text
    replies = await chat.press("Nederlands")
    assert "Je was een melding aan het maken. Verder gaan?" in replies[-1].text
    [again] = await chat.press("Verder gaan")
    assert again.text == question  # the question is asked again
    # The draft is whole: the next answer goes on with the report.
    [photo] = await chat.say("Europaweg")
    assert "foto" in photo.text.lower()


async def test_help_keeps_the_draft_and_offers_to_go_on(make_chat: MakeChat) -> None:
    chat: Chat = make_chat("anna", lang="en")
    await chat.say("/idee")
    replies = await chat.say("/help")
    assert "This is what I can do" in replies[0].text
    assert "You were sharing an idea. Continue?" in replies[-1].text
    [back] = await chat.press("Continue")
    assert "What is your idea?" in back.text
    [next_step] = await chat.say("Een moestuin")
    assert "lost track" not in next_step.text and "What is your idea?" not in next_step.text


async def test_another_dialog_asks_before_stopping_the_draft(app: App, make_chat: MakeChat) -> None:
    chat: Chat = make_chat("anna", lang="en")
    await chat.say("/melding")
    [ask] = await chat.say("/idee")
    assert "You were making a report. Stop it?" in ask.text
    [back] = await chat.press("Continue")
    assert "What is wrong?" in back.text
    [ask] = await chat.say("/idee")
    [switched] = await chat.press("Stop")
    assert "What is your idea?" in switched.text
    async with app.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(Idea))).one() == 0


async def test_cancel_says_what_was_kept(make_chat: MakeChat) -> None:
    chat: Chat = make_chat("anna", lang="en")
    await chat.say("/start")
    await chat.press("English")
    await chat.press("Schalkwijk")  # the neighbourhood is saved now; themes are asked
    [reply] = await chat.say("/stop")
    assert "Nothing was saved" not in reply.text
    assert "neighbourhood" in reply.text and "kept" in reply.text


async def test_help_in_a_group_is_short_with_a_link(make_chat: MakeChat) -> None:
    chat: Chat = make_chat("anna", group="buurtapp", lang="en")
    [reply] = await chat.say("/help")
    assert len(reply.text.splitlines()) == 3
    [button] = reply.reply.flat_buttons()
    assert button.url == "https://fake.example/bot?start=help"


async def test_open_dialog_ignores_chatter_in_a_group(make_chat: MakeChat) -> None:
    chat: Chat = make_chat("anna", group="buurtapp", lang="en")
    [asked] = await chat.say("/ideeen")  # the group is not linked: which neighbourhood?
    assert asked.reply.flat_buttons()
    assert await chat.say("Haha, wie komt er zaterdag koffie drinken?") == []
    assert await chat.say("stop met dat gezeur") == []
    [shown] = await chat.say("1")  # a typed number still presses a button
    assert "Schalkwijk" in shown.text or "ideas" in shown.text


async def test_stopping_the_setting_offers_the_draft_and_stop_ends_it(make_chat: MakeChat) -> None:
    chat: Chat = make_chat("anna", lang="en")
    await chat.say("/idee")
    await chat.say("/taal")  # a language is asked
    stopped, offer = await chat.say("/stop")
    assert stopped.text.startswith("Stopped.")
    assert "You were sharing an idea. Continue?" in offer.text
    [ended] = await chat.press("Stop")
    assert "Stopped. Nothing was saved." in ended.text
    [nothing] = await chat.say("/stop")
    assert "nothing to stop" in nothing.text
    [stale] = await chat.press_data("resume")
    assert "nothing to continue" in stale.text


async def test_forget_me_in_the_middle_of_a_draft_leaves_no_draft(
    app: App, make_chat: MakeChat
) -> None:
    from storage.models import ConversationState

    chat: Chat = make_chat("anna", lang="en")
    await chat.say("/wijk")
    await chat.press("Schalkwijk")
    await chat.say("/idee")
    await chat.say("Een moestuin bij de school")
    await chat.say("/vergeetmij")  # runs at once: the draft is put aside
    replies = await chat.press("Yes, erase my data")
    assert "erased" in replies[0].text
    assert all("Continue" not in r.labels for r in replies)
    async with app.db.session() as s:
        for row in (await s.exec(select(ConversationState))).all():
            assert "moestuin" not in str(row.data)
