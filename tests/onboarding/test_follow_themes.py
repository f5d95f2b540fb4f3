"""Following themes: a double tap on a button does not undo it."""

from __future__ import annotations

from bot.app import App
from storage.repo import places
from tests.support.fake import Chat, MakeChat


async def test_double_tap_on_follow_keeps_following(app: App, make_chat: MakeChat) -> None:
    chat: Chat = make_chat("anna", lang="en")
    await chat.say("/wijk")
    await chat.press("Schalkwijk")
    await chat.say("/themas")
    sent, follow = chat.button("Follow Greening")
    await chat.press_data(follow.data, sent.ref)
    [second] = await chat.press_data(follow.data, sent.ref)  # the same, stale button again
    assert "✓ Greening" in second.text
    async with app.db.session() as s:
        assert len(await places.followed_theme_ids(s, 1)) == 1
