"""Done when (issue 16 §1): a coordinator's forum with quotas; 60 generated residents join
the pool in chat; the draw meets every quota, publishes chances and repeats from its seed;
invitations, a decline and a replacement in chat; the pool's answers gone after the end."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlmodel import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.ops.forum import draw_forum
from storage.forum_models import ForumMember
from tests.forum.test_open import open_in_chat
from tests.support.fake import Chat, MakeChat

AGE_LABELS = ("15–24 years", "25–44 years", "45–64 years", "65 or older")


async def _join(make_chat: MakeChat, name: str, age: str, area: str) -> Chat:
    chat: Chat = make_chat(name, lang="en")
    await chat.say("/wijk")
    await chat.press("Schalkwijk")
    [explain, question] = await chat.say("/forum")
    assert (
        "only for the draw" in explain.text
        and "Coordinators never see your answers" in explain.text
    )
    assert "age" in question.text
    await chat.press(age)
    await chat.press(area)
    await chat.press("Yes, put me in the pool")
    assert "you are in the pool" in chat.text
    return chat


async def _answers(app: App) -> list[ForumMember]:
    async with app.db.session() as s:
        return list((await s.exec(select(ForumMember))).all())


def _invited(chats: list[Chat]) -> list[Chat]:
    return [c for c in chats if any("drawn by lot" in m.text for m in c.mine())]


async def test_a_forum_from_pool_to_panel_to_erasure(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    coco, forum_id = await open_in_chat(app, make_chat)

    # Someone who says no to keeping their answers leaves nothing behind.
    doubter: Chat = make_chat("doubter", lang="en")
    await doubter.say("/wijk")
    await doubter.press("Schalkwijk")
    await doubter.say("/forum")
    await doubter.press("65 or older")
    await doubter.press("Noord")
    await doubter.press("No, store nothing")
    assert "We stored nothing" in doubter.text
    assert await _answers(app) == []

    rng = random.Random(60)
    chats = [
        await _join(make_chat, f"r{i}", AGE_LABELS[i % 4], rng.choice(("Noord", "Zuid")))
        for i in range(60)
    ]
    assert len(await _answers(app)) == 60
    [pool_view] = await coco.say("/forum")
    assert "60 residents in the pool" in pool_view.text

    report = await draw_forum(app.settings, forum_id, seed=16, clock=clock)
    assert report.count(" ok") == 6 and "NOT MET" not in report
    assert "60 people" in report and "#60:" in report
    await app.flush_outbox()
    invited = _invited(chats)
    assert len(invited) == 12

    # Confirm most, one declines: someone else from the pool is asked, within the quotas.
    for chat in invited[1:]:
        await chat.press("Yes, I take part")
        assert "Welcome to the neighbourhood forum" in chat.text
    await invited[0].press("No, thank you")
    assert "We will ask someone else" in invited[0].text
    clock.advance(timedelta(minutes=1))  # the job asks someone else, off the chat's path
    await app.run_jobs_now()
    replacement = [c for c in _invited(chats) if c not in invited]
    assert len(replacement) == 1
    await replacement[0].press("Yes, I take part")
    [panel] = await coco.say("/forum")
    assert "12 of 12 seats confirmed" in panel.text
    assert "r1" not in panel.text and "#" not in panel.text  # counts, never people
    for line in panel.text.splitlines()[2:-1]:
        for part in line.split(": ", 1)[1].split(", "):
            n, allowed = part.rsplit(" (", 1)[0].split()[-1], part.rsplit(" (", 1)[1].rstrip(")")
            lo, hi = allowed.split("–")
            assert int(lo) <= int(n) <= int(hi), line

    # After the end date, the job erases every answer; the coordinator keeps only the fact.
    clock.advance(timedelta(days=91))
    await app.run_jobs_now()
    assert await _answers(app) == []
    [ended] = await coco.say("/forum")
    assert "the pool's answers are erased" in ended.text
