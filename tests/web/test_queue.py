"""The coordinator's queue on the web: filters, a report's page with its history, and a
status change that goes through the chat's service, so the reporter is told in the chat."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlmodel import select

from bot.app import App
from bot.core.clock import FrozenClock
from storage.models import AuditEvent, Signal
from tests.support.fake import FakeAdapter, MakeChat
from tests.web.conftest import coordinator, csrf_of, link_in, log_in, resident_report


async def test_status_change_tells_the_reporter(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient, adapter: FakeAdapter
) -> None:
    await resident_report(make_chat, "anna", "Schalkwijk", "Lamp stuk bij de school")
    coco = await coordinator(app, make_chat)
    await log_in(web, link_in(await coco.say("/dashboard")))
    page = await web.get("/reports/1")
    assert "Lamp stuk bij de school" in page.text and "anna" not in page.text
    # Closing needs a reason, as in the chat; nothing is lost or sent.
    bare = await web.post(
        "/reports/1/status", data={"csrf": csrf_of(page.text), "status": "closed"}
    )
    assert bare.status_code == 400 and "give a reason" in bare.text
    assert '<option value="closed" selected>' in bare.text  # the choice is kept
    # A refused form keeps what was typed.
    typed = await web.post(
        "/reports/1/status", data={"csrf": csrf_of(page.text), "status": "", "note": "Morgen langs"}
    )
    assert typed.status_code == 400 and "Choose a status" in typed.text
    assert ">Morgen langs</textarea>" in typed.text
    assert not [m for m in adapter.in_chat("dm:anna") if "News about" in m.text]
    done = await web.post(
        "/reports/1/status",
        data={"csrf": csrf_of(page.text), "status": "resolved", "note": "Nieuwe lamp geplaatst"},
        follow_redirects=True,
    )
    assert done.status_code == 200 and "Nieuwe lamp geplaatst" in done.text
    [news] = [m for m in adapter.in_chat("dm:anna") if "News about your report M-1001" in m.text]
    assert "solved" in news.text and "Nieuwe lamp geplaatst" in news.text
    assert "really solved" in news.text  # the same question the chat's button asks
    async with app.db.session() as s:
        assert (await s.exec(select(Signal))).one().status == "resolved"
        [event] = (
            await s.exec(select(AuditEvent).where(AuditEvent.action == "signal.status"))
        ).all()
        assert event.detail == {"old": "new", "new": "resolved", "note": "Nieuwe lamp geplaatst"}


async def test_filters_and_language(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await resident_report(make_chat, "anna", "Schalkwijk", "Oude lamp kapot")
    clock.advance(timedelta(days=40))
    await resident_report(make_chat, "bob", "Schalkwijk", "Nieuwe lamp kapot", lat=52.38)
    coco = await coordinator(app, make_chat)
    await log_in(web, link_in(await coco.say("/dashboard")))
    everything = await web.get("/")
    assert "Oude lamp" in everything.text and "Nieuwe lamp" in everything.text
    old = await web.get("/?age=30")
    assert "Oude lamp" in old.text and "Nieuwe lamp" not in old.text
    assert "Oude lamp" not in (await web.get("/?category=waste")).text
    assert "Oude lamp" not in (await web.get("/?forwarded=yes")).text
    assert "Oude lamp" in (await web.get("/?forwarded=no")).text
    assert "Oude lamp" not in (await web.get("/?status=resolved")).text
    # The language switch: Dutch from now on, in the web and in the chat.
    switched = await web.post(
        "/language", data={"csrf": csrf_of(everything.text), "lang": "nl"}, follow_redirects=True
    )
    assert '<html lang="nl"' in switched.text and "Meldingen" in switched.text
    geojson = await web.get("/export.geojson")
    assert geojson.json()["type"] == "FeatureCollection" and len(geojson.json()["features"]) == 2
