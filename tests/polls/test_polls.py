"""Polls: creating (one line or dialog), one vote per person across chats, closing, results."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.ops.admin import grant_coordinator
from storage.models import ConversationState, Poll, PollVote, Preference
from storage.repo import people
from tests.support.fake import Chat, FakeAdapter, MakeChat


async def _resident(make_chat: MakeChat, name: str, lang: str = "en") -> Chat:
    chat: Chat = make_chat(name, lang=lang)
    await chat.say("/wijk")
    await chat.press("Schalkwijk")
    return chat


async def _setup(app: App, make_chat: MakeChat) -> tuple[Chat, Chat, Chat, Chat]:
    """A coordinator, a linked group and two residents of Schalkwijk with direct chats."""
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    group: Chat = make_chat("coco", group="schalkwijk-app", lang="en")
    await group.say("/koppel schalkwijk")
    anna = await _resident(make_chat, "anna")
    bob = await _resident(make_chat, "bob", lang="nl")
    return coco, group, anna, bob


async def _send_poll(coco: Chat, line: str = "Meer bankjes? | Ja | Nee | Weet niet") -> None:
    [summary] = await coco.say(f"/peiling {line}")
    assert "Your poll" in summary.text
    await coco.press("Send")


async def _poll(app: App) -> Poll:
    async with app.db.session() as s:
        return (await s.exec(select(Poll))).one()


async def _votes(app: App) -> list[tuple[int, int]]:
    async with app.db.session() as s:
        rows = (await s.exec(select(PollVote.person_id, PollVote.option))).all()
        return sorted((p, o) for p, o in rows)


async def test_one_line_poll_reaches_groups_and_residents(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    coco, group, anna, bob = await _setup(app, make_chat)
    [summary] = await coco.say("/peiling Meer bankjes op het plein? | Ja | Nee | Weet niet")
    assert "1. Ja" in summary.text and "3. Weet niet" in summary.text
    assert "people choose one" in summary.text and "everyone in Schalkwijk" in summary.text
    assert "cannot be changed" in summary.text
    done = (await coco.press("Send"))[0]
    assert "1 group chat and 3 residents" in done.text  # anna, bob and coco are members
    await app.flush_outbox()
    [in_group] = [s for s in group.mine() if "Meer bankjes" in s.text]
    assert in_group.labels == ["Ja", "Nee", "Weet niet", "Resultaten"]  # groups: Dutch
    assert in_group.reply.poll is not None and in_group.reply.poll.options == (
        "Ja",
        "Nee",
        "Weet niet",
    )
    assert "Choose one answer" in anna.text and anna.last().labels[-1] == "Results"
    assert "Kies één antwoord" in bob.text
    poll = await _poll(app)
    assert (poll.recipients, poll.groups) == (3, 1)


async def test_vote_in_group_and_direct_chat_counts_once(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    coco, group, anna, bob = await _setup(app, make_chat)
    await _send_poll(coco)
    await app.flush_outbox()
    anna_in_group: Chat = make_chat("anna", group="schalkwijk-app", lang="en")
    before = len(group.mine())
    await anna_in_group.press_data(f"pv:{(await _poll(app)).id}:0")
    assert len(group.mine()) == before  # the group is not flooded with confirmations
    await app.flush_outbox()
    assert "Your vote on “Meer bankjes?”: Ja" in anna.text  # told privately instead
    await anna.press("Nee")  # the latest choice counts
    assert "Your vote on “Meer bankjes?”: Nee" in anna.text
    await bob.press("Nee")
    anna_id = await _person_id(app, "anna")
    bob_id = await _person_id(app, "bob")
    assert await _votes(app) == sorted([(anna_id, 1), (bob_id, 1)])
    [results] = await anna.press("Results")
    assert "Nee: 2 (100%)" in results.text and "2 people voted" in results.text


async def _person_id(app: App, user: str) -> int:
    async with app.db.session() as s:
        person = await people.person_for_account(s, "fake", user)
        assert person is not None and person.id is not None
        return person.id


async def test_multiple_choice_toggles(app: App, make_chat: MakeChat) -> None:
    coco, _group, anna, _bob = await _setup(app, make_chat)
    await coco.say("/peiling Wat wil je? | Bankjes | Bomen | Speeltuin")
    [summary] = await coco.press("Allow more answers")
    assert "more than one" in summary.text
    await coco.press("Send")
    await app.flush_outbox()
    await anna.press("Bankjes")
    [both] = await anna.press("Bomen")
    assert "Bankjes, Bomen" in both.text
    [one] = await anna.press("Bankjes")  # pressing again takes it back
    assert "“Wat wil je?”: Bomen." in one.text
    assert [o for _p, o in await _votes(app)] == [1]


async def test_more_answers_percentages_are_of_voters(app: App, make_chat: MakeChat) -> None:
    coco, _group, anna, bob = await _setup(app, make_chat)
    await coco.say("/peiling Wat wil je? | Bankjes | Bomen | Speeltuin")
    await coco.press("Allow more answers")
    await coco.press("Send")
    await app.flush_outbox()
    await anna.press("Bankjes")
    await anna.press("Bomen")
    await bob.press("Bomen")
    [results] = await anna.press("Results")
    # Two people voted: everyone chose Bomen (100%), half chose Bankjes (50%).
    assert "Bomen: 2 (100%)" in results.text and "Bankjes: 1 (50%)" in results.text
    assert "percentages are of the 2 people who voted" in results.text
    assert "add up to more than 100%" in results.text


async def test_closing_on_time_sends_results_with_a_chart(
    app: App, make_chat: MakeChat, adapter: FakeAdapter, clock: FrozenClock
) -> None:
    coco, group, anna, bob = await _setup(app, make_chat)
    await _send_poll(coco)
    await app.flush_outbox()
    await anna.press("Ja")
    await bob.press("Ja")
    clock.advance(timedelta(days=6))
    await app.run_jobs_now()
    assert (await _poll(app)).closed_at is None  # not yet
    clock.advance(timedelta(days=2))
    await app.run_jobs_now()
    poll = await _poll(app)
    assert poll.closed_at is not None
    results = [s for s in anna.mine() if s.text.startswith("Results:")]
    assert len(results) == 1
    assert results[0].reply.image is not None and results[0].reply.image.startswith(b"\x89PNG")
    assert (
        "Ja: 2 (100%)" in results[0].text
        and "went to 3 residents directly and to 1 group" in results[0].text
    )
    assert any(s.text.startswith("Uitslag:") and s.reply.image for s in group.mine())
    # The results end the poll where each chat got it (Matrix ends it, Telegram drops buttons).
    for chat, head in ((anna, "Results:"), (group, "Uitslag:")):
        [poll_msg] = [s for s in chat.mine() if s.text.startswith("📊 Meer bankjes?")]
        [result] = [s for s in chat.mine() if s.text.startswith(head)]
        assert result.reply.ends == poll_msg.ref
    # A vote after closing gets a clear reply and changes nothing.
    [late] = await anna.press("Nee")
    assert "closed on" in late.text and "not counted" in late.text
    assert len(await _votes(app)) == 2
    await app.run_jobs_now()  # closing again sends nothing twice
    assert len([s for s in anna.mine() if s.text.startswith("Results:")]) == 1


async def test_overdue_poll_is_closed_after_a_restart(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    coco, _group, anna, _bob = await _setup(app, make_chat)
    await _send_poll(coco)
    await app.flush_outbox()
    clock.advance(timedelta(days=30))  # the bot was down when the poll should have closed
    restarted = App(app.settings, clock=clock)
    restarted.add(app.adapters["fake"])
    try:
        await restarted.run_jobs_now()
    finally:
        await restarted.db.dispose()
    assert (await _poll(app)).closed_at is not None
    assert anna.text.startswith("Results:")


async def test_coordinator_closes_early(app: App, make_chat: MakeChat) -> None:
    coco, _group, anna, _bob = await _setup(app, make_chat)
    await _send_poll(coco)
    await app.flush_outbox()
    await anna.press("Ja")
    [listing] = await coco.say("/peilingen")
    assert "1 voted" in listing.text
    [ask] = await coco.press("Close P-")
    assert "Close “Meer bankjes?” now?" in ask.text
    closed = (await coco.press("Yes, close it now"))[0]
    assert "Closed" in closed.text
    await app.flush_outbox()
    assert anna.text.startswith("Results:")
    [again] = await coco.press_data(f"pc:{(await _poll(app)).id}:yes")
    assert "already closed" in again.text


async def test_results_only_after_closing_and_named_results(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    coco, _group, anna, _bob = await _setup(app, make_chat)
    await coco.say("/peiling Welke dag? | Zaterdag | Zondag")
    await coco.press("Results only after closing")
    [summary] = await coco.press("Show names")
    assert "only after closing" in summary.text and "shown with the choices" in summary.text
    await coco.press("Send")
    await app.flush_outbox()
    assert "Your name is shown" in anna.text and "after closing" in anna.text
    await anna.press("Zondag")
    [hidden] = await anna.press("Results")
    assert "shared after closing" in hidden.text
    clock.advance(timedelta(days=8))
    await app.run_jobs_now()
    assert "Zondag: 1 (100%)" in anna.text and "  anna" in anna.text  # the name is shown


async def test_anonymous_results_store_no_names(app: App, make_chat: MakeChat) -> None:
    coco, _group, anna, _bob = await _setup(app, make_chat)
    await _send_poll(coco)
    await app.flush_outbox()
    await anna.press("Ja")
    async with app.db.session() as s:
        assert (await s.exec(select(PollVote.display_name))).all() == [None]


async def test_theme_target_and_opt_out(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    coco, _group, anna, bob = await _setup(app, make_chat)
    await anna.say("/themas")
    await anna.press("Follow Greening")
    await bob.say("/themas")
    await bob.press("Volg Vergroening")
    async with app.db.transaction() as s:
        s.add(Preference(person_id=await _person_id(app, "bob"), broadcasts=False))
    await coco.say("/peiling Geveltuinen? | Ja | Nee")
    await coco.press("Change who gets it")
    [summary] = await coco.press("followers of Greening")
    assert "followers of Greening in Schalkwijk" in summary.text
    done = (await coco.press("Send"))[0]
    assert "0 group chats and 1 resident." in done.text  # bob opted out; the group is general
    await app.flush_outbox()
    assert "Geveltuinen?" in anna.text and "Geveltuinen?" not in bob.text


async def test_bad_input_while_creating(app: App, make_chat: MakeChat, clock: FrozenClock) -> None:
    coco, _group, anna, _bob = await _setup(app, make_chat)
    [refused] = await anna.say("/peiling Vraag | a | b")
    assert "Only a coordinator" in refused.text
    [q] = await coco.say("/peiling")
    assert "What do you want to ask" in q.text
    [long_q] = await coco.say("x" * 301)
    assert "too long" in long_q.text
    await coco.say("Wat vinden jullie?")
    [need_two] = await coco.say("Ja")
    assert "Done" not in need_two.labels and "answer 2" in need_two.text
    [dup, _again] = await coco.say("ja")
    assert "already have that answer" in dup.text
    await coco.say("Nee")
    for i in range(8):
        await coco.say(f"Optie {i}")
    summary = coco.last()
    assert "10. Optie 7" in summary.text and "Your poll" in summary.text  # at 10 it stops
    await coco.press("Change closing time")
    [bad, _ask] = await coco.say("31-02 20:00")
    assert "could not read that date" in bad.text
    [past, _ask2] = await coco.say(clock.now().strftime("%d-%m-%Y") + " 00:01")
    assert "already passed" in past.text
    [soon, _ask2] = await coco.say("vandaag 19:05")  # it is 19:00
    assert "too soon" in soon.text
    [far, _ask3] = await coco.say("01-06-2027 20:00")
    assert "too far away" in far.text
    [ok] = await coco.say("saturday 2pm")  # it is Thursday
    assert "Closes: 28 November, 14:00" in ok.text
    await coco.press("Send")
    # Rules are locked once sent: the old summary's buttons do nothing any more.
    [stale] = await coco.press("Allow more answers")
    assert "no longer works" in stale.text
    assert (await _poll(app)).multiple is False


async def test_broken_and_stale_vote_buttons(app: App, make_chat: MakeChat) -> None:
    coco, _group, anna, _bob = await _setup(app, make_chat)
    [gone] = await anna.press_data("pv:999:0")
    assert "no longer exists" in gone.text
    [broken] = await anna.press_data("pv:x:y")
    assert "no longer works" in broken.text
    await _send_poll(coco)
    poll = await _poll(app)
    [out_of_range] = await anna.press_data(f"pv:{poll.id}:7")
    assert "no longer works" in out_of_range.text
    assert await _votes(app) == []


async def test_simultaneous_presses_count_once(app: App, make_chat: MakeChat) -> None:
    coco, _group, anna, _bob = await _setup(app, make_chat)
    await _send_poll(coco)
    poll = await _poll(app)
    await asyncio.gather(*(anna.press_data(f"pv:{poll.id}:0") for _ in range(5)))
    assert len(await _votes(app)) == 1


async def test_my_votes_are_shown_and_erased_with_me(app: App, make_chat: MakeChat) -> None:
    coco, _group, anna, _bob = await _setup(app, make_chat)
    await coco.say("/peiling Welke dag? | Zaterdag | Zondag")
    await coco.press("Show names")
    await coco.press("Send")
    await app.flush_outbox()
    await anna.press("Zondag")
    [mine] = await anna.say("/mijngegevens")
    assert "Your vote on “Welke dag?”: Zondag." in mine.text
    await anna.say("/vergeetmij")
    await anna.press("Yes, erase my data")
    assert await _votes(app) == []  # the vote and the name shown with it are gone


async def test_typed_numbers_vote_where_there_are_no_buttons(app: App, make_chat: MakeChat) -> None:
    """Matrix and the console show buttons as a numbered list: typing 2 presses the second."""
    coco, _group, anna, _bob = await _setup(app, make_chat)
    await coco.say("/peiling Wat wil je? | Bankjes | Bomen | Speeltuin")
    await coco.press("Allow more answers")
    await coco.press("Send")
    await app.flush_outbox()
    [first] = await anna.say("2")
    assert "“Wat wil je?”: Bomen." in first.text
    [both] = await anna.say("3")
    assert "Bomen, Speeltuin" in both.text
    await anna.say("/themas")  # a newer reply with its own buttons takes over …
    [followed] = await anna.say("1")
    assert "follow" in followed.text.lower()
    assert sorted(o for _p, o in await _votes(app)) == [1, 2]  # … so no vote for Bankjes


async def test_groups_never_see_a_choice_or_hidden_results(app: App, make_chat: MakeChat) -> None:
    """Review: a vote from someone without a private chat, and a coordinator's look."""
    coco, group, _anna, _bob = await _setup(app, make_chat)
    await coco.say("/peiling Welke dag? | Zaterdag | Zondag")
    await coco.press("Results only after closing")
    await coco.press("Send")
    await app.flush_outbox()
    poll = await _poll(app)
    stranger: Chat = make_chat("zoe", group="schalkwijk-app", lang="en")
    [said] = await stranger.press_data(f"pv:{poll.id}:1")
    assert "your vote is counted" in said.text and "Zondag" not in said.text
    assert said.reply.flat_buttons()[0].url  # a way to a private chat
    [look] = await group.press_data(f"pr:{poll.id}")  # the coordinator, in the group
    assert "shared after closing" in look.text and "Zondag" not in look.text
    [private] = await coco.press_data(f"pr:{poll.id}")  # … and privately
    assert "Zondag: 1 (100%)" in private.text


async def test_dollar_signs_do_not_stop_closing(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    coco, _group, anna, _bob = await _setup(app, make_chat)
    await coco.say("/peiling Kosten? | 5$ per maand | $^$ weet niet")
    await coco.press("Send")
    await coco.say("/peiling Tweede vraag? | Ja | Nee")
    await coco.press("Send")
    clock.advance(timedelta(days=8))
    await app.run_jobs_now()
    async with app.db.session() as s:
        assert all(p.closed_at is not None for p in (await s.exec(select(Poll))).all())
    charts = [m for m in anna.mine() if m.text.startswith("Results:") and m.reply.image]
    assert len(charts) == 2


async def test_forged_huge_poll_ids_get_a_kind_reply(app: App, make_chat: MakeChat) -> None:
    _coco, _group, anna, _bob = await _setup(app, make_chat)
    [vote] = await anna.press_data("pv:99999999999999999999:0")
    [look] = await anna.press_data("pr:99999999999999999999")
    assert "no longer works" in vote.text and "no longer works" in look.text


async def test_a_poll_nobody_would_get_is_not_sent(app: App, make_chat: MakeChat) -> None:
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    await coco.say("/peiling Iemand? | Ja | Nee")
    await coco.press("Change who gets it")
    await coco.press("followers of Youth")
    [nobody, summary] = await coco.press("Send")
    assert "Nobody would get this yet" in nobody.text and "Your poll" in summary.text
    async with app.db.session() as s:
        assert (await s.exec(select(Poll))).all() == []


@pytest.mark.parametrize(
    "damage",
    [{"closes_at": "volgende week"}, {"options": "Ja, Nee"}, {"neighbourhood_id": "Schalkwijk"},
     {"closes_at": "2026-12-01T20:00:00"}, {"options": ["x" * 500, "Nee"]}, {"question": None}],
)  # fmt: skip
async def test_a_damaged_poll_draft_starts_again_kindly(
    app: App,
    make_chat: MakeChat,
    damage: dict[str, object],
) -> None:
    """A draft from an old version or a tampered copy of the database never sends a poll and
    never leaves the coordinator stuck: they are told, and /peiling works again."""
    coco, _group, _anna, _bob = await _setup(app, make_chat)
    await coco.say("/peiling Meer bankjes? | Ja | Nee")
    async with app.db.transaction() as s:
        row = (
            await s.exec(select(ConversationState).where(ConversationState.user_id == "coco"))
        ).one()
        row.data = {**row.data, **damage}
    [lost] = await coco.press("Send")
    assert "lost track" in lost.text
    async with app.db.session() as s:
        assert (await s.exec(select(Poll))).all() == []
    [summary] = await coco.say("/peiling Meer bankjes? | Ja | Nee")
    assert "Your poll" in summary.text
