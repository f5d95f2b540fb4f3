"""Text from anyone is cleaned where it enters: no NUL or control characters are stored (on
PostgreSQL a NUL in text is an error), display names are cut, and the 4,000-character limit
holds for command arguments too."""

from __future__ import annotations

from sqlmodel import select

from bot.app import App
from bot.core.events import UserRef
from bot.ops.admin import grant_coordinator
from storage.models import Idea, PollVote, Signal, SignalUpdate
from tests.support.fake import Chat, MakeChat

DIRTY = "Bank\x00je\x07 bij\x1b de\x7f speeltuin\u200b"  # NUL, bell, escape, delete, zero width


async def _resident(make_chat: MakeChat, name: str = "anna") -> Chat:
    chat: Chat = make_chat(name, lang="en")
    await chat.say("/wijk")
    await chat.press("Schalkwijk")
    return chat


async def _report(chat: Chat, text: str, place: str = "Kennemerplein 5") -> None:
    await chat.say("/melding")
    await chat.say(text)
    await chat.say(place)
    await chat.press("Skip")
    await chat.press("Street or pavement")


async def test_control_characters_never_reach_the_database(app: App, make_chat: MakeChat) -> None:
    anna = await _resident(make_chat)
    [confirm] = await anna.say(f"/idee {DIRTY}\nMet\ttabs\r\nen regels\x00")
    assert "Bankje bij de speeltuin" in confirm.text
    [posted] = await anna.press("Post")
    assert "I-1" in posted.text
    await _report(anna, DIRTY + "\nKapot", place="Kennemer\x00plein\x01 5")
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    [changed] = await coco.say("/status M-1001 opgelost Hersteld\x00, met dank\x1b!")
    assert "M-1001 is now" in changed.text
    [mine] = await anna.say("/mijnmeldingen")
    assert "Hersteld, met dank!" in mine.text
    async with app.db.session() as s:
        idea = (await s.exec(select(Idea))).one()
        assert idea.title == "Bankje bij de speeltuin"
        assert idea.body == "Bankje bij de speeltuin\nMet\ttabs\nen regels"
        sig = (await s.exec(select(Signal))).one()
        assert (sig.text, sig.address) == ("Bankje bij de speeltuin\nKapot", "Kennemerplein 5")
        notes = (await s.exec(select(SignalUpdate.note).order_by(SignalUpdate.id))).all()  # type: ignore[arg-type]
        assert notes[-1] == "Hersteld, met dank!"


async def test_display_names_are_cleaned_and_cut(app: App, make_chat: MakeChat) -> None:
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    anna = await _resident(make_chat)
    anna.user = UserRef("fake", "anna", "Anna\x00 van\u202e de\x1b Berg " + "x" * 300, "en")
    await coco.say("/peiling Welke dag? | Zaterdag | Zondag")
    await coco.press("Show names")
    await coco.press("Send")
    await app.flush_outbox()
    [voted] = await anna.press("Zondag")
    assert "Your vote" in voted.text
    async with app.db.session() as s:
        [name] = (await s.exec(select(PollVote.display_name))).all()
    assert name is not None and name.startswith("Anna van de Berg xxx")
    assert len(name) <= 64 and "\x00" not in name


async def test_long_command_arguments_are_refused_kindly(app: App, make_chat: MakeChat) -> None:
    anna = await _resident(make_chat)
    [idea] = await anna.say("/idee " + "Meer groen in de straat. " * 200)  # 5,000 characters
    assert "too long" in idea.text and "4000" in idea.text
    await _report(anna, "Losse stoeptegel")
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    [status] = await coco.say("/status M-1001 opgelost " + "x" * 5000)
    assert "too long" in status.text
    async with app.db.session() as s:
        assert (await s.exec(select(Idea))).all() == []
        notes = (await s.exec(select(SignalUpdate.note))).all()
        assert (
            all(len(n) <= 4000 for n in notes)
            and (await s.exec(select(Signal))).one().status == "new"
        )


async def test_the_database_never_stores_a_nul(app: App) -> None:
    """Text that did not come through a chat (an import, a platform) is guarded as well."""
    from storage.repo import ideas

    async with app.db.transaction() as s:
        idea = await ideas.create_idea(
            s, neighbourhood_id=1, author_id=None, title="Bank\x00je", body="a\x00b", theme_id=None
        )
    async with app.db.transaction() as s:
        again = await ideas.idea(s, idea.id or 0)
        assert again is not None and (again.title, again.body) == ("Bankje", "ab")
        again.body = "c\x00d"
        s.add(again)
    async with app.db.session() as s:
        assert (await s.exec(select(Idea.body))).one() == "cd"
