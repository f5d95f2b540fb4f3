"""Who is missing: sharing an age band is optional and once; a coordinator gets a chart of
participants by age against the residents, and the one line on the band furthest behind,
in Dutch and in English. Residents get no chart."""

from __future__ import annotations

import io

from PIL import Image

from bot.app import App
from bot.ops.admin import grant_coordinator
from bot.ops.population import load_population
from tests.forum.test_population import DATA
from tests.support.fake import Chat, MakeChat


def description(png: bytes) -> str:
    """The chart in words, kept in the PNG for screen readers (and tests)."""
    with Image.open(io.BytesIO(png)) as img:
        return str(img.info.get("Description", ""))


async def _resident(make_chat: MakeChat, name: str, band: str | None, idea: bool) -> Chat:
    chat: Chat = make_chat(name, lang="en")
    await chat.say("/taal en")
    await chat.say("/wijk")
    await chat.press("Schalkwijk")
    await chat.say("/age")
    await chat.press(band or "Rather not")
    if idea:
        await chat.say(f"/idee Een bankje bij de vijver van {name}")
        await chat.press("Post")
    return chat


async def test_who_is_missing_by_age_in_dutch_and_english(app: App, make_chat: MakeChat) -> None:
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    [none_yet] = await coco.say("/missing")
    assert "no population figures" in none_yet.text
    await load_population(app.settings, DATA)

    anna = await _resident(make_chat, "anna", "45–64 years", idea=True)
    await _resident(make_chat, "bob", "65 or older", idea=True)
    await _resident(make_chat, "cas", "25–44 years", idea=True)
    await _resident(make_chat, "dirk", "15–24 years", idea=False)  # shared, but took no part
    await _resident(make_chat, "eva", None, idea=True)  # took part, shared nothing
    [again] = await anna.say("/age")
    assert "You shared your age group: 45–64 years" in again.text  # once
    [refused] = await anna.say("/missing")
    assert "Only a coordinator" in refused.text and refused.reply.image is None

    # Three who took part and shared: a chart would show each of them; it waits for more.
    [too_few] = await coco.say("/missing")
    assert "Too few people" in too_few.text and "3 so far" in too_few.text
    assert too_few.reply.image is None
    more = ["45–64 years"] * 2 + ["65 or older"] * 3 + ["25–44 years"] * 2
    for i, band in enumerate(more):
        await _resident(make_chat, f"extra{i}", band, idea=True)

    [shown] = await coco.say("/missing")
    assert shown.text == "Schalkwijk: 15–24 years: 15 % of residents, 0 % of participants."
    assert shown.reply.image is not None
    words = description(shown.reply.image)
    assert "Who takes part in Schalkwijk, by age" in words
    assert "45–64 years: 30 %, participants" in words and "45–64 years: 31 %, residents" in words

    await coco.say("/taal nl")
    [dutch] = await coco.say("/wiemister")
    assert dutch.text == "Schalkwijk: 15–24 jaar: 15 % van de bewoners, 0 % van wie meedoet."
    assert dutch.reply.image is not None and "Wie doet mee in Schalkwijk" in description(
        dutch.reply.image
    )
