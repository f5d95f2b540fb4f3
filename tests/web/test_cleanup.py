"""What the web overview keeps: used and expired login links and ended sessions are deleted
by the regular clean-up job (least data); a session still running keeps working."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlmodel import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.delivery.scheduler import purge_dialogs
from storage.models import WebLogin, WebSession
from tests.support.fake import MakeChat
from tests.web.conftest import coordinator, link_in, log_in


async def test_purge_forgets_used_links_and_ended_sessions(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient, clock: FrozenClock
) -> None:
    coco = await coordinator(app, make_chat)
    await log_in(web, link_in(await coco.say("/dashboard")))  # used link, a session
    link_in(await coco.say("/dashboard"))  # never opened: it expires
    clock.advance(timedelta(hours=12, minutes=1))  # the session has ended
    web.cookies.clear()
    await log_in(web, link_in(await coco.say("/dashboard")))  # a new, live session
    fresh = link_in(await coco.say("/dashboard"))  # not used yet, still valid
    assert await purge_dialogs(app.db, clock) >= 4
    async with app.db.session() as s:
        sessions = (await s.exec(select(WebSession))).all()
        links = (await s.exec(select(WebLogin))).all()
    assert len(sessions) == 1 and sessions[0].expires_at > clock.now()
    assert [(row.used_at, row.expires_at > clock.now()) for row in links] == [(None, True)]
    assert (await web.get("/")).status_code == 200  # the live session still works
    web.cookies.clear()
    assert (await log_in(web, fresh)).status_code == 303  # the fresh link still works
