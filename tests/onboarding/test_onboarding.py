"""/start: language, neighbourhood (forgiving), themes (multi-select); restart mid-dialog."""

from __future__ import annotations

from bot.app import App
from bot.config import Settings
from bot.core.clock import FrozenClock
from bot.core.i18n import set_locale
from storage.repo import people, places
from tests.support.fake import Chat, FakeAdapter, MakeChat


async def test_onboarding_in_english(app: App, make_chat: MakeChat) -> None:
    chat: Chat = make_chat("anna")
    [hello] = await chat.say("/start")
    assert hello.labels[:2] == ["Nederlands", "English"]
    [hood] = await chat.press("English")
    assert "Which neighbourhood" in hood.text and "Schalkwijk" in hood.labels
    [themes] = await chat.say("indische   BUURT")  # case and spaces forgiven
    assert "Welcome to Indische Buurt" in themes.text
    assert "Follow Greening" in themes.labels
    [edited] = await chat.press("Follow Greening")
    assert edited.edited and "✓ Greening" in edited.text and "Unfollow Greening" in edited.labels
    await chat.press("Follow Youth")
    done = await chat.press("Done")
    assert "All set" in done[0].text and "/idea" in done[1].text
    async with app.db.session() as s:
        person = await people.person_for_account(s, "fake", "anna")
        assert person is not None and person.id is not None
        assert person.locale == "en" and person.onboarded
        home = await people.home_neighbourhood(s, person.id)
        assert home is not None and home.slug == "indische-buurt"
        followed = {
            (await places.theme(s, t)).slug  # type: ignore[union-attr]
            for t in await places.followed_theme_ids(s, person.id)
        }
        assert followed == {"vergroening", "jeugd"}


async def test_neighbourhood_typo_and_unknown(make_chat: MakeChat) -> None:
    chat: Chat = make_chat("anna", lang="en")
    await chat.say("/start")
    await chat.press("English")
    [unknown] = await chat.say("Amsterdam-Noord")
    assert "don't know that neighbourhood" in unknown.text and "Schalkwijk" in unknown.labels
    [ok] = await chat.say("Schalkwjik")  # a small typo
    assert "Welcome to Schalkwijk" in ok.text


async def test_theme_follow_is_idempotent(make_chat: MakeChat, app: App) -> None:
    chat: Chat = make_chat("anna", lang="en")
    await chat.say("/wijk")
    await chat.press("Molenwijk")
    [first] = await chat.say("/volg vergroening")
    assert "You now follow Greening" in first.text
    [again] = await chat.say("/volg Greening")
    assert "already follow" in again.text
    [listing] = await chat.say("/themas")
    assert "✓ Greening" in listing.text
    [toggled] = await chat.press("Unfollow Greening")
    assert "· Greening" in toggled.text
    [gone] = await chat.say("/ontvolg vergroening")
    assert "were not following" in gone.text


async def test_restart_mid_dialog_continues(
    settings: Settings,
    app: App,
    adapter: FakeAdapter,
    clock: FrozenClock,
) -> None:
    chat = Chat(app, adapter, "anna", lang="en")
    await chat.say("/melding")
    await chat.say("Omgewaaide boom")
    await app.db.dispose()  # the process stops

    restarted = App(settings, clock=clock)
    fresh = FakeAdapter()
    restarted.add(fresh)  # type: ignore[arg-type]
    set_locale("nl")
    again = Chat(restarted, fresh, "anna", lang="en")
    [where] = await again.say("Kennemerplein 5")
    assert "photo" in where.text  # it remembered the description and asks the next step
    await again.say("Skip")
    await again.say("2")  # typed number for "Trees and greenery", after the restart
    [hood] = await again.say("Schalkwijk")
    assert "M-1001" in hood.text
    await restarted.db.dispose()


async def test_language_switch(make_chat: MakeChat) -> None:
    chat: Chat = make_chat("anna", lang="en")
    [reply] = await chat.say("/taal en")
    assert "English" in reply.text


async def test_abandoned_dialog_is_forgotten_after_a_week(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    from datetime import timedelta

    from sqlmodel import select

    from bot.delivery.scheduler import purge_dialogs
    from storage.models import ConversationState

    chat: Chat = make_chat("anna", lang="en")
    await chat.say("/melding")
    await chat.say("Mijn buurman parkeert op de stoep")  # personal, half-written
    clock.advance(timedelta(days=8))
    [fresh] = await chat.say("Kennemerplein")  # no longer read as the answer to "where?"
    assert "idea, or a problem" in fresh.text
    await chat.say("/stop")
    other: Chat = make_chat("bob", lang="en")
    await other.say("/idee")
    clock.advance(timedelta(days=8))
    assert await purge_dialogs(app.db, clock) == 1
    async with app.db.session() as s:
        assert (await s.exec(select(ConversationState))).all() == []
