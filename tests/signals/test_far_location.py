"""A shared location outside the municipality's area is questioned before it is kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import App
from bot.config import Settings
from storage.models import Signal
from tests.support.fake import Chat, MakeChat

HAARLEM = (52.32, 4.58, 52.43, 4.70)  # south, west, north, east


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path, area=HAARLEM)


async def _report(make_chat: MakeChat) -> Chat:
    chat: Chat = make_chat("anna", lang="en")
    await chat.say("/melding")
    await chat.say("Kapotte bank in het park")
    return chat


async def test_a_point_far_away_is_questioned_and_can_be_shared_again(
    app: App, make_chat: MakeChat
) -> None:
    chat = await _report(make_chat)
    [doubt] = await chat.location(51.9225, 4.4792)  # Rotterdam
    assert "outside" in doubt.text and "Is that right?" in doubt.text
    [again] = await chat.press("No, share it again")
    assert "Where is it" in again.text
    [photo] = await chat.location(52.3645, 4.6530)  # Schalkwijk
    assert "photo" in photo.text


async def test_a_point_far_away_is_kept_when_confirmed(app: App, make_chat: MakeChat) -> None:
    chat = await _report(make_chat)
    await chat.location(51.9225, 4.4792)
    [photo] = await chat.press("Yes, that is right")
    assert "photo" in photo.text
    await chat.press("Skip")
    await chat.press("Something else")
    await chat.press("Schalkwijk")
    async with app.db.session() as s:
        assert (await s.exec(select(Signal))).one().lat == pytest.approx(51.9225)


def test_a_crooked_area_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="south"):
        Settings(area=(52.43, 4.58, 52.32, 4.70))


async def test_in_dutch(app: App, make_chat: MakeChat) -> None:
    chat: Chat = make_chat("bram", lang="nl")
    await chat.say("/melding")
    await chat.say("Kapotte bank")
    [doubt] = await chat.location(51.9225, 4.4792)
    assert "Dit punt ligt buiten" in doubt.text and "Klopt dat?" in doubt.text
    assert "Ja, dat klopt" in doubt.labels
