"""Triage: duplicates before filing, close with a reason, merge, questions, reopening."""

from __future__ import annotations

from sqlmodel import select

from bot.app import App
from bot.ops.admin import grant_coordinator
from storage.models import AuditEvent, Signal, SignalFollower, SignalUpdate
from tests.support.fake import Chat, FakeAdapter, MakeChat


async def _report(chat: Chat, text: str, lat: float, lon: float, category: str) -> list:  # type: ignore[type-arg]
    await chat.say("/melding")
    await chat.say(text)
    await chat.location(lat, lon)
    await chat.press("Skip")
    return await chat.press(category)


async def _people(app: App, make_chat: MakeChat) -> tuple[Chat, Chat, Chat]:
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    chats = []
    for name in ("anna", "bob"):
        c: Chat = make_chat(name, lang="en")
        await c.say("/wijk")
        await c.press("Schalkwijk")
        chats.append(c)
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    return chats[0], chats[1], coco


async def test_duplicate_offered_before_filing(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    anna, bob, coco = await _people(app, make_chat)
    await _report(anna, "Losliggende stoeptegel", 52.37020, 4.65810, "Street or pavement")
    [offer] = await _report(
        bob, "Tegel ligt los bij de bakker", 52.37025, 4.65815, "Street or pavement"
    )
    assert "reported this already" in offer.text
    assert offer.labels[0].startswith("M-1001 · Street or pavement ·")
    assert "m away" in offer.labels[0]
    assert "Losliggende" not in offer.labels[0]  # another resident's words are not shown
    [followed] = await bob.press("M-1001")
    assert "already reported as M-1001" in followed.text
    async with app.db.session() as s:
        assert len((await s.exec(select(Signal))).all()) == 1
        assert (await s.exec(select(SignalFollower))).one().signal_id == 1
    # Followers hear the status too, but not what the coordinator wrote to the reporter.
    await coco.say("/status M-1001 in behandeling Morgen om 10:00 bij u langs")
    [followed_news] = [m for m in adapter.in_chat("dm:bob") if "a report you follow" in m.text]
    assert "being handled" in followed_news.text and "10:00" not in followed_news.text
    assert any("10:00" in m.text for m in adapter.in_chat("dm:anna"))
    # "No, something else" files a new one.
    [again] = await _report(
        bob, "Losliggende stoeptegel bij de kerk", 52.37021, 4.65811, "Street or pavement"
    )
    assert "reported this already" in again.text
    [new] = await bob.press("something else")
    assert "M-1002" in new.text


async def test_close_needs_a_reason_and_reporter_can_reopen(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    anna, _bob, coco = await _people(app, make_chat)
    await _report(anna, "Kapotte lantaarnpaal", 52.37, 4.65, "Street lighting")
    [bare] = await coco.say("/status M-1001 closed")
    assert "give a reason" in bare.text
    await coco.say("/meldingen")
    await coco.press("M-1001")
    [why] = await coco.press("Close, with a reason")
    assert "Why do you close M-1001" in why.text
    await coco.say("Lamp is vervangen")
    [news] = [m for m in adapter.in_chat("dm:anna") if "News about your report M-1001" in m.text]
    # Closed with a reason: the reporter reads why, and is not asked "is it solved?".
    assert "Lamp is vervangen" in news.text and "really solved" not in news.text
    assert not news.labels
    # Only "solved" asks; "No" reopens and asks what is still wrong (optional).
    await coco.say("/status M-1001 solved")
    [solved] = [m for m in adapter.in_chat("dm:anna") if "really solved" in m.text]
    assert solved.labels == ["Yes, it is solved", "No, it is not solved"]
    [reopened] = await anna.press("No, it is not solved")
    assert "open again" in reopened.text and "What is still wrong" in reopened.text
    assert any("not solved" in m.text for m in adapter.in_chat("dm:coco"))
    [thanks] = await anna.say("De lamp knippert nog steeds")
    assert "coordinator" in thanks.text
    [why] = [m for m in adapter.in_chat("dm:coco") if "knippert" in m.text]
    assert "M-1001" in why.text
    async with app.db.session() as s:
        assert (await s.get(Signal, 1)).status == "reopened"  # type: ignore[union-attr]
        actions = [a.action for a in (await s.exec(select(AuditEvent))).all()]
        assert actions.count("signal.status") == 2 and "signal.reopened" in actions
        notes = [u.note for u in (await s.exec(select(SignalUpdate))).all()]
        assert "De lamp knippert nog steeds" in notes
    [twice] = await anna.press_data("solved:1:no")
    assert "already open again" in twice.text


async def test_not_solved_reason_can_be_skipped(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    anna, _bob, coco = await _people(app, make_chat)
    await _report(anna, "Kapotte lantaarnpaal", 52.37, 4.65, "Street lighting")
    await coco.say("/status M-1001 solved")
    await anna.press("No, it is not solved")
    [skipped] = await anna.press("Skip")
    assert "open again" in skipped.text or "Thank you" in skipped.text
    [other] = await anna.say("/mijnmeldingen")  # the dialog is over: a command works
    assert "M-1001" in other.text


async def test_question_and_answer(app: App, make_chat: MakeChat, adapter: FakeAdapter) -> None:
    anna, _bob, coco = await _people(app, make_chat)
    await _report(anna, "Fietswrak", 52.37, 4.65, "Something else")
    await coco.say("/meldingen")
    await coco.press("M-1001")
    await coco.press("Ask the reporter a question")
    [sent] = await coco.say("Staat het wrak bij het station of bij de school?")
    assert "sent to the reporter" in sent.text
    [question] = [
        m for m in adapter.in_chat("dm:anna") if "question about your report M-1001" in m.text
    ]
    assert "bij het station" in question.text
    [thanks] = await anna.say("Bij de school, naast het hek")
    assert "coordinator will read your answer" in thanks.text
    assert any("Bij de school, naast het hek" in m.text for m in adapter.in_chat("dm:coco"))
    async with app.db.session() as s:
        kinds = [
            u.kind for u in (await s.exec(select(SignalUpdate).order_by(SignalUpdate.id))).all()
        ]  # type: ignore[arg-type]
        assert kinds == ["status", "question", "answer"]


async def test_merge_into_original(app: App, make_chat: MakeChat, adapter: FakeAdapter) -> None:
    anna, bob, coco = await _people(app, make_chat)
    await _report(anna, "Boom omgewaaid", 52.37, 4.65, "Trees and greenery")
    await bob.say("melding: Grote tak op de weg bij Europaweg")  # far away in words, no location
    await bob.press("Skip")
    await coco.say("/meldingen")
    await coco.press("M-1002")
    await coco.press("Same as another report")
    [self_ref] = await coco.say("M-1002")
    assert "not M-1002 itself" in self_ref.text
    [confirm] = await coco.say("M-1001")
    assert "M-1002" in confirm.text and "M-1001" in confirm.text
    [done] = await coco.press("Yes, merge")
    assert "M-1002" in done.text
    async with app.db.session() as s:
        dup = await s.get(Signal, 2)
        assert dup is not None and dup.duplicate_of_id == 1 and dup.status == "closed"
        assert [f.person_id for f in (await s.exec(select(SignalFollower))).all()] == [
            dup.reporter_id
        ]
    [told] = [m for m in adapter.in_chat("dm:bob") if "M-1002" in m.text and "closed" in m.text]
    assert "M-1001" in told.text and not told.labels  # no "really solved?" for a merge
    # No chains: not into a merged report (here it would be a circle), not merged twice.
    await coco.say("/meldingen")
    await coco.press("M-1001")
    await coco.press("Same as another report")
    [circle] = await coco.say("M-1002")
    assert "M-1002 is itself merged into M-1001. Choose M-1001 instead." in circle.text
    await coco.press("Cancel")
    await coco.say("M-1002")
    await coco.press("Same as another report")
    [twice] = await coco.say("M-1001")
    assert "M-1002 is already merged into M-1001." in twice.text
    async with app.db.session() as s:
        first = await s.get(Signal, 1)
        assert first is not None and first.duplicate_of_id is None and first.status == "new"


async def test_merge_offers_nearby_reports_and_asks_first(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    anna, bob, coco = await _people(app, make_chat)
    await _report(anna, "Boom omgewaaid", 52.37, 4.65, "Trees and greenery")
    await _report(anna, "Kapotte lantaarnpaal", 52.40, 4.70, "Street lighting")  # far away
    await _report(bob, "Boom op het fietspad", 52.37005, 4.65005, "Trees and greenery")
    await bob.press("something else")  # M-1003
    await coco.say("/meldingen")
    await coco.press("M-1003")
    [offer] = await coco.press("Same as another report")
    assert any(label.startswith("M-1001 ·") for label in offer.labels)
    assert not any(label.startswith("M-1002") for label in offer.labels)  # far, other kind
    [confirm] = await coco.press("M-1001")
    assert (
        "M-1003" in confirm.text and "M-1001" in confirm.text and "Boom omgewaaid" in confirm.text
    )
    await coco.press("Cancel")  # the bad case: a wrong press merges nothing
    async with app.db.session() as s:
        dup = await s.get(Signal, 3)
        assert dup is not None and dup.duplicate_of_id is None and dup.status != "closed"
    await coco.say("/meldingen")
    await coco.press("M-1003")
    await coco.press("Same as another report")
    await coco.press("M-1001")
    await coco.press("Yes, merge")
    async with app.db.session() as s:
        dup = await s.get(Signal, 3)
        assert dup is not None and dup.duplicate_of_id == 1 and dup.status == "closed"


async def test_forward_without_configuration(app: App, make_chat: MakeChat) -> None:
    anna, _bob, coco = await _people(app, make_chat)
    await _report(anna, "Gat in de weg", 52.37, 4.65, "Street or pavement")
    await coco.say("/meldingen")
    await coco.press("M-1001")
    [reply] = await coco.press("Forward to the municipality")
    assert "not set up for Schalkwijk" in reply.text


async def test_only_offered_reports_can_be_followed(app: App, make_chat: MakeChat) -> None:
    anna, _bob, _coco = await _people(app, make_chat)
    await _report(anna, "Inbraak in de schuur", 52.37, 4.65, "Safety")
    eve: Chat = make_chat("eve", lang="en")
    await eve.say("/wijk")
    await eve.press("Delftwijk")
    [offer] = await _report(eve, "Kapotte bank", 52.39, 4.60, "Something else")
    assert "M-1002" in offer.text  # nothing offered: filed at once
    await eve.say("/melding")
    await eve.say("Nog een kapotte bank")
    await eve.say("Delftlaan 3")
    await eve.press("Skip")
    await eve.press("Something else")
    [forged] = await eve.press_data("@SignalForm.duplicate|1")  # a report she was never shown
    assert "choose one of the buttons" in forged.text.lower()
    async with app.db.session() as s:
        assert (await s.exec(select(SignalFollower))).all() == []


async def test_question_does_not_break_a_dialog_in_progress(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    anna, _bob, coco = await _people(app, make_chat)
    await _report(anna, "Fietswrak", 52.37, 4.65, "Something else")
    await anna.say("/melding")
    await anna.say("Lantaarnpaal knippert")  # now asked "Where is it?"
    await coco.say("/meldingen")
    await coco.press("M-1001")
    await coco.press("Ask the reporter a question")
    await coco.say("Welke kleur heeft de fiets?")
    [question] = [m for m in adapter.in_chat("dm:anna") if "question about your report" in m.text]
    assert "Press Answer" in question.text and question.labels == ["Answer"]
    [photo_q] = await anna.say("Kennemerplein 3")  # still her report, not an answer
    assert "photo" in photo_q.text
    await anna.say("/stop")
    [ask] = await anna.press("Answer")
    assert "Type your answer about M-1001" in ask.text
    await anna.say("Rood, met een mand")
    assert any("Rood, met een mand" in m.text for m in adapter.in_chat("dm:coco"))
    assert not any("Kennemerplein 3" in m.text for m in adapter.in_chat("dm:coco"))


async def test_followed_reports_in_my_reports(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    anna, bob, coco = await _people(app, make_chat)
    await _report(anna, "Losliggende stoeptegel", 52.37020, 4.65810, "Street or pavement")
    await _report(bob, "Tegel ligt los bij de bakker", 52.37025, 4.65815, "Street or pavement")
    await bob.press("M-1001")  # bob follows anna's report
    await coco.say("/status M-1001 in behandeling Morgen om 10:00 bij u langs")
    [mine] = await bob.say("/mijnmeldingen")
    assert "Reports you follow" in mine.text
    assert "M-1001" in mine.text and "being handled" in mine.text
    assert "Losliggende" not in mine.text and "10:00" not in mine.text  # anna's words stay hers
    [own] = await anna.say("/mijnmeldingen")
    assert "Your reports" in own.text and "Reports you follow" not in own.text


async def test_open_a_report_by_its_number(
    app: App, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    anna, bob, coco = await _people(app, make_chat)
    await _report(anna, "Kapotte lantaarnpaal", 52.37, 4.65, "Street lighting")
    # An outsider (no neighbourhood) does not see it, and learns nothing about it.
    [refused] = await make_chat("zoe", lang="en").say("M-1001")
    assert "can't find report M-1001" in refused.text and "lantaarnpaal" not in refused.text
    [missing] = await bob.say("/melding M-1999")
    assert "can't find report M-1999" in missing.text
    # Numbers no database id can hold (PostgreSQL's integer ends at 2**31 - 1): not found.
    for huge in ("M-2147484648", "M-99999999999", "M-" + "9" * 40):
        [beyond] = await bob.say(huge)
        assert "can't find report M-" in beyond.text and "lantaarnpaal" not in beyond.text
    # A resident of the neighbourhood sees it and may follow it.
    [seen] = await bob.say("M-1001")
    assert "Kapotte lantaarnpaal" in seen.text and "Status: new" in seen.text
    assert "Follow M-1001" in seen.labels
    [again] = await bob.say("/melding M-1001")
    assert "Kapotte lantaarnpaal" in again.text
    # The coordinator gets the report with their buttons.
    [coordinated] = await coco.say("M-1001")
    assert "Kapotte lantaarnpaal" in coordinated.text
    assert "Close, with a reason" in coordinated.labels
