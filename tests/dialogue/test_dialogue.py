"""Conversations (gesprekken): a coordinator opens one, residents vote on statements one at
a time across chats, add their own (moderated), and hear when it ends. Forged presses first."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.ops.admin import add_partner, grant_coordinator
from storage.models import Conversation, Statement, StatementVote
from storage.repo import people
from tests.support.fake import Chat, MakeChat

LINE = "/nieuwgesprek Hoe maken we het plein fijner? | Meer bankjes | Minder auto's | Meer groen"


async def _resident(make_chat: MakeChat, name: str, lang: str = "en") -> Chat:
    chat: Chat = make_chat(name, lang=lang)
    await chat.say("/wijk")
    await chat.press("Schalkwijk")
    return chat


async def _open(
    app: App, make_chat: MakeChat, moderated: bool = True
) -> tuple[Chat, Chat, Chat, Chat]:
    """A coordinator, a linked group and two residents; a conversation with three statements."""
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    group: Chat = make_chat("coco", group="schalkwijk-app", lang="en")
    await group.say("/koppel schalkwijk")
    anna = await _resident(make_chat, "anna")
    bob = await _resident(make_chat, "bob", lang="nl")
    [summary] = await coco.say(LINE)
    assert "3. Meer groen" in summary.text and "approves them first" in summary.text
    if not moderated:
        await coco.press("Show new statements at once")
    [sent, *_rest] = await coco.press("Send")
    assert "1 group chat and 3 residents" in sent.text
    await app.flush_outbox()
    return coco, group, anna, bob


async def _ids(app: App) -> tuple[int, list[int]]:
    async with app.db.session() as s:
        conv = (await s.exec(select(Conversation).order_by(Conversation.id))).first()  # type: ignore[arg-type]
        assert conv is not None
        sts = (
            await s.exec(
                select(Statement).where(Statement.conversation_id == conv.id).order_by(Statement.id)
            )
        ).all()  # type: ignore[arg-type]
        assert conv.id is not None
        return conv.id, [st.id for st in sts if st.id is not None]


async def _votes(app: App) -> list[tuple[int, int, int]]:
    async with app.db.session() as s:
        rows = (await s.exec(select(StatementVote.person_id, StatementVote.statement_id,
                                    StatementVote.value))).all()  # fmt: skip
        return sorted(rows)


def _all(chat: Chat) -> str:
    return "\n".join(m.text for m in chat.mine())


async def _pid(app: App, user: str) -> int:
    async with app.db.session() as s:
        person = await people.person_for_account(s, "fake", user)
        assert person is not None and person.id is not None
        return person.id


async def test_forged_presses_change_nothing_and_are_answered_kindly(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    coco, _group, anna, _bob = await _open(app, make_chat)
    conv_id, [s1, _s2, _s3] = await _ids(app)
    [unknown] = await anna.press_data(f"gv:{conv_id + 9}:{s1}:agree")
    assert "no longer exists" in unknown.text
    # A second conversation: a statement of the first under its id counts for neither.
    await coco.say("/nieuwgesprek Wat doen we met de oude school? | Een buurthuis")
    await coco.press("Send")
    [other] = await anna.press_data(f"gv:{conv_id + 1}:{s1}:agree")
    assert "no longer works" in other.text
    [wrong_pair] = await anna.press_data(f"gv:{conv_id}:{s1 + 100}:agree")
    assert "no longer works" in wrong_pair.text
    [bad_value] = await anna.press_data(f"gv:{conv_id}:{s1}:love")
    assert "no longer works" in bad_value.text
    [huge] = await anna.press_data(f"gv:{conv_id}:99999999999:agree")
    assert "no longer works" in huge.text
    # A statement a coordinator has not approved (or rejected) cannot be voted on.
    await anna.press("Take part")
    await anna.press("Add my own statement")
    await anna.say("Een speeltuin voor kleine kinderen")
    async with app.db.session() as s:
        waiting = (await s.exec(select(Statement).where(Statement.status == "waiting"))).one()
    [hidden] = await anna.press_data(f"gv:{waiting.conversation_id}:{waiting.id}:agree")
    assert "taken out of the conversation" in hidden.text
    assert await _votes(app) == []
    # Closed: a press after the end changes nothing.
    clock.advance(timedelta(days=15))
    [late] = await anna.press_data(f"gv:{conv_id}:{s1}:agree")
    assert "ended on" in late.text and "Nothing was changed" in late.text
    assert await _votes(app) == []


async def test_residents_vote_one_statement_at_a_time_one_vote_across_chats(
    app: App, make_chat: MakeChat
) -> None:
    _coco, group, anna, bob = await _open(app, make_chat)
    assert "Conversation: Hoe maken we het plein fijner?" in anna.text
    assert "Gesprek: Hoe maken we het plein fijner?" in bob.text  # in his language
    [first] = await anna.press("Take part")
    assert first.labels == ["Agree", "Disagree", "Pass", "Add my own statement"]
    assert "“Meer bankjes”" in first.text  # nobody voted yet: the oldest first
    [second] = await anna.press("Agree")
    assert "Your vote on “Meer bankjes”: agree." in second.text
    assert "“Minder auto's”" in second.text
    await anna.press("Disagree")
    [done] = await anna.press("Pass")
    assert "That was all" in done.text
    assert done.labels == ["Add my own statement", "How it stands"]
    # Bob, via /gesprek (in Dutch), gets what fewer people saw first... all seen once: oldest.
    [listed] = await bob.say("/gesprek")
    assert listed.labels == ["Meedoen", "Tussenstand"]
    [bobs] = await bob.press("Meedoen")
    assert bobs.labels[:3] == ["Eens", "Oneens", "Weet niet"]
    # In the group the coordinator posts a statement; anna changes her vote from there.
    await group.say("/gesprek")
    posted = group.last()
    assert posted.labels[:3] == ["Agree", "Disagree", "Pass"]
    anna_in_group: Chat = make_chat("anna", group="schalkwijk-app", lang="en")
    before = len(group.mine())
    conv_id, [s1, _s2, _s3] = await _ids(app)
    statement = next(
        s for s in (s1, _s2, _s3) if f"gv:{conv_id}:{s}:" in posted.reply.buttons[0][0].data
    )
    await anna_in_group.press_data(f"gv:{conv_id}:{statement}:disagree")
    assert len(group.mine()) == before  # answered privately, not in the group
    await app.flush_outbox()
    assert "disagree" in anna.last().text
    anna_id = await _pid(app, "anna")
    mine = [(s, v) for p, s, v in await _votes(app) if p == anna_id]
    assert len(mine) == 3 and (statement, -1) in mine  # changed, not added


async def test_own_statement_too_long_duplicate_and_moderated(
    app: App, make_chat: MakeChat
) -> None:
    coco, _group, anna, bob = await _open(app, make_chat)
    await anna.press("Take part")
    await anna.press("Add my own statement")
    long = "Wij willen " + "heel " * 40 + "graag meer bankjes."
    replies = await anna.say(long)
    assert "at most 140" in replies[0].text and replies[1].text == long  # kept to edit
    [dup] = await anna.say("Meer bankjes!")
    assert "“Meer bankjes”" in dup.text and "Add mine anyway" in dup.labels
    await anna.press("Cancel")
    await anna.press("Take part")
    await anna.press("Add my own statement")
    [waits] = await anna.say("Een speeltuin voor kleine kinderen")
    assert "coordinator looks at your statement first" in waits.text
    await bob.press("Meedoen")
    await bob.press("Zelf een stelling toevoegen")
    await bob.say("Het plein moet autovrij")
    await app.flush_outbox()
    assert "Een speeltuin voor kleine kinderen" in _all(coco)
    await coco.press_data(coco.last().reply.buttons[0][0].data)  # approve bob's
    async with app.db.session() as s:
        anna_st = (
            await s.exec(
                select(Statement).where(Statement.text == "Een speeltuin voor kleine kinderen")
            )
        ).one()
    await coco.press_data(f"gm:{anna_st.id}:no")
    [done] = await coco.say("Dat past niet bij de vraag")
    assert "Rejected" in done.text
    await app.flush_outbox()
    assert "was not added. The coordinator says: Dat past niet bij de vraag" in _all(anna)
    assert "“Het plein moet autovrij” staat nu in het gesprek" in _all(bob)  # Dutch
    # Bob sees his approved statement among those to vote on; anna never the rejected one.
    seen = []
    msg = (await anna.press("Take part"))[0]
    while "That was all" not in msg.text:
        seen.append(msg.text)
        msg = (await anna.press("Pass"))[0]
    assert any("autovrij" in t for t in seen) and not any("speeltuin" in t for t in seen)


async def test_the_end_closes_it_and_tells_participants_with_counts(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    _coco, _group, anna, bob = await _open(app, make_chat, moderated=False)
    await anna.press("Take part")
    await anna.press("Agree")
    await anna.press("Agree")
    await bob.press("Meedoen")
    await bob.press("Oneens")
    clock.advance(timedelta(days=15))
    await app.run_jobs_now()
    await app.flush_outbox()
    assert "has ended" in anna.text and "2 people voted, 3 votes, 3 statements" in anna.text
    assert "Het gesprek “Hoe maken we het plein fijner?” is afgelopen" in bob.text


async def test_a_partner_opens_one_only_when_a_coordinator_allowed_it(
    app: App, make_chat: MakeChat
) -> None:
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    pia = await _resident(make_chat, "pia")
    await add_partner(app.settings, "fake", "pia", "schalkwijk", "Buurtwerk", ["jeugd"], [])
    [refused] = await pia.say("/nieuwgesprek Wat missen jongeren? | Een plek om te chillen")
    assert "Only a coordinator" in refused.text
    await add_partner(
        app.settings, "fake", "pia", "schalkwijk", "Buurtwerk", ["jeugd"], [], may_announce=True
    )
    [summary] = await pia.say("/nieuwgesprek Wat missen jongeren? | Een plek om te chillen")
    assert "followers of Youth in Schalkwijk" in summary.text
    [targets] = await pia.press("Change who gets it")
    assert [b for b in targets.labels if b != "Cancel"] == ["followers of Youth in Schalkwijk"]
    [forged] = await pia.press_data("@ConversationForm.target|1:")  # everyone: not allowed
    assert "Please choose" in forged.text
    async with app.db.session() as s:
        assert (await s.exec(select(Conversation))).all() == []


async def test_group_take_part_is_answered_privately_and_a_resident_cannot_review(
    app: App, make_chat: MakeChat
) -> None:
    _coco, group, anna, _bob = await _open(app, make_chat)
    anna_in_group: Chat = make_chat("anna", group="schalkwijk-app", lang="en")
    [listed] = await anna_in_group.say("/gesprek")  # not a coordinator: the invitation
    assert listed.labels == ["Take part"]
    before = len(group.mine())
    await anna_in_group.press("Take part")
    assert len(group.mine()) == before
    await app.flush_outbox()
    assert "“Meer bankjes”" in anna.text and "Agree" in anna.last().labels
    await anna.press("Take part")
    await anna.press("Add my own statement")
    await anna.say("Een speeltuin voor kleine kinderen")
    async with app.db.session() as s:
        waiting = (await s.exec(select(Statement).where(Statement.status == "waiting"))).one()
    [refused] = await anna.press_data(f"gm:{waiting.id}:ok")
    assert "coordinator" in refused.text
    async with app.db.session() as s:
        again = await s.get(Statement, waiting.id)
        assert again is not None and again.status == "waiting"
