"""Ideas: dialog and one-liner; support once per person (a database constraint); batched news."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.app import App
from storage.models import ConversationState, Idea, OutboxMessage
from storage.repo import ideas as ideas_repo
from tests.support.fake import Chat, FakeAdapter, MakeChat


async def _resident(make_chat: MakeChat, name: str, hood: str = "Schalkwijk") -> Chat:
    chat: Chat = make_chat(name, lang="en")
    await chat.say("/wijk")
    await chat.press(hood)
    return chat


async def test_idea_dialog(app: App, make_chat: MakeChat) -> None:
    chat = await _resident(make_chat, "anna")
    [q] = await chat.say("/idee")
    assert "short title" in q.text
    [body] = await chat.say("Geveltuintjes in de Rijksstraatweg")
    assert "Skip" in body.labels
    [theme] = await chat.say("Wie doet mee met tegels eruit, plantjes erin?")
    assert "Greening" in theme.labels and "No theme" in theme.labels
    [confirm] = await chat.press("Greening")
    assert (
        "visible to everyone in Schalkwijk" in confirm.text and "name is not shown" in confirm.text
    )
    [done] = await chat.press("Post")
    assert "I-1" in done.text
    async with app.db.session() as s:
        idea = (await s.exec(select(Idea))).one()
        assert idea.title == "Geveltuintjes in de Rijksstraatweg"
        assert idea.body.startswith("Wie doet mee")
        assert idea.theme_id is not None


async def test_one_line_idea_and_support_once(app: App, make_chat: MakeChat) -> None:
    anna = await _resident(make_chat, "anna")
    await anna.say("/idee Een buurtbieb in de oude telefooncel")
    await anna.press("Post")
    bob = await _resident(make_chat, "bob")
    [listing] = await bob.say("/ideeen")
    assert "I-1 Een buurtbieb" in listing.text and "0 supporters" in listing.text
    [ok] = await bob.press("Support I-1")
    assert "You now support I-1" in ok.text and "1 supporter." in ok.text
    [twice] = await bob.press("Support I-1")
    assert "already support" in twice.text
    [own] = await anna.press_data("idea:support:1")
    assert "your own idea" in own.text
    async with app.db.session() as s:
        assert await ideas_repo.support_count(s, 1) == 1


async def test_support_unique_in_database(app: App, make_chat: MakeChat) -> None:
    anna = await _resident(make_chat, "anna")
    await anna.say("/idee Bankjes")
    await anna.press("Post")
    bob = await _resident(make_chat, "bob")
    await bob.press_data("idea:support:1")
    async with app.db.transaction() as s:
        # Even bypassing the handler, the database refuses a second support.
        assert await ideas_repo.add_support(s, 1, 2) is False
        assert await ideas_repo.support_count(s, 1) == 1


async def test_author_hears_in_a_batch(app: App, make_chat: MakeChat, adapter: FakeAdapter) -> None:
    anna = await _resident(make_chat, "anna")
    await anna.say("/idee Speeltuin opknappen")
    await anna.press("Post")
    for name in ("bob", "carla", "dirk"):
        voter = await _resident(make_chat, name)
        await voter.press_data("idea:support:1")
    assert not [s for s in adapter.in_chat("dm:anna") if "Good news" in s.text]  # not per click
    await app.run_jobs_now()
    news = [s for s in adapter.in_chat("dm:anna") if "Good news" in s.text]
    assert len(news) == 1 and "3 new supporters" in news[0].text
    await app.run_jobs_now()  # nothing new: nothing sent
    assert len([s for s in adapter.in_chat("dm:anna") if "Good news" in s.text]) == 1
    async with app.db.session() as s:
        assert all(m.sent_at for m in (await s.exec(select(OutboxMessage))).all())


async def test_no_ideas_yet_and_emoji_only(make_chat: MakeChat) -> None:
    anna = await _resident(make_chat, "anna")
    [empty] = await anna.say("/ideeen")
    assert "no ideas yet" in empty.text
    [emoji] = await anna.say("/idee 🌳🌳🌳")
    assert "not only symbols or emoji" in emoji.text
    await anna.say("/idee")
    [long] = await anna.say("Lang " * 40)
    assert "bit long for a title" in long.text


@pytest.mark.parametrize(
    "damage",
    [{"neighbourhood_id": None}, {"neighbourhood_id": "Schalkwijk"}, {"title": ""},
     {"title": None}, {"theme_id": "groen"}],
)  # fmt: skip
async def test_a_damaged_idea_draft_starts_again_kindly(
    app: App, make_chat: MakeChat, damage: dict[str, object]
) -> None:
    """A draft from an old version or a tampered database copy posts nothing and does not
    leave the resident stuck: they are told, and /idee works again."""
    anna = await _resident(make_chat, "anna")
    await anna.say("/idee Een buurtbieb in de oude telefooncel")
    async with app.db.transaction() as s:
        row = (
            await s.exec(select(ConversationState).where(ConversationState.user_id == "anna"))
        ).one()
        row.data = {**row.data, **damage}
    [lost] = await anna.press("Post")
    assert "lost track" in lost.text
    async with app.db.session() as s:
        assert (await s.exec(select(Idea))).all() == []
    [ask] = await anna.say("/idee")
    assert "short title" in ask.text
