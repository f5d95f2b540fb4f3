"""A report typed in one message that names an address is not asked "Where is it?" again."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.app import App
from bot.util.address import address_in
from storage.models import Signal
from tests.support.fake import Chat, MakeChat


async def test_a_report_without_an_address_is_still_asked_where(
    app: App, make_chat: MakeChat
) -> None:
    chat: Chat = make_chat("passant", lang="en")
    [where] = await chat.say("melding: Glas op het fietspad")
    assert "Where is it" in where.text


async def test_an_address_in_a_one_message_report_is_not_asked_again(
    app: App, make_chat: MakeChat
) -> None:
    chat: Chat = make_chat("passant", lang="en")
    [photo] = await chat.say("melding: Losse stoeptegel voor Kennemerplein 12, iemand viel bijna")
    assert "Where is it" not in photo.text and "photo" in photo.text
    await chat.press("Skip")
    [done] = await chat.press("Schalkwijk")
    assert "M-1001" in done.text
    async with app.db.session() as s:
        assert (await s.exec(select(Signal))).one().address == "Kennemerplein 12"


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Losse tegel bij Kennemerplein 12", "Kennemerplein 12"),
        ("Afval naast Van Oosten de Bruynstraat 4a", "Van Oosten de Bruynstraat 4a"),
        ("kapotte lamp amsterdamstraat 30", "amsterdamstraat 30"),
        ("Grote tak op de Europaweg", "Europaweg"),
        ("Rommel bij 2035 AB", "2035 AB"),
        ("Glas op het fietspad", None),
        ("straatlamp speeltuin doet het niet", None),
        ("Grote tak op de weg", None),
    ],
)
def test_address_in(text: str, address: str | None) -> None:
    assert address_in(text) == address
