"""One-off contributions without /start, deep links, and the privacy commands."""

from __future__ import annotations

from sqlmodel import func, select

from bot.app import App
from bot.core.clock import FrozenClock
from storage.models import (
    Account,
    Idea,
    IdeaSupport,
    Membership,
    OutboxMessage,
    Person,
    Signal,
    ThemeFollow,
)
from tests.support.fake import Chat, MakeChat


async def test_one_message_idea_asks_only_the_neighbourhood(app: App, make_chat: MakeChat) -> None:
    chat: Chat = make_chat("passant", lang="en")
    [kind] = await chat.say("Kunnen we een buurtfeest houden op de Zaanenlaan?")
    assert kind.labels[:2] == ["It is an idea", "It is a problem"]
    [hood] = await chat.press("It is an idea")
    assert "Which neighbourhood" in hood.text
    [confirm] = await chat.say("zijlweg west")
    assert "visible to everyone in Zijlweg-West" in confirm.text
    [done] = await chat.press("Post")
    assert "I-1" in done.text
    async with app.db.session() as s:
        idea = (await s.exec(select(Idea))).one()
        assert idea.title.startswith("Kunnen we een buurtfeest")
        assert (await s.exec(select(func.count()).select_from(Membership))).one() == 0


async def test_one_message_report_with_prefix(app: App, make_chat: MakeChat) -> None:
    chat: Chat = make_chat("passant", lang="en")
    [where] = await chat.say("melding: kapotte schommel in het speeltuintje")
    assert "Where is it" in where.text
    await chat.say("Speeltuin Molenwijk")
    [hood] = await chat.press("Skip")
    assert "Which neighbourhood" in hood.text
    [done] = await chat.press("Molenwijk")
    assert "M-1001" in done.text
    async with app.db.session() as s:
        sig = (await s.exec(select(Signal))).one()
        assert sig.text == "kapotte schommel in het speeltuintje" and sig.category == "other"


async def test_photo_out_of_the_blue_starts_a_report(app: App, make_chat: MakeChat) -> None:
    chat: Chat = make_chat("passant", lang="en")
    [what] = await chat.photo("file-9")
    assert "What is wrong" in what.text
    await chat.say("Dumping van grofvuil")
    [cat] = await chat.location(52.38, 4.63)
    assert "What kind of problem" in cat.text  # the photo is not asked again


async def test_deep_link_presets_neighbourhood(app: App, make_chat: MakeChat) -> None:
    chat: Chat = make_chat("poster", lang="en")
    replies = await chat.say("/start melding-schalkwijk")
    assert "Schalkwijk" in replies[0].text and "What is wrong" in replies[-1].text
    await chat.say("Fietswrakken bij het station")
    await chat.say("Station Haarlem Spaarnwoude")
    await chat.press("Skip")
    [done] = await chat.press("Something else")
    assert "M-1001" in done.text
    [unknown] = await chat.say("/start melding-atlantis")
    assert "Which language" in unknown.text  # an unknown link falls back to the welcome


async def test_greeting_gets_a_welcome_not_a_question(make_chat: MakeChat) -> None:
    chat: Chat = make_chat("passant", lang="en")
    [hi] = await chat.say("Hallo!")
    assert "/start" in hi.text and not hi.labels


async def test_my_data_and_forget_me(app: App, make_chat: MakeChat) -> None:
    anna: Chat = make_chat("anna", lang="en")
    [nothing] = await anna.say("/mijngegevens")
    assert "store nothing" in nothing.text
    await anna.say("/wijk")
    await anna.press("Delftwijk")
    await anna.say("/volg jeugd")
    await anna.say("/idee Huiswerkclub in het buurthuis")
    await anna.press("Post")
    await anna.say("melding: Scooters racen door de straat")
    await anna.say("Delftlaan")
    await anna.press("Skip")
    bob: Chat = make_chat("bob", lang="en")
    await bob.say("/wijk")
    await bob.press("Delftwijk")
    await bob.say("/idee Moestuin")
    await bob.press("Post")
    await anna.press_data("idea:support:2")
    await bob.press_data("idea:support:1")
    await app.run_jobs_now()  # anna hears about bob's support: a message kept in the outbox
    async with app.db.session() as s:
        assert (await s.exec(select(OutboxMessage).where(OutboxMessage.chat_id == "dm:anna"))).all()

    [data] = await anna.say("/mijngegevens")
    for expected in ("Delftwijk", "Youth", "I-1", "M-1001", "I-2", "fake anna"):
        assert expected in data.text

    [ask] = await anna.say("/vergeetmij")
    assert "cannot be undone" in ask.text
    [bye] = await anna.press("Yes, erase my data")
    assert "erased" in bye.text
    async with app.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(Person))).one() == 1  # bob
        assert (
            await s.exec(select(Account).where(Account.platform_user_id == "anna"))
        ).first() is None
        assert (await s.exec(select(func.count()).select_from(ThemeFollow))).one() == 0
        idea = await s.get(Idea, 1)
        assert idea is not None and idea.author_id is None  # the idea stays, nameless
        sig = await s.get(Signal, 1)
        assert sig is not None and sig.reporter_id is None
        supports = (await s.exec(select(IdeaSupport).where(IdeaSupport.idea_id == 2))).all()
        assert [x.person_id for x in supports] == [None]  # the count stays, the link is gone
        outbox = (
            await s.exec(select(OutboxMessage).where(OutboxMessage.chat_id == "dm:anna"))
        ).all()
        assert outbox == []  # nothing sent to her, or about her, is kept
    [after] = await anna.say("/mijngegevens")
    assert "store nothing" in after.text


async def test_sent_messages_are_forgotten_after_a_month(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    from datetime import timedelta

    from bot.delivery.scheduler import purge_dialogs

    anna: Chat = make_chat("anna", lang="en")
    await anna.say("/wijk")
    await anna.press("Delftwijk")
    await anna.say("/idee Moestuin")
    await anna.press("Post")
    bob: Chat = make_chat("bob", lang="en")
    await bob.press_data("idea:support:1")
    await app.run_jobs_now()
    async with app.db.session() as s:
        assert len((await s.exec(select(OutboxMessage))).all()) == 1
    assert await purge_dialogs(app.db, clock) == 0  # still fresh
    clock.advance(timedelta(days=31))
    assert await purge_dialogs(app.db, clock) >= 1
    async with app.db.session() as s:
        assert (await s.exec(select(OutboxMessage))).all() == []
