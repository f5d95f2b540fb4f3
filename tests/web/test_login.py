"""Logging in to the web overview: a one-time link from a direct chat, a 12-hour session,
CSRF tokens on every form, and a coordinator sees only their own neighbourhoods."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.services import web_login
from storage.models import AuditEvent, Signal, WebLogin
from tests.support.fake import FakeAdapter, MakeChat
from tests.web.conftest import coordinator, csrf_of, link_in, log_in, resident_report


async def test_link_works_once(app: App, make_chat: MakeChat, web: httpx.AsyncClient) -> None:
    coco = await coordinator(app, make_chat)
    link = link_in(await coco.say("/dashboard"))
    first = await log_in(web, link)
    assert first.status_code == 303
    cookie = first.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
    assert (await web.get("/")).status_code == 200
    web.cookies.clear()
    again = await log_in(web, link)  # the same link, a second time
    assert again.status_code == 403 and "/dashboard" in again.text
    assert "set-cookie" not in again.headers
    assert (await web.get("/")).status_code == 401
    async with app.db.session() as s:  # only the hash is stored
        row = (await s.exec(select(WebLogin))).one()
        assert row.token_hash not in link and link.rsplit("/", 1)[1] not in row.token_hash


async def test_link_expires_after_ten_minutes(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient, clock: FrozenClock
) -> None:
    coco = await coordinator(app, make_chat)
    link = link_in(await coco.say("/dashboard"))
    clock.advance(timedelta(minutes=10, seconds=1))
    refused = await log_in(web, link)
    assert refused.status_code == 403 and "10 minuten" in refused.text  # default: Dutch
    fresh = link_in(await coco.say("/dashboard"))
    clock.advance(timedelta(minutes=9))
    assert (await log_in(web, fresh)).status_code == 303


async def test_session_lasts_twelve_hours(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient, clock: FrozenClock
) -> None:
    coco = await coordinator(app, make_chat)
    await log_in(web, link_in(await coco.say("/dashboard")))
    clock.advance(timedelta(hours=11, minutes=59))
    assert (await web.get("/")).status_code == 200
    clock.advance(timedelta(minutes=2))
    assert (await web.get("/")).status_code == 401


async def test_secure_cookie_behind_https(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient
) -> None:
    app.settings.web_base_url = "https://wijk.example.org/"
    from bot.web.app import create_app

    site = create_app(app.db, app.settings, app.dispatcher.clock)
    coco = await coordinator(app, make_chat)
    link = link_in(await coco.say("/dashboard"))
    assert link.startswith("https://wijk.example.org/login/")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=site), base_url="https://wijk.example.org"
    ) as client:
        first = await client.get(link.removeprefix("https://wijk.example.org"))
    assert first.status_code == 303 and "secure" in first.headers["set-cookie"].lower()


async def test_no_link_for_residents_or_in_groups(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient
) -> None:
    anna = make_chat("anna", lang="en")
    await anna.say("/taal en")
    replies = await anna.say("/dashboard")
    assert replies and not any("/login/" in r.text for r in replies)
    coco = await coordinator(app, make_chat)
    in_group = make_chat("coco", group="buurtgroep", lang="en")
    replies = await in_group.say("/dashboard")
    assert not any("/login/" in r.text for r in replies)
    async with app.db.session() as s:
        assert (await s.exec(select(WebLogin))).all() == []
    assert any("/login/" in r.text for r in await coco.say("/dashboard"))


async def test_web_off_says_so(app: App, make_chat: MakeChat) -> None:
    coco = await coordinator(app, make_chat)
    [reply] = await coco.say("/dashboard")
    assert "not turned on" in reply.text and "/login/" not in reply.text


async def test_other_neighbourhood_is_not_found(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient
) -> None:
    await resident_report(make_chat, "anna", "Delftwijk", "Lamp stuk aan de Delftlaan")
    coco = await coordinator(app, make_chat)  # coordinates Schalkwijk only
    await log_in(web, link_in(await coco.say("/dashboard")))
    queue = await web.get("/?status=")
    assert "M-1001" not in queue.text and "Delftlaan" not in queue.text
    elsewhere = await web.get("/reports/1")
    missing = await web.get("/reports/999")
    assert elsewhere.status_code == missing.status_code == 404
    assert elsewhere.text == missing.text  # no hint that it exists
    csrf = csrf_of(queue.text)
    post = await web.post("/reports/1/status", data={"csrf": csrf, "status": "resolved"})
    assert post.status_code == 404
    async with app.db.session() as s:
        assert (await s.exec(select(Signal))).one().status == "new"
    csv = await web.get("/export.csv")
    assert csv.status_code == 200 and "Delftlaan" not in csv.text


async def test_forms_need_the_csrf_token(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient, adapter: FakeAdapter
) -> None:
    await resident_report(make_chat, "anna", "Schalkwijk", "Lamp stuk bij de school")
    coco = await coordinator(app, make_chat)
    await log_in(web, link_in(await coco.say("/dashboard")))
    told_before = len(adapter.in_chat("dm:anna"))
    for data in ({"status": "resolved"}, {"status": "resolved", "csrf": "guess"}):
        refused = await web.post("/reports/1/status", data=data)
        assert refused.status_code == 403
    assert (await web.post("/language", data={"lang": "nl"})).status_code == 403
    async with app.db.session() as s:
        assert (await s.exec(select(Signal))).one().status == "new"
        actions = [e.action for e in (await s.exec(select(AuditEvent))).all()]
        assert "signal.status" not in actions
    assert len(adapter.in_chat("dm:anna")) == told_before
    assert (await web.get("/")).text.count('lang="en"') >= 1


async def test_not_logged_in(app: App, web: httpx.AsyncClient) -> None:
    for path in ("/", "/reports/1", "/export.csv"):
        page = await web.get(path)
        assert page.status_code == 401 and "/dashboard" in page.text
    assert (await web.post("/reports/1/status", data={"status": "closed"})).status_code == 401


async def test_log_out_ends_the_session(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient
) -> None:
    coco = await coordinator(app, make_chat)
    await log_in(web, link_in(await coco.say("/dashboard")))
    cookie = web.cookies.get("wijkbot_session")
    page = await web.get("/")
    assert (await web.post("/logout", data={"csrf": csrf_of(page.text)})).status_code == 200
    web.cookies.set("wijkbot_session", cookie or "")  # a copied cookie no longer works either
    assert (await web.get("/")).status_code == 401


async def test_the_texts_follow_the_links_validity(
    app: App,
    make_chat: MakeChat,
    web: httpx.AsyncClient,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The "10 minutes" in the chat, the help and the web page come from `LOGIN_VALID`."""
    monkeypatch.setattr(web_login, "LOGIN_VALID", timedelta(minutes=15))
    coco = await coordinator(app, make_chat)
    [reply] = await coco.say("/dashboard")
    assert "for 15 minutes" in reply.text and "10 minutes" not in reply.text
    help_text = "\n".join(r.text for r in await coco.say("/help"))
    assert "for 15 minutes" in help_text and "10 minutes" not in help_text
    clock.advance(timedelta(minutes=12))
    assert (await log_in(web, link_in([reply]))).status_code == 303  # the rule follows too
    web.cookies.clear()
    old = link_in(await coco.say("/dashboard"))
    clock.advance(timedelta(minutes=15, seconds=1))
    refused = await log_in(web, old)
    assert refused.status_code == 403 and "15 minuten" in refused.text
