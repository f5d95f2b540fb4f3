"""Every list pages: a count ("1–5 of 12"), Previous / Next, and at most ten buttons a
message (Matrix numbers them with ten keycap reactions), so nothing is out of reach."""

from __future__ import annotations

from datetime import timedelta

from bot.app import App
from bot.core.clock import FrozenClock
from bot.ops.admin import grant_coordinator
from tests.support.fake import Chat, MakeChat

MOST_BUTTONS = 10


async def _resident(make_chat: MakeChat, name: str) -> Chat:
    chat: Chat = make_chat(name, lang="en")
    await chat.say("/wijk")
    await chat.press("Schalkwijk")
    return chat


async def _coordinator(app: App, make_chat: MakeChat) -> Chat:
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco = await _resident(make_chat, "coco")
    await coco.say("/taal en")
    return coco


async def _all_pages(chat: Chat, first: str) -> list[str]:
    """The text of each page, pressing Next until there is none; at most ten buttons each."""
    pages = [first]
    assert len(chat.last().labels) <= MOST_BUTTONS
    while "Next ▶" in chat.last().labels:
        [page] = await chat.press("Next ▶")
        assert len(page.labels) <= MOST_BUTTONS and len(pages) < 20
        pages.append(page.text)
    return pages


async def test_ideas_page_newest_first(app: App, make_chat: MakeChat, clock: FrozenClock) -> None:
    anna = await _resident(make_chat, "anna")
    for i in range(12):
        if i == 10:
            clock.advance(timedelta(hours=1))
        await anna.say(f"/idee Idee nummer {i + 1}")
        await anna.press("Post")
    bob = await _resident(make_chat, "bob")
    [first] = await bob.say("/ideeen")
    assert "1–4 of 12" in first.text and "I-12 Idee nummer 12" in first.text
    pages = await _all_pages(bob, first.text)
    assert len(pages) == 3 and "9–12 of 12" in pages[-1] and "I-1 Idee nummer 1 " in pages[-1]
    [supported] = await bob.press("Support I-1")
    assert "You now support I-1" in supported.text
    [back] = await bob.press("◀ Previous")
    assert "5–8 of 12" in back.text


async def test_open_polls_page(app: App, make_chat: MakeChat) -> None:
    coco = await _coordinator(app, make_chat)
    for i in range(9):
        await coco.say(f"/peiling Vraag {i + 1}? | Ja | Nee")
        await coco.press("Send")
    [first] = await coco.say("/peilingen")
    assert "1–4 of 9" in first.text
    pages = await _all_pages(coco, first.text)
    assert len(pages) == 3 and "9–9 of 9" in pages[-1] and "Vraag 9?" in pages[-1]
    [closing] = await coco.press("Close P-9 now")
    assert "Close “Vraag 9?” now?" in closing.text


async def test_budget_rounds_page(app: App, make_chat: MakeChat) -> None:
    coco = await _coordinator(app, make_chat)
    for i in range(9):
        await coco.say("/budgetronde")
        await coco.press("New budget round")
        await coco.say(f"Ronde {i + 1}")
        await coco.say("€ 10.000")
        await coco.press("a basket")
        await coco.press("greedy")
        await coco.press("Both")
    [first] = await coco.say("/budgetronde")
    assert "1–7 of 9" in first.text and "W-9 Ronde 9" in first.text
    assert "New budget round" in first.labels
    pages = await _all_pages(coco, first.text)
    assert len(pages) == 2 and "W-1 Ronde 1" in pages[-1]
    [oldest] = await coco.press("W-1 Ronde 1")
    assert "“Ronde 1”" in oldest.text


async def test_proposals_page_and_checks_come_oldest_first(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    coco = await _coordinator(app, make_chat)
    await coco.say("/budgetronde")
    await coco.press("New budget round")
    await coco.say("Schalkwijk aan Zet")
    await coco.say("€ 70.000")
    await coco.press("a basket")
    await coco.press("greedy")
    await coco.press("Both")
    anna = await _resident(make_chat, "anna")
    for i in range(9):
        if i == 5:
            clock.advance(timedelta(hours=1))
        await anna.say("/wijkbudget")
        await anna.press("Propose a project")
        await anna.say(f"Plan {i + 1}")
        await anna.say(f"Beschrijving van plan {i + 1}.")
        await anna.say("1000")
        await anna.press("Send in")
    bob = await _resident(make_chat, "bob")
    [first] = await bob.say("/wijkbudget")
    assert "1–7 of 9" in first.text and "Propose a project" in first.labels
    pages = await _all_pages(bob, first.text)
    assert len(pages) == 2 and "Plan 9" in pages[-1]
    [supported] = await bob.press("Support 9")
    assert "You now support 9" in supported.text

    await coco.say("/budgetronde")
    [view] = await coco.press("W-1")
    assert "9 proposals wait for a check" in view.text and "Plan 9" in view.text
    checks = [label for label in view.labels if label.startswith("Check")]
    assert checks == ["Check 1 Plan 1", "Check 2 Plan 2", "Check 3 Plan 3"]
    assert len(view.labels) <= MOST_BUTTONS


async def test_each_round_keeps_its_own_message(app: App, make_chat: MakeChat) -> None:
    """Pages edit their own message; showing two rounds after a button press edits none."""
    coco = await _coordinator(app, make_chat)
    for title in ("Ronde A", "Ronde B"):
        await coco.say("/budgetronde")
        await coco.press("New budget round")
        await coco.say(title)
        await coco.say("€ 10.000")
        await coco.press("a basket")
        await coco.press("greedy")
        await coco.press("Both")
    eva: Chat = make_chat("eva", lang="en")  # no neighbourhood yet: asked first
    await eva.say("/wijkbudget")
    shown = await eva.press("Schalkwijk")
    assert [("Ronde B" in s.text, "Ronde A" in s.text) for s in shown] == [
        (True, False),
        (False, True),
    ]
