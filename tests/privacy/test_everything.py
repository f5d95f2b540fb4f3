"""A person who has done everything sees all of it in /mijngegevens, and /vergeetmij leaves
no row in any table that still points to them.

The scan reads the tables from `SQLModel.metadata`: a new table with a reference to a
person fails here until /mijngegevens shows it and /vergeetmij removes it.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import JSON, Column, LargeBinary, String, Text, select
from sqlmodel import SQLModel

from bot.app import App
from bot.core.clock import FrozenClock
from bot.ops.admin import add_partner, grant_coordinator
from bot.services.ideas import support_batch
from bot.services.polls import close_due
from bot.web.app import create_app
from storage.repo import people
from tests.budget.test_round_in_chat import CLOSES, OPENS, create_round, judge, propose, vote
from tests.forum.test_draw import QUOTAS, open_forum
from tests.support.fake import Chat, FakeAdapter, MakeChat

ZOE = "zoe-4711"  # her platform user id; her direct chat is "dm:zoe-4711"
ZOE_NAME = "Zoë Zwaantje-Quist"  # the name the platform shows
BOB_NAME = "Bob Brouwer"
ZOE_HANDLE = "zoe_zwaantje"  # her Telegram-like username, shared in one introduction

# Every column that refers to a person, and what /mijngegevens says about it (in English).
# A new reference to `person.id` fails `test_every_person_reference_is_known` until it is
# added here: so it is shown, and the conversation below produces it.
SHOWN: dict[str, list[str]] = {
    "account.person_id": [f"fake {ZOE}"],
    "membership.person_id": ["Your neighbourhood: Schalkwijk", "Coordinator of: Schalkwijk"],
    "themefollow.person_id": ["You follow: Youth"],
    "channel.person_id": ["private chat"],
    "preference.person_id": ["every day"],
    "idea.author_id": ["Your idea I-1"],
    "ideasupport.person_id": ["Ideas you support: I-2"],
    "ideaoffer.person_id": ["Your offer to help with I-2: time, “zaterdag”"],
    "signal.reporter_id": ["Your report M-1001"],
    "signalfollower.person_id": ["You follow report M-1002"],
    "signalupdate.by_person_id": ["Bij de school, naast het hek", "M-1002"],
    "poll.created_by_id": ["Polls you sent"],
    "pollvote.person_id": ["“Welke dag?”: Zondag", ZOE_NAME],
    "announcement.created_by_id": ["Announcements you sent"],
    "conversation.created_by_id": ["Conversations you opened: 1"],
    "statement.author_id": [
        "Your statement in “Hoe maken we het plein fijner?”: “Een moestuin voor iedereen”"
    ],
    "statementvote.person_id": ["Your vote on the statement “Meer bankjes”: agree."],
    "groupwelcome.person_id": ["welcome you by first name in the group chat of Youth"],
    "eventrsvp.person_id": ["Events you said you would come to: “Buurtfeest op het plein”"],
    "auditevent.actor_person_id": ["coordinator"],
    "budgetproject.proposer_id": ["Your budget proposal 1 “Huiswerkclub”"],
    "budgetsupport.person_id": ["Budget proposals you support: 2"],
    "voterroll.person_id": ["You voted in “Schalkwijk aan Zet 2027”"],
    "countedaction.person_id": ["for the hourly limits"],
    "partner.person_id": ["You speak for Buurtwerk Haarlem in Schalkwijk"],
    "introduction.initiator_id": ["Your chat name was shared with the helper of I-1"],
    "introduction.helper_id": ["get in touch with the initiator of I-2. Nothing is shared yet."],
    "forum.created_by_id": ["Neighbourhood forums you opened: 1"],
    "forummember.person_id": [
        "You are in the pool of the neighbourhood forum “Een groener plein” with these "
        "answers: age 25–44 years, part of the neighbourhood Zuid."
    ],
    "ageband.person_id": ["Your age group, shared to see who we miss: 25–44 years"],
    "weblogin.person_id": ["2 login links and sessions for the web overview"],
    "websession.person_id": ["2 login links and sessions for the web overview"],
}
# References that are not a foreign key: (table, column, the row is about a person when …).
SOFT_REFS: dict[tuple[str, str], tuple[str, str]] = {
    ("auditevent", "subject_id"): ("subject_type", "person"),
}


def person_columns() -> list[Column[Any]]:
    """Every column with a foreign key to person.id (the person's own id included)."""
    found = [
        col
        for table in SQLModel.metadata.sorted_tables
        for col in table.columns
        if any(fk.column.table.name == "person" for fk in col.foreign_keys)
    ]
    return [SQLModel.metadata.tables["person"].c.id, *found]


def test_every_person_reference_is_known() -> None:
    refs = {f"{c.table.name}.{c.name}" for c in person_columns()} - {"person.id"}
    assert refs == set(SHOWN), "a reference to a person: show it in /mijngegevens, test it here"
    for table in SQLModel.metadata.sorted_tables:  # a person's id kept without a foreign key
        for col in table.columns:
            named = col.name.endswith(("person_id", "_by_id")) or col.name in (
                "author_id", "reporter_id", "proposer_id"
            )  # fmt: skip
            if named:
                assert f"{table.name}.{col.name}" in refs, f"{table.name}.{col.name}: add a FK"


async def _rows(app: App) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    async with app.db.session() as s:
        conn = await s.connection()
        for table in SQLModel.metadata.sorted_tables:
            result = await conn.execute(select(table))
            out[table.name] = [dict(r._mapping) for r in result.all()]
    return out


def _as_text(col: Column[Any], value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(col.type, JSON):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(col.type, LargeBinary):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(col.type, String | Text):
        return str(value)
    return None


def pointers(rows: dict[str, list[dict[str, Any]]], person_id: int) -> list[str]:
    """Every place a row still points to the person: their id, account id or shown name."""
    found: list[str] = []
    fk_cols = {(c.table.name, c.name) for c in person_columns()}
    for table in SQLModel.metadata.sorted_tables:
        for row in rows[table.name]:
            for col in table.columns:
                value = row[col.name]
                where = f"{table.name}.{col.name} (row {row.get('id')})"
                if (table.name, col.name) in fk_cols and value == person_id:
                    found.append(f"{where} = {person_id}")
                soft = SOFT_REFS.get((table.name, col.name))
                if soft and row[soft[0]] == soft[1] and value == person_id:
                    found.append(f"{where} = {person_id}")
                text = _as_text(col, value)
                for needle in (ZOE, ZOE_NAME):
                    if text is not None and needle in text:
                        found.append(f"{where} contains {needle!r}")
    return found


async def _as(make_chat: MakeChat, user: str, name: str, group: str | None = None) -> Chat:
    chat = make_chat(user, group=group, lang="en")
    chat.user = dataclasses.replace(chat.user, display_name=name)
    return chat


async def _report(chat: Chat, text: str, lat: float, lon: float, category: str) -> list[Any]:
    await chat.say("/melding")
    await chat.say(text)
    await chat.location(lat, lon)
    await chat.press("Skip")
    return await chat.press(category)


async def _named_poll(zoe: Chat, question: str) -> None:  # as a coordinator, in English
    await zoe.say(f"/peiling {question} | Zaterdag | Zondag")
    await zoe.press("Show names")
    await zoe.press("Send")


async def _close_poll(zoe: Chat, number: int) -> None:
    await zoe.say("/peilingen")
    await zoe.press(f"Close P-{number} now")
    [closed, *_results] = await zoe.press("Yes, close it now")
    assert "Closed" in closed.text


async def _everything(app: App, make_chat: MakeChat, clock: FrozenClock) -> tuple[Chat, Chat]:
    """Zoë: resident and coordinator of Schalkwijk, who did all there is to do."""
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco = await _as(make_chat, "coco", "Coco")
    await coco.say("/taal en")
    await grant_coordinator(app.settings, "fake", ZOE, "schalkwijk")  # an audit event about her
    zoe = await _as(make_chat, ZOE, ZOE_NAME)
    await zoe.say("/taal en")
    await zoe.say("/wijk")
    await zoe.press("Schalkwijk")
    await zoe.say("/volg jeugd")
    await zoe.say("/overzicht")
    await zoe.press("Every day")
    in_group = await _as(make_chat, ZOE, ZOE_NAME, group="buurt")
    [linked] = await in_group.say("/koppel schalkwijk")
    assert "linked to Schalkwijk" in linked.text
    # A theme group: she takes its link and says yes to a welcome by first name.
    await (await _as(make_chat, ZOE, ZOE_NAME, group="jeugd")).say("/koppel schalkwijk jeugd")
    await zoe.say("/volg jeugd")
    await zoe.press("Join the group chat")
    await zoe.press("Yes, welcome me")
    bob = await _as(make_chat, "bob", BOB_NAME)
    await bob.say("/wijk")
    await bob.press("Schalkwijk")

    # A budget round: she proposes, supports, checks and votes; it closes.
    await create_round(zoe)
    await zoe.say("/wijkbudget")
    await zoe.press("Propose a project")
    await zoe.say("Huiswerkclub")
    await zoe.say("Hulp bij huiswerk in het buurthuis.")
    await zoe.say("9000")
    [sent_in, *_told] = await zoe.press("Send in")  # as coordinator she is told, too
    assert "Your proposal has number 1" in sent_in.text
    assert await propose(bob, "Moestuin", "Een moestuin voor de buurt.", "30000") == "2"
    await zoe.say("/wijkbudget")
    [supported] = await zoe.press("Support 2")
    assert "You now support 2" in supported.text
    await judge(zoe, "1", True)
    await judge(zoe, "2", True)
    await zoe.say("/budgetronde")
    await zoe.press("W-1")
    await zoe.press("Plan voting")
    await zoe.say("1-12-2026 19:00")
    await zoe.say("15-12-2026 20:00")
    await zoe.press("Yes, plan voting")
    clock.advance(OPENS - clock.now() + timedelta(seconds=30))
    await app.run_jobs_now()
    await vote(zoe, ["1", "2"], start=True)
    await vote(bob, ["2"], start=True)
    clock.advance(CLOSES - clock.now() + timedelta(seconds=30))
    await app.run_jobs_now()

    # Ideas and supports.
    await zoe.say("/idee Huiswerkclub in het buurthuis")
    await zoe.press("Post")
    await bob.say("/idee Moestuin achter de school")
    await bob.press("Post")
    await zoe.press_data("idea:support:2")
    # She speaks for an organisation: it can help with Bob's idea (erased with her).
    await add_partner(app.settings, "fake", ZOE, "schalkwijk", "Buurtwerk Haarlem", ["jeugd"], [])
    [helps] = await zoe.press_data("phelp:help:2")
    assert "Buurtwerk Haarlem wants to help" in helps.text
    await zoe.press_data("oh:2")
    await zoe.press("Time")
    await zoe.say("zaterdag")
    await zoe.press("Send")
    await bob.press_data("oh:1")  # bob's offer on her idea stays when she leaves
    await bob.say("gereedschap")
    await bob.press("Send")
    # Introductions: she meets Bob as the initiator of I-1; his question about I-2 waits.
    zoe.user = dataclasses.replace(zoe.user, handle=ZOE_HANDLE)
    bob.user = dataclasses.replace(bob.user, handle="bob_b")
    await zoe.press_data("oa:accept:2")
    await zoe.press_data("itr:yes:1")
    [met] = await bob.press_data("itr:yes:1")
    assert ZOE_HANDLE in met.text
    await bob.press_data("oa:accept:1")

    # Reports: her own (with a question from a coordinator she answers), one she follows,
    # and one whose status she changes as coordinator.
    await _report(zoe, "Fietswrak bij de school", 52.37, 4.65, "Something else")
    await coco.say("/meldingen")
    await coco.press("M-1001")
    await coco.press("Ask the reporter a question")
    await coco.say("Staat het wrak bij het station of bij de school?")
    [thanks, *_also_to_her] = await zoe.say("Bij de school, naast het hek")
    assert "coordinator will read your answer" in thanks.text
    await _report(bob, "Losliggende stoeptegel", 52.38020, 4.64810, "Street or pavement")
    [offer, *_] = await _report(
        zoe, "Tegel los bij de bakker", 52.38025, 4.64815, "Street or pavement"
    )
    assert "reported this already" in offer.text
    await zoe.press("M-1002")
    await zoe.say("/status M-1002 in behandeling We kijken er morgen naar")
    # The web overview: a login link she opened (a session and the used link).
    app.settings.web_port = 8089
    [dash] = await zoe.say("/dashboard")
    site = create_app(app.db, app.settings, app.dispatcher.clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=site)) as browser:
        opened = await browser.get(
            "http://127.0.0.1:8089/login/" + dash.text.split("/login/")[1].split()[0]
        )
        assert opened.status_code == 303

    # News, and two polls with names: one closed and its results sent, one still open.
    await zoe.say("/aankondiging De buurtbus rijdt weer!")
    await zoe.press("No photo")
    await zoe.press("No event")
    await zoe.press("everyone in Schalkwijk")
    await zoe.press("Send")
    await coco.say("/aankondiging Buurtfeest op het plein")  # an event she says she comes to
    await coco.press("No photo")
    await coco.say("tomorrow 15:00")
    await coco.press("Skip")
    await coco.press("everyone in Schalkwijk")
    await coco.press("Send")
    await app.flush_outbox()
    [coming] = await zoe.press("I'm coming")
    assert "you are coming to" in coming.text
    await _named_poll(zoe, "Welke dag?")
    await app.flush_outbox()
    await zoe.press("Zondag")
    await bob.press("Zaterdag")
    await _close_poll(zoe, 1)
    await app.flush_outbox()
    await _named_poll(zoe, "Welke tijd?")
    await app.flush_outbox()
    await zoe.press("Zondag")
    await bob.press("Zondag")
    clock.advance(timedelta(days=7, minutes=1))  # it is due to close; the job has not run yet

    # A conversation she opens, votes in and adds a statement to; bob votes too.
    await zoe.say("/nieuwgesprek Hoe maken we het plein fijner? | Meer bankjes")
    await zoe.press("Show new statements at once")
    await zoe.press("Send")
    await app.flush_outbox()
    await zoe.press("Take part")
    await zoe.press("Agree")
    await zoe.press("Add my own statement")
    [added] = await zoe.say("Een moestuin voor iedereen")
    assert "in the conversation now" in added.text
    await bob.press("Take part")
    await bob.press("Disagree")

    # A lottery-drawn forum she opens, and joins the pool of.
    await open_forum(app, clock, "schalkwijk", QUOTAS, by=ZOE)
    await zoe.say("/wijkforum")
    await zoe.press("25–44 years")
    await zoe.press("Zuid")
    await zoe.press("Yes, put me in the pool")
    await zoe.say("/leeftijd")
    await zoe.press("25–44 years")

    # A draft she has not finished, and news for her that has not gone out yet.
    await zoe.say("/idee")
    await zoe.say("Buurtbieb in de oude telefooncel")
    await bob.press_data("idea:support:1")
    assert await support_batch(app.db) >= 1  # the scheduler's job; not sent yet
    return zoe, in_group


async def test_my_data_shows_everything_and_forget_me_leaves_nothing(
    app: App, make_chat: MakeChat, adapter: FakeAdapter, clock: FrozenClock
) -> None:
    zoe, _group = await _everything(app, make_chat, clock)
    async with app.db.session() as s:
        person = await people.person_for_account(s, "fake", ZOE)
        assert person is not None and person.id is not None
        zoe_id = person.id
    before = await _rows(app)
    for ref in SHOWN:  # the conversation reached every kind of reference
        table, column = ref.split(".")
        assert any(r[column] == zoe_id for r in before[table]), f"nothing in {ref}"
    assert pointers(before, zoe_id)

    mine = await zoe.say("/mijngegevens")
    text = "\n".join(m.text for m in mine)
    assert all(len(m.text) <= 4000 for m in mine)
    for ref, phrases in SHOWN.items():
        for phrase in phrases:
            assert phrase in text, f"{ref}: {phrase!r} not in /mijngegevens"
    for phrase in (
        "Groups you linked: 2",  # from the log of coordinator actions
        "waiting to be sent",  # messages to her in the outbox
        "kept for 30 days",
        "a draft",  # her dialogs (the idea she has not finished)
        "Your answer about report M-1001",
        "Your choices are not linked to you",
        "Ideas your organisation can help with: Buurtwerk Haarlem: I-2",
    ):
        assert phrase in text, phrase
    assert "We do not store your name" not in text  # a named poll stored it
    assert "Zoë Zwaantje-Quist" in text

    await zoe.say("/vergeetmij")
    # While she decides, the scheduler closes the poll: its results name her, not yet sent.
    assert await close_due(app.db, clock, "nl") == 1
    sent_before = len(adapter.sent)
    [bye, *_sent_after] = await zoe.press("Yes, erase my data")
    assert "erased" in bye.text
    after = await _rows(app)
    assert pointers(after, zoe_id) == []
    # What stays, without a link: her idea, report, proposal, the anonymous count of her vote.
    assert [i["author_id"] for i in after["idea"] if i["id"] == 1] == [None]
    assert [s["reporter_id"] for s in after["signal"] if s["id"] == 1] == [None]
    assert [p["proposer_id"] for p in after["budgetproject"] if p["code"] == "1"] == [None]
    assert len(after["ballot"]) == 2 and len(after["voterroll"]) == 2
    assert after["partner"] == [] and after["partnerresponse"] == []  # erased with her
    assert [o["text"] for o in after["ideaoffer"]] == ["gereedschap"]  # hers is gone
    assert ZOE_HANDLE not in json.dumps(after, default=str)
    # Her statements stay without her name; her votes go, bob's stay.
    assert {(st["text"], st["author_id"]) for st in after["statement"]} == {
        ("Meer bankjes", None),
        ("Een moestuin voor iedereen", None),
    }
    assert len(after["statementvote"]) == 1
    [kept] = after["introduction"]  # bob's side of the introduction stays, hers goes
    assert kept["initiator_id"] is None and kept["helper_handle"] == "bob_b"
    await app.flush_outbox()  # the results reach the group and bob without her name
    results = [m for m in adapter.sent[sent_before:] if "Welke tijd?" in m.text]
    assert {m.chat.id for m in results} >= {"g:buurt", "dm:bob"}
    assert all(ZOE_NAME not in m.text and BOB_NAME in m.text for m in results)
    assert all("Zondag: 2 (100%)" in m.text for m in results)  # her vote still counts


async def test_a_long_history_is_shortened_and_split_under_the_message_limit(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco = await _as(make_chat, "coco", "Coco")
    await coco.say("/taal en")
    anna = await _as(make_chat, "anna", "Anna")
    await anna.say("/wijk")
    await anna.press("Schalkwijk")
    for n in range(1, 41):
        if n % 10 == 1:
            clock.advance(timedelta(hours=1))  # within the hourly limit for ideas
        await anna.say(f"/idee Idee nummer {n:02}: " + "een hele lange titel over de buurt " * 3)
        await anna.press("Post")
    for n in range(1, 13):
        await coco.say(
            f"/peiling Vraag {n:02}: " + "wat vinden jullie van het plein? " * 8 + "| Ja | Nee"
        )
        await coco.press("Send")
        await app.flush_outbox()
        await anna.press("Ja")
    mine = await anna.say("/mijngegevens")
    assert len(mine) > 1 and all(len(m.text) <= 4000 for m in mine)
    text = "\n".join(m.text for m in mine)
    assert "Idee nummer 10" in text and "Idee nummer 11" not in text
    assert "… and 30 more." in text  # ideas
    assert "Vraag 10" in text and "… and 2 more." in text  # poll votes
    assert mine[-1].text.endswith("Type /forgetme to erase your data.")


async def test_my_data_in_my_language_is_honest_about_a_shown_name(
    app: App, make_chat: MakeChat
) -> None:
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco = await _as(make_chat, "coco", "Coco")
    await coco.say("/taal en")
    bob = make_chat("bob", lang="nl")
    bob.user = dataclasses.replace(bob.user, display_name=BOB_NAME)
    await bob.say("/wijk")
    await bob.press("Schalkwijk")
    [before] = await bob.say("/mijngegevens")
    assert "We bewaren je naam en telefoonnummer niet." in before.text  # true: nothing named yet
    await _named_poll(coco, "Welke dag?")
    await app.flush_outbox()
    await bob.press("Zondag")
    [mine] = await bob.say("/mijngegevens")
    assert "Over jou" in mine.text and "Je stemmen" in mine.text
    assert "Je stem op “Welke dag?”: Zondag. Je naam “Bob Brouwer” staat erbij." in mine.text
    assert "We bewaren je naam" not in mine.text
    assert "We bewaren de naam die bij je stem stond" in mine.text
