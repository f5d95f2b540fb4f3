"""The dispatcher: routing, cancel, stale buttons, the error boundary, one transaction per event."""

from __future__ import annotations

from sqlmodel import func, select

from bot.app import App
from bot.core.callbacks import CallbackData, StaleButton
from bot.core.context import Ctx
from bot.core.router import Router
from bot.handlers import ideas as ideas_handlers
from storage.models import ConversationState, Idea, Person
from tests.support.fake import Chat, FakeAdapter, MakeChat


async def test_unknown_command_gets_help_hint(make_chat: MakeChat) -> None:
    chat: Chat = make_chat("anna", lang="en")
    [reply] = await chat.say("/fietsenstalling")
    assert "/fietsenstalling" in reply.text and "/help" in reply.text


async def test_cancel_leaves_dialog_and_saves_nothing(app: App, make_chat: MakeChat) -> None:
    chat: Chat = make_chat("anna", lang="en")
    await chat.say("/idee")
    await chat.say("Een moestuin")
    [reply] = await chat.say("Cancel")
    assert "Nothing was saved" in reply.text
    async with app.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(Idea))).one() == 0
        assert (await s.exec(select(ConversationState))).first() is None
    [again] = await chat.say("/stop")
    assert "nothing to stop" in again.text


async def test_stale_dialog_button_is_explained(make_chat: MakeChat) -> None:
    chat: Chat = make_chat("anna", lang="en")
    await chat.say("/start")
    await chat.say("/help")  # keeps the dialog
    await chat.say("/melding")  # a new command asks first whether to stop getting started
    await chat.press("Stop, and go to /melding")
    [reply] = await chat.press("English")
    assert "no longer works" in reply.text


async def test_error_boundary_rolls_back_and_is_kind(
    app: App,
    make_chat: MakeChat,
    monkeypatch,
    caplog,
) -> None:
    chat: Chat = make_chat("anna", lang="en")
    await chat.say("/wijk")
    await chat.press("Schalkwijk")

    async def broken(*_a: object, **_k: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(ideas_handlers.ideas, "create_idea", broken)
    await chat.say("/idee Een bankje bij de bushalte")
    [reply] = await chat.press("Post")
    assert "something went wrong" in reply.text and "Nothing was saved" in reply.text
    assert "Traceback" not in reply.text and "disk on fire" not in reply.text
    assert "disk on fire" in caplog.text  # the traceback is logged for us
    monkeypatch.undo()
    # The dialog is where it was: pressing again now works.
    [ok] = await chat.press("Post")
    assert "I-1" in ok.text


async def test_over_long_and_empty_text(make_chat: MakeChat) -> None:
    chat: Chat = make_chat("anna", lang="en")
    await chat.say("/melding")
    [long] = await chat.say("x" * 4001)
    assert "too long" in long.text and "4000" in long.text.replace(".", "").replace(",", "")
    [empty] = await chat.say("   ")
    assert "empty" in empty.text
    [still] = await chat.say("Kapotte lantaarnpaal")
    assert "Where is it" in still.text


async def test_typed_number_and_label_press_buttons(make_chat: MakeChat) -> None:
    chat: Chat = make_chat("anna", lang="en")
    await chat.say("/start")
    [by_number] = await chat.say("2")  # English
    assert "neighbourhood" in by_number.text
    [by_label] = await chat.say("DELFTWIJK")
    assert "Welcome to Delftwijk" in by_label.text


async def test_group_chatter_is_ignored_but_commands_answered(
    make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    chat: Chat = make_chat("anna", group="buurtapp", lang="en")
    assert await chat.say("Wie heeft er zin in koffie?") == []
    [reply] = await chat.say("/help")
    assert "/ideas" in reply.text


async def test_failure_after_a_savepoint_rolls_back_everything(
    app: App, make_chat: MakeChat
) -> None:
    """A nested transaction (one support per person) must not commit the event early."""
    from storage.models import IdeaSupport

    anna: Chat = make_chat("anna", lang="en")
    await anna.say("/wijk")
    await anna.press("Schalkwijk")
    await anna.say("/idee Een buurtbieb in de telefooncel")
    await anna.press("Post")
    bob: Chat = make_chat("bob", lang="en")
    await bob.say("/wijk")
    await bob.press("Schalkwijk")
    await bob.say("/ideeen")

    async def fails_afterwards(nxt, ctx) -> None:
        await nxt(ctx)
        if ctx.event.kind == "button":
            raise RuntimeError("a later failure in the same event")

    app.dispatcher.middlewares.append(fails_afterwards)
    [reply] = await bob.press("Support I-1")
    assert "Nothing was saved" in reply.text
    async with app.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(IdeaSupport))).one() == 0


class LateCheck(CallbackData, prefix="t-late"):
    thing: int


async def test_a_refused_button_undoes_what_its_handler_did_first(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    """Forged or stale data may be found out late: whatever the handler did before raising
    `StaleButton` is undone (no person, no reply, no dialog change), and it is answered kindly."""
    late = Router("late")

    @late.callback(LateCheck)
    async def found_out_late(ctx: Ctx) -> None:
        await ctx.ensure_person()
        ctx.dialog.clear()
        await ctx.reply("Saved!")
        raise StaleButton()

    app.dispatcher.router.include(late)
    chat: Chat = make_chat("newcomer", lang="en")
    await chat.say("/idee")  # a dialog in progress, nobody stored yet
    [reply] = await chat.press_data(LateCheck(7).pack())
    assert reply.text == "This button no longer works."
    async with app.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(Person))).one() == 0
        assert (await s.exec(select(ConversationState.state))).one() == "IdeaForm.title"
    [asked] = await chat.say("Een moestuin")  # the dialog goes on
    assert "Tell a bit more" in asked.text
