"""Signals: the report dialog, status by coordinators, feedback to the reporter in their language."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.app import App
from storage.models import AuditEvent, ConversationState, Signal, SignalUpdate
from tests.support.fake import Chat, FakeAdapter, MakeChat


async def _setup(app: App, make_chat: MakeChat) -> tuple[Chat, Chat]:
    from bot.ops.admin import grant_coordinator

    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    reporter: Chat = make_chat("anna", lang="en")
    await reporter.say("/wijk")
    await reporter.press("Schalkwijk")
    coco: Chat = make_chat("coco", lang="nl")
    return reporter, coco


async def test_report_with_location_and_photo(app: App, make_chat: MakeChat) -> None:
    anna, _coco = await _setup(app, make_chat)
    await anna.say("/melding")
    [where] = await anna.say("Lantaarnpaal brandt niet")
    assert "Where is it" in where.text
    [photo] = await anna.location(52.3702, 4.6581)
    assert "photo" in photo.text
    [cat] = await anna.photo("tg-file-77")
    assert "Street lighting" in cat.labels
    [done] = await anna.press("Street lighting")
    assert "M-1001" in done.text and "let you know" in done.text
    async with app.db.session() as s:
        sig = (await s.exec(select(Signal))).one()
        assert (sig.category, sig.lat, sig.lon, sig.photo_file_id) == (
            "lighting",
            52.3702,
            4.6581,
            "tg-file-77",
        )
    [mine] = await anna.say("/mijnmeldingen")
    assert "M-1001" in mine.text and "new" in mine.text


async def test_coordinator_sets_status_and_reporter_hears_in_own_language(
    app: App,
    make_chat: MakeChat,
    adapter: FakeAdapter,
) -> None:
    anna, coco = await _setup(app, make_chat)
    await anna.say("/melding")
    await anna.say("Losliggende stoeptegel")
    await anna.say("Kennemerplein 5")
    await anna.press("Skip")
    await anna.press("Street or pavement")

    [listing] = await coco.say("/meldingen")
    assert "M-1001" in listing.text and listing.labels == ["M-1001"]
    [detail] = await coco.press("M-1001")
    assert "Kennemerplein 5" in detail.text and "Straat of stoep" in detail.text
    [ask] = await coco.press("In behandeling")
    assert "M-1001" in ask.text
    [done] = await coco.say("We komen dinsdag langs.")
    assert "M-1001" in done.text

    [news] = [s for s in adapter.in_chat("dm:anna") if "News about your report" in s.text]
    assert "being handled" in news.text and "We komen dinsdag langs." in news.text
    [mine] = await anna.say("/mijnmeldingen")
    assert "being handled" in mine.text and "We komen dinsdag langs." in mine.text

    await coco.say("/status M-1001 opgelost Tegel ligt weer vast")
    assert sum("News about your report" in s.text for s in adapter.in_chat("dm:anna")) == 2
    async with app.db.session() as s:
        updates = (await s.exec(select(SignalUpdate).order_by(SignalUpdate.id))).all()  # type: ignore[arg-type]
        assert [u.status for u in updates] == ["new", "in_progress", "resolved"]
        audit = (await s.exec(select(AuditEvent).where(AuditEvent.action == "signal.status"))).all()
        assert [(a.detail["old"], a.detail["new"]) for a in audit] == [
            ("new", "in_progress"), ("in_progress", "resolved"),
        ]  # fmt: skip


async def test_resident_is_refused_coordinator_commands(app: App, make_chat: MakeChat) -> None:
    anna, _coco = await _setup(app, make_chat)
    for command in ("/meldingen", "/status M-1001 opgelost"):
        [reply] = await anna.say(command)
        assert "Only a coordinator" in reply.text
    [stale] = await anna.press_data("sig:1:resolved")
    assert "Only a coordinator" in stale.text


async def test_coordinator_cannot_act_on_other_neighbourhood(app: App, make_chat: MakeChat) -> None:
    from bot.ops.admin import grant_coordinator

    await grant_coordinator(app.settings, "fake", "dana", "delftwijk")
    anna, _coco = await _setup(app, make_chat)
    await anna.say("/melding")
    await anna.say("Graffiti op de muur")
    await anna.say("Floris van Adrichemlaan")
    await anna.press("Skip")
    await anna.press("Something else")
    dana: Chat = make_chat("dana", lang="en")
    [listing] = await dana.say("/meldingen")
    assert "geen open meldingen" in listing.text  # granted from the CLI: Dutch by default
    await dana.say("/taal en")
    [refused] = await dana.say("/status M-1001 closed")
    assert "belongs to Schalkwijk" in refused.text
    [pressed] = await dana.press_data("sig:1:accepted")
    assert "belongs to Schalkwijk" in pressed.text
    async with app.db.session() as s:
        assert (await s.exec(select(Signal))).one().status == "new"


async def test_status_command_bad_arguments(app: App, make_chat: MakeChat) -> None:
    _anna, _coco = await _setup(app, make_chat)
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    [no_args] = await coco.say("/status")
    assert "/status M-1042" in no_args.text
    [bad_ref] = await coco.say("/status banaan opgelost")
    assert "/status M-1042" in bad_ref.text
    [missing] = await coco.say("/status M-9999 opgelost")
    assert "can't find that report" in missing.text
    for huge in ("M-2147484648", "M-99999999999", "M-" + "9" * 40):  # beyond any id
        [beyond] = await coco.say(f"/status {huge} opgelost")
        assert "can't find that report" in beyond.text
    [bad_status] = await coco.say("/status M-1001 verdampt")
    assert "don't know that status" in bad_status.text


@pytest.mark.parametrize(
    "damage",
    [{"neighbourhood_id": "Schalkwijk"}, {"text": 5}, {"text": ""}, {"lat": "noord"},
     {"address": ["Kennemerplein"]}, {"photo": 77}, {"dup_candidates": "1001"}],
)  # fmt: skip
async def test_a_damaged_report_draft_starts_again_kindly(
    app: App, make_chat: MakeChat, damage: dict[str, object]
) -> None:
    """A report draft from an old version or a tampered database copy files nothing half-right
    and does not fail half-way: the resident is told, their earlier report stays, and
    /melding works again."""
    anna, _coco = await _setup(app, make_chat)
    await anna.say("/melding")
    await anna.say("Losliggende stoeptegel")
    await anna.say("Kennemerplein 5")
    await anna.press("Skip")
    await anna.press("Street or pavement")
    await anna.say("/melding")
    await anna.say("Lantaarnpaal brandt niet")
    await anna.say("Kennemerplein 7")
    await anna.press("Skip")
    async with app.db.transaction() as s:
        row = (
            await s.exec(select(ConversationState).where(ConversationState.user_id == "anna"))
        ).one()
        row.data = {**row.data, **damage}
    [lost] = await anna.press("Street lighting")
    assert "lost track" in lost.text and "/melding" in lost.text
    async with app.db.session() as s:
        [kept] = (await s.exec(select(Signal))).all()
    assert kept.text == "Losliggende stoeptegel"
    [again] = await anna.say("/melding")
    assert "What is wrong?" in again.text
