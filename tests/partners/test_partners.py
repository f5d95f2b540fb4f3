"""Partners: organisations that hear about ideas and reports of their themes, answer "we can
help" by their organisation's name, and send news when a coordinator allowed it."""

from __future__ import annotations

import pytest

from bot.app import App
from bot.ops.admin import AdminError, add_partner, grant_coordinator, list_partners, remove_partner
from tests.support.fake import Chat, MakeChat

ORG = "Buurtwerk Haarlem"


async def _resident(make_chat: MakeChat, name: str, hood: str = "Schalkwijk") -> Chat:
    chat: Chat = make_chat(name, lang="en")
    await chat.say("/taal en")
    await chat.say("/wijk")
    await chat.press(hood)
    return chat


async def _idea(chat: Chat, title: str, theme: str) -> None:
    await chat.say("/idee")
    await chat.say(title)
    await chat.say("Wie doet mee?")
    await chat.press(theme)
    await chat.press("Post")


async def _report(chat: Chat, text: str, category: str) -> None:
    await chat.say("/melding")
    await chat.say(text)
    await chat.location(52.37, 4.65)
    await chat.press("Skip")
    await chat.press(category)


async def _partner(app: App, make_chat: MakeChat, *, may_announce: bool = False) -> Chat:
    wim = await _resident(make_chat, "wim")
    said = await add_partner(
        app.settings, "fake", "wim", "schalkwijk", ORG, ["vergroening", "jeugd"], ["greenery"],
        may_announce,
    )  # fmt: skip
    assert ORG in said and "Schalkwijk" in said
    return wim


async def test_admin_adds_lists_and_removes_a_partner(app: App, make_chat: MakeChat) -> None:
    await _partner(app, make_chat)
    listed = await list_partners(app.settings, "schalkwijk")
    assert f"{ORG} (schalkwijk): fake:wim; themes: vergroening, jeugd; reports: greenery" in listed
    with pytest.raises(AdminError, match="unknown themes: tuinieren"):
        await add_partner(app.settings, "fake", "x", "schalkwijk", "X", ["tuinieren"], [])
    with pytest.raises(AdminError, match="unknown report categories: bomen"):
        await add_partner(app.settings, "fake", "x", "schalkwijk", "X", [], ["bomen"])
    assert "no longer speaks for" in await remove_partner(app.settings, "fake", "wim", "schalkwijk")
    assert await list_partners(app.settings, None) == "No partners yet."
    assert "is no partner" in await remove_partner(app.settings, "fake", "wim", "schalkwijk")


async def test_partner_hears_of_their_themes_only_and_helps_as_the_organisation(
    app: App, make_chat: MakeChat
) -> None:
    wim = await _partner(app, make_chat)
    anna = await _resident(make_chat, "anna")
    await _idea(anna, "Geveltuintjes in de Rijksstraatweg", "Greening")
    await _idea(anna, "Stoeptegels eruit", "Mobility")
    await _report(anna, "Boom omgewaaid bij de school", "Trees and greenery")
    await _report(anna, "Losliggende stoeptegel", "Street or pavement")
    await app.run_jobs_now()
    await app.flush_outbox()
    news = "\n".join(m.text for m in wim.mine() if ORG in m.text)  # not the digest
    assert "I-1 “Geveltuintjes in de Rijksstraatweg”" in news
    assert "Stoeptegels" not in news  # not their theme
    assert "Boom omgewaaid" in news and "stoeptegel" not in news
    await app.run_jobs_now()
    await app.flush_outbox()
    assert sum("Geveltuintjes" in m.text for m in wim.mine() if ORG in m.text) == 1  # once

    [thanks] = await wim.press("We can help with I-1")
    assert f"{ORG} wants to help" in thanks.text
    await app.flush_outbox()
    told = anna.last().text
    assert f"{ORG} wants to help with your idea I-1" in told and "wim" not in told
    [view] = await anna.say("/ideeen")
    assert f"{ORG} wants to help" in view.text
    [again] = await wim.press_data("phelp:help:1")
    assert "already said" in again.text


async def test_a_forged_help_button_is_refused(app: App, make_chat: MakeChat) -> None:
    await _partner(app, make_chat)
    anna = await _resident(make_chat, "anna")
    await _idea(anna, "Geveltuintjes in de Rijksstraatweg", "Greening")
    bob = await _resident(make_chat, "bob")
    [no] = await bob.press_data("phelp:help:1")
    assert "Only a partner organisation" in no.text
    other = await _resident(make_chat, "olga", hood="Delftwijk")
    await add_partner(app.settings, "fake", "olga", "delftwijk", "Elders", ["vergroening"], [])
    [no] = await other.press_data("phelp:help:1")  # a partner, but of another neighbourhood
    assert "Only a partner organisation" in no.text
    [view] = await anna.say("/ideeen")
    assert "wants to help" not in view.text


async def test_partner_news_only_when_allowed_and_only_to_their_themes(
    app: App, make_chat: MakeChat
) -> None:
    wim = await _partner(app, make_chat)
    [no] = await wim.say("/aankondiging Plantjesmarkt zaterdag")
    assert "Only a coordinator" in no.text
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    [shown] = await coco.say("/partners")
    assert ORG in shown.text
    await coco.press(f"Allow news from {ORG}")
    anna = await _resident(make_chat, "anna")
    await anna.say("/volg vergroening")

    await wim.say("/aankondiging Plantjesmarkt zaterdag")
    await wim.press("No photo")
    [ask] = await wim.press("No event")
    assert ask.labels[:2] == [
        "followers of Greening in Schalkwijk",
        "followers of Youth in Schalkwijk",
    ]
    assert not any("everyone" in label for label in ask.labels)
    [forged] = await wim.press_data("@AnnounceForm.target|1:")  # everyone: not theirs
    assert "Please choose one of the buttons" in forged.text
    [forged] = await wim.press_data("@AnnounceForm.target|1:4")  # a theme not theirs
    assert "Please choose one of the buttons" in forged.text
    [summary] = await wim.press("followers of Greening in Schalkwijk")
    assert f"{ORG}: Plantjesmarkt" in summary.text
    await wim.press("Send")
    await app.flush_outbox()
    assert f"{ORG}: Plantjesmarkt zaterdag" in anna.last().text

    # The coordinator stops it: the next attempt is refused, nothing is sent.
    await coco.say("/partners")
    await coco.press(f"Stop news from {ORG}")
    [no] = await wim.say("/aankondiging Derde bericht")
    assert "Only a coordinator" in no.text
    await coco.say("/partners")
    await coco.press(f"Remove {ORG}")
    assert "There are no partners" in coco.last().text
